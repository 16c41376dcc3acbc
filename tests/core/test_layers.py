"""The layering rule, read from the imports (docs/design.md, "Layers").

seqlab's subpackages are layers: data <- nn <- store <- train <- tasks <- api <- cli. A module
imports only its own layer and the ones below; `seqlab.settings` and `seqlab.registry` are the
foundation every layer may use, and they import nothing of seqlab. The core never imports a
plugin, and no module of seqlab or of the plugins is part of an import circle. Every import
counts: at module level, inside a function, or under TYPE_CHECKING.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYERS = ["data", "nn", "store", "train", "tasks", "api", "cli"]
FOUNDATION = {"seqlab.settings", "seqlab.registry"}
PLUGINS = sorted(p.name for p in (ROOT / "plugins").iterdir() if (p / "__init__.py").is_file())


def module_name(path: Path) -> str:
    base = ROOT / "plugins" if path.is_relative_to(ROOT / "plugins") else ROOT
    parts = list(path.relative_to(base).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def all_modules() -> dict[str, Path]:
    files = list((ROOT / "seqlab").rglob("*.py")) + list((ROOT / "plugins").rglob("*.py"))
    return {module_name(p): p for p in files}


MODULES = all_modules()
OURS = ("seqlab", *PLUGINS)


def imports(path: Path) -> set[str]:
    """The modules of seqlab and the plugins that `path` imports (`from pkg import mod` is
    an import of pkg.mod when that is a module, else of pkg)."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for a in node.names:
                sub = f"{node.module}.{a.name}"
                out.add(sub if sub in MODULES else node.module)
    return {m for m in out if m.split(".")[0] in OURS}


GRAPH = {name: imports(path) for name, path in MODULES.items()}


def layer(name: str) -> int | None:
    """The layer's rank (0 = foundation), or None for the package root and plugins."""
    if name in FOUNDATION:
        return 0
    parts = name.split(".")
    if parts[0] != "seqlab" or len(parts) == 1 or parts[1] == "__main__":
        return None
    return LAYERS.index(parts[1]) + 1


CORE = sorted(n for n in MODULES if layer(n) is not None)


@pytest.mark.parametrize("name", CORE)
def test_a_core_module_imports_nothing_above_its_layer(name):
    mine = layer(name)
    assert mine is not None
    for other in sorted(GRAPH[name]):
        theirs = layer(other)
        assert theirs is not None, (
            f"{name} imports {other}: the core imports neither the package root (which loads "
            f"every layer) nor a plugin; import the module that defines the name"
        )
        assert theirs <= mine and (mine > 0 or theirs == -1), (
            f"{name} (layer {mine}) imports {other} (layer {theirs}): a layer imports only "
            f"itself and the layers below"
        )


def test_the_foundation_imports_nothing_of_seqlab():
    for name in FOUNDATION:
        assert GRAPH[name] == set(), f"{name} imports {sorted(GRAPH[name])}"


def test_the_top_level_holds_only_the_root_the_facade_and_the_foundation():
    top = {p.name for p in (ROOT / "seqlab").glob("*.py")}
    assert top == {"__init__.py", "__main__.py", "api.py", "registry.py", "settings.py"}
    packages = {p.name for p in (ROOT / "seqlab").iterdir() if (p / "__init__.py").is_file()}
    assert packages == set(LAYERS) - {"api"}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), or with a self-loop."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in graph:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1 or v in graph[v]:
                found.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_import_circles_in_seqlab_or_the_plugins():
    assert cycles(GRAPH) == []


def test_the_cycle_finder_finds_a_circle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_layer_check_sees_an_upward_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from seqlab.train.trainer import Trainer\n")
    assert "seqlab.train.trainer" in imports(bad)
    assert layer("seqlab.train.trainer") > layer("seqlab.data.vocab")
