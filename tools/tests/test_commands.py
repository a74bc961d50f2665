"""The commands the README and the Makefile name resolve to code that exists."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_python_module_the_makefile_runs_exists() -> None:
    makefile = (ROOT / "Makefile").read_text()
    modules = re.findall(r"python -m ([a-z_.]+)", makefile)
    assert "kumiai_tools.bench" in modules
    for module in modules:
        spec = importlib.util.find_spec(module)
        assert spec is not None, module
        if spec.submodule_search_locations is not None:  # a package runs its __main__
            assert importlib.util.find_spec(f"{module}.__main__") is not None, module
