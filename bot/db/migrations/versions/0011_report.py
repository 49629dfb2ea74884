"""the report: what will we change (asked when closing); indexes for periods

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("crises", schema=None) as batch_op:
        batch_op.add_column(sa.Column("prevention", sa.Text(), nullable=True))
    op.create_index("ix_crises_declared_at", "crises", ["declared_at"])
    op.create_index("ix_crises_closed_at", "crises", ["closed_at"])
    op.create_index("ix_promises_made_at", "promises", ["made_at"])
    op.create_index("ix_promises_ended_at", "promises", ["ended_at"])


def downgrade() -> None:
    op.drop_index("ix_promises_ended_at", table_name="promises")
    op.drop_index("ix_promises_made_at", table_name="promises")
    op.drop_index("ix_crises_closed_at", table_name="crises")
    op.drop_index("ix_crises_declared_at", table_name="crises")
    with op.batch_alter_table("crises", schema=None) as batch_op:
        batch_op.drop_column("prevention")
