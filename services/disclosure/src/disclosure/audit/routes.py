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
