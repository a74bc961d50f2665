"""The audit trail (staff)."""

from __future__ import annotations

from kumiai.audit_routes import audit_router
from onboarding.audit.rules import AuditEntity
from onboarding.audit.service import TRAIL

router = audit_router(
    TRAIL,
    entities=AuditEntity,
    operation_id="list_audit_records",
    description="Every change, in the order it happened; optionally for one record.",
)
# The shared router derives its summary from the function name; the frontend reads this one.
router.routes[0].summary = "List the onboarding audit trail"  # type: ignore[attr-defined]
