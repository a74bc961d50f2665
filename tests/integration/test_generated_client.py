"""A client generated from the merged OpenAPI document by a mainstream generator
(openapi-python-client) imports and runs an investor's flow against the subscription
service: register, be verified by the chosen bank, acknowledge the risk notice, subscribe.

The generated client calls the paths of the merged document (``/subscription/...``), so
the test routes them as the ingress does (``deploy/k8s/ingress.yaml``): the service's
name is the first segment, removed before the service sees the request.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import pkgutil
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from subscription_flows import Market

from helpers import SettingsFactory
from kumiai.auth import Role, mint_token
from kumiai.references import is_valid_reference
from kumiai.settings import DEVELOPMENT_JWT_SECRET
from kumiai_tools.catalog import service
from kumiai_tools.cli import merged_openapi
from kumiai_tools.testing import running

PACKAGE = "kumiai_client"
GENERATOR = Path(sys.executable).parent / "openapi-python-client"
GENERATOR_TIMEOUT_S = 120

# The generator reads a body or an answer only as JSON, a form, multipart or
# application/octet-stream; our downloads (PDF, SVG, Atom) are bytes to it. An upload
# that accepts several file types gets the PDF one only: the generator would send
# every type under one Content-Type (the last it read) if given them all.
CONFIG = {
    "post_hooks": [],
    "content_type_overrides": {
        "application/pdf": "application/octet-stream",
        "image/svg+xml": "application/octet-stream",
        "application/atom+xml": "application/octet-stream",
    },
}

# What the generator may still warn about: the other file types of an upload
# (spreadsheets, images, CSV), which it cannot send. Anything else (a schema or a
# reference it cannot read) is a fault of our document and fails the test.
KNOWN_LIMIT = re.compile(
    r"WARNING parsing POST /\w+/\S+ within \w+\.: Unsupported content type [\w./+-]+"
)


class Generated:
    """The generator's run over the merged document, started once for the module; the
    platform starts meanwhile, and the first use of the package waits for the run."""

    def __init__(self, work: Path) -> None:
        self.work = work
        self.root = work / PACKAGE
        self.document = merged_openapi()
        (work / "openapi.json").write_text(json.dumps(self.document, indent=2))
        (work / "config.json").write_text(json.dumps(CONFIG))
        # A file, not a pipe: the warnings would fill a pipe nobody reads yet.
        self._log = (work / "generator.log").open("w")
        self._process = subprocess.Popen(
            [
                str(GENERATOR),
                "generate",
                "--path",
                str(work / "openapi.json"),
                "--config",
                str(work / "config.json"),
                "--output-path",
                str(self.root),
                "--meta",
                "none",
                "--overwrite",
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self._imported = False

    def wait(self) -> None:
        """Wait (bounded) for the generator; it must succeed without unexpected warnings."""
        if self._imported:
            return
        try:
            code = self._process.wait(timeout=GENERATOR_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self._process.kill()
            raise AssertionError(f"the generator ran over {GENERATOR_TIMEOUT_S}s") from None
        output = (self.work / "generator.log").read_text()
        assert code == 0, output
        unexpected = [p for p in _problems(output) if not KNOWN_LIMIT.fullmatch(p)]
        assert unexpected == [], output
        sys.path.insert(0, str(self.work))
        self._imported = True

    def close(self) -> None:
        if self._process.poll() is None:
            self._process.kill()
            self._process.wait(timeout=10)
        self._log.close()
        if self._imported:
            sys.path.remove(str(self.work))
        for name in [n for n in sys.modules if n == PACKAGE or n.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]

    @property
    def models(self) -> Any:
        self.wait()
        return importlib.import_module(f"{PACKAGE}.models")

    def client(self, role: Role, tenant: str, transport: httpx.AsyncBaseTransport) -> Any:
        self.wait()
        token = mint_token(secret=DEVELOPMENT_JWT_SECRET, role=role, tenant=tenant)
        module = importlib.import_module(f"{PACKAGE}.client")
        return module.AuthenticatedClient(
            base_url="http://kumiai.test",
            token=token,
            raise_on_unexpected_status=True,
            httpx_args={"transport": transport},
        )

    def operation(self, tag: str, operation_id: str) -> Any:
        self.wait()
        return importlib.import_module(f"{PACKAGE}.api.{tag}.{operation_id}")


def _problems(output: str) -> list[str]:
    """The generator's warnings and errors: each headline with its first detail line."""
    lines = output.splitlines()
    problems = []
    for number, line in enumerate(lines):
        if line.startswith(("WARNING", "ERROR", "Unable to")):
            detail = next((later for later in lines[number + 1 :] if later.strip()), "")
            problems.append(f"{line}: {detail}")
    return problems


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Generated]:
    """Generate the client from the merged document once for the module (offline)."""
    generation = Generated(tmp_path_factory.mktemp("generated-client"))
    try:
        yield generation
    finally:
        generation.close()


class Ingress(httpx.AsyncBaseTransport):
    """Route ``/<service>/...`` to that service without the prefix, as the ingress does."""

    def __init__(self, services: dict[str, httpx.AsyncBaseTransport]) -> None:
        self._services = services

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        name, _, rest = request.url.path.removeprefix("/").partition("/")
        if name not in self._services:
            return httpx.Response(404, json={"detail": f"no service {name!r}"})
        request.url = request.url.copy_with(path=f"/{rest}")
        return await self._services[name].handle_async_request(request)


async def test_an_investor_registers_and_subscribes_with_the_generated_client(
    generated: Generated, settings_for: SettingsFactory
) -> None:
    settings = settings_for("subscription", payment_period=timedelta(days=7))
    app = service("subscription").create_app(settings)
    investor_id = uuid.uuid4()
    async with running(app) as plain:
        # The fund comes from onboarding's FundOpened, as on the platform.
        fund = await Market(plain, settings).open_fund(max_units_per_investor=10)
        ingress = Ingress({"subscription": httpx.ASGITransport(app=app)})
        await asyncio.to_thread(generated.wait)
        models = generated.models
        async with (
            generated.client(Role.INVESTOR, str(investor_id), ingress) as investor,
            generated.client(Role.BANK, "hokkaido-bank", ingress) as bank,
        ):
            registered = await generated.operation("subscription", "register_investor").asyncio(
                client=investor,
                body=models.InvestorIn(
                    personal=models.PersonalDetails(
                        full_name="Ichiro Suzuki",
                        address="4-5-6 Kita-ku, Sapporo",
                        phone="+81-11-000-0000",
                        email="ichiro@example.jp",
                        payout_account=models.PayoutAccount(
                            bank_code="0116",
                            branch_code="101",
                            account_type=models.PayoutAccountAccountType.ORDINARY,
                            account_number="1234567",
                            account_holder="SUZUKI ICHIRO",
                        ),
                    ),
                    verifying_bank_id="hokkaido-bank",
                ),
            )
            verified = await generated.operation("subscription", "verify_investor").asyncio(
                investor_id,
                client=bank,
                body=models.VerificationIn(
                    status=models.VerificationInStatus.VERIFIED,
                    note="identity documents checked at the branch",
                ),
            )
            notice = await generated.operation("subscription", "get_risk_notice").asyncio(
                client=investor
            )
            acknowledged = await generated.operation(
                "subscription", "acknowledge_risk_notice"
            ).asyncio(
                investor_id,
                client=investor,
                body=models.RiskAcknowledgementIn(version=notice.version),
            )
            subscribe = generated.operation("subscription", "subscribe")
            order = models.SubscriptionIn(units=3, terms_digest=fund.terms_digest)
            key = str(uuid.uuid4())
            placed = await subscribe.asyncio(
                fund.fund_id, client=investor, body=order, idempotency_key=key
            )
            replayed = await subscribe.asyncio(
                fund.fund_id, client=investor, body=order, idempotency_key=key
            )
    assert isinstance(registered, models.InvestorOut), registered
    assert registered.id == investor_id
    assert registered.verification == models.VerificationStatus.UNVERIFIED
    assert registered.personal.payout_account.account_holder == "SUZUKI ICHIRO"
    assert isinstance(verified, models.InvestorOut), verified
    assert (verified.verification, verified.verified_by) == (
        models.VerificationStatus.VERIFIED,
        "bank:hokkaido-bank",
    )
    assert isinstance(notice, models.RiskNoticeOut), notice
    assert isinstance(acknowledged, models.InvestorOut), acknowledged
    assert acknowledged.risk_notice_version == notice.version
    assert acknowledged.risk_acknowledged_at is not None
    assert isinstance(placed, models.SubscriptionOut), placed
    assert (placed.fund_id, placed.investor_id, placed.units) == (fund.fund_id, investor_id, 3)
    assert placed.status == models.SubscriptionStatus.PLACED
    assert placed.amount_due == 3 * (fund.unit_price + fund.handling_fee_per_unit) == 31_500
    assert placed.currency == "JPY"
    assert re.fullmatch(r"KM[0-9A-HJKMNP-TV-Z]{11}", placed.payment_reference)
    assert is_valid_reference(placed.payment_reference)
    assert placed.payment_deadline - placed.placed_at == timedelta(days=7)
    assert isinstance(replayed, models.SubscriptionOut), replayed
    assert replayed.to_dict() == placed.to_dict()


def test_every_operation_is_generated_and_imports(generated: Generated) -> None:
    generated.wait()
    operations = {
        (operation["tags"][0], operation["operationId"])
        for path in generated.document["paths"].values()
        for operation in path.values()
        if isinstance(operation, dict)
    }
    modules = [m.name for m in pkgutil.walk_packages([str(generated.root)], prefix=f"{PACKAGE}.")]
    failures: dict[str, str] = {}
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception as error:
            failures[name] = repr(error)
    endpoints = {
        tuple(name.split(".")[2:]) for name in modules if name.count(".") == 3 and ".api." in name
    }
    assert failures == {}
    assert endpoints == operations
