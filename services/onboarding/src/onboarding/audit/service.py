"""The audit trail: the other aggregates record every change here; staff read it.

``record(uow, principal=..., action=..., entity=AuditEntity..., entity_id=..., **details)``
writes one line in the caller's transaction; ``list_records`` pages it for staff.
"""

from __future__ import annotations

from kumiai.audit import Trail
from onboarding.audit import rules
from onboarding.db.models import AuditRecord

TRAIL = Trail(AuditRecord, check_reader=rules.check_reader)
record = TRAIL.record
list_records = TRAIL.list_records
