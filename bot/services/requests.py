"""Validated input for the crisis logic, whatever the wire format it came from."""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, Field, ValidationError, field_validator

from bot import messages
from bot.domain import (
    DEFAULT_SEVERITY,
    KIND_LABELS,
    MAX_CUSTOMER,
    MAX_FIELD,
    MAX_RESPONDERS,
    SEVERITIES,
)
from bot.enums import CrisisKind, Severity
from bot.services.errors import CrisisError
from bot.text import is_user_id


class DeclareRequest(BaseModel):
    """What the declarer tells us: who, what they experienced, what they expected, how bad."""

    customer: str = Field(min_length=1, max_length=MAX_CUSTOMER)
    experienced: str = Field(default="", max_length=MAX_FIELD)
    expected: str = Field(default="", max_length=MAX_FIELD)
    kind: CrisisKind = CrisisKind.UNTRIAGED
    severity: Severity = DEFAULT_SEVERITY
    declared_by: str
    owner_id: str
    responders: list[str] = Field(default_factory=list)
    origin_channel_id: str | None = None
    # The customer's account, when the team keeps one (None: a new, ad-hoc customer).
    account_id: int | None = None
    # The Slack request it came from (a modal's view id), so a redelivery declares nothing new.
    source_key: str | None = None

    @property
    def declarer_owns_it(self) -> bool:
        """The declarer is the owner: the reply to the declaration is their brief, no DM."""
        return self.owner_id == self.declared_by

    @field_validator("customer", "experienced", "expected", mode="before")
    @classmethod
    def _strip(cls, value: object) -> object:
        return value.strip() if isinstance(value, str) else value

    # Before pydantic's own enum check, so the messages stay ours.
    @field_validator("kind", mode="before")
    @classmethod
    def _kind(cls, value: object) -> object:
        if isinstance(value, str) and value not in KIND_LABELS:
            raise ValueError(f"unknown kind {value!r}")
        return value

    @field_validator("severity", mode="before")
    @classmethod
    def _severity(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        value = value.lower()
        if value not in SEVERITIES:
            raise ValueError("severity must be sev1, sev2, sev3 or sev4")
        return value

    @field_validator("owner_id", "declared_by")
    @classmethod
    def _user(cls, value: str) -> str:
        if not is_user_id(value):
            raise ValueError(f"{value!r} is not a Slack user id")
        return value

    @field_validator("responders")
    @classmethod
    def _responders(cls, value: list[str]) -> list[str]:
        unique = list(dict.fromkeys(u for u in value if is_user_id(u)))
        if len(unique) > MAX_RESPONDERS:
            raise ValueError(
                f"{len(unique)} responders is more than {MAX_RESPONDERS}; invite a user group"
                " to the channel instead and name the key people here"
            )
        return unique


FIELD_NAMES = {
    "customer": "Customer",
    "experienced": "What the customer experienced",
    "expected": "What they expected",
    "kind": "Kind",
    "severity": "Severity",
    "owner_id": "Owner",
    "declared_by": "Declared by",
    "responders": "Responders",
}


def declare_request(**values: object) -> DeclareRequest:
    """Build a DeclareRequest or raise CrisisError with one clear sentence per problem.

    The error's ``fields`` holds every problem by field, so a form can show them all at once.
    """
    try:
        return DeclareRequest.model_validate(values)
    except ValidationError as error:
        by_field = explain_by_field(error)
        raise CrisisError(
            " ".join(by_field.values()), field=next(iter(by_field), None), fields=by_field
        ) from None


def explain(error: ValidationError) -> str:
    """Pydantic's errors as sentences naming the field the user filled."""
    return " ".join(explain_by_field(error).values())


def explain_by_field(error: ValidationError) -> dict[str, str]:
    """Pydantic's errors as one sentence per field, naming the field as the user saw it."""
    found: dict[str, str] = {}
    for item in error.errors():
        field = str(item["loc"][0]) if item["loc"] else ""
        label = FIELD_NAMES.get(field, field)
        message = str(item["msg"]).removeprefix("Value error, ")
        if item["type"] == "string_too_short":
            message = f"{label} is required."
        elif item["type"] == "string_too_long":
            limit = int((item.get("ctx") or {}).get("max_length") or 0)
            length = len(str(item.get("input", "")))
            message = (
                messages.customer_too_long(length)
                if field == "customer"
                else messages.text_too_long(label, length, limit)
            )
        else:
            message = f"{label}: {message}."
        found.setdefault(field, message)
    return found


class UpdateContent(BaseModel):
    """A status update: free text, or the three parts the seeds advise."""

    text: str = ""
    what_happened: str = ""
    doing: str = ""
    next_steps: str = ""
    next_in: timedelta | None = None
    # When an update-emoji reaction marks someone's message as the update.
    quoted_author: str | None = None
    source_ts: str | None = None

    def raw(self) -> str:
        if self.text:
            return self.text
        return "\n".join(
            f"{label}: {value}"
            for label, value in (
                ("What happened", self.what_happened),
                ("What we are doing", self.doing),
                ("Next steps", self.next_steps),
            )
            if value.strip()
        )
