"""The layout reads top-down: no import cycle, no upward import, small modules and functions.

The import graph covers ``livefake``, ``livefake.models`` and ``livefake.exporters``, with
module-level and function-level imports alike (a lazy import is still a dependency). A module
``a`` depends on ``b`` when it imports ``b`` or imports a name from ``b``; ``from p import m``
where ``m`` is a submodule of ``p`` counts as a dependency on ``p.m``.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE_ROOTS = {
    "livefake": ROOT / "livefake",
    "livefake.models": ROOT / "models",
    "livefake.exporters": ROOT / "exporters",
}
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 40

# Lowest first. A module may import modules of its own layer or of a lower one, never a higher
# one. Names are relative to ``livefake``; "" is the package itself. A module belongs to the
# layer of its longest listed prefix.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("", "errors", "types"),
    ("config",),
    ("pipeline",),
    ("runtime",),
    ("sources",),
    ("face",),
    ("swap",),
    ("merge",),
    ("sinks",),
    ("audio",),
    ("builder",),
    ("faceset",),
    ("models",),
    ("exporters",),
    ("bench", "install", "serve", "ui"),
    ("commands",),
    ("cli",),
)


def module_sources(roots: Mapping[str, Path] = PACKAGE_ROOTS) -> dict[str, str]:
    """Every module's dotted name -> its source text."""
    sources = {}
    for package, root in roots.items():
        for file in sorted(root.rglob("*.py")):
            parts = [part for part in file.relative_to(root).with_suffix("").parts if part != "__init__"]
            sources[".".join([package, *parts])] = file.read_text()
    return sources


def _absolute(module: str, node: ast.ImportFrom, is_package: bool) -> str:
    if node.level == 0:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def import_graph(sources: Mapping[str, str], packages: frozenset[str] = frozenset()) -> dict[str, set[str]]:
    """Module -> the modules of ``sources`` it imports anywhere in its body."""
    graph: dict[str, set[str]] = {}
    for module, text in sources.items():
        targets: list[str] = []
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.Import):
                targets += [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                origin = _absolute(module, node, module in packages)
                targets += [origin] + [f"{origin}.{alias.name}" for alias in node.names]
        graph[module] = {target for target in targets if target in sources and target != module}
    return graph


def find_cycles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """Every elementary cycle reached by a depth-first walk, each as [a, b, ..., a]."""
    found: dict[frozenset[str], list[str]] = {}
    done: set[str] = set()

    def visit(node: str, stack: list[str]) -> None:
        if node in stack:
            cycle = stack[stack.index(node) :] + [node]
            found.setdefault(frozenset(cycle), cycle)
            return
        if node in done:
            return
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            visit(target, stack)
        stack.pop()
        done.add(node)

    for node in sorted(graph):
        visit(node, [])
    return list(found.values())


def layer_of(module: str, layers: tuple[tuple[str, ...], ...] = LAYERS) -> int | None:
    relative = module.removeprefix("livefake").removeprefix(".")
    best: tuple[int, int] | None = None  # (prefix length, layer)
    for index, names in enumerate(layers):
        for name in names:
            matches = relative == name or (name and relative.startswith(name + ".")) or (not name and not relative)
            if matches and (best is None or len(name) > best[0]):
                best = (len(name), index)
    return None if best is None else best[1]


def upward_imports(graph: Mapping[str, set[str]], layers: tuple[tuple[str, ...], ...] = LAYERS) -> list[str]:
    found = []
    for module, targets in sorted(graph.items()):
        for target in sorted(targets):
            low, high = layer_of(module, layers), layer_of(target, layers)
            if low is not None and high is not None and high > low:
                found.append(f"{module} (layer {low}) imports {target} (layer {high})")
    return found


def unplaced_modules(sources: Mapping[str, str], layers: tuple[tuple[str, ...], ...] = LAYERS) -> list[str]:
    return sorted(module for module in sources if layer_of(module, layers) is None)


def oversized(sources: Mapping[str, str]) -> list[str]:
    """Modules over MAX_MODULE_LINES lines and functions over MAX_FUNCTION_LINES (def to last line)."""
    found = []
    for module, text in sorted(sources.items()):
        lines = len(text.splitlines())
        if lines > MAX_MODULE_LINES:
            found.append(f"{module}: {lines} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    found.append(f"{module}.{node.name} (line {node.lineno}): {length} lines")
    return found


def package_names(roots: Mapping[str, Path] = PACKAGE_ROOTS) -> frozenset[str]:
    """The modules that are packages (an ``__init__.py``): their relative imports start inside them."""
    names = set()
    for package, root in roots.items():
        for file in root.rglob("__init__.py"):
            names.add(".".join([package, *file.parent.relative_to(root).parts]))
    return frozenset(names)


def test_no_import_cycle() -> None:
    cycles = find_cycles(import_graph(module_sources(), package_names()))
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(cycle) for cycle in cycles)


def test_no_upward_import() -> None:
    sources = module_sources()
    unplaced = unplaced_modules(sources)
    assert not unplaced, f"place these modules in a layer of tests/test_layout.py: {unplaced}"
    upward = upward_imports(import_graph(sources, package_names()))
    assert not upward, "upward imports:\n" + "\n".join(upward)


def test_modules_and_functions_stay_small() -> None:
    found = oversized(module_sources())
    assert not found, "split these by noun:\n" + "\n".join(found)


def test_the_checker_finds_what_it_is_for() -> None:
    long_body = "\n".join(f"    x{i} = {i}" for i in range(MAX_FUNCTION_LINES))
    sources = {
        "livefake.face.a": "from livefake.face import b\n",
        "livefake.face.b": "def f():\n    import livefake.face.a\n",
        "livefake.face.c": "from livefake.sinks.d import thing\n",
        "livefake.sinks.d": f"thing = 1\ndef long():\n{long_body}\n",
        "livefake.sinks.e": "from . import d\n" + "\n" * MAX_MODULE_LINES,
        "livefake.nowhere": "",
    }
    graph = import_graph(sources)
    assert graph["livefake.sinks.e"] == {"livefake.sinks.d"}
    assert find_cycles(graph) == [["livefake.face.a", "livefake.face.b", "livefake.face.a"]]
    assert upward_imports(graph) == [f"livefake.face.c (layer {layer_of('livefake.face')}) imports livefake.sinks.d "
                                     f"(layer {layer_of('livefake.sinks')})"]
    assert unplaced_modules(sources) == ["livefake.nowhere"]
    assert oversized(sources) == [
        f"livefake.sinks.d.long (line 2): {MAX_FUNCTION_LINES + 1} lines",
        f"livefake.sinks.e: {MAX_MODULE_LINES + 1} lines",
    ]
    assert layer_of("livefake") == 0 and layer_of("livefake.cli") == len(LAYERS) - 1


def test_face_and_swap_find_photos_without_the_clip_generator() -> None:
    graph = import_graph(module_sources(), package_names())
    generator = {"livefake.sources.synthetic", "livefake.sources.demo"}
    found = sorted(
        f"{module} imports {target}"
        for module, targets in graph.items()
        if module.startswith(("livefake.face", "livefake.swap", "livefake.runtime"))
        for target in targets & generator
    )
    assert not found, "bundled photos come from livefake.sources.assets:\n" + "\n".join(found)
