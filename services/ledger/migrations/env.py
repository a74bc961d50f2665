"""Alembic environment of the ledger service."""

from kumiai.migrations import run_env
from ledger.db.models import metadata

run_env(metadata)
