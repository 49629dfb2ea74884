"""customer messages: what /crisis tell prepared, sent or had copied to the customer

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

from bot.db.models import UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "customer_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("crisis_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.String(length=32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("sent_text", sa.Text(), nullable=True),
        sa.Column("sent_by", sa.String(length=32), nullable=True),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.Column("ts", sa.String(length=32), nullable=True),
        sa.Column("told_how", sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(
            ["crisis_id"],
            ["crises.id"],
            name=op.f("fk_customer_messages_crisis_id_crises"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_messages")),
    )
    op.create_index(
        op.f("ix_customer_messages_crisis_id"), "customer_messages", ["crisis_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_customer_messages_crisis_id"), table_name="customer_messages")
    op.drop_table("customer_messages")
