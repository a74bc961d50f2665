"""``python -m ledger.migrate``: create the ledger database if missing and upgrade it."""

from __future__ import annotations

from kumiai.migrations import migrate_service
from ledger.app import SERVICE_ROOT


def main() -> None:
    migrate_service("ledger", SERVICE_ROOT)


if __name__ == "__main__":
    main()
