"""the report: what will we change (asked when closing); indexes for its promises

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("crises", schema=None) as batch_op:
        batch_op.add_column(sa.Column("prevention", sa.Text(), nullable=True))
    op.create_index("ix_promises_made_at", "promises", ["made_at"])
    op.create_index("ix_promises_crisis_ended", "promises", ["crisis_id", "ended_at", "outcome"])


def downgrade() -> None:
    op.drop_index("ix_promises_crisis_ended", table_name="promises")
    op.drop_index("ix_promises_made_at", table_name="promises")
    with op.batch_alter_table("crises", schema=None) as batch_op:
        batch_op.drop_column("prevention")
