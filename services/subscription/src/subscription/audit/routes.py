"""Subscription's audit trail (staff)."""

from __future__ import annotations

from kumiai.audit_routes import audit_router
from subscription.audit.rules import AuditEntity
from subscription.audit.service import TRAIL

router = audit_router(
    TRAIL,
    entities=AuditEntity,
    operation_id="list_subscription_audit_records",
    description=(
        "Every time staff were given investors' personal details, in order; optionally for one."
    ),
)
# The shared router derives its summary from the function name; the frontend reads this one.
router.routes[0].summary = "List the subscription audit trail"  # type: ignore[attr-defined]
