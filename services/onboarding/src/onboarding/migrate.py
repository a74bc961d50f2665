"""``python -m onboarding.migrate``: create the onboarding database if missing and upgrade it."""

from __future__ import annotations

from kumiai.migrations import migrate_service
from onboarding.app import SERVICE_ROOT


def main() -> None:
    migrate_service("onboarding", SERVICE_ROOT)


if __name__ == "__main__":
    main()
