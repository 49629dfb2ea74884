"""channel notices (reopen, hand-over, cadence) remember their message, so a crash between
storing and posting is repaired by the sweep

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("timeline_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("notice_ts", sa.String(length=32), nullable=True))
    # Notices stored before this were posted (or are past repairing): never post them again.
    op.execute(
        "UPDATE timeline_events SET notice_ts = ''"
        " WHERE kind IN ('reopened', 'owner_changed', 'cadence_changed')"
    )


def downgrade() -> None:
    with op.batch_alter_table("timeline_events", schema=None) as batch_op:
        batch_op.drop_column("notice_ts")
