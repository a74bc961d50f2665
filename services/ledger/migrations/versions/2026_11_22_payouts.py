"""Payouts: money instructed to leave through a partner bank, pending until it confirms.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "payouts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("idempotency_key", sa.Text(), nullable=False),
        sa.Column("bank_id", sa.Text(), nullable=False),
        sa.Column("account", sa.Text(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("reference", sa.Text(), nullable=False),
        sa.Column("deposit_id", sa.Uuid(), nullable=True),
        sa.Column("pending_entry_id", sa.Uuid(), nullable=False),
        sa.Column("resolution_entry_id", sa.Uuid(), nullable=True),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint("amount > 0", name=op.f("ck_payouts_amount_positive")),
        sa.CheckConstraint(
            "status IN ('instructed', 'confirmed', 'failed')", name=op.f("ck_payouts_status_known")
        ),
        sa.ForeignKeyConstraint(
            ["pending_entry_id"],
            ["journal_entries.id"],
            name=op.f("fk_payouts_pending_entry_id_journal_entries"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payouts")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_payouts_idempotency_key")),
    )
    op.create_index(op.f("ix_payouts_bank_id"), "payouts", ["bank_id"])


def downgrade() -> None:
    op.drop_table("payouts")
