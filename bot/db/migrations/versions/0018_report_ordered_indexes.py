"""the report: crises' acknowledgement and resolve times kept in order per owner, kind and
severity, so SQLite reads each breakdown's percentiles from an index instead of sorting

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-30
"""

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

# Each index: the breakdown's key, the measure (so a walk reads the values in order), then
# the columns the report filters on, so the walk never reads the table. The workspace comes
# after the value: led by team_id, these indexes tempted SQLite's planner for other queries.
_MEASURES = {
    "ack": ["seconds_to_first_ack", "team_id", "declared_at", "status", "closed_at"],
    "resolve": ["seconds_to_resolve", "team_id", "closed_at", "status", "declared_at"],
}
_KEYS = {"owner": "owner_id", "kind": "kind", "severity": "severity"}


def upgrade() -> None:
    for key, column in _KEYS.items():
        for measure, columns in _MEASURES.items():
            op.create_index(f"ix_crises_report_{key}_{measure}", "crises", [column, *columns])


def downgrade() -> None:
    for key in _KEYS:
        for measure in _MEASURES:
            op.drop_index(f"ix_crises_report_{key}_{measure}", table_name="crises")
