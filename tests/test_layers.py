"""The layout is the architecture (docs/README.md, "Layout"): imports flow one way, cli → run →
pipeline → stages → shared vocabulary, and no module imports itself back through others."""

import ast
import functools
from pathlib import Path

import pytest

from tests.conftest import ROOT

# Lowest first. A module may import from a lower layer, or from its own package in its layer.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("core", "core.errors", "core.outcome", "core.clock"),  # shared vocabulary
    ("core.js",),  # faithful ports of JavaScript behaviour
    ("core.identity",),  # who a visitor is
    ("core.config", "core.report", "core.state", "core.sinks", "core.shard"),  # every stage
    ("core.input",),
    ("core.event",),
    ("core.rules", "core.delivery"),
    ("core.pipeline",),
    ("core.run", "core.validate"),
    ("core.diff",),  # two dry-run pipelines over one read
    ("core.fanout",),  # --jobs: forks of core.run and core.diff
    ("cli",),
)


def unit_of(module: str) -> tuple[int, str]:
    """(layer, the entry of LAYERS that holds the module): the longest matching prefix."""
    best: tuple[int, str] | None = None
    for rank, units in enumerate(LAYERS):
        for unit in units:
            if (module == unit or module.startswith(unit + ".")) and (
                best is None or len(unit) > len(best[1])
            ):
                best = (rank, unit)
    if best is None:
        raise ValueError(f"{module} is in no layer: add it to LAYERS")
    return best


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@functools.cache
def _parsed_graph() -> dict[str, frozenset[str]]:
    """Every project module and the project modules it imports (at any depth of the code)."""
    files = [p for package in ("core", "cli") for p in (ROOT / package).rglob("*.py")]
    modules = {module_name(path): path for path in files}
    graph: dict[str, frozenset[str]] = {}
    for name, path in modules.items():
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:
                    full = f"{node.module}.{alias.name}"
                    targets.add(full if full in modules else node.module)
        graph[name] = frozenset(t for t in targets if t in modules and t != name)
    return graph


def import_graph() -> dict[str, set[str]]:
    """A fresh copy of the project's import graph (tests may plant edges in it)."""
    return {module: set(targets) for module, targets in _parsed_graph().items()}


def layer_violations(graph: dict[str, set[str]]) -> list[str]:
    """Imports against the layer order: upward, or sideways into another stage."""
    problems = []
    for module, targets in sorted(graph.items()):
        rank, unit = unit_of(module)
        for target in sorted(targets):
            target_rank, target_unit = unit_of(target)
            if target_rank > rank or (target_rank == rank and target_unit != unit):
                problems.append(f"{module} imports {target}")
    return problems


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Import cycles, each as the path that closes it."""
    found: list[list[str]] = []
    state: dict[str, int] = {}  # 1 on the current path, 2 finished

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in sorted(graph.get(module, ())):
            if state.get(target) == 1:
                found.append([*path[path.index(target) :], module, target])
            elif target not in state:
                visit(target, [*path, target])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    return found


def test_no_import_goes_against_the_layers() -> None:
    assert layer_violations(import_graph()) == []


def test_no_import_cycle() -> None:
    assert cycles(import_graph()) == []


def test_every_module_has_a_layer() -> None:
    for module in import_graph():
        unit_of(module)


@pytest.mark.parametrize(
    ("module", "planted"),
    [
        ("core.rules.engine", "core.pipeline"),  # upward
        ("core.rules.engine", "core.delivery.sender"),  # sideways into another stage
        ("core.js.value", "core.event.fields"),  # a port depending on a stage
        ("core.errors", "cli.app"),  # the vocabulary depending on the UI
    ],
)
def test_a_planted_import_is_caught(module: str, planted: str) -> None:
    graph = import_graph()
    graph[module] = {*graph[module], planted}
    assert f"{module} imports {planted}" in layer_violations(graph)


def test_a_planted_cycle_is_caught() -> None:
    graph = import_graph()
    graph["core.errors"] = {*graph["core.errors"], "core.report"}
    assert any(cycle[0] == "core.errors" or "core.errors" in cycle for cycle in cycles(graph))
