"""Investors: who registers, who verifies, who sees what of an investor (pure).

No SQLAlchemy, no web framework, no I/O. The policies here are applied by the
``readable_*`` queries of ``investors.store``; anyone an investor is not shown
to is told it does not exist, naming no id.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID

from kumiai import zengin
from kumiai.contracts.ledger import PayoutBeneficiary
from kumiai.principal import Principal, Role
from kumiai.problems import Conflict, Forbidden, NotFound, UnprocessableContent

RISK_NOTICE = (
    "Investing in a fund carries risk. The principal is not guaranteed: returns follow the "
    "business's sales and may be less than what you paid, down to nothing. You have no say in "
    "the business's management, and your rights cannot be transferred to anyone else. "
    "Your loss never exceeds what you paid."
)


class VerificationStatus(StrEnum):
    """Where the check of an investor's identity stands.

    The database accepts only these values (``ck_investors_verification_known``).
    """

    UNVERIFIED = "unverified"
    PENDING = "pending"
    VERIFIED = "verified"
    REJECTED = "rejected"


class AlreadyRegistered(Conflict):
    problem = "investor-exists"
    title = "This investor is already registered"


class StaleRiskNotice(UnprocessableContent):
    problem = "risk-notice-version"
    title = "That is not the current risk notice"


class UnknownVerifyingBank(UnprocessableContent):
    problem = "unknown-verifying-bank"
    title = "The verifying bank is not a registered, active partner bank"


class UnknownPayoutBank(UnprocessableContent):
    problem = "unknown-bank-or-branch"
    title = "The payout account's bank or branch is not in the Zengin code list"


class InvestorNotFound(NotFound):
    problem = "investor-not-found"
    title = "No such investor"


class PayoutNotFound(NotFound):
    problem = "payout-not-found"
    title = "No such payout to this investor"


class PayoutForUnknownInvestor(LookupError):
    """The ledger instructed a payout to an investor never registered here."""


def no_investor() -> InvestorNotFound:
    """The one answer for an investor that is absent or not the caller's to see: the two
    are indistinguishable, and the answer names no id."""
    return InvestorNotFound("no such investor")


@dataclass(frozen=True)
class Standing:
    """What subscribing asks of an investor: its identity check and the notice it acknowledged."""

    verification: VerificationStatus
    risk_notice_version: str | None


def own_id(principal: Principal) -> UUID:
    """An investor's id is its token's tenant."""
    try:
        return UUID(principal.tenant)
    except ValueError:
        raise Forbidden("an investor's token must carry its id as tenant") from None


def is_self(principal: Principal, investor_id: UUID) -> bool:
    """The caller is this investor."""
    return principal.role is Role.INVESTOR and principal.tenant == str(investor_id)


def registrant_id(principal: Principal) -> UUID:
    """Investors register themselves, under their token's id."""
    if principal.role is not Role.INVESTOR:
        raise Forbidden("investors register themselves")
    return own_id(principal)


def check_not_registered(*, registered: bool) -> None:
    """An investor registers once."""
    if registered:
        raise AlreadyRegistered("this investor is already registered")


def check_verifying_bank(bank_id: str | None, *, active_partner_bank: bool) -> None:
    """The bank an investor names to check its identity is a registered, active partner bank
    (or none is named, and staff verify)."""
    if bank_id is not None and not active_partner_bank:
        raise UnknownVerifyingBank(f"{bank_id!r} is not a registered, active partner bank")


PAYOUT_ACCOUNT_FIELD = "body.personal.payout_account"


def check_payout_bank(bank_code: str, branch_code: str) -> None:
    """A payout account names a bank and branch the Zengin code list knows, so a typo is
    refused when the account is registered, not by the bank when a distribution is paid."""
    try:
        zengin.check_branch(bank_code, branch_code)
    except zengin.NotTransferable as exc:
        name = f"{PAYOUT_ACCOUNT_FIELD}.{exc.field}"
        raise UnknownPayoutBank(
            f"{name}: {exc.reason}", invalid_params=[{"name": name, "reason": exc.reason}]
        ) from None


def may_read(principal: Principal, *, investor_id: UUID, verifying_bank_id: str | None) -> bool:
    """Staff, the investor itself, and the partner bank it chose to verify it read an investor."""
    if principal.role is Role.STAFF:
        return True
    if principal.role is Role.BANK:
        return verifying_bank_id is not None and verifying_bank_id == principal.tenant
    return is_self(principal, investor_id)


def may_see_personal(principal: Principal, *, investor_id: UUID) -> bool:
    """Personal details go to the investor itself and staff only, never to a bank."""
    return principal.role is Role.STAFF or is_self(principal, investor_id)


def check_verifier(principal: Principal) -> None:
    """Only staff and partner banks record an identity check; of banks, only the one the
    investor chose (``may_read``), the others are told the investor does not exist."""
    if principal.role not in (Role.STAFF, Role.BANK):
        raise Forbidden("only staff and partner banks verify investors")


def verified_by(principal: Principal) -> str:
    """Who recorded an identity check: role and tenant."""
    return f"{principal.role.value}:{principal.tenant}"


def check_acknowledger(principal: Principal, investor_id: UUID) -> None:
    """An investor acknowledges the risk notice for itself; to anyone else the investor
    does not exist."""
    if not is_self(principal, investor_id):
        raise no_investor()


def check_risk_notice(version: str, *, current: str) -> None:
    """Only the current version of the risk notice is acknowledged."""
    if version != current:
        raise StaleRiskNotice(f"the current risk notice is version {current}", current=current)


def personal_data_context(investor_id: UUID) -> bytes:
    """The associated data of an investor's encrypted personal details: it binds them to the
    investor, so a blob copied to another investor's row does not decrypt."""
    return f"investor:{investor_id}".encode()


def may_read_payout_account(
    principal: Principal, *, investor_id: UUID, paying_bank_id: str | None
) -> bool:
    """The investor itself, staff, and a partner bank the ledger instructed to pay the
    investor (``paying_bank_id``: the bank of the payout the read is for) read where
    payouts to an investor go; verifying an investor is no reason to read it.

    The database refuses a bank's read that names no payout
    (``ck_payout_account_reads_bank_names_payout``).
    """
    if principal.role is Role.STAFF:
        return True
    if principal.role is Role.BANK:
        return paying_bank_id is not None and paying_bank_id == principal.tenant
    return is_self(principal, investor_id)


def reads_for_latest_payout(principal: Principal) -> bool:
    """A bank that names no payout reads the account for its latest payout to the investor;
    the investor and staff read it for none."""
    return principal.role is Role.BANK


def check_payout_named(payout_id: UUID | None, *, found: bool) -> None:
    """A payout named for a read is one to this investor."""
    if payout_id is not None and not found:
        raise PayoutNotFound("no such payout to this investor")


def payout_beneficiary(beneficiary: PayoutBeneficiary, beneficiary_id: str) -> UUID | None:
    """The investor a payout goes to, if it goes to an investor: payouts to businesses or
    back to a payer are not this service's to record."""
    if beneficiary is not PayoutBeneficiary.INVESTOR:
        return None
    try:
        return UUID(beneficiary_id)
    except ValueError:
        raise PayoutForUnknownInvestor("the payout's beneficiary is not an investor id") from None


def check_payee_registered(payout_id: UUID, *, registered: bool) -> None:
    """A payout to an investor is recorded only for a registered investor: otherwise no bank
    could be told where to send it, and the event is dead-lettered after its retries."""
    if not registered:
        raise PayoutForUnknownInvestor(f"payout {payout_id} to an unregistered investor")
