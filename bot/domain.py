"""The vocabulary of a customer crisis: kinds (from our seeds) and severities."""

from __future__ import annotations

# Kinds of crisis a CSM meets, in the words of "Identifying crises".
KINDS: dict[str, str] = {
    "technical_issue": "Technical issue",
    "service_outage": "Service outage",
    "performance_problem": "Performance problem",
    "contractual_dispute": "Contractual dispute",
    "billing_financial": "Billing or financial",
    "communication_breakdown": "Communication breakdown",
    "compliance_regulatory": "Compliance or regulatory",
    "strategic_shift": "Strategic shift",
    "emergency_disaster": "Emergency or disaster",
    "question": "Question or request (not a crisis)",
}
NOT_A_CRISIS = "question"
UNTRIAGED = "untriaged"
KIND_LABELS = {**KINDS, UNTRIAGED: "Kind not set yet"}

SEVERITIES: dict[str, str] = {
    "sev1": "SEV1 · critical",
    "sev2": "SEV2 · major",
    "sev3": "SEV3 · minor",
    "sev4": "SEV4 · low",
}
DEFAULT_SEVERITY = "sev2"
SEVERITY_EMOJI = {
    "sev1": ":red_circle:",
    "sev2": ":large_orange_circle:",
    "sev3": ":large_yellow_circle:",
    "sev4": ":white_circle:",
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

# Timeline event kinds.
DECLARED = "declared"
ACKNOWLEDGED = "acknowledged"
UPDATE = "update"
SNOOZED = "snoozed"
HEADS_UP_SENT = "heads_up_sent"
NAG_SENT = "nag_sent"
ESCALATED = "escalated"
OWNER_CHANGED = "owner_changed"
RESPONDER_ADDED = "responder_added"
RESPONDER_REMOVED = "responder_removed"
SEVERITY_CHANGED = "severity_changed"
KIND_CHANGED = "kind_changed"
CADENCE_CHANGED = "cadence_changed"
CLOSED = "closed"
REOPENED = "reopened"
FOLLOW_UP_SENT = "follow_up_sent"
CHECKED_IN = "checked_in"
