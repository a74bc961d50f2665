"""Investors, subscriptions, positions, issuer commitments and the frozen holdings register.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from kumiai.migrations import append_only_v1

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "investors",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("verification", sa.Text(), nullable=False),
        sa.Column("verified_by", sa.Text(), nullable=True),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("verification_note", sa.Text(), nullable=True),
        sa.Column("risk_notice_version", sa.Text(), nullable=True),
        sa.Column("risk_acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("personal", sa.LargeBinary(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "verification IN ('unverified', 'pending', 'verified', 'rejected')",
            name=op.f("ck_investors_verification_known"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_investors")),
    )
    op.create_table(
        "holdings",
        sa.Column("fund_id", sa.Uuid(), nullable=False),
        sa.Column("investor_id", sa.Uuid(), nullable=False),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.Column("amount_paid", sa.BigInteger(), nullable=False),
        sa.Column(
            "frozen_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.CheckConstraint("units > 0", name=op.f("ck_holdings_units_positive")),
        sa.ForeignKeyConstraint(
            ["fund_id"], ["offerings.fund_id"], name=op.f("fk_holdings_fund_id_offerings")
        ),
        sa.ForeignKeyConstraint(
            ["investor_id"], ["investors.id"], name=op.f("fk_holdings_investor_id_investors")
        ),
        sa.PrimaryKeyConstraint("fund_id", "investor_id", name=op.f("pk_holdings")),
    )
    op.create_table(
        "issuer_commitments",
        sa.Column("investor_id", sa.Uuid(), nullable=False),
        sa.Column("msme_id", sa.Uuid(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("amount >= 0", name=op.f("ck_issuer_commitments_amount_not_negative")),
        sa.ForeignKeyConstraint(
            ["investor_id"],
            ["investors.id"],
            name=op.f("fk_issuer_commitments_investor_id_investors"),
        ),
        sa.PrimaryKeyConstraint(
            "investor_id", "msme_id", "year", name=op.f("pk_issuer_commitments")
        ),
    )
    op.create_table(
        "positions",
        sa.Column("fund_id", sa.Uuid(), nullable=False),
        sa.Column("investor_id", sa.Uuid(), nullable=False),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.CheckConstraint("units >= 0", name=op.f("ck_positions_units_not_negative")),
        sa.ForeignKeyConstraint(
            ["fund_id"], ["offerings.fund_id"], name=op.f("fk_positions_fund_id_offerings")
        ),
        sa.ForeignKeyConstraint(
            ["investor_id"], ["investors.id"], name=op.f("fk_positions_investor_id_investors")
        ),
        sa.PrimaryKeyConstraint("fund_id", "investor_id", name=op.f("pk_positions")),
    )
    op.create_table(
        "subscriptions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("fund_id", sa.Uuid(), nullable=False),
        sa.Column("investor_id", sa.Uuid(), nullable=False),
        sa.Column("msme_id", sa.Uuid(), nullable=False),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.Column("unit_price", sa.BigInteger(), nullable=False),
        sa.Column("handling_fee_per_unit", sa.BigInteger(), nullable=False),
        sa.Column("amount_due", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.Text(), nullable=False),
        sa.Column("payment_reference", sa.Text(), nullable=False),
        sa.Column("payment_deadline", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cooling_off_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("commitment_year", sa.Integer(), nullable=False),
        sa.Column("terms_digest", sa.Text(), nullable=True),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("amount_paid", sa.BigInteger(), nullable=True),
        sa.Column("cancel_reason", sa.Text(), nullable=True),
        sa.Column("placed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('placed', 'confirmed', 'cancelled')",
            name=op.f("ck_subscriptions_status_known"),
        ),
        sa.CheckConstraint("units > 0", name=op.f("ck_subscriptions_units_positive")),
        sa.ForeignKeyConstraint(
            ["fund_id"], ["offerings.fund_id"], name=op.f("fk_subscriptions_fund_id_offerings")
        ),
        sa.ForeignKeyConstraint(
            ["investor_id"], ["investors.id"], name=op.f("fk_subscriptions_investor_id_investors")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscriptions")),
        sa.UniqueConstraint("payment_reference", name=op.f("uq_subscriptions_payment_reference")),
    )
    op.create_index(
        "ix_subscriptions_due",
        "subscriptions",
        ["payment_deadline"],
        unique=False,
        postgresql_where="status = 'placed'",
    )
    op.create_index(
        "ix_subscriptions_fund_status", "subscriptions", ["fund_id", "status"], unique=False
    )
    op.create_index(
        "ix_subscriptions_investor",
        "subscriptions",
        ["investor_id", "placed_at", "id"],
        unique=False,
    )
    op.add_column(
        "offerings",
        sa.Column("donation_per_unit", sa.BigInteger(), server_default="0", nullable=False),
    )
    op.add_column(
        "offerings", sa.Column("units_confirmed", sa.Integer(), server_default="0", nullable=False)
    )
    op.add_column("offerings", sa.Column("terms_digest", sa.Text(), nullable=True))
    op.add_column(
        "offerings", sa.Column("status", sa.Text(), server_default="open", nullable=False)
    )
    op.add_column("offerings", sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True))
    op.create_check_constraint(
        "ck_offerings_confirmed_within_sold",
        "offerings",
        "units_confirmed >= 0 AND units_confirmed <= units_sold",
    )
    op.create_check_constraint(
        "ck_offerings_status_known",
        "offerings",
        "status IN ('open', 'closed_succeeded', 'closed_failed', 'cancelled')",
    )
    # The register of a formed fund is frozen: rights are not transferred.
    append_only_v1("holdings")


def downgrade() -> None:
    op.drop_constraint("ck_offerings_status_known", "offerings", type_="check")
    op.drop_constraint("ck_offerings_confirmed_within_sold", "offerings", type_="check")
    op.drop_column("offerings", "closed_at")
    op.drop_column("offerings", "status")
    op.drop_column("offerings", "terms_digest")
    op.drop_column("offerings", "units_confirmed")
    op.drop_column("offerings", "donation_per_unit")
    op.drop_index("ix_subscriptions_investor", table_name="subscriptions")
    op.drop_index("ix_subscriptions_fund_status", table_name="subscriptions")
    op.drop_index(
        "ix_subscriptions_due", table_name="subscriptions", postgresql_where="status = 'placed'"
    )
    op.drop_table("subscriptions")
    op.drop_table("positions")
    op.drop_table("issuer_commitments")
    op.drop_table("holdings")
    op.drop_table("investors")
