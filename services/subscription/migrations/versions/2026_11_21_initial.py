"""Platform tables and offerings.

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
        "offerings",
        sa.Column("fund_id", sa.Uuid(), nullable=False),
        sa.Column("msme_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("currency", sa.Text(), nullable=False),
        sa.Column("unit_price", sa.BigInteger(), nullable=False),
        sa.Column("handling_fee_per_unit", sa.BigInteger(), nullable=False),
        sa.Column("units_offered", sa.Integer(), nullable=False),
        sa.Column("units_sold", sa.Integer(), nullable=False),
        sa.Column("investors", sa.Integer(), nullable=False),
        sa.Column("formation_threshold_units", sa.Integer(), nullable=False),
        sa.Column("max_units_per_investor", sa.Integer(), nullable=False),
        sa.Column("offering_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("offering_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("opened_by_event", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint(
            "units_sold >= 0 AND units_sold <= units_offered",
            name=op.f("ck_offerings_units_within_offer"),
        ),
        sa.PrimaryKeyConstraint("fund_id", name=op.f("pk_offerings")),
    )
    op.create_index(op.f("ix_offerings_msme_id"), "offerings", ["msme_id"])


def downgrade() -> None:
    op.drop_table("offerings")
