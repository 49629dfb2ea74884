"""an outage broadcast being sent and a weekly digest being posted are held by their
process's renewed lease, not a fixed delay

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-30
"""

from datetime import timedelta

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

# What a broadcast or digest under way before this migration was given: taken over after it.
OLD_LEASE = timedelta(minutes=5)


def upgrade() -> None:
    with op.batch_alter_table("outage_broadcasts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claimed_by", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))
    # A broadcast still being sent by a replica of the previous version (which renews no
    # lease) keeps the fixed delay it had.
    broadcasts = sa.table(
        "outage_broadcasts",
        sa.column("id", sa.Integer()),
        sa.column("sent_at", sa.DateTime(timezone=True)),
        sa.column("finished_at", sa.DateTime(timezone=True)),
        sa.column("lease_until", sa.DateTime(timezone=True)),
    )
    bind = op.get_bind()
    unfinished = bind.execute(
        sa.select(broadcasts.c.id, broadcasts.c.sent_at).where(
            broadcasts.c.sent_at.is_not(None), broadcasts.c.finished_at.is_(None)
        )
    ).all()
    for broadcast_id, sent_at in unfinished:
        bind.execute(
            broadcasts.update()
            .where(broadcasts.c.id == broadcast_id)
            .values(lease_until=sent_at + OLD_LEASE)
        )
    with op.batch_alter_table("digests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))
    digests = sa.table(
        "digests",
        sa.column("id", sa.Integer()),
        sa.column("claimed_at", sa.DateTime(timezone=True)),
        sa.column("sent_at", sa.DateTime(timezone=True)),
        sa.column("lease_until", sa.DateTime(timezone=True)),
    )
    unsent = bind.execute(
        sa.select(digests.c.id, digests.c.claimed_at).where(digests.c.sent_at.is_(None))
    ).all()
    for digest_id, claimed_at in unsent:
        bind.execute(
            digests.update()
            .where(digests.c.id == digest_id)
            .values(lease_until=claimed_at + OLD_LEASE)
        )


def downgrade() -> None:
    with op.batch_alter_table("digests", schema=None) as batch_op:
        batch_op.drop_column("lease_until")
    with op.batch_alter_table("outage_broadcasts", schema=None) as batch_op:
        batch_op.drop_column("lease_until")
        batch_op.drop_column("claimed_by")
