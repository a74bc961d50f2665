"""Published event contracts; importing this package registers every payload."""

from kumiai.contracts import disclosure, ledger, onboarding, subscription

__all__ = ["disclosure", "ledger", "onboarding", "subscription"]
