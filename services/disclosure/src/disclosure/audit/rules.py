"""The rules of disclosure's audit trail (pure): what it records about, and who reads it.

Every draft, edit, review, publication, retraction and report decision writes one line
(who, when, what) in the same transaction as the change. The trail is append-only: the
database refuses to change or delete a line (``append_only_v1`` on ``audit_log``,
migration ``2026_11_29_disclosure.py``).
"""

from __future__ import annotations

from enum import StrEnum

from kumiai.principal import Principal
from kumiai.problems import Forbidden


# Published in the OpenAPI document as it is (the filter of GET /audit).
class AuditEntity(StrEnum):
    DOCUMENT = "document"
    SALES_REPORT = "sales_report"
    ANNUAL_REPORT = "annual_report"


def check_reader(principal: Principal) -> None:
    """Only platform staff read the audit trail."""
    if not principal.is_staff():
        raise Forbidden("only staff read the audit trail")
