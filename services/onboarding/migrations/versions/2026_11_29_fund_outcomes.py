"""Funds: when the offering closed (FundClosed), the day a formed fund's term runs from.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Funds that closed before this revision keep no closing time (the events are not
    # kept): the bank's view says their formation date is unknown rather than guess it.
    op.add_column("funds", sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("funds", "closed_at")
