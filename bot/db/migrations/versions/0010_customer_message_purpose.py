"""what a message for the customer is: an update, the closing message or a check-in

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("customer_messages", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("purpose", sa.String(length=12), nullable=False, server_default="update")
        )


def downgrade() -> None:
    with op.batch_alter_table("customer_messages", schema=None) as batch_op:
        batch_op.drop_column("purpose")
