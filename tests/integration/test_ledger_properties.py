"""Stateful property test of the books over random sequences of operations.

Random deposits, refunds, pending payouts that are posted or voided, reversals
and replays with duplicate idempotency keys run against the real ledger and
database, beside a model built from the pure domain rules. After every step:
each currency sums to zero, no account breaks its balance condition, every
balance matches the model, a replayed key never posts twice, and an account's
statement ends at its balance.
"""

from __future__ import annotations

import asyncio
import uuid
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

from helpers import SettingsFactory
from kumiai.auth import Role
from kumiai.catalog import service
from kumiai.settings import ServiceSettings
from kumiai.testing import bearer
from ledger.domain.books import (
    Balance,
    Direction,
    PostingStatus,
    chart_of_accounts,
)

HEADERS = bearer(Role.SERVICE, "property-test")
amounts = st.integers(min_value=1, max_value=20_000)
deposits = st.integers(min_value=10_000, max_value=50_000)


class LedgerMachine(RuleBasedStateMachine):
    """Drives the ledger API; ``ledger_settings`` is set by the test below."""

    ledger_settings: ServiceSettings

    pending = Bundle("pending")
    posted = Bundle("posted")

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.app = service("ledger").create_app(self.ledger_settings)
        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url="http://ledger"
        )
        run = uuid.uuid4().hex[:8]
        self.funds = [f"fund/{run}-f{i}/escrow" for i in range(2)]
        self.wallets = [f"investor/{run}-i{i}/wallet" for i in range(2)]
        self.bank = f"bank/{run}-b/clearing"
        self.model: dict[str, Balance] = {}
        self.keys: dict[str, tuple[dict[str, Any], str]] = {}
        self.entries: dict[str, list[tuple[str, Direction, int, PostingStatus]]] = {}

    def teardown(self) -> None:
        self.loop.run_until_complete(self.client.aclose())
        self.loop.run_until_complete(self.app.state.runtime.close())
        self.loop.close()

    # -- plumbing ------------------------------------------------------------------

    def call(self, path: str, body: dict[str, Any], key: str) -> httpx.Response:
        return self.loop.run_until_complete(
            self.client.post(path, json=body, headers={**HEADERS, "Idempotency-Key": key})
        )

    def get(self, path: str, **params: str) -> Any:
        response = self.loop.run_until_complete(
            self.client.get(path, headers=HEADERS, params=params)
        )
        assert response.status_code == 200, response.text
        return response.json()

    def predict(self, legs: list[tuple[str, Direction, int, PostingStatus]]) -> bool:
        """Apply legs to the model if every account's conditions allow it."""
        after = dict(self.model)
        for code, direction, amount, status in legs:
            after[code] = after.get(code, Balance()).apply(direction, amount, status)
        if not all(chart_of_accounts(c).conditions.allows(b) for c, b in after.items()):
            return False
        self.model = after
        return True

    def entry(
        self, purpose: str, legs: list[tuple[str, Direction, int]], *, pending: bool = False
    ) -> dict[str, Any]:
        return {
            "purpose": purpose,
            "description": f"{purpose} in a property test",
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

    # -- rules ---------------------------------------------------------------------

    @rule(target=posted, fund=st.integers(0, 1), amount=deposits)
    def deposit(self, fund: int, amount: int) -> Any:
        body = self.entry(
            "deposit",
            [(self.bank, Direction.DEBIT, amount), (self.funds[fund], Direction.CREDIT, amount)],
        )
        entry_id = self.submit(body, PostingStatus.POSTED)
        return entry_id if entry_id else multiple()

    @rule(target=posted, fund=st.integers(0, 1), investor=st.integers(0, 1), amount=amounts)
    def refund(self, fund: int, investor: int, amount: int) -> Any:
        body = self.entry(
            "refund",
            [
                (self.funds[fund], Direction.DEBIT, amount),
                (self.wallets[investor], Direction.CREDIT, amount),
            ],
        )
        entry_id = self.submit(body, PostingStatus.POSTED)
        return entry_id if entry_id else multiple()

    @rule(target=pending, investor=st.integers(0, 1), amount=amounts)
    def hold_payout(self, investor: int, amount: int) -> Any:
        body = self.entry(
            "payout",
            [
                (self.wallets[investor], Direction.DEBIT, amount),
                (self.bank, Direction.CREDIT, amount),
            ],
            pending=True,
        )
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
        first = self.call(path, {"description": "bank answered"}, str(uuid.uuid4()))
        second = self.call(path, {"description": "bank answered again"}, str(uuid.uuid4()))
        assert first.status_code == 200, first.text
        assert second.status_code == 409, "a pending entry resolves exactly once"

    @rule(entry_id=consumes(posted))
    def reverse(self, entry_id: str) -> None:
        mirrored = [
            (a, Direction.CREDIT if d is Direction.DEBIT else Direction.DEBIT, n, s)
            for a, d, n, s in self.entries[entry_id]
        ]
        expected_ok = self.predict(mirrored)
        response = self.call(
            f"/entries/{entry_id}/reverse", {"description": "correction"}, str(uuid.uuid4())
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
    def statement_ends_at_the_balance(self) -> None:
        code = self.funds[0]
        if code not in self.model:
            return
        lines: list[dict[str, Any]] = []
        cursor: str | None = None
        while True:
            page = self.get(
                f"/accounts/{code}/statement", limit="7", **({"cursor": cursor} if cursor else {})
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
