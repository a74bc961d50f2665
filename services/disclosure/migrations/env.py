"""Alembic environment of the disclosure service."""

from disclosure.db.models import metadata
from kumiai.migrations import run_env

run_env(metadata)
