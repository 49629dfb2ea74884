"""accounts: the customer as a record (tier, CSM, team, hours, language, contracted cadence)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

import bot.db.models

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_key", sa.String(length=200), nullable=False),
        sa.Column("aliases", sa.JSON(), nullable=False),
        sa.Column("tier", sa.String(length=60), nullable=False),
        sa.Column("csm_id", sa.String(length=32), nullable=True),
        sa.Column("team", sa.JSON(), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("business_hours", sa.String(length=80), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("customer_channel", sa.String(length=32), nullable=True),
        sa.Column("cadence_sev1", sa.Integer(), nullable=True),
        sa.Column("cadence_sev2", sa.Integer(), nullable=True),
        sa.Column("cadence_sev3", sa.Integer(), nullable=True),
        sa.Column("cadence_sev4", sa.Integer(), nullable=True),
        sa.Column("updated_at", bot.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
        sa.UniqueConstraint("name_key", name=op.f("uq_accounts_name_key")),
    )
    with op.batch_alter_table("crises") as batch:
        batch.add_column(sa.Column("account_id", sa.Integer(), nullable=True))
        batch.create_index(batch.f("ix_crises_account_id"), ["account_id"])
        batch.create_foreign_key(
            batch.f("fk_crises_account_id_accounts"),
            "accounts",
            ["account_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("crises") as batch:
        batch.drop_constraint(batch.f("fk_crises_account_id_accounts"), type_="foreignkey")
        batch.drop_index(batch.f("ix_crises_account_id"))
        batch.drop_column("account_id")
    op.drop_table("accounts")
