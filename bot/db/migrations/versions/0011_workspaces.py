"""workspaces: every row belongs to one (team_id); OAuth installations and states

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

import bot.db.models

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# Every table whose rows belong to a workspace; "" is the single-workspace bot's.
TABLES = (
    "accounts",
    "crises",
    "acknowledgements",
    "status_updates",
    "customer_messages",
    "promises",
    "pending_declarations",
    "timeline_events",
    "processed_events",
    "reminders",
    "reminder_messages",
)


def _slack_sdk_tables() -> sa.MetaData:
    """slack_sdk's own tables, as its SQLAlchemy stores define them (default names)."""
    metadata = sa.MetaData(naming_convention=bot.db.models.NAMING)
    bot.db.models.add_slack_oauth_tables(metadata)
    return metadata


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(
                sa.Column("team_id", sa.String(length=32), nullable=False, server_default="")
            )
    with op.batch_alter_table("accounts") as batch:
        batch.drop_constraint(batch.f("uq_accounts_name_key"), type_="unique")
        batch.create_unique_constraint("uq_accounts_team_name_key", ["team_id", "name_key"])
    with op.batch_alter_table("crises") as batch:
        batch.drop_constraint(batch.f("uq_crises_channel_id"), type_="unique")
        batch.drop_constraint(batch.f("uq_crises_source_key"), type_="unique")
        batch.create_unique_constraint("uq_crises_team_channel_id", ["team_id", "channel_id"])
        batch.create_unique_constraint("uq_crises_team_source_key", ["team_id", "source_key"])
        batch.create_index("ix_crises_team_id", ["team_id"])
    op.create_table(
        "workspaces",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("installed_at", bot.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("uninstalled_at", bot.db.models.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("team_id", name=op.f("pk_workspaces")),
    )
    _slack_sdk_tables().create_all(op.get_bind())


def downgrade() -> None:
    _slack_sdk_tables().drop_all(op.get_bind())
    op.drop_table("workspaces")
    with op.batch_alter_table("crises") as batch:
        batch.drop_index("ix_crises_team_id")
        batch.drop_constraint("uq_crises_team_source_key", type_="unique")
        batch.drop_constraint("uq_crises_team_channel_id", type_="unique")
        batch.create_unique_constraint(batch.f("uq_crises_source_key"), ["source_key"])
        batch.create_unique_constraint(batch.f("uq_crises_channel_id"), ["channel_id"])
    with op.batch_alter_table("accounts") as batch:
        batch.drop_constraint("uq_accounts_team_name_key", type_="unique")
        batch.create_unique_constraint(batch.f("uq_accounts_name_key"), ["name_key"])
    for table in reversed(TABLES):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("team_id")
