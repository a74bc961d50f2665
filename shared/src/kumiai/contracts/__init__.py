"""Published event contracts; importing this package registers every payload."""

from kumiai.contracts import disclosure, ledger, onboarding, subscription, subsidy

__all__ = ["disclosure", "ledger", "onboarding", "subscription", "subsidy"]
