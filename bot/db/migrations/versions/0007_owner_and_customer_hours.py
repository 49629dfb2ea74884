"""owner and customer hours: the owner's time zone, and where a promise was moved to

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("crises", schema=None) as batch_op:
        batch_op.add_column(sa.Column("owner_timezone", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("promised_in_zone", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("crises", schema=None) as batch_op:
        batch_op.drop_column("promised_in_zone")
        batch_op.drop_column("owner_timezone")
