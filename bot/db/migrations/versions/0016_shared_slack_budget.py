"""Slack's rate windows shared by all replicas (PostgreSQL)

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "slack_budget",
        sa.Column("team_id", sa.String(length=32), server_default="", nullable=False),
        sa.Column("bucket", sa.String(length=120), nullable=False),
        sa.Column("calls", sa.JSON(), nullable=False),
        sa.Column("last_call", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("team_id", "bucket", name=op.f("pk_slack_budget")),
    )


def downgrade() -> None:
    op.drop_table("slack_budget")
