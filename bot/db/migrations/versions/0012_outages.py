"""one outage, many customers: outages, their affected accounts, broadcasts and deliveries

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def _team() -> sa.Column:  # type: ignore[type-arg,unused-ignore]
    return sa.Column("team_id", sa.String(length=32), nullable=False, server_default="")


def upgrade() -> None:
    op.create_table(
        "outages",
        sa.Column("id", sa.Integer(), nullable=False),
        _team(),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("severity", sa.String(length=8), nullable=False),
        sa.Column("affected", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("declared_by", sa.String(length=32), nullable=False),
        sa.Column("declared_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=True),
        sa.Column("channel_name", sa.String(length=80), nullable=True),
        sa.Column("card_ts", sa.String(length=32), nullable=True),
        sa.Column("status_ts", sa.String(length=32), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.Column("source_key", sa.String(length=80), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outages")),
        sa.UniqueConstraint("channel_id", name=op.f("uq_outages_channel_id")),
        sa.UniqueConstraint("source_key", name=op.f("uq_outages_source_key")),
    )
    op.create_index(op.f("ix_outages_team_id"), "outages", ["team_id"])
    op.create_table(
        "outage_accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        _team(),
        sa.Column("outage_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("crisis_id", sa.Integer(), nullable=False),
        sa.Column("linked", sa.Boolean(), nullable=False),
        sa.Column("added_by", sa.String(length=32), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["outage_id"],
            ["outages.id"],
            name=op.f("fk_outage_accounts_outage_id_outages"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_outage_accounts_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["crisis_id"],
            ["crises.id"],
            name=op.f("fk_outage_accounts_crisis_id_crises"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outage_accounts")),
        sa.UniqueConstraint("outage_id", "account_id", name=op.f("uq_outage_accounts_outage_id")),
    )
    op.create_index(op.f("ix_outage_accounts_outage_id"), "outage_accounts", ["outage_id"])
    op.create_index(op.f("ix_outage_accounts_crisis_id"), "outage_accounts", ["crisis_id"])
    op.create_table(
        "outage_broadcasts",
        sa.Column("id", sa.Integer(), nullable=False),
        _team(),
        sa.Column("outage_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.String(length=32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_by", sa.String(length=32), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["outage_id"],
            ["outages.id"],
            name=op.f("fk_outage_broadcasts_outage_id_outages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outage_broadcasts")),
    )
    op.create_index(op.f("ix_outage_broadcasts_outage_id"), "outage_broadcasts", ["outage_id"])
    op.create_table(
        "outage_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        _team(),
        sa.Column("broadcast_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("crisis_id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=True),
        sa.Column("ts", sa.String(length=32), nullable=True),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["broadcast_id"],
            ["outage_broadcasts.id"],
            name=op.f("fk_outage_deliveries_broadcast_id_outage_broadcasts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_outage_deliveries_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["crisis_id"],
            ["crises.id"],
            name=op.f("fk_outage_deliveries_crisis_id_crises"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["customer_messages.id"],
            name=op.f("fk_outage_deliveries_message_id_customer_messages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outage_deliveries")),
        sa.UniqueConstraint(
            "broadcast_id", "account_id", name=op.f("uq_outage_deliveries_broadcast_id")
        ),
        sa.UniqueConstraint("key", name=op.f("uq_outage_deliveries_key")),
    )
    op.create_index(
        op.f("ix_outage_deliveries_broadcast_id"), "outage_deliveries", ["broadcast_id"]
    )


def downgrade() -> None:
    op.drop_table("outage_deliveries")
    op.drop_table("outage_broadcasts")
    op.drop_table("outage_accounts")
    op.drop_table("outages")
