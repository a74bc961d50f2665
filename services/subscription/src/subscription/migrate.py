"""``python -m subscription.migrate``: create the database if missing and upgrade it."""

from __future__ import annotations

from kumiai.migrations import migrate_service
from subscription.app import SERVICE_ROOT


def main() -> None:
    migrate_service("subscription", SERVICE_ROOT)


if __name__ == "__main__":
    main()
