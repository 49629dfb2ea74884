"""The vocabulary of a customer crisis: the labels of kinds (from our seeds) and severities,
and limits. The states and names themselves are in ``bot.enums``."""

from __future__ import annotations

from bot.enums import CrisisKind, Severity

# Kinds of crisis a CSM meets, in the words of "Identifying crises".
KINDS: dict[CrisisKind, str] = {
    CrisisKind.TECHNICAL_ISSUE: "Technical issue",
    CrisisKind.SERVICE_OUTAGE: "Service outage",
    CrisisKind.PERFORMANCE_PROBLEM: "Performance problem",
    CrisisKind.CONTRACTUAL_DISPUTE: "Contractual dispute",
    CrisisKind.BILLING_FINANCIAL: "Billing or financial",
    CrisisKind.COMMUNICATION_BREAKDOWN: "Communication breakdown",
    CrisisKind.COMPLIANCE_REGULATORY: "Compliance or regulatory",
    CrisisKind.STRATEGIC_SHIFT: "Strategic shift",
    CrisisKind.EMERGENCY_DISASTER: "Emergency or disaster",
    CrisisKind.QUESTION: "Question or request (not a crisis)",
}
NOT_A_CRISIS = CrisisKind.QUESTION
KIND_LABELS: dict[CrisisKind, str] = {**KINDS, CrisisKind.UNTRIAGED: "Kind not set yet"}

SEVERITIES: dict[Severity, str] = {
    Severity.SEV1: "SEV1 · critical",
    Severity.SEV2: "SEV2 · major",
    Severity.SEV3: "SEV3 · minor",
    Severity.SEV4: "SEV4 · low",
}
DEFAULT_SEVERITY = Severity.SEV2
SEVERITY_EMOJI: dict[Severity, str] = {
    Severity.SEV1: ":red_circle:",
    Severity.SEV2: ":large_orange_circle:",
    Severity.SEV3: ":large_yellow_circle:",
    Severity.SEV4: ":white_circle:",
}

# Block Kit and Slack limits. What people type is refused above these (with the limit), so
# it is shown whole; a display that must still shorten something says so visibly.
MAX_CUSTOMER = 80  # fits the card's header, the messages and (slugged) the channel name
MAX_FIELD = 2900  # what they experienced / expected: one card section holds 3,000 with its label
MAX_SECTION = 3000  # Block Kit: a section's text
MAX_UPDATE = 2800
MAX_UPDATE_SHOWN = 3500  # the typed update, escaped, in a message (Slack advises under 4,000)
MAX_RESOLUTION = 1500
MAX_RESPONDERS = 50
MAX_TOPIC = 250
