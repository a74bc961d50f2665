"""Disclosure's audit trail (staff)."""

from __future__ import annotations

from disclosure.audit.rules import AuditEntity
from disclosure.audit.service import TRAIL
from kumiai.audit_routes import audit_router

router = audit_router(
    TRAIL,
    entities=AuditEntity,
    operation_id="list_disclosure_audit_records",
    description=(
        "Every change to documents and reports, in the order it happened; optionally for one."
    ),
)
# The shared router derives its summary from the function name; the frontend reads this one.
router.routes[0].summary = "List the disclosure audit trail"  # type: ignore[attr-defined]
