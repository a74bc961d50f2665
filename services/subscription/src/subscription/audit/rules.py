"""The rules of subscription's audit trail (pure): what it records, and who reads it.

Every time staff are given investors' personal details (an investor's record, the
yearly payment records with names and addresses) one line is written, committed before
the details leave. The trail is append-only (``append_only_v1`` on ``audit_log``,
migration ``2026_11_29_distribution_fees_and_payments.py``).
"""

from __future__ import annotations

from enum import StrEnum

from kumiai.principal import Principal
from kumiai.problems import Forbidden


# Published in the OpenAPI document as it is (the filter of GET /audit).
class AuditEntity(StrEnum):
    INVESTOR = "investor"
    PAYMENT_RECORDS = "payment_records"


def check_reader(principal: Principal) -> None:
    """Only platform staff read the audit trail."""
    if not principal.is_staff():
        raise Forbidden("only staff read the audit trail")


def records_personal_read(principal: Principal) -> bool:
    """Staff reads of an investor's personal details are recorded (the investor's own are
    not: they are its own)."""
    return principal.is_staff()
