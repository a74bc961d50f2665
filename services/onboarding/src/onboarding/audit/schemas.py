"""Response model of the audit trail (the platform's, shared by every service)."""

from __future__ import annotations

from kumiai.audit import AuditOut

__all__ = ["AuditOut"]
