"""The postings trigger names the rules it enforces by their new homes (decision 0011).

The function body is revision 0007's, with ``ledger.domain.books.<rule>`` read as
``ledger.books.rules.<rule>`` in its comments; nothing it checks changes.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29
"""

from collections.abc import Sequence
from importlib.util import module_from_spec, spec_from_file_location
from pathlib import Path

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_HOME = "ledger.domain.books."
NEW_HOME = "ledger.books.rules."


def _segregation_function() -> str:
    path = Path(__file__).with_name("2026_11_28_segregation.py")
    spec = spec_from_file_location("ledger_segregation_revision", path)
    assert spec is not None
    assert spec.loader is not None
    module = module_from_spec(spec)
    spec.loader.exec_module(module)
    text: str = module.APPLY_POSTINGS
    return text


def upgrade() -> None:
    op.execute(_segregation_function().replace(OLD_HOME, NEW_HOME))


def downgrade() -> None:
    op.execute(_segregation_function())
