"""``python -m subsidy.migrate``: create the subsidy database if missing and upgrade it."""

from __future__ import annotations

from kumiai.migrations import migrate_service
from subsidy.app import SERVICE_ROOT


def main() -> None:
    migrate_service("subsidy", SERVICE_ROOT)


if __name__ == "__main__":
    main()
