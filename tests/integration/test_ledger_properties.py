"""Stateful property test of the books over random sequences of operations.

Random manual transfers, pending transfers that are posted or voided,
reversals and replays with duplicate idempotency keys, beside the business
flows (payments into a fund's escrow, refunds of them with their payouts),
run against the real ledger and database, beside a model built from the pure
domain rules. After every step: each currency sums to zero, no account breaks
its balance condition, every balance matches the model, a replayed key never
posts twice, and an account's statement ends at its balance.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    invariant,
    multiple,
    rule,
)
from sqlalchemy.dialects.postgresql import insert

from helpers import STAFF, SettingsFactory
from kumiai.auth import Role
from kumiai.contracts.onboarding import FundOpened
from kumiai.contracts.subscription import SubscriptionPlaced
from kumiai.platform_tables import partners
from kumiai.settings import ServiceSettings
from kumiai_tools.catalog import service
from kumiai_tools.testing import bearer
from ledger.books.rules import (
    Balance,
    Direction,
    PostingStatus,
    chart_of_accounts,
)
from ledger_flows import Flows, deposit_body

amounts = st.integers(min_value=1, max_value=20_000)
credits = st.integers(min_value=10_000, max_value=50_000)
D, C = Direction.DEBIT, Direction.CREDIT
Legs = list[tuple[str, Direction, int, PostingStatus]]


class LedgerMachine(RuleBasedStateMachine):
    """Drives the ledger API; ``ledger_settings`` is set by the test below."""

    ledger_settings: ServiceSettings

    pending = Bundle("pending")
    posted = Bundle("posted")
    paid = Bundle("paid")

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.app = service("ledger").create_app(self.ledger_settings)
        self.flows = Flows(self.app)
        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url="http://ledger"
        )
        self.wallets = [f"investor/{uuid.uuid4()}/wallet" for _ in range(3)]
        # A bank of its own per run: the database keeps the accounts of earlier runs.
        bank_id = f"prop-{uuid.uuid4().hex[:8]}"
        self.run(self.register_bank(bank_id))
        self.bank = f"bank/{bank_id}/clearing"
        self.bank_token = bearer(Role.BANK, bank_id)
        self.places = self.wallets
        self.fund: FundOpened = self.run(self.flows.open_fund())
        self.escrow = f"fund/{self.fund.fund_id}/escrow"
        self.model: dict[str, Balance] = {}
        self.keys: dict[str, tuple[dict[str, Any], str]] = {}
        self.entries: dict[str, Legs] = {}

    def teardown(self) -> None:
        self.run(self.client.aclose())
        self.run(self.app.state.runtime.close())
        self.loop.close()

    # -- plumbing ------------------------------------------------------------------

    def run(self, coroutine: Any) -> Any:
        return self.loop.run_until_complete(coroutine)

    async def register_bank(self, bank_id: str) -> None:
        async with self.app.state.runtime.sessions() as session, session.begin():
            await session.execute(
                insert(partners).values(
                    partner_id=bank_id,
                    kind="bank",
                    name="Property Test Bank",
                    zengin_code=None,
                    status="active",
                    version=1,
                    registered_at=datetime.now(UTC),
                )
            )

    def call(self, path: str, body: dict[str, Any], key: str) -> httpx.Response:
        response: httpx.Response = self.run(
            self.client.post(path, json=body, headers={**STAFF, "Idempotency-Key": key})
        )
        return response

    def get(self, path: str, **params: str) -> Any:
        response = self.run(self.client.get(path, headers=STAFF, params=params))
        assert response.status_code == 200, response.text
        return response.json()

    def predict(self, legs: Legs) -> bool:
        """Apply legs to the model if every account's conditions allow it."""
        after = dict(self.model)
        for code, direction, amount, status in legs:
            after[code] = after.get(code, Balance()).apply(direction, amount, status)
        if not all(chart_of_accounts(c).conditions.allows(b) for c, b in after.items()):
            return False
        self.model = after
        return True

    def entry(
        self, legs: list[tuple[str, Direction, int]], *, pending: bool = False
    ) -> dict[str, Any]:
        return {
            "purpose": "transfer",
            "description": "transfer in a property test",
            "reason": "property test",
            "pending": pending,
            "postings": [{"account": a, "direction": d.value, "amount": n} for a, d, n in legs],
        }

    def submit(
        self, body: dict[str, Any], status: PostingStatus, key: str | None = None
    ) -> str | None:
        key = key or str(uuid.uuid4())
        legs = [
            (p["account"], Direction(p["direction"]), p["amount"], status) for p in body["postings"]
        ]
        expected_ok = self.predict(legs)
        response = self.call("/entries", body, key)
        if not expected_ok:
            assert response.status_code == 409, response.text
            return None
        assert response.status_code == 201, response.text
        entry_id: str = response.json()["id"]
        self.keys[key] = (body, entry_id)
        self.entries[entry_id] = legs
        return entry_id

    # -- manual entries ------------------------------------------------------------

    @rule(target=posted, to=st.integers(0, 2), amount=credits)
    def credit(self, to: int, amount: int) -> Any:
        body = self.entry([(self.bank, D, amount), (self.places[to], C, amount)])
        entry_id = self.submit(body, PostingStatus.POSTED)
        return entry_id if entry_id else multiple()

    @rule(target=posted, source=st.integers(0, 2), to=st.integers(0, 2), amount=amounts)
    def transfer(self, source: int, to: int, amount: int) -> Any:
        if source == to:
            return multiple()
        body = self.entry([(self.places[source], D, amount), (self.places[to], C, amount)])
        entry_id = self.submit(body, PostingStatus.POSTED)
        return entry_id if entry_id else multiple()

    @rule(target=pending, source=st.integers(0, 2), amount=amounts)
    def hold(self, source: int, amount: int) -> Any:
        body = self.entry([(self.places[source], D, amount), (self.bank, C, amount)], pending=True)
        entry_id = self.submit(body, PostingStatus.PENDING)
        return entry_id if entry_id else multiple()

    @rule(entry_id=consumes(pending), post=st.booleans())
    def resolve(self, entry_id: str, post: bool) -> None:
        legs = self.entries[entry_id]
        resolution = [(a, d, n, PostingStatus.RELEASE) for a, d, n, _ in legs]
        if post:
            resolution += [(a, d, n, PostingStatus.POSTED) for a, d, n, _ in legs]
        assert self.predict(resolution), "resolving a pending entry is always possible"
        path = f"/entries/{entry_id}/{'post' if post else 'void'}"
        note = {"description": "bank answered", "reason": "statement"}
        first = self.call(path, note, str(uuid.uuid4()))
        second = self.call(path, {**note, "description": "again"}, str(uuid.uuid4()))
        assert first.status_code == 200, first.text
        assert second.status_code == 409, "a pending entry resolves exactly once"

    @rule(entry_id=consumes(posted))
    def reverse(self, entry_id: str) -> None:
        mirrored = [(a, C if d is D else D, n, s) for a, d, n, s in self.entries[entry_id]]
        expected_ok = self.predict(mirrored)
        response = self.call(
            f"/entries/{entry_id}/reverse",
            {"description": "correction", "reason": "property test"},
            str(uuid.uuid4()),
        )
        assert response.status_code == (201 if expected_ok else 409), response.text

    @rule(data=st.data())
    def replay_a_key(self, data: st.DataObject) -> None:
        if not self.keys:
            return
        key = data.draw(st.sampled_from(sorted(self.keys)))
        body, entry_id = self.keys[key]
        same = self.call("/entries", body, key)
        assert same.status_code == 200
        assert same.json()["id"] == entry_id
        changed = {**body, "description": body["description"] + " (changed)"}
        assert self.call("/entries", changed, key).status_code == 422

    # -- business flows ------------------------------------------------------------

    @rule(target=paid, units=st.integers(1, 5))
    def pay(self, units: int) -> SubscriptionPlaced:
        placed: SubscriptionPlaced = self.run(self.flows.subscribe(self.fund, units))
        response = self.run(
            self.client.post(
                "/deposits",
                json=deposit_body(str(uuid.uuid4()), placed.amount_due, placed.payment_reference),
                headers=self.bank_token,
            )
        )
        assert response.status_code == 201, response.text
        assert response.json()["status"] == "matched"
        amount = placed.amount_due
        assert self.predict(
            [
                (self.bank, D, amount, PostingStatus.POSTED),
                (self.escrow, C, amount, PostingStatus.POSTED),
            ]
        )
        return placed

    @rule(placed=consumes(paid))
    def cancel(self, placed: SubscriptionPlaced) -> None:
        self.run(self.flows.cancel(placed))
        wallet = f"investor/{placed.investor_id}/wallet"
        amount = placed.amount_due
        refund_and_payout = [
            (self.escrow, D, amount, PostingStatus.POSTED),
            (wallet, C, amount, PostingStatus.POSTED),
            (wallet, D, amount, PostingStatus.PENDING),
            (self.bank, C, amount, PostingStatus.PENDING),
        ]
        assert self.predict(refund_and_payout), "a paid subscription can always be refunded"

    # -- invariants ----------------------------------------------------------------

    @invariant()
    def books_balance_and_match_the_model(self) -> None:
        trial = self.get("/trial-balance")
        assert trial["balanced"] is True, trial
        for code, expected in self.model.items():
            got = self.get(f"/accounts/{code}/balance")
            assert (
                got["posted_debits"],
                got["posted_credits"],
                got["pending_debits"],
                got["pending_credits"],
            ) == (
                expected.posted_debits,
                expected.posted_credits,
                expected.pending_debits,
                expected.pending_credits,
            ), code
            assert chart_of_accounts(code).conditions.allows(expected)

    @invariant()
    def statements_end_at_the_balance(self) -> None:
        for code in (self.wallets[0], self.escrow):
            if code not in self.model:
                continue
            lines: list[dict[str, Any]] = []
            cursor: str | None = None
            while True:
                page = self.get(
                    f"/accounts/{code}/statement",
                    limit="7",
                    **({"cursor": cursor} if cursor else {}),
                )
                lines += page["lines"]
                cursor = page["next_cursor"]
                if cursor is None:
                    break
            final = lines[-1]["running_balance"] if lines else 0
            assert final == self.get(f"/accounts/{code}/balance")["posted"]


def test_books_stay_consistent_under_random_operations(settings_for: SettingsFactory) -> None:
    LedgerMachine.ledger_settings = settings_for("ledger", run_workers=False)
    case = LedgerMachine.TestCase
    case.settings = settings(
        max_examples=20,
        stateful_step_count=30,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    case("runTest").runTest()
