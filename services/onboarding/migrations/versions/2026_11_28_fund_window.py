"""Funds: an offering ends after it starts, in the database too.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # onboarding.domain.funds.validate_terms: an offering ends after it starts (every
    # fund so far had at least the one-day minimum, so existing rows hold it).
    op.create_check_constraint(
        op.f("ck_funds_window_ordered"), "funds", "offering_end > offering_start"
    )


def downgrade() -> None:
    op.drop_constraint(op.f("ck_funds_window_ordered"), "funds", type_="check")
