"""Partners' calls older than the retention may be deleted (kumiai.partner_calls): any change,
and the delete of a line younger than 30 days, stays refused.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

from collections.abc import Sequence

from kumiai.migrations import partner_calls_retention_v1, partner_calls_retention_v1_downgrade

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    partner_calls_retention_v1()


def downgrade() -> None:
    partner_calls_retention_v1_downgrade()
