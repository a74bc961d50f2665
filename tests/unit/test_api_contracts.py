"""The APIs the frontend team and the other services build on change only on purpose.

The merged OpenAPI document and the AsyncAPI document of the event contracts are
compared with the copies in ``tests/contracts/``. A deliberate change is recorded
by running this test with ``KUMIAI_UPDATE_CONTRACTS=1`` and committing the copies
with the change that made them.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from kumiai_tools.asyncapi import asyncapi_document
from kumiai_tools.cli import merged_openapi

CONTRACTS = Path(__file__).resolve().parents[1] / "contracts"


def _compare(name: str, document: dict[str, Any]) -> None:
    path = CONTRACTS / name
    if os.environ.get("KUMIAI_UPDATE_CONTRACTS") == "1":
        path.write_text(json.dumps(document, indent=1, sort_keys=True) + "\n")
    recorded = json.loads(path.read_text())
    assert document == recorded, f"{name} changed; if on purpose, record it (see the docstring)"


@pytest.mark.parametrize(
    ("name", "build"),
    [("openapi.json", merged_openapi), ("asyncapi.json", asyncapi_document)],
)
def test_the_published_documents_are_the_recorded_ones(name: str, build: Any) -> None:
    _compare(name, json.loads(json.dumps(build())))
