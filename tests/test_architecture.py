"""The shape of the code: dependencies read one way, domains without cycles, small modules, one registry.

channels (bot/) → core (bot/core.py) → domains (actions/<domain>/) → kit (actions/kit/) → database (db/).
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

from actions import registry
from actions.kit.flows import Handlers

ROOT = Path(__file__).resolve().parent.parent
ACTIONS = ROOT / "actions"
MAX_LINES = 450


def _imports(path: Path) -> set[str]:
    """Every module a file imports (absolute names), at any depth (function-level imports included)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _python_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.py") if "__pycache__" not in p.parts)


def _domain_of(module: str) -> str | None:
    parts = module.split(".")
    if len(parts) >= 2 and parts[0] == "actions" and parts[1] not in {"kit", "registry"}:
        return parts[1]
    return None


def test_nothing_under_actions_imports_the_channels_or_the_core() -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(name for name in _imports(path) if name == "bot" or name.startswith("bot."))
        for path in _python_files(ACTIONS)
    }
    assert {path: names for path, names in offenders.items() if names} == {}


def test_the_kit_imports_no_domain() -> None:
    offenders = {}
    for path in _python_files(ACTIONS / "kit"):
        domains = sorted({d for name in _imports(path) if (d := _domain_of(name))} - {None})
        if domains or any(name.startswith("actions.registry") for name in _imports(path)):
            offenders[str(path.relative_to(ROOT))] = domains or ["actions.registry"]
    assert offenders == {}


def test_domain_packages_depend_on_each_other_without_cycles() -> None:
    edges: dict[str, set[str]] = {}
    for path in _python_files(ACTIONS):
        own = _domain_of(".".join(path.relative_to(ROOT).with_suffix("").parts))
        if own is None:
            continue
        edges.setdefault(own, set())
        for name in _imports(path):
            other = _domain_of(name)
            if other is not None and other != own:
                edges[own].add(other)
        if any(name.startswith("actions.registry") for name in _imports(path)):
            edges[own].add("<registry>")
    assert all("<registry>" not in targets for targets in edges.values()), "a domain imports the registry"

    def cycle_from(start: str) -> list[str] | None:
        stack = [(start, [start])]
        while stack:
            node, path = stack.pop()
            for nxt in edges.get(node, ()):
                if nxt == start:
                    return [*path, nxt]
                if nxt not in path:
                    stack.append((nxt, [*path, nxt]))
        return None

    cycles = [c for d in sorted(edges) if (c := cycle_from(d))]
    assert cycles == []


def test_no_module_under_actions_is_over_450_lines() -> None:
    long = {
        str(path.relative_to(ROOT)): n
        for path in _python_files(ACTIONS)
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}


def test_the_registry_lists_every_domain_package_and_each_declares_its_handlers() -> None:
    packages = sorted(p.name for p in ACTIONS.iterdir() if (p / "__init__.py").exists() and p.name != "kit")
    listed = sorted(domain.__name__.removeprefix("actions.") for domain in registry.DOMAINS)
    assert listed == packages
    for domain in registry.DOMAINS:
        assert isinstance(domain.handlers, Handlers), domain.__name__


def test_no_service_function_takes_a_turn() -> None:
    """Services are for the chat, the scheduler and the console alike: session, now and plain values."""
    offenders = []
    for path in _python_files(ACTIONS):
        if path.name not in {"service.py", "rules.py"} and path.parent.name != "service":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef):
                annotations = [a.annotation for a in (*node.args.args, *node.args.kwonlyargs) if a.annotation]
                if any("Turn" in ast.unparse(a) for a in annotations):
                    offenders.append(f"{path.relative_to(ROOT)}:{node.name}")
    assert offenders == []


def test_handlers_are_registered_by_the_registry_not_by_importing() -> None:
    source = inspect.getsource(registry)
    assert "importlib" not in source and "pkgutil" not in source
