"""Property-based fuzzing of every service's HTTP API from its own OpenAPI document.

Each operation is called with generated data, valid and invalid, by a caller
its route accepts: no answer may be a 5xx, invalid data is never accepted,
and every answer matches its documented status codes, media types, headers
and schema. The budget is bounded and the generation derandomised, so a run
is repeatable and its length predictable; set ``KUMIAI_FUZZ_EXAMPLES`` and
``KUMIAI_FUZZ_SEED`` for a deeper or different search.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import schemathesis
import uvicorn
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.failures import FailureGroup
from schemathesis.core.result import Ok

from access import caller_for
from helpers import SettingsFactory
from kumiai_tools.catalog import SERVICES, service
from kumiai_tools.devstack import free_port

EXAMPLES = int(os.environ.get("KUMIAI_FUZZ_EXAMPLES", "12"))
SEED = int(os.environ.get("KUMIAI_FUZZ_SEED", "20261128"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
ACCEPTING_CHECKS = [check for check in CHECKS if check is not negative_data_rejection]


@contextlib.contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """Run ``app`` on a real socket in a thread of its own (its own event loop)."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive(), "the server thread died while starting"
        assert time.monotonic() < deadline, "the server did not start within 30 s"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        assert not thread.is_alive(), "the server did not stop within 30 s"


def _fuzz_operation(
    name: str, operation: Any, mode: GenerationMode, base_url: str, session: requests.Session
) -> list[str]:
    headers = caller_for(name, operation.definition.raw.get("operationId", "")) or {}
    failures: list[str] = []

    @seed(SEED)
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: Any) -> None:
        response = case.call(base_url=base_url, session=session, headers=headers, timeout=30)
        # A body over the limit is refused with 413 before it is read: a rejection too.
        checks = CHECKS if response.status_code != 413 else ACCEPTING_CHECKS
        try:
            case.validate_response(response, checks=checks)
        except FailureGroup as exc:
            failures.append(f"{operation.label} [{mode.value}]: {str(exc)[:2000]}")

    try:
        run()
    except Unsatisfiable:
        # Nothing to negate: the operation takes no parameters and no body.
        assert mode is GenerationMode.NEGATIVE, f"{operation.label}: no valid input exists"
    return failures


@pytest.mark.parametrize("name", [s.name for s in SERVICES])
def test_no_operation_answers_5xx_or_off_its_documented_schema(
    settings_for: SettingsFactory, name: str
) -> None:
    app = service(name).create_app(settings_for(name, run_workers=False))
    schema = schemathesis.openapi.from_dict(app.openapi())
    failures: list[str] = []
    operations = 0
    with serving(app) as base_url, requests.Session() as session:
        for result in schema.get_all_operations():
            assert isinstance(result, Ok), f"the schema does not load: {result}"
            operation = result.ok()
            operations += 1
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                failures += _fuzz_operation(name, operation, mode, base_url, session)
    assert operations > 0
    assert not failures, "\n\n".join(failures[:20])
