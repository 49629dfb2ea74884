"""Speaking to the customer: ``/crisis tell`` prepares a message, shows it, and sends it to the
account's customer channel, or hands it over ready to copy when there is no way in.

Every message to a customer channel goes through :func:`send`, which passes it through the leak
guard (``ensure_for_customer``) and posts it with ``SlackPort.post_to_customer``: the only call
that reaches a customer channel. A message sent, or told another way, keeps the promise made to
the customer (:func:`keep_promise`) and makes the next one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path

from sqlalchemy import select, update

from bot import messages
from bot.customer import (
    BlameFinding,
    CustomerMessage,
    Leak,
    check_for_customer,
    confidential_for,
    ensure_for_customer,
    find_blame,
    render_check_in,
    render_closure,
    render_frame,
    render_update,
)
from bot.customer.guard import Confidential, LeakError
from bot.db.models import Crisis, CustomerMessageRecord, StatusUpdate
from bot.enums import CrisisStatus, CustomerMessagePurpose, CustomerMessageStatus, PromiseTold
from bot.services import lifecycle
from bot.services.accounts import all_accounts
from bot.services.errors import CrisisError
from bot.services.port import SlackFailure
from bot.services.requests import UpdateContent
from bot.services.schedule import promise
from bot.services.scope import Scope
from bot.text import escape, unescape

# Slack's answers that mean the bot cannot post in the customer channel: copy it instead.
NO_WAY_IN = {"not_in_channel", "channel_not_found", "is_archived"}
TOLD_BY_HAND = "copied"


@dataclass(frozen=True)
class Preview:
    """A draft as the customer would see it, where it would go, and what to look at first."""

    message_id: int
    customer: str
    text: str
    channel: str | None
    has_account: bool
    findings: tuple[BlameFinding, ...]
    leaks: tuple[Leak, ...]


class Sent(StrEnum):
    """What pressing *Send* did."""

    SENT = "sent"
    ALREADY = "already"
    NO_WAY_IN = "no_way_in"


@dataclass(frozen=True)
class SendResult:
    outcome: Sent
    record: CustomerMessageRecord
    preview: Preview


def prepare(
    scope: Scope,
    *,
    crisis: Crisis,
    author_id: str,
    text: str,
    note: str = "",
    purpose: CustomerMessagePurpose = CustomerMessagePurpose.UPDATE,
) -> Preview:
    """Hold a draft for the customer and show it framed as they will see it. An update needs
    the crisis open; the closing message and a check-in are written once it is closed."""
    _require_open(crisis, purpose)
    text = text.strip()
    if not text:
        raise CrisisError(messages.tell_empty())
    language = crisis.account.language if crisis.account is not None else "en"
    record = CustomerMessageRecord(
        team_id=crisis.team_id,
        crisis_id=crisis.id,
        author_id=author_id,
        text=text,
        note=note.strip(),
        language=language,
        channel=_channel_of(crisis),
        purpose=purpose,
        created_at=scope.now,
    )
    scope.session.add(record)
    scope.session.commit()
    return preview(scope, crisis=crisis, record=record)


def update_suggestion(
    scope: Scope, *, crisis: Crisis, doing: str = "", next_steps: str = ""
) -> str | None:
    """What the *Post update* form offers to tell the customer: the template for the crisis
    kind in the account's language, with what they experienced (None: no account to send to).
    The frame adds when they will hear from us next when it is sent."""
    account = crisis.account
    if account is None:
        return None
    message = render_update(
        kind=crisis.kind,
        language=account.language,
        customer=account.name,
        experienced=crisis.experienced,
        doing=doing.strip(),
        next_steps=_items(next_steps),
        next_due=None,
        zone=account.timezone,
        templates_dir=scope.settings.templates_dir,
    )
    return unescape(message.text)


def closure_suggestion(
    scope: Scope, *, crisis: Crisis, resolved: str, follow_ups: str
) -> str | None:
    """The closing message the *Close* form offers: what was resolved, what we still do, and
    that the channel stays open for their questions (None: no account to send to)."""
    account = crisis.account
    if account is None:
        return None
    message = render_closure(
        language=account.language,
        customer=account.name,
        resolved=resolved,
        follow_ups=_items(follow_ups),
        zone=account.timezone,
        templates_dir=scope.settings.templates_dir,
    )
    return unescape(message.text)


def check_in_suggestion(crisis: Crisis, *, templates_dir: Path | None) -> str | None:
    """The check-in the follow-up DM suggests, in the account's language (None: no account)."""
    account = crisis.account
    if account is None:
        return None
    message = render_check_in(
        language=account.language,
        customer=account.name,
        resolved=crisis.resolution or "",
        follow_ups=_items(crisis.follow_ups or ""),
        templates_dir=templates_dir,
    )
    return unescape(message.text)


def _items(text: str) -> list[str]:
    """Follow-ups written one a line (a leading dash or bullet dropped)."""
    items = (line.strip().lstrip("-•*").strip() for line in text.splitlines())
    return [item for item in items if item]


def update_with_message(
    scope: Scope,
    *,
    crisis: Crisis,
    author_id: str,
    content: UpdateContent,
    customer_text: str = "",
    note: str = "",
) -> tuple[StatusUpdate, Preview | None]:
    """The *Post update* form: the team's update, which keeps the promise once, and the
    message for the customer (if one was written) held as a draft to preview; sending it
    later keeps the next promise. A redelivered form makes neither twice. Left as offered,
    the message says what we are doing and the next steps written in the form."""
    offered = update_suggestion(scope, crisis=crisis)
    repeated = content.source_ts is not None and (
        scope.session.scalars(
            select(StatusUpdate.id).where(
                StatusUpdate.crisis_id == crisis.id, StatusUpdate.source_ts == content.source_ts
            )
        ).first()
        is not None
    )
    posted = lifecycle.post_update(scope, crisis=crisis, author_id=author_id, content=content)
    if repeated or not customer_text.strip():
        return posted, None
    text = customer_text.strip()
    if offered is not None and text == offered.strip():
        text = (
            update_suggestion(
                scope, crisis=crisis, doing=content.doing, next_steps=content.next_steps
            )
            or text
        )
    shown = prepare(scope, crisis=crisis, author_id=author_id, text=text, note=note)
    return posted, shown


def close_with_message(
    scope: Scope,
    *,
    crisis: Crisis,
    actor_id: str,
    resolution: str,
    follow_ups: str = "",
    confirmed: bool | None = None,
    closure_text: str = "",
    prevention: str = "",
) -> tuple[datetime, Preview | None]:
    """The *Close* form: close the crisis, then hold the closing message (if one was left in
    the form) as a draft to preview. Left as offered, it says the resolution and follow-ups
    written in the form; edited, the resolution replaces its placeholder."""
    offered = closure_suggestion(
        scope, crisis=crisis, resolved=messages.closure_resolved_placeholder(), follow_ups=""
    )
    follow_up_at = lifecycle.close(
        scope,
        crisis=crisis,
        actor_id=actor_id,
        resolution=resolution,
        follow_ups=follow_ups,
        confirmed=confirmed,
        prevention=prevention,
    )
    text = closure_text.strip()
    if not text:
        return follow_up_at, None
    if offered is not None and text == offered.strip():
        text = (
            closure_suggestion(
                scope, crisis=crisis, resolved=resolution.strip(), follow_ups=follow_ups
            )
            or text
        )
    else:
        text = text.replace(messages.closure_resolved_placeholder(), resolution.strip())
    shown = prepare(
        scope,
        crisis=crisis,
        author_id=actor_id,
        text=text,
        purpose=CustomerMessagePurpose.CLOSURE,
    )
    return follow_up_at, shown


def revise(
    scope: Scope, *, message_id: int, user_id: str, text: str, note: str = ""
) -> tuple[Crisis, Preview]:
    """The *Edit* form: change a draft's text and note, and show it again."""
    record = _record(scope, message_id)
    if record.status != CustomerMessageStatus.DRAFT:
        raise CrisisError(messages.customer_message_done(record.status, record.sent_by))
    if not text.strip():
        raise CrisisError(messages.tell_empty())
    record.text = text.strip()
    record.note = note.strip()
    record.author_id = user_id
    scope.session.commit()
    return record.crisis, preview(scope, crisis=record.crisis, record=record)


def preview(scope: Scope, *, crisis: Crisis, record: CustomerMessageRecord) -> Preview:
    """What the customer would see if it were sent now, and what in it needs a look."""
    framed = _frame(scope, crisis, record)
    return Preview(
        message_id=record.id,
        customer=crisis.account.name if crisis.account is not None else crisis.customer,
        text=framed.text,
        channel=_channel_of(crisis),
        has_account=crisis.account is not None,
        findings=framed.findings,
        leaks=tuple(check_for_customer(framed.text, context=_confidential(scope, crisis, record))),
    )


def message_by_id(scope: Scope, *, message_id: int) -> CustomerMessageRecord:
    return _record(scope, message_id)


def send(scope: Scope, *, message_id: int, user_id: str) -> SendResult:
    """Send the draft to the customer channel, once however often it is pressed; refused when
    the guard finds something internal in it (``CrisisError`` naming the words)."""
    session = scope.session
    record = _record(scope, message_id)
    crisis = record.crisis
    shown = preview(scope, crisis=crisis, record=record)
    if record.status != CustomerMessageStatus.DRAFT:
        return SendResult(Sent.ALREADY, record, shown)
    _require_open(crisis, record.purpose)
    context = _confidential(scope, crisis, record)
    try:
        checked = ensure_for_customer(shown.text, context=context)
    except LeakError as error:
        raise CrisisError(messages.customer_leak(error.leaks)) from None
    channel = shown.channel
    if channel is None:
        return SendResult(Sent.NO_WAY_IN, record, shown)
    # Claimed in one statement before Slack is called: a second press finds it taken.
    claimed = session.execute(
        update(CustomerMessageRecord)
        .where(
            CustomerMessageRecord.id == record.id,
            CustomerMessageRecord.status == CustomerMessageStatus.DRAFT,
        )
        .values(
            status=CustomerMessageStatus.SENT,
            sent_by=user_id,
            sent_at=scope.now,
            sent_text=str(checked),
            channel=channel,
        )
        .returning(CustomerMessageRecord.id)
        .execution_options(synchronize_session=False)
    ).first()
    session.commit()
    session.refresh(record)
    if claimed is None:
        return SendResult(Sent.ALREADY, record, shown)
    try:
        ts = to_customer(scope, channel=channel, text=checked, context=context)
    except SlackFailure as failure:
        # Not sent: the draft is a draft again, to copy or to send once the bot is invited.
        record.status = CustomerMessageStatus.DRAFT
        record.sent_by = record.sent_at = record.sent_text = None
        session.commit()
        if failure.error in NO_WAY_IN:
            return SendResult(Sent.NO_WAY_IN, record, shown)
        raise
    record.ts = ts
    session.commit()
    _heard(scope, crisis=crisis, record=record, by=user_id)
    return SendResult(Sent.SENT, record, shown)


def to_customer(
    scope: Scope, *, channel: str, text: str, context: Confidential, key: str | None = None
) -> str:
    """The one way into a customer channel (``/crisis tell``, an outage's broadcast and its
    closing messages): the leak guard, then ``SlackPort.post_to_customer``; its ts.
    ``LeakError`` when the guard finds something internal; ``key`` goes in the metadata, so a
    crash's retry can look for the message first."""
    checked = ensure_for_customer(text, context=context)
    return scope.slack.post_to_customer(channel=channel, message=checked, key=key)


def told(scope: Scope, *, message_id: int, user_id: str) -> tuple[CustomerMessageRecord, bool]:
    """*I sent it*: the customer was told another way (the copy, by email or on a call).
    Recorded once; (record, newly recorded)."""
    session = scope.session
    record = _record(scope, message_id)
    if record.status != CustomerMessageStatus.DRAFT:
        return record, False
    _require_open(record.crisis, record.purpose)
    shown = preview(scope, crisis=record.crisis, record=record)
    claimed = session.execute(
        update(CustomerMessageRecord)
        .where(
            CustomerMessageRecord.id == record.id,
            CustomerMessageRecord.status == CustomerMessageStatus.DRAFT,
        )
        .values(
            status=CustomerMessageStatus.TOLD,
            sent_by=user_id,
            sent_at=scope.now,
            sent_text=shown.text,
            told_how=TOLD_BY_HAND,
        )
        .returning(CustomerMessageRecord.id)
        .execution_options(synchronize_session=False)
    ).first()
    session.commit()
    session.refresh(record)
    if claimed is None:
        return record, False
    _heard(scope, crisis=record.crisis, record=record, by=user_id)
    return record, True


def _heard(scope: Scope, *, crisis: Crisis, record: CustomerMessageRecord, by: str) -> None:
    """The customer has the message: an update keeps the promise and makes the next; a
    check-in is recorded on the timeline; the closing message makes no promise."""
    match record.purpose:
        case CustomerMessagePurpose.UPDATE | CustomerMessagePurpose.BROADCAST:
            keep_promise(scope, crisis=crisis, record=record, by=by)
        case CustomerMessagePurpose.CHECK_IN:
            lifecycle.check_in(scope, crisis=crisis, actor_id=by)
        case CustomerMessagePurpose.CLOSURE:
            pass


def keep_promise(
    scope: Scope, *, crisis: Crisis, record: CustomerMessageRecord, by: str
) -> StatusUpdate:
    """The customer heard from us (sent, or told another way): the promise made to them is
    kept here, and the next one made from the cadence, as for every update."""
    customer = crisis.account.name if crisis.account is not None else crisis.customer

    def said(due: datetime, zone: str | None) -> str:
        assert record.sent_text is not None
        if record.status == CustomerMessageStatus.SENT:
            assert record.channel is not None
            head = messages.sent_to_customer(customer, record.channel, by)
        else:
            head = messages.told_customer(customer, by)
        return messages.customer_quote(head, record.sent_text, record.note, due, zone)

    return lifecycle.renew_promise(
        scope,
        crisis=crisis,
        author_id=by,
        text=record.text,
        said=said,
        told=PromiseTold.CUSTOMER,
    )


def _frame(scope: Scope, crisis: Crisis, record: CustomerMessageRecord) -> CustomerMessage:
    if record.purpose == CustomerMessagePurpose.BROADCAST:
        # Rendered from the outage template when it was prepared (see services/outages.py).
        return CustomerMessage(
            text=record.text,
            language=record.language,
            template=str(record.purpose),
            findings=tuple(find_blame(record.text)),
        )
    if record.purpose != CustomerMessagePurpose.UPDATE:
        # After closure there is no next update to promise: the text goes as written.
        text = escape(record.text)
        return CustomerMessage(
            text=text,
            language=record.language,
            template=str(record.purpose),
            findings=tuple(find_blame(text)),
        )
    account = crisis.account
    due = promise(
        now=scope.now,
        cadence=timedelta(seconds=crisis.cadence_seconds),
        severity=crisis.severity,
        account=account,
    ).at
    return render_frame(
        text=record.text,
        language=record.language,
        next_due=due,
        zone=account.timezone if account is not None else scope.settings.zone(),
        templates_dir=scope.settings.templates_dir,
    )


def _confidential(scope: Scope, crisis: Crisis, record: CustomerMessageRecord) -> Confidential:
    notes = [record.note] if record.note else []
    return confidential_for(
        crisis=crisis, accounts=all_accounts(scope.session), internal_notes=notes
    )


def _channel_of(crisis: Crisis) -> str | None:
    return crisis.account.customer_channel if crisis.account is not None else None


def _record(scope: Scope, message_id: int) -> CustomerMessageRecord:
    record = scope.session.scalars(
        select(CustomerMessageRecord).where(CustomerMessageRecord.id == message_id)
    ).first()
    if record is None:
        raise CrisisError(messages.customer_message_gone())
    return record


def _require_open(
    crisis: Crisis, purpose: CustomerMessagePurpose = CustomerMessagePurpose.UPDATE
) -> None:
    if purpose == CustomerMessagePurpose.UPDATE and crisis.status == CrisisStatus.CLOSED:
        raise CrisisError(messages.crisis_closed("tell the customer"))
