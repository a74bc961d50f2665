"""Alembic environment of the subsidy service."""

from kumiai.migrations import run_env
from subsidy.db.models import metadata

run_env(metadata)
