"""docs/rules.md names, for every rule, the function that holds it and the test that
proves it: each must exist, so the index cannot drift from the code."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ROW = re.compile(r"^\|(?P<rule>[^|]+)\|\s*`(?P<function>[^`]+)`\s*\|\s*`(?P<test>[^`]+)`\s*\|")


def _rows() -> list[tuple[str, str, str]]:
    rows = []
    for line in (ROOT / "docs/rules.md").read_text().splitlines():
        match = ROW.match(line)
        if match:
            rows.append((match["rule"].strip(), match["function"], match["test"]))
    return rows


def test_the_index_lists_rules() -> None:
    assert len(_rows()) >= 40


def test_every_rule_names_a_function_that_exists() -> None:
    missing = []
    for rule, function, _ in _rows():
        module_name, _, attribute = function.rpartition(".")
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            missing.append(f"{rule}: no module {module_name}")
            continue
        target: object = module
        for part in attribute.split(":"):
            target = getattr(target, part, None)
        if target is None:
            missing.append(f"{rule}: no {function}")
    assert missing == []


def test_every_rule_names_a_test_that_exists() -> None:
    missing = []
    for rule, _, test in _rows():
        path, _, name = test.partition("::")
        file = ROOT / path
        if not file.exists():
            missing.append(f"{rule}: no file {path}")
        elif not re.search(rf"def {re.escape(name)}\b", file.read_text()):
            missing.append(f"{rule}: no test {name} in {path}")
    assert missing == []
