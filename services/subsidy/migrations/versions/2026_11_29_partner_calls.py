"""Every request made with a partner's token, recorded (append-only): kumiai.partner_calls.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

from collections.abc import Sequence

from kumiai.migrations import create_partner_calls_v1

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_partner_calls_v1()


def downgrade() -> None:
    from alembic import op

    op.drop_table("partner_calls")
