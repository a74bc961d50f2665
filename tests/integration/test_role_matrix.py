"""Every operation of every service, called with no token, with each role, and with another
tenant of each owner role, against a world built through the real flows; the expected
answer of each cell is in ``access.MATRIX``."""

from __future__ import annotations

import contextlib
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from access import MATRIX, Access
from helpers import (
    BANK,
    OTHER_BANK,
    PDF,
    REQUIRED_KINDS,
    STAFF,
    TO_AGREEMENT,
    SettingsFactory,
    accept_all_documents,
    application_body,
    approve,
    call,
    fetch,
    fund_terms,
    move,
    msme_body,
    ready_investor,
)
from kumiai.auth import Role
from kumiai_tools.catalog import SERVICES, service
from kumiai_tools.testing import bearer, eventually, running

# The tenant each role acts for in the world, and another tenant of the same role.
OTHER_INVESTOR = str(uuid.uuid4())
OTHER_MSME = str(uuid.uuid4())
PARAM = re.compile(r"\{([a-z_]+)(?::path)?\}")


# Staff (and non-partners) address the spare bank registered in the world, and objects it
# does not have; a partner role its own endpoint and delivery.
WEBHOOK_PATH_VALUES = {
    "partner_id": "spare-bank",
    "endpoint_id": "0b7c9e61-4f0e-4a8e-9d3f-3d1f8c2a5b71",
    "delivery_id": "5d9a2f0c-1b3e-4c6d-8e7f-9a0b1c2d3e4f",
}


@dataclass
class World:
    """Objects made through the real flows, each owned by one tenant per role."""

    msme: str = ""
    application: str = ""
    fund: str = ""
    document: str = ""
    investor: str = ""
    subscription: str = ""
    deposit: str = ""
    suspense_deposit: str = ""
    payout: str = ""
    entry: str = ""
    programme: str = ""
    programme_application: str = ""
    award: str = ""
    tokens: dict[Role, dict[str, str]] = field(default_factory=dict)
    others: dict[Role, dict[str, str]] = field(default_factory=dict)
    webhook_endpoints: dict[Role, str] = field(default_factory=dict)
    """Each partner role's webhook endpoint, and one delivery of it."""
    webhook_deliveries: dict[Role, str] = field(default_factory=dict)

    def path_value(self, name: str, role: Role | None) -> str:
        """The world's object for a path parameter (accounts: the caller's own)."""
        if name in WEBHOOK_PATH_VALUES:
            mine = {
                "partner_id": {Role.BANK: "hokkaido-bank", Role.MUNICIPALITY: "012025"},
                "endpoint_id": self.webhook_endpoints,
                "delivery_id": self.webhook_deliveries,
            }[name]
            return mine.get(role or Role.STAFF, WEBHOOK_PATH_VALUES[name])
        if name == "code":
            return {
                Role.INVESTOR: f"investor/{self.investor}/wallet",
                Role.BANK: "bank/hokkaido-bank/clearing",
                Role.MSME: f"msme/{self.msme}/payable",
                Role.MUNICIPALITY: "municipality/012025/subsidy",
            }.get(role or Role.STAFF, f"investor/{self.investor}/wallet")
        return {
            "msme_id": self.msme,
            "application_id": self.application,
            "fund_id": self.fund,
            "kind": REQUIRED_KINDS[0],
            "document_id": self.document,
            "investor_id": self.investor,
            "subscription_id": self.subscription,
            "deposit_id": self.deposit,
            "payout_id": self.payout,
            "entry_id": self.entry,
            "programme_id": self.programme,
            "programme_application_id": self.programme_application,
            "award_id": self.award,
            # the bank that referred the world's business
            "bank_id": "hokkaido-bank",
            # disclosure objects the world does not make: admitted callers get 404
            "attachment_id": "9a0c3f4e-1b2d-4e5f-8a6b-7c8d9e0f1a2b",
            "report_id": "5b6c7d8e-9f0a-4b1c-8d2e-3f4a5b6c7d8e",
            "fiscal_year": "2030",
            # distributions the world does not declare; a year whose records are kept
            "period_number": "1",
            "year": "2025",
        }[name]


def _bodies(world: World) -> dict[tuple[str, str], Any]:
    """A well-formed body per operation, so that the gates, not validation, answer."""
    note = {"note": "checked for the role matrix"}
    reason = {"reason": "checked for the role matrix"}
    return {
        ("onboarding", "register_msme"): msme_body(),
        ("onboarding", "submit_application"): application_body(),
        ("onboarding", "move_application"): {"to": "withdrawn", "note": "role matrix"},
        ("onboarding", "record_committee_decision"): {
            "votes": [{"member": "m", "vote": "approve", "reason": "role matrix"}],
            "note": "role matrix",
        },
        ("onboarding", "review_document"): {"decision": "accepted"},
        ("onboarding", "create_fund"): {
            "application_id": world.application,
            "terms": fund_terms(),
        },
        ("onboarding", "replace_fund_terms"): fund_terms(),
        ("onboarding", "cancel_fund"): reason,
        ("onboarding", "register_partner"): {
            "partner_id": f"matrix-{uuid.uuid4().hex[:8]}",
            "kind": "bank",
            "name": "Matrix Bank",
            "zengin_code": f"{uuid.uuid4().int % 9000 + 1000}",
        },
        ("onboarding", "suspend_partner"): reason,
        ("onboarding", "reinstate_partner"): reason,
        ("onboarding", "register_webhook_endpoint"): {
            "url": "https://hooks.example.jp/matrix",
            "event_types": ["fund.closed"],
        },
        ("onboarding", "rotate_webhook_secret"): {"overlap_s": 60},
        ("subscription", "cancel_offering"): reason,
        ("subscription", "register_investor"): {"personal": _personal()},
        ("subscription", "verify_investor"): {"status": "verified", "note": "role matrix"},
        ("subscription", "acknowledge_risk_notice"): {"version": "2026-11"},
        ("subscription", "subscribe"): {"units": 1},
        ("ledger", "post_entry"): _manual_entry(world.msme),
        ("ledger", "post_entry_batch"): {"entries": [_manual_entry(world.msme)]},
        ("ledger", "post_pending_entry"): reason,
        ("ledger", "void_pending_entry"): reason,
        ("ledger", "reverse_entry"): reason,
        ("ledger", "report_deposit"): {
            "bank_transaction_id": f"M-{uuid.uuid4().hex[:8]}",
            "amount": 1_000,
            "currency": "JPY",
            "value_date": datetime.now(UTC).date().isoformat(),
            "payment_reference": "KM-NOTHING-EXPECTED",
        },
        ("ledger", "match_suspense_deposit"): {
            "subscription_id": world.subscription,
            **note,
        },
        ("ledger", "instruct_payout"): {
            "account": f"investor/{world.investor}/wallet",
            "amount": 1,
            "currency": "JPY",
            "bank_id": "hokkaido-bank",
            "reference": "role matrix",
        },
        ("ledger", "confirm_payout"): note,
        ("ledger", "fail_payout"): note,
        ("ledger", "answer_payouts"): {
            "answers": [{"payout_id": world.payout, "outcome": "confirmed", **note}]
        },
        ("ledger", "return_suspense_deposit"): note,
        ("subsidy", "create_programme"): _programme_body(),
        ("subsidy", "apply_to_programme"): {"application_id": world.application},
        ("subsidy", "review_programme_application"): _review_body(),
        ("subsidy", "decline_programme_application"): reason,
        ("subsidy", "revoke_award"): note,
    }


def _programme_body() -> dict[str, Any]:
    """A programme of the world's municipality, taking applications for the next hour."""
    now = datetime.now(UTC)
    return {
        "municipality_code": "012025",
        "name": "Role matrix support fund",
        "budget": 5_000_000,
        "max_awards": 5,
        "coverage_ppm": 900_000,
        "cap_per_award": 800_000,
        "applications_open_at": (now - timedelta(hours=1)).isoformat(),
        "applications_close_at": (now + timedelta(hours=1)).isoformat(),
        "criteria": [{"key": "feasibility", "title": "Feasibility", "weight": 100}],
        "pass_mark": 50,
        "lapses_if_fund_fails": True,
    }


def _review_body() -> dict[str, Any]:
    return {"marks": [{"criterion": "feasibility", "mark": 80}], "comment": "role matrix"}


def _personal() -> dict[str, Any]:
    from helpers import personal_details

    return personal_details()


def _manual_entry(msme: str) -> dict[str, Any]:
    """A staff entry opening an account for each kind of owner (none of them a fund's)."""
    entry: dict[str, Any] = {
        "purpose": "adjustment",
        "description": "Bank charge",
        "reason": "Charge shown on the bank statement",
        "postings": [
            {"account": "bank/hokkaido-bank/clearing", "direction": "debit", "amount": 3},
            {"account": "suspense", "direction": "credit", "amount": 1},
            {"account": "municipality/012025/subsidy", "direction": "credit", "amount": 1},
            {"account": f"msme/{msme}/payable", "direction": "credit", "amount": 1},
        ],
    }
    return entry


@contextlib.asynccontextmanager
async def platform(
    settings_for: SettingsFactory,
) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    clients: dict[str, httpx.AsyncClient] = {}
    overrides: dict[str, dict[str, Any]] = {
        "onboarding": {"min_offering_days": 0},
        "subscription": {"cooling_off_test_period": timedelta(hours=1)},
        "disclosure": {"run_workers": False},
    }
    async with contextlib.AsyncExitStack() as stack:
        for info in SERVICES:
            app = info.create_app(settings_for(info.name, **overrides.get(info.name, {})))
            clients[info.name] = await stack.enter_async_context(running(app))
        yield clients


async def _build_world(
    clients: dict[str, httpx.AsyncClient], ledger_url: str, onboarding_url: str
) -> World:
    onboard, subs, ledger = clients["onboarding"], clients["subscription"], clients["ledger"]
    world = World()
    # A business referred by the world's bank, walked to an open fund.
    business = await call(onboard, "POST", "/msmes", 201, json=msme_body(), headers=BANK)
    world.msme = business["id"]
    application = await call(
        onboard,
        "POST",
        f"/msmes/{world.msme}/applications",
        201,
        json=application_body(),
        headers=BANK,
    )
    world.application = application["id"]
    await move(onboard, world.application, *TO_AGREEMENT[1:], "agreement_and_documents")
    await accept_all_documents(onboard, world.application)
    await move(onboard, world.application, "committee_decision")
    await approve(onboard, world.application)
    await move(onboard, world.application, "msme_confirmation", "ready")
    drafted = await call(
        onboard,
        "POST",
        "/funds",
        201,
        json={
            "application_id": world.application,
            "terms": fund_terms(units_offered=100, formation_threshold_units=100),
        },
        headers=STAFF,
    )
    fund = await call(onboard, "POST", f"/funds/{drafted['id']}/publish", headers=STAFF)
    world.fund = fund["id"]
    versions = await call(
        onboard,
        "GET",
        f"/applications/{world.application}/documents/{REQUIRED_KINDS[0]}/versions",
        headers=STAFF,
    )
    world.document = versions[0]["id"] if isinstance(versions, list) else versions["items"][0]["id"]
    await call(
        onboard,
        "POST",
        "/partners",
        201,
        json={"partner_id": "spare-bank", "kind": "bank", "name": "Spare", "zengin_code": "0999"},
        headers=STAFF,
    )
    await eventually(
        lambda: _ok(subs.get(f"/offerings/{world.fund}")), timeout_s=60, what="the offering"
    )
    world.investor = await ready_investor(subs, verifying_bank="hokkaido-bank")
    other = await ready_investor(subs, verifying_bank="other-bank")
    me = bearer(Role.INVESTOR, world.investor)
    terms = fund["terms_digest"]
    orders = [
        await call(
            subs,
            "POST",
            f"/offerings/{world.fund}/subscriptions",
            201,
            json={"units": 1, "terms_digest": terms},
            headers={**me, "Idempotency-Key": f"matrix-{n}"},
        )
        for n in range(2)
    ]
    world.subscription = orders[0]["id"]
    await eventually(
        lambda: _count(ledger_url, "SELECT count(*) FROM expected_payments", 2),
        timeout_s=60,
        what="the ledger awaiting both payments",
    )
    # The fund reaches the ledger on another topic; a deposit before it would wait.
    await eventually(
        lambda: _count(ledger_url, "SELECT count(*) FROM funds", 1),
        timeout_s=60,
        what="the ledger knowing the fund",
    )
    for n, order in enumerate(orders):
        deposit = await call(
            ledger,
            "POST",
            "/deposits",
            201,
            json={
                "bank_transaction_id": f"W-{n}",
                "amount": order["amount_due"],
                "currency": "JPY",
                "value_date": datetime.now(UTC).date().isoformat(),
                "payment_reference": order["payment_reference"],
            },
            headers=BANK,
        )
        world.deposit = world.deposit or deposit["id"]
    suspense = await call(
        ledger,
        "POST",
        "/deposits",
        201,
        json={
            "bank_transaction_id": "W-unknown",
            "amount": 777,
            "currency": "JPY",
            "value_date": datetime.now(UTC).date().isoformat(),
            "payment_reference": "KM-UNKNOWN",
        },
        headers=BANK,
    )
    world.suspense_deposit = suspense["id"]

    async def confirmed() -> bool:
        body = await call(subs, "GET", f"/subscriptions/{orders[1]['id']}", headers=me)
        return bool(body["status"] == "confirmed")

    await eventually(confirmed, timeout_s=60, what="the payment confirmed")
    await call(subs, "POST", f"/subscriptions/{orders[1]['id']}/cancel", headers=me)

    async def payout() -> str | None:
        page = await call(ledger, "GET", "/payouts", headers=BANK)
        return str(page["items"][0]["id"]) if page["items"] else None

    world.payout = await eventually(payout, timeout_s=60, what="the refund payout")
    entry = await call(
        ledger,
        "POST",
        "/entries",
        201,
        json=_manual_entry(world.msme),
        headers={**STAFF, "Idempotency-Key": "matrix-entry"},
    )
    world.entry = entry["id"]
    await _build_subsidy_world(clients["subsidy"], world)
    await _build_webhook_world(clients["onboarding"], onboarding_url, world)
    world.tokens = {
        Role.STAFF: STAFF,
        Role.MSME: bearer(Role.MSME, world.msme),
        Role.INVESTOR: me,
        Role.BANK: BANK,
        Role.MUNICIPALITY: bearer(Role.MUNICIPALITY, "012025"),
        Role.SERVICE: bearer(Role.SERVICE, "subscription"),
    }
    world.others = {
        Role.MSME: bearer(Role.MSME, OTHER_MSME),
        Role.INVESTOR: bearer(Role.INVESTOR, other),
        Role.BANK: OTHER_BANK,
        Role.MUNICIPALITY: bearer(Role.MUNICIPALITY, "011002"),
    }
    return world


async def _build_webhook_world(
    onboarding: httpx.AsyncClient, database_url: str, world: World
) -> None:
    """A webhook endpoint of the world's bank and of its municipality, each with one
    delivery (written as the delivery worker's queue would hold it)."""
    partners = {Role.BANK: "hokkaido-bank", Role.MUNICIPALITY: "012025"}
    for role, partner in partners.items():
        endpoint = await call(
            onboarding,
            "POST",
            f"/partners/{partner}/webhook-endpoints",
            201,
            # Nothing listens there: a redelivery the matrix asks for fails at once.
            json={"url": "http://127.0.0.1:9/matrix", "event_types": ["fund.closed"]},
            headers=STAFF,
        )
        world.webhook_endpoints[role] = endpoint["endpoint_id"]
        [row] = await fetch(
            database_url,
            "INSERT INTO webhook_deliveries (id, endpoint_id, message_id, event_type, subject,"
            " body, status, attempts, next_attempt_at) VALUES (gen_random_uuid(), $1, $2,"
            " 'fund.closed', $3, '{}', 'delivered', 1, now()) RETURNING id",
            uuid.UUID(endpoint["endpoint_id"]),
            f"msg_matrix_{role.value}",
            world.fund,
        )
        world.webhook_deliveries[role] = str(row["id"])


async def _build_subsidy_world(subsidy: httpx.AsyncClient, world: World) -> None:
    """The world's municipality runs a programme; the world's business applies with its
    application (once the subsidy service heard of it), is scored and awarded (once it
    heard of the fund)."""
    town = bearer(Role.MUNICIPALITY, "012025")
    business = bearer(Role.MSME, world.msme)
    programme = await call(
        subsidy, "POST", "/programmes", 201, json=_programme_body(), headers=town
    )
    world.programme = programme["id"]

    async def applied() -> Any:
        response = await subsidy.post(
            f"/programmes/{world.programme}/applications",
            json={"application_id": world.application},
            headers=business,
        )
        return response.json() if response.status_code == 201 else None

    application = await eventually(applied, timeout_s=60, what="the subsidy application")
    world.programme_application = application["id"]
    await call(subsidy, "POST", f"/programmes/{world.programme}/close-applications", headers=town)
    await call(
        subsidy,
        "PUT",
        f"/programme-applications/{world.programme_application}/review",
        json=_review_body(),
        headers=town,
    )

    async def awarded() -> Any:
        response = await subsidy.post(
            f"/programme-applications/{world.programme_application}/award", headers=town
        )
        return response.json() if response.status_code == 201 else None

    world.award = (await eventually(awarded, timeout_s=60, what="the award"))["id"]


async def _ok(response: Any) -> bool:
    return bool((await response).status_code == 200)


async def _count(url: str, query: str, wanted: int) -> bool:
    return int((await fetch(url, query))[0][0]) >= wanted


@dataclass(frozen=True)
class Operation:
    service: str
    operation_id: str
    method: str
    path: str
    has_body: bool
    upload: bool


def _operations(apps: dict[str, Any]) -> list[Operation]:
    found = []
    for name, document in apps.items():
        for path, methods in document["paths"].items():
            for method, operation in methods.items():
                content = operation.get("requestBody", {}).get("content", {})
                found.append(
                    Operation(
                        name,
                        operation["operationId"],
                        method.upper(),
                        path,
                        bool(content),
                        "application/json" not in content and bool(content),
                    )
                )
    return found


async def _ask(
    client: httpx.AsyncClient,
    operation: Operation,
    world: World,
    bodies: dict[tuple[str, str], Any],
    role: Role | None,
    headers: dict[str, str],
) -> httpx.Response:
    path = PARAM.sub(lambda m: world.path_value(m.group(1), role), operation.path)
    extra: dict[str, Any] = {}
    if operation.upload:
        extra = {"content": PDF, "params": {"filename": "matrix.pdf"}}
        headers = {**headers, "Content-Type": "application/pdf"}
    elif operation.has_body:
        extra = {"json": bodies.get((operation.service, operation.operation_id), {})}
    headers = {**headers, "Idempotency-Key": f"matrix-{uuid.uuid4()}"}
    return await client.request(operation.method, path, headers=headers, **extra)


def _judge(access: Access, role: Role | None, status: int) -> str | None:
    """What is wrong with ``status`` for this cell, if anything."""
    if access.public:
        return None if status not in (401, 403) else f"public, yet {status}"
    if role is None:
        return None if status == 401 else f"no token: {status}, not 401"
    if role in access.admits:
        return None if status not in (401, 403) else f"{role.value} admitted, yet {status}"
    return None if status == 403 else f"{role.value} refused: {status}, not 403"


async def test_every_operation_answers_each_role_as_the_table_says(
    settings_for: SettingsFactory,
) -> None:
    async with platform(settings_for) as clients:
        world = await _build_world(
            clients,
            settings_for("ledger").database_url,
            settings_for("onboarding").database_url,
        )
        documents = {
            info.name: service(info.name)
            .create_app(info.settings_class()(run_workers=False))
            .openapi()
            for info in SERVICES
        }
        operations = _operations(documents)
        listed = {(o.service, o.operation_id) for o in operations}
        assert listed == set(MATRIX), (
            f"operations without a row: {sorted(listed - set(MATRIX))}; "
            f"rows without an operation: {sorted(set(MATRIX) - listed)}"
        )
        bodies = _bodies(world)
        wrong: list[str] = []
        # Another tenant first: nothing it sends may change the world.
        for operation in operations:
            access = MATRIX[(operation.service, operation.operation_id)]
            for owner in sorted(access.owners):
                answer = await _ask(
                    clients[operation.service], operation, world, bodies, owner, world.others[owner]
                )
                if answer.status_code != 404:
                    wrong.append(
                        f"{operation.method} {operation.path} as another {owner.value}: "
                        f"{answer.status_code}, not 404 ({answer.text[:200]})"
                    )
        for operation in operations:
            access = MATRIX[(operation.service, operation.operation_id)]
            cells: list[tuple[Role | None, dict[str, str]]] = [(None, {})]
            cells += list(world.tokens.items())
            for role, headers in cells:
                answer = await _ask(
                    clients[operation.service], operation, world, bodies, role, headers
                )
                problem = _judge(access, role, answer.status_code)
                if problem is None and role in access.owners and operation.method == "GET":
                    problem = (
                        None
                        if answer.status_code == 200
                        else f"the owner {role.value} gets {answer.status_code}"
                    )
                if problem is not None:
                    wrong.append(
                        f"{operation.service} {operation.method} {operation.path}: {problem} "
                        f"({answer.text[:200]})"
                    )
    assert not wrong, "\n".join(wrong)
