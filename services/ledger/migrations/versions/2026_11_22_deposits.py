"""Funds the ledger knows, payments it expects, and deposits partner banks report.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "funds",
        sa.Column("fund_id", sa.Uuid(), nullable=False),
        sa.Column("msme_id", sa.Uuid(), nullable=False),
        sa.Column("currency", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("status_reason", sa.Text(), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("fund_id", name=op.f("pk_funds")),
    )
    op.create_table(
        "expected_payments",
        sa.Column("subscription_id", sa.Uuid(), nullable=False),
        sa.Column("fund_id", sa.Uuid(), nullable=False),
        sa.Column("investor_id", sa.Uuid(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("fee_amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.Text(), nullable=False),
        sa.Column("payment_reference", sa.Text(), nullable=False),
        sa.Column("payment_deadline", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("deposit_id", sa.Uuid(), nullable=True),
        sa.CheckConstraint("amount > 0", name=op.f("ck_expected_payments_amount_positive")),
        sa.CheckConstraint(
            "status IN ('expected', 'paid', 'cancelled', 'refunded', 'released')",
            name=op.f("ck_expected_payments_status_known"),
        ),
        sa.PrimaryKeyConstraint("subscription_id", name=op.f("pk_expected_payments")),
        sa.UniqueConstraint(
            "payment_reference", name=op.f("uq_expected_payments_payment_reference")
        ),
    )
    op.create_index(op.f("ix_expected_payments_fund_id"), "expected_payments", ["fund_id"])
    op.create_table(
        "deposits",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("bank_id", sa.Text(), nullable=False),
        sa.Column("bank_transaction_id", sa.Text(), nullable=False),
        sa.Column("request_hash", sa.Text(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.Text(), nullable=False),
        sa.Column("value_date", sa.Date(), nullable=False),
        sa.Column("payment_reference", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("subscription_id", sa.Uuid(), nullable=True),
        sa.Column("entry_id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint("amount > 0", name=op.f("ck_deposits_amount_positive")),
        sa.CheckConstraint(
            "status IN ('matched', 'suspense', 'returning', 'returned')",
            name=op.f("ck_deposits_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["journal_entries.id"], name=op.f("fk_deposits_entry_id_journal_entries")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deposits")),
        sa.UniqueConstraint("bank_id", "bank_transaction_id", name=op.f("uq_deposits_bank_id")),
    )
    op.create_index(op.f("ix_deposits_status"), "deposits", ["status"])


def downgrade() -> None:
    op.drop_table("deposits")
    op.drop_table("expected_payments")
    op.drop_table("funds")
