"""Alembic environment of the subscription service."""

from kumiai.migrations import run_env
from subscription.db.models import metadata

run_env(metadata)
