"""The rules of grants (pure): when a grant is booked, what a revocation does, and the
entries that book, move and settle what a municipality owes."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from uuid import UUID

import pytest

from kumiai.contracts.subsidy import RevocationReason
from ledger.books.rules import (
    PLATFORM_FEES,
    Direction,
    FundStatus,
    Purpose,
    clearing_account,
    municipality_receivable_account,
    net_by_currency,
    payable_account,
    receivable_account,
)
from ledger.grants.rules import (
    GrantFacts,
    GrantStatus,
    OnGrant,
    OnRevocation,
    after_revocation,
    late_grant_entry,
    on_grant,
    on_revocation,
    payment_entry,
    revocation_entry,
    why_suspense,
)

AWARD = UUID("7a1e3b0a-9f2d-4e8a-b1c7-0d2f4a6b8c01")
FUND = UUID("7a1e3b0a-9f2d-4e8a-b1c7-0d2f4a6b8c02")
MSME = UUID("7a1e3b0a-9f2d-4e8a-b1c7-0d2f4a6b8c03")
GRANT = GrantFacts(
    award_id=AWARD,
    fund_id=FUND,
    msme_id=MSME,
    municipality_code="011002",
    amount=800_000,
    currency="JPY",
    lapses_if_fund_fails=True,
    status=GrantStatus.BOOKED,
)
DAY = date(2026, 11, 30)
RECEIVABLE = municipality_receivable_account("011002")


@pytest.mark.parametrize(
    ("fund", "lapses", "how"),
    [
        (None, True, OnGrant.HOLD),
        (FundStatus.OPEN, True, OnGrant.HOLD),
        (FundStatus.FORMED, False, OnGrant.HOLD),
        (FundStatus.RELEASE_HELD, True, OnGrant.HOLD),
        (FundStatus.RELEASED, True, OnGrant.BOOK_FOR_BUSINESS),
        (FundStatus.CLOSED_FAILED, True, OnGrant.LAPSE),
        (FundStatus.CLOSED_FAILED, False, OnGrant.BOOK_AS_FEE),
    ],
)
def test_a_grant_is_held_until_its_fund_closes(
    fund: FundStatus | None, lapses: bool, how: OnGrant
) -> None:
    assert on_grant(fund, lapses_if_fund_fails=lapses) is how


@pytest.mark.parametrize(
    ("status", "what"),
    [
        (GrantStatus.GRANTED, OnRevocation.FORGET),
        (GrantStatus.BOOKED, OnRevocation.MOVE_TO_BUSINESS),
        (GrantStatus.PAID, OnRevocation.NOTHING),
        (GrantStatus.LAPSED, OnRevocation.NOTHING),
        (GrantStatus.REVOKED, OnRevocation.NOTHING),
    ],
)
def test_a_revocation_forgets_moves_or_keeps(status: GrantStatus, what: OnRevocation) -> None:
    assert on_revocation(status) is what


def test_a_lapse_and_a_revocation_end_apart() -> None:
    assert after_revocation(RevocationReason.LAPSED) is GrantStatus.LAPSED
    assert after_revocation(RevocationReason.REVOKED) is GrantStatus.REVOKED


def _moves(draft: object) -> dict[tuple[str, Direction], int]:
    legs = [s.leg for s in draft.legs]  # type: ignore[attr-defined]
    assert net_by_currency(legs) == {"JPY": 0}
    return {(leg.account, leg.direction): leg.amount for leg in legs}


def test_a_late_grant_returns_the_share_to_the_business_or_is_the_fee_of_a_failed_fund() -> None:
    released = late_grant_entry(
        GRANT, OnGrant.BOOK_FOR_BUSINESS, effective_date=DAY, request_hash="h"
    )
    assert _moves(released) == {
        (RECEIVABLE, Direction.DEBIT): 800_000,
        (payable_account(MSME), Direction.CREDIT): 800_000,
    }
    failed = late_grant_entry(GRANT, OnGrant.BOOK_AS_FEE, effective_date=DAY, request_hash="h")
    assert _moves(failed) == {
        (RECEIVABLE, Direction.DEBIT): 800_000,
        (PLATFORM_FEES, Direction.CREDIT): 800_000,
    }
    assert released.idempotency_key == failed.idempotency_key == f"grant/{AWARD}/book"
    assert (released.purpose, released.reference_type, released.reference_id) == (
        Purpose.SUBSIDY,
        "grant",
        str(AWARD),
    )


def test_a_revoked_booked_grant_is_owed_by_the_business() -> None:
    draft = revocation_entry(GRANT, effective_date=DAY, request_hash="h")
    assert _moves(draft) == {
        (receivable_account(MSME), Direction.DEBIT): 800_000,
        (RECEIVABLE, Direction.CREDIT): 800_000,
    }
    assert draft.idempotency_key == f"grant/{AWARD}/revoke"


def test_the_municipalitys_transfer_settles_its_receivable() -> None:
    draft = payment_entry(
        GRANT,
        source=clearing_account("hokkaido-bank"),
        description="d",
        idempotency_key="deposit/hokkaido-bank/1",
        request_hash="h",
        created_by="bank",
        effective_date=DAY,
    )
    assert _moves(draft) == {
        (clearing_account("hokkaido-bank"), Direction.DEBIT): 800_000,
        (RECEIVABLE, Direction.CREDIT): 800_000,
    }
    assert (draft.purpose, draft.reference_type, draft.reference_id) == (
        Purpose.DEPOSIT,
        "grant",
        str(AWARD),
    )


@pytest.mark.parametrize(
    ("status", "amount", "reason"),
    [
        (GrantStatus.BOOKED, 800_000, None),
        (GrantStatus.BOOKED, 799_999, "differs from 800000 JPY owed"),
        (GrantStatus.GRANTED, 800_000, "not owed until its fund is released"),
        (GrantStatus.PAID, 800_000, "is paid, not awaited"),
        (GrantStatus.REVOKED, 800_000, "is revoked, not awaited"),
        (GrantStatus.LAPSED, 800_000, "is lapsed, not awaited"),
    ],
)
def test_a_transfer_pays_only_a_booked_grant_exactly(
    status: GrantStatus, amount: int, reason: str | None
) -> None:
    found = why_suspense(replace(GRANT, status=status), amount=amount, currency="JPY")
    if reason is None:
        assert found is None
    else:
        assert found is not None
        assert reason in found
