"""The README's walkthrough, run: its ``curl`` commands against the services, in order.

README.md's "Calling the API" section opens with a walkthrough (its "### Walkthrough"
subsection) from a bank's referral to a paid subscription. Its ``sh`` blocks are read
as a small subset of the shell: ``NAME=$(.venv/bin/kumiai token <role> <tenant>)``,
``for name in words; do ... done``, and ``curl`` with ``-s -X -H -d --data-binary -o``.
A ``<placeholder>`` stands for a value of an earlier answer (``PLACEHOLDERS``), and
``-d @<operation id>.json`` for that operation's request example in the merged OpenAPI
document. Every JSON body the section shows is one its operation's schema accepts: the
walkthrough's as sent, the others with the example's values where they show a
placeholder.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache, partial
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

from helpers import PDF, SettingsFactory, fetch
from kumiai.auth import Role, mint_token
from kumiai.periods import JAPAN
from kumiai.settings import DEVELOPMENT_JWT_SECRET
from kumiai_tools.catalog import SERVICES, service
from kumiai_tools.cli import merged_openapi
from kumiai_tools.testing import eventually, running

pytestmark = pytest.mark.integration

README = Path(__file__).resolve().parents[2] / "README.md"
SECTION = "## Calling the API"
PARTNER_SECTIONS = ("## For partner banks", "## For municipalities", "## Webhooks")
WALKTHROUGH = "### Walkthrough"
PORTS = {info.port: info.name for info in SERVICES}

# Where each placeholder of the walkthrough is found: (operation id, field) of the
# latest answer of that operation. ``<today>`` is today's date in Japan.
PLACEHOLDERS: dict[str, tuple[str, str]] = {
    "msme id": ("register_msme", "id"),
    "application id": ("submit_application", "id"),
    "document id": ("upload_document", "id"),
    "fund id": ("create_fund", "id"),
    "investor id": ("register_investor", "id"),
    "risk notice version": ("get_risk_notice", "version"),
    "terms_digest": ("get_offering", "terms_digest"),
    "subscription id": ("subscribe", "id"),
    "amount due": ("subscribe", "amount_due"),
    "payment reference": ("subscribe", "payment_reference"),
}
PLACEHOLDER = re.compile(r"<([a-z][a-z0-9 _]*)>")
MASK = "__placeholder__"
VARIABLE = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?")
TOKEN = re.compile(r"^([A-Z_]+)=\$\(\.venv/bin/kumiai token (\S+) (\S+)\)$")
LOOP = re.compile(r"^for ([a-z_]+) in (.+?);\s*do$")
SERVICE_URL = re.compile(r"http://127\.0\.0\.1:(\d+)/")

# The files the walkthrough sends as they are (``--data-binary @tax_returns.pdf``).
FILES = {".pdf": PDF}

# The operations the walkthrough goes through, in this order (others may come between).
JOURNEY = (
    "register_partner",
    "register_msme",
    "submit_application",
    "move_application",
    "upload_document",
    "review_document",
    "record_committee_decision",
    "create_fund",
    "publish_fund",
    "list_offerings",
    "get_offering",
    "register_investor",
    "verify_investor",
    "get_risk_notice",
    "acknowledge_risk_notice",
    "subscribe",
    "report_deposit",
    "get_subscription",
    "list_investor_holdings",
)


# -- reading the README ------------------------------------------------------------------


@dataclass(frozen=True)
class Command:
    """One command of a block, with the values of the loop it sits in."""

    text: str
    bindings: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Curl:
    method: str
    url: str
    headers: dict[str, str]
    data: str | None
    data_file: str | None


def _part(text: str, heading: str) -> str:
    """The text under ``heading`` up to the next heading of its level or above (a line
    of a code block that starts with ``#`` is a comment, not a heading)."""
    level = len(heading.split(" ", 1)[0])
    lines = text.splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.startswith(heading))
    fenced = False
    for end in range(start + 1, len(lines)):
        fenced ^= lines[end].startswith("```")
        if not fenced and re.match(rf"#{{1,{level}}} ", lines[end]):
            return "".join(lines[start:end])
    return "".join(lines[start:])


def _blocks(text: str) -> list[str]:
    return re.findall(r"^```sh\n(.*?)^```$", text, re.M | re.S)


@cache
def _readme() -> tuple[list[str], list[str]]:
    """The walkthrough's ``sh`` blocks, and the other ones of its section and of the
    partners' sections."""
    text = README.read_text(encoding="utf-8")
    section = _part(text, SECTION)
    walkthrough = _part(section, WALKTHROUGH)
    partners = [block for heading in PARTNER_SECTIONS for block in _blocks(_part(text, heading))]
    return _blocks(walkthrough), _blocks(section.replace(walkthrough, "")) + partners


def _lines(block: str) -> list[str]:
    """The block's commands: continuation lines joined, comments dropped, quotes kept."""
    commands: list[str] = []
    current: list[str] = []
    quote: str | None = None
    i = 0
    while i < len(block):
        char = block[i]
        if quote is not None:
            current.append(char)
            if char == quote:
                quote = None
            elif char == "\\" and quote == '"':
                current.append(block[i + 1])
                i += 1
        elif char == "\\" and block[i + 1 : i + 2] == "\n":
            current.append(" ")
            i += 1
        elif char in "'\"":
            quote = char
            current.append(char)
        elif char == "#" and (not current or current[-1].isspace()):
            while i + 1 < len(block) and block[i + 1] != "\n":
                i += 1
        elif char == "\n":
            commands.append("".join(current).strip())
            current = []
        else:
            current.append(char)
        i += 1
    commands.append("".join(current).strip())
    return [c for c in commands if c]


def _commands(blocks: list[str]) -> Iterator[Command]:
    """The blocks' commands in order, each loop unrolled."""
    for block in blocks:
        lines = iter(_lines(block))
        for line in lines:
            loop = LOOP.match(line)
            if loop is None:
                yield Command(line)
                continue
            body: list[str] = []
            for inner in lines:
                if inner == "done":
                    break
                body.append(inner)
            else:
                raise AssertionError(f"README: {line!r} has no 'done'")
            for value in shlex.split(loop[2]):
                for inner in body:
                    yield Command(inner, {loop[1]: value})


def _expand(text: str, variables: Mapping[str, str]) -> str:
    """``text`` with its shell variables replaced by their values."""

    def value(match: re.Match[str]) -> str:
        assert match[1] in variables, f"README: ${match[1]} is set nowhere before {text!r}"
        return variables[match[1]]

    return VARIABLE.sub(value, text)


def _curl(text: str) -> Curl:
    words = shlex.split(text)
    assert words[:1] == ["curl"], f"README: the test runs only curl, not {text!r}"
    method: str | None = None
    url = ""
    headers: dict[str, str] = {}
    data: str | None = None
    data_file: str | None = None
    args = iter(words[1:])
    for word in args:
        if word == "-s":
            continue
        if word == "-X":
            method = next(args)
        elif word == "-H":
            name, _, value = next(args).partition(":")
            headers[name.strip()] = value.strip()
        elif word in ("-d", "--data-binary"):
            value = next(args)
            data, data_file = (None, value[1:]) if value.startswith("@") else (value, None)
        elif word == "-o":
            next(args)
        elif word.startswith("http://"):
            url = word
        else:
            raise AssertionError(f"README: the test does not read {word!r} in {text!r}")
    assert url, f"README: no URL in {text!r}"
    has_body = data is not None or data_file is not None
    return Curl(method or ("POST" if has_body else "GET"), url, headers, data, data_file)


# -- the merged OpenAPI document ---------------------------------------------------------


@cache
def _document() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(json.dumps(merged_openapi()))
    return document


def _operation(curl: Curl) -> dict[str, Any]:
    """The operation a README call names: the most specific path template that matches
    (a parameter is one segment of the path, or more if nothing else matches: an
    account's code, say)."""
    parts = urlsplit(curl.url)
    assert parts.port in PORTS, f"README: {curl.url} is on no service's port"
    path = f"/{PORTS[parts.port]}{parts.path}"
    for parameter in ("[^/]+", ".+"):
        matches: list[tuple[int, dict[str, Any]]] = []
        for template, operations in _document()["paths"].items():
            operation = operations.get(curl.method.lower())
            pattern = re.sub(r"\\\{[^/]+?\\\}", parameter, re.escape(template))
            if operation is not None and re.fullmatch(pattern, path):
                matches.append((len(re.sub(r"\{[^}]*\}", "", template)), operation))
        if matches:
            return max(matches, key=lambda m: m[0])[1]
    raise AssertionError(f"README: no operation {curl.method} {path} in the merged document")


def _json_media(operation: dict[str, Any]) -> dict[str, Any]:
    media: dict[str, Any] | None = (
        operation.get("requestBody", {}).get("content", {}).get("application/json")
    )
    assert media is not None, f"{operation['operationId']} takes no JSON body"
    return media


def _request_example(operation: dict[str, Any]) -> Any:
    """The request example of an operation, wherever the document holds it."""
    media = _json_media(operation)
    if "example" in media:
        return media["example"]
    if media.get("examples"):
        return next(iter(media["examples"].values()))["value"]
    schema = media["schema"]
    schemas = _document()["components"]["schemas"]
    while "$ref" in schema:
        schema = schemas[schema["$ref"].rsplit("/", 1)[-1]]
    assert schema.get("examples"), f"{operation['operationId']} has no request example"
    return schema["examples"][0]


def _problems(operation: dict[str, Any], body: Any) -> list[str]:
    """Why the operation's request schema refuses ``body`` (nothing if it accepts it)."""
    rooted = {**_json_media(operation)["schema"], "components": _document()["components"]}
    validator = Draft202012Validator(rooted, format_checker=Draft202012Validator.FORMAT_CHECKER)
    return [
        f"{operation['operationId']}: {error.message[:200]} at "
        f"{'/'.join(map(str, error.absolute_path)) or 'the top'}"
        for error in validator.iter_errors(body)
    ]


def _body(curl: Curl, operation: dict[str, Any]) -> tuple[Any, bytes | None]:
    """What a call sends: its JSON body (``None`` for a file) and its bytes (``None`` for
    a file the test does not have)."""
    if curl.data is not None:
        return json.loads(curl.data), curl.data.encode()
    if curl.data_file is None:
        return None, b""
    name, dot, extension = curl.data_file.rpartition(".")
    if extension == "json":
        assert name == operation["operationId"], (
            f"README: -d @{curl.data_file} calls {operation['operationId']}; "
            f"its example is -d @{operation['operationId']}.json"
        )
        example = _request_example(operation)
        return example, json.dumps(example).encode()
    content_type = curl.headers.get("Content-Type", "")
    accepted = operation.get("requestBody", {}).get("content", {})
    assert content_type in accepted, (
        f"README: {operation['operationId']} takes no {content_type!r}, only {list(accepted)}"
    )
    return None, FILES.get(f"{dot}{extension}")


def _with_example(body: Any, example: Any) -> Any:
    """``body`` with each masked placeholder replaced by the example's value there."""
    if isinstance(body, dict):
        fields = example if isinstance(example, dict) else {}
        return {k: _with_example(v, fields.get(k)) for k, v in body.items()}
    if isinstance(body, list):
        items = example if isinstance(example, list) else []
        return [_with_example(v, items[i] if i < len(items) else None) for i, v in enumerate(body)]
    if isinstance(body, str) and MASK in body and example is not None:
        return example
    return body


class _AnyValue(dict[str, str]):
    """Every shell variable has some value (outside the walkthrough nothing is sent)."""

    def __missing__(self, key: str) -> str:
        return key.lower()

    def __contains__(self, key: object) -> bool:
        return True


def test_every_other_call_of_the_section_names_an_operation_and_sends_a_valid_body() -> None:
    _, others = _readme()
    problems: list[str] = []
    calls = 0
    for command in _commands(others):
        # A placeholder becomes one word a URL, the shell and a JSON string keep whole.
        masked = PLACEHOLDER.sub(lambda m: MASK + m[1].replace(" ", "_"), command.text)
        if TOKEN.match(masked):
            continue
        curl = _curl(_expand(masked, _AnyValue(command.bindings)))
        operation = _operation(curl)
        calls += 1
        try:
            body, _ = _body(curl, operation)
        except json.JSONDecodeError as exc:
            problems.append(f"README: the body of {command.text!r} is not JSON: {exc}")
            continue
        if body is not None:
            problems.extend(_problems(operation, _with_example(body, _request_example(operation))))
    assert calls, "no call found in the section outside the walkthrough"
    assert not problems, "\n".join(problems)


# -- running the walkthrough -------------------------------------------------------------


@dataclass
class Walk:
    """The walkthrough under way: the running services, the shell's variables, the answers."""

    clients: dict[int, httpx.AsyncClient]
    databases: dict[str, str]
    variables: dict[str, str] = field(default_factory=dict)
    answers: dict[str, Any] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)

    def placeholder(self, match: re.Match[str]) -> str:
        if match[1] == "today":
            return datetime.now(JAPAN).date().isoformat()
        assert match[1] in PLACEHOLDERS, f"README: the test does not know <{match[1]}>"
        operation, name = PLACEHOLDERS[match[1]]
        assert operation in self.answers, f"README: <{match[1]}> is used before {operation}"
        return str(self.answers[operation][name])

    async def run(self, command: Command) -> None:
        text = PLACEHOLDER.sub(self.placeholder, command.text)
        text = _expand(text, {**self.variables, **command.bindings})
        token = TOKEN.match(text)
        if token is not None:
            role, tenant = Role(token[2]), token[3]
            self.variables[token[1]] = mint_token(
                secret=DEVELOPMENT_JWT_SECRET, role=role, tenant=tenant
            )
            return
        curl = _curl(text)
        operation = _operation(curl)
        name = operation["operationId"]
        body, content = _body(curl, operation)
        assert content is not None, f"README: the test has no file like {curl.data_file}"
        if body is not None:
            assert not _problems(operation, body), _problems(operation, body)
        if name in BEFORE:
            body = BEFORE[name](body)
            content = json.dumps(body).encode()
        response = await self.send(curl, content, name)
        assert response.is_success, (
            f"README: {command.text}\n{response.status_code} {response.text}"
        )
        json_answer = response.headers.get("content-type", "").startswith("application/json")
        self.answers[name] = response.json() if json_answer else response.content
        self.order.append(name)
        if name in AFTER:
            await AFTER[name](self)

    async def send(self, curl: Curl, content: bytes, name: str) -> httpx.Response:
        parts = urlsplit(curl.url)
        client = self.clients[parts.port or 80]
        target = f"{parts.path}?{parts.query}" if parts.query else parts.path
        request = client.build_request(curl.method, target, headers=curl.headers, content=content)
        if name not in UNTIL:
            return await client.send(request)
        reached, what = UNTIL[name]

        async def answered() -> httpx.Response | None:
            response = await client.send(request)
            return response if reached(self, response) else None

        return await eventually(answered, timeout_s=30, what=what)


def _open_now(body: Any) -> Any:
    """The README's fund opens on a fixed date; the test moves its offering window (the
    same length) to have started a minute ago, so that publishing opens it at once, as
    the README says a start already past does."""
    terms = body["terms"]
    start = datetime.fromisoformat(terms["offering_start"])
    end = datetime.fromisoformat(terms["offering_end"])
    now = datetime.now(UTC) - timedelta(minutes=1)
    terms["offering_start"] = now.isoformat()
    terms["offering_end"] = (now + (end - start)).isoformat()
    return body


# What the test changes in a body before it sends it (steps the README cannot show).
BEFORE: dict[str, Callable[[Any], Any]] = {"create_fund": _open_now}


async def _known_everywhere(walk: Walk) -> None:
    """The other services hear of a new partner through its event (the README's "within
    a second"); the test waits for every copy of the registry before going on."""
    partner = walk.answers["register_partner"]["partner_id"]
    for name, url in walk.databases.items():
        await eventually(
            partial(fetch, url, "SELECT 1 FROM partners WHERE partner_id = $1", partner),
            timeout_s=30,
            what=f"{name} knowing the partner {partner}",
        )


# What the test waits for after a step, before the next one.
AFTER: dict[str, Callable[[Walk], Awaitable[None]]] = {"register_partner": _known_everywhere}


def _offered(walk: Walk, response: httpx.Response) -> bool:
    fund = walk.answers["create_fund"]["id"]
    return response.status_code == 200 and any(
        item["fund_id"] == fund for item in response.json()["items"]
    )


# Reads the test repeats until the answer the README describes comes (events take a
# moment to reach the reading service): (whether it came, what is awaited).
UNTIL: dict[str, tuple[Callable[[Walk, httpx.Response], bool], str]] = {
    "list_offerings": (_offered, "the fund among the offerings (FundOpened consumed)"),
    "get_offering": (lambda _, r: r.status_code == 200, "the offering (FundOpened consumed)"),
    "get_subscription": (
        lambda _, r: r.status_code == 200 and r.json()["status"] == "confirmed",
        "the subscription confirmed (the ledger's PaymentReceived consumed)",
    ),
}


def _in_order(wanted: tuple[str, ...], done: list[str]) -> bool:
    steps = iter(done)
    return all(name in steps for name in wanted)


async def test_the_readme_walkthrough_runs_from_a_referral_to_a_paid_subscription(
    settings_for: SettingsFactory, clean_databases: dict[str, str]
) -> None:
    blocks, _ = _readme()
    commands = list(_commands(blocks))
    ports = sorted({int(p) for c in commands for p in SERVICE_URL.findall(c.text)})
    databases = {PORTS[port]: clean_databases[PORTS[port]] for port in ports}
    # The test databases start with the standard partners registered (conftest); the
    # walkthrough registers its bank itself, as on a new platform.
    for url in databases.values():
        await fetch(url, "DELETE FROM partners")
    async with AsyncExitStack() as stack:
        clients = {
            port: await stack.enter_async_context(
                running(service(PORTS[port]).create_app(settings_for(PORTS[port])))
            )
            for port in ports
        }
        walk = Walk(clients, databases)
        for command in commands:
            await walk.run(command)
    answers = walk.answers
    assert _in_order(JOURNEY, walk.order), f"the walkthrough went {walk.order}"

    partner, msme = answers["register_partner"], answers["register_msme"]
    assert (partner["partner_id"], partner["status"]) == ("hokkaido-bank", "active")
    assert msme["referred_by_bank"] == partner["partner_id"]
    application = answers["submit_application"]
    assert application["msme_id"] == msme["id"]
    assert application["step"] == "initial_meeting", "a bank's referral skips the introduction"
    assert application["referrer_id"] == partner["partner_id"]
    assert answers["review_document"]["status"] == "accepted"
    decided = answers["record_committee_decision"]
    assert (decided["id"], decided["step"]) == (application["id"], "offering_preparation")
    assert answers["move_application"]["step"] == "ready"

    fund, published = answers["create_fund"], answers["publish_fund"]
    assert (fund["application_id"], fund["msme_id"]) == (application["id"], msme["id"])
    assert fund["status"] == "draft"
    assert (published["id"], published["status"]) == (fund["id"], "open")
    offering = answers["get_offering"]
    assert offering["fund_id"] == fund["id"]
    assert offering["phase"] == "open"
    assert offering["terms_digest"] == published["terms_digest"]
    assert re.fullmatch(r"[0-9a-f]{64}", offering["terms_digest"])

    investor, verified = answers["register_investor"], answers["verify_investor"]
    assert (investor["verification"], investor["verifying_bank_id"]) == (
        "unverified",
        partner["partner_id"],
    )
    assert (verified["id"], verified["verification"]) == (investor["id"], "verified")
    assert verified["verified_by"] == f"bank:{partner['partner_id']}"
    acknowledged = answers["acknowledge_risk_notice"]
    assert acknowledged["risk_notice_version"] == answers["get_risk_notice"]["version"]

    placed, confirmed = answers["subscribe"], answers["get_subscription"]
    terms = fund["terms"]
    price = terms["unit_price"] + terms["handling_fee_per_unit"]
    assert (placed["fund_id"], placed["investor_id"]) == (fund["id"], investor["id"])
    assert (placed["status"], placed["amount_due"]) == ("placed", placed["units"] * price)
    assert re.fullmatch(r"KM[0-9A-Z]+", placed["payment_reference"])
    deposit = answers["report_deposit"]
    assert (deposit["bank_id"], deposit["amount"]) == (partner["partner_id"], placed["amount_due"])
    assert deposit["payment_reference"] == placed["payment_reference"]
    assert confirmed["id"] == placed["id"]
    assert (confirmed["status"], confirmed["amount_paid"]) == ("confirmed", placed["amount_due"])
    holdings = answers["list_investor_holdings"]
    assert [(h["fund_id"], h["units"], h["amount_paid"]) for h in holdings] == [
        (fund["id"], placed["units"], placed["amount_due"])
    ]
