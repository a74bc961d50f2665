"""The audit trail: who among staff was given investors' personal details, and when.

``record(uow, principal=..., action=..., entity=AuditEntity..., entity_id=..., **details)``
writes one line in the caller's transaction; ``list_records`` pages it for staff.
"""

from __future__ import annotations

from kumiai.audit import Trail
from subscription.audit import rules
from subscription.db.models import AuditRecord

TRAIL = Trail(AuditRecord, check_reader=rules.check_reader)
record = TRAIL.record
list_records = TRAIL.list_records
