"""Alembic environment of the onboarding service."""

from kumiai.migrations import run_env
from onboarding.db.models import metadata

run_env(metadata)
