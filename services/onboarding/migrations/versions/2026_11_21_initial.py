"""Platform tables and published funds.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from kumiai.migrations import create_platform_tables_v1

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_platform_tables_v1()
    op.create_table(
        "funds",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("msme_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("currency", sa.Text(), nullable=False),
        sa.Column("unit_price", sa.BigInteger(), nullable=False),
        sa.Column("handling_fee_per_unit", sa.BigInteger(), nullable=False),
        sa.Column("units_offered", sa.Integer(), nullable=False),
        sa.Column("formation_threshold_units", sa.Integer(), nullable=False),
        sa.Column("max_units_per_investor", sa.Integer(), nullable=False),
        sa.Column("offering_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("offering_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("published_by", sa.Text(), nullable=False),
        sa.Column(
            "published_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint("unit_price > 0", name=op.f("ck_funds_unit_price_positive")),
        sa.CheckConstraint("handling_fee_per_unit >= 0", name=op.f("ck_funds_fee_not_negative")),
        sa.CheckConstraint(
            "formation_threshold_units > 0 AND formation_threshold_units <= units_offered",
            name=op.f("ck_funds_threshold_within_offer"),
        ),
        sa.CheckConstraint("offering_end > offering_start", name=op.f("ck_funds_window_ordered")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_funds")),
    )
    op.create_index(op.f("ix_funds_msme_id"), "funds", ["msme_id"])


def downgrade() -> None:
    op.drop_table("funds")
