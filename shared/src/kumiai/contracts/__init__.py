"""Published event contracts; importing this package registers every payload."""

from kumiai.contracts import ledger, onboarding, subscription

__all__ = ["ledger", "onboarding", "subscription"]
