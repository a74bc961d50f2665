"""``python -m disclosure.migrate``: create the disclosure database if missing and upgrade it."""

from __future__ import annotations

from disclosure.app import SERVICE_ROOT
from kumiai.migrations import migrate_service


def main() -> None:
    migrate_service("disclosure", SERVICE_ROOT)


if __name__ == "__main__":
    main()
