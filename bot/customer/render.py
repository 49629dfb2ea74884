"""Customer messages from templates: one file per crisis kind and language.

Templates live in ``bot/customer/templates/<language>/<name>.md.j2``; a directory in
``CRISISBOT_TEMPLATES_DIR`` with the same relative paths overrides any of them (and may add
languages). Every value a template prints is escaped for mrkdwn, so nothing typed can mention
anyone or make a link; in right-to-left languages values are isolates (see ``bidi``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    StrictUndefined,
    Template,
    TemplateNotFound,
    pass_context,
)
from jinja2.runtime import Context

from bot.customer.bidi import RLM, has_rtl, isolate
from bot.customer.blame import BlameFinding, find_blame
from bot.customer.dates import is_rtl, next_update_token
from bot.domain import KIND_LABELS
from bot.enums import CrisisKind
from bot.hours import parse_timezone
from bot.text import escape

PACKAGE_TEMPLATES = Path(__file__).parent / "templates"
DEFAULT_LANGUAGE = "en"
SUFFIX = ".md.j2"
GENERIC = "generic"
# The template for each crisis kind; untriaged crises (and questions) get the generic one.
KIND_TEMPLATES: dict[CrisisKind, str] = {
    CrisisKind.SERVICE_OUTAGE: "outage",
    CrisisKind.PERFORMANCE_PROBLEM: "performance",
    CrisisKind.TECHNICAL_ISSUE: "technical",
    CrisisKind.BILLING_FINANCIAL: "billing",
    CrisisKind.CONTRACTUAL_DISPUTE: "contractual",
    CrisisKind.COMPLIANCE_REGULATORY: "compliance",
    CrisisKind.COMMUNICATION_BREAKDOWN: "communication",
    CrisisKind.STRATEGIC_SHIFT: "strategic",
    CrisisKind.EMERGENCY_DISASTER: "emergency",
    CrisisKind.UNTRIAGED: GENERIC,
    CrisisKind.QUESTION: GENERIC,
}
CLOSURE = "closure"
CHECK_IN = "check_in"
BROADCAST = "broadcast"
FRAME = "frame"


class Mrkdwn(str):
    """Text that is already mrkdwn (escaped, or a token we built): printed as it is."""


@dataclass(frozen=True)
class CustomerMessage:
    """A message ready for the customer's channel (still to pass ``check_for_customer``).

    ``language`` is the language it was written in (English when the account's language has
    no template); ``findings`` are the blaming phrases in it, to warn the writer about.
    """

    text: str
    language: str
    template: str
    findings: tuple[BlameFinding, ...] = ()


def _finalize(value: Any) -> str:
    if isinstance(value, Mrkdwn):
        return value
    return escape("" if value is None else str(value))


@pass_context
def _isolate(context: Context, value: Any) -> Mrkdwn:
    text = _finalize(value)
    if context.get("rtl") or has_rtl(text):
        return Mrkdwn(isolate(text))
    return Mrkdwn(text)


@pass_context
def _paragraphs(context: Context, value: Any) -> Mrkdwn:
    """Text as written, line by line. In a right-to-left message a line with any Hebrew in it
    starts with a right-to-left mark, so it reads right to left even when its first word is
    Latin ("Exporter חזר לעבוד"); a line all in Latin letters stays left to right."""
    text = _finalize(value)
    if not context.get("rtl"):
        return Mrkdwn(text)
    return Mrkdwn("\n".join(RLM + line if has_rtl(line) else line for line in text.split("\n")))


@lru_cache(maxsize=8)
def environment(templates_dir: Path | None = None) -> Environment:
    """The template environment: ``templates_dir`` first, then the templates we ship."""
    loaders = [FileSystemLoader(templates_dir)] if templates_dir else []
    env = Environment(
        loader=ChoiceLoader([*loaders, FileSystemLoader(PACKAGE_TEMPLATES)]),
        autoescape=False,  # HTML escaping is wrong for Slack; _finalize escapes for mrkdwn.
        finalize=_finalize,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.filters["isolate"] = _isolate
    env.filters["paragraphs"] = _paragraphs
    env.globals["rlm"] = Mrkdwn(RLM)
    return env


def _zone(zone: tzinfo | str) -> tzinfo:
    return parse_timezone(zone) if isinstance(zone, str) else zone


def _template(name: str, language: str, templates_dir: Path | None) -> tuple[Template, str]:
    """The template in ``language``, else in English (and the language it is in)."""
    env = environment(templates_dir)
    try:
        return env.get_template(f"{language}/{name}{SUFFIX}"), language
    except TemplateNotFound:
        if language == DEFAULT_LANGUAGE:
            raise
    return env.get_template(f"{DEFAULT_LANGUAGE}/{name}{SUFFIX}"), DEFAULT_LANGUAGE


def _render(
    name: str,
    *,
    language: str,
    templates_dir: Path | None,
    zone: tzinfo | str | None = None,
    dates: Mapping[str, datetime | None] | None = None,
    **values: Any,
) -> CustomerMessage:
    template, language = _template(name, language, templates_dir)
    for key, moment in (dates or {}).items():
        if moment is None or zone is None:
            values[key] = None
        else:
            values[key] = Mrkdwn(next_update_token(moment, _zone(zone), language))
    text = template.render(rtl=is_rtl(language), **values).strip("\n")
    return CustomerMessage(
        text=text,
        language=language,
        template=template.name or name,
        findings=tuple(find_blame(text)),
    )


def template_for(kind: str) -> str:
    """The template name for a crisis kind (``ValueError`` for a kind we do not know)."""
    if kind not in KIND_TEMPLATES:
        known = ", ".join(sorted(KIND_LABELS))
        raise ValueError(f"{kind!r} is not a crisis kind: use one of {known}")
    return KIND_TEMPLATES[CrisisKind(kind)]


def render_update(
    *,
    kind: str,
    language: str,
    customer: str,
    experienced: str,
    doing: str,
    next_steps: Sequence[str],
    next_due: datetime | None,
    zone: tzinfo | str,
    templates_dir: Path | None = None,
) -> CustomerMessage:
    """A status update in the seeds' voice: what the customer experienced, what we are doing,
    the next steps, and when they will hear from us next (``next_due``, in ``zone``; None
    leaves that line to the frame that is put around it when it is sent)."""
    return _render(
        template_for(kind),
        language=language,
        templates_dir=templates_dir,
        customer=customer,
        experienced=experienced,
        doing=doing,
        next_steps=list(next_steps),
        dates={"next_update": next_due},
        zone=zone,
    )


def render_frame(
    *,
    text: str,
    language: str,
    next_due: datetime,
    zone: tzinfo | str,
    templates_dir: Path | None = None,
) -> CustomerMessage:
    """``/crisis tell``: the CSM's own text as written, then when the customer will hear
    from us next, in the account's language (an English text stays English in it)."""
    return _render(
        FRAME,
        language=language,
        templates_dir=templates_dir,
        text=text,
        dates={"next_update": next_due},
        zone=zone,
    )


def render_closure(
    *,
    language: str,
    customer: str,
    resolved: str,
    follow_ups: Sequence[str] = (),
    check_in_due: datetime | None = None,
    zone: tzinfo | str,
    templates_dir: Path | None = None,
) -> CustomerMessage:
    """The closing message: what was resolved, the follow-ups, when we will check in, and
    that the channel stays open for their questions."""
    return _render(
        CLOSURE,
        language=language,
        templates_dir=templates_dir,
        customer=customer,
        resolved=resolved,
        follow_ups=list(follow_ups),
        dates={"check_in": check_in_due},
        zone=zone,
    )


def render_check_in(
    *,
    language: str,
    customer: str,
    resolved: str,
    follow_ups: Sequence[str] = (),
    templates_dir: Path | None = None,
) -> CustomerMessage:
    """The check-in after closure: how are things, where the follow-ups stand, we are here."""
    return _render(
        CHECK_IN,
        language=language,
        templates_dir=templates_dir,
        customer=customer,
        resolved=resolved,
        follow_ups=list(follow_ups),
    )


def render_broadcast(
    *,
    language: str,
    customer: str,
    affected: str,
    doing: str,
    next_due: datetime,
    zone: tzinfo | str,
    templates_dir: Path | None = None,
) -> CustomerMessage:
    """One outage told to one of many customers: what is affected, what we are doing, and
    when they will hear from us next, in their own language and time zone."""
    return _render(
        BROADCAST,
        language=language,
        templates_dir=templates_dir,
        customer=customer,
        affected=affected,
        doing=doing,
        dates={"next_update": next_due},
        zone=zone,
    )
