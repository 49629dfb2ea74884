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

# Block Kit and Slack limits we cut user text to.
MAX_FIELD = 1900
MAX_UPDATE = 2800
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
CADENCE_CHANGED = "cadence_changed"
CLOSED = "closed"
REOPENED = "reopened"
FOLLOW_UP_SENT = "follow_up_sent"
