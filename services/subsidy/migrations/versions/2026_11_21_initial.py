"""Platform tables (outbox, inbox, dead letters, idempotency keys).

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from collections.abc import Sequence

from kumiai.migrations import create_platform_tables_v1

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_platform_tables_v1()


def downgrade() -> None:
    raise NotImplementedError("the platform tables are never dropped by a downgrade")
