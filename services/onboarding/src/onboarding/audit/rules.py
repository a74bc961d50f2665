"""The rules of the audit trail (pure): what it records about, and who reads it.

Every change to a business, an application, a fund or a partner writes one line
(who, when, what), in the same transaction as the change; people's names and
contact details never go into it. The trail is append-only: the database refuses
to change or delete a line (``append_only_v1`` on ``audit_log``, migration
``2026_11_22_pipeline.py``).
"""

from __future__ import annotations

from enum import StrEnum

from kumiai.principal import Principal
from kumiai.problems import Forbidden


# Published in the OpenAPI document as it is (the filter of GET /audit): a docstring
# here would change it.
class AuditEntity(StrEnum):
    MSME = "msme"
    APPLICATION = "application"
    FUND = "fund"
    PARTNER = "partner"
    WEBHOOK_ENDPOINT = "webhook_endpoint"


def may_read(principal: Principal) -> bool:
    """Only platform staff read the audit trail."""
    return principal.is_staff()


def check_reader(principal: Principal) -> None:
    """Refuse anyone but staff the audit trail."""
    if not may_read(principal):
        raise Forbidden("only staff read the audit trail")
