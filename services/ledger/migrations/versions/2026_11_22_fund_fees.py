"""Funds remember their arrangement fee (FundOpened v2), deducted from escrow at release.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "funds",
        sa.Column("arrangement_fee", sa.BigInteger(), server_default="0", nullable=False),
    )
    op.create_check_constraint(
        "ck_funds_arrangement_fee_not_negative", "funds", "arrangement_fee >= 0"
    )


def downgrade() -> None:
    op.drop_constraint("ck_funds_arrangement_fee_not_negative", "funds", type_="check")
    op.drop_column("funds", "arrangement_fee")
