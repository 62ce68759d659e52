"""The import graph of ``stance``: every import of every module (at the top and inside
functions, read with ``ast``), as edges between stance's own modules. It has no cycle, and the
runtime core never imports the build-time packages."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "stance"
BUILD_TIME = ("stance.data", "stance.evaluation", "stance.training")
"""Build-time packages; every other module of stance is the runtime core."""
DEPRECATED = {
    # stance.backends.baseline.BaselineConfig / CALIBRATION_DATA, which moved to
    # stance.training.baseline: the old names warn (DeprecationWarning) until the next release
    ("stance.backends.baseline", "stance.training.baseline"),
}
"""Edges that only resolve a deprecated name; they are dropped with it."""
HAND_OFFS = {
    # ``stance evaluate`` without --input: the project's own evaluation (test split and LODO)
    ("stance.cli", "_evaluate"),
    # ``stance convert`` checks the conversion on the project's labelled texts
    ("stance.cli", "_check_texts"),
}
"""CLI commands that run a build-time tool on request (the only core -> build-time imports)."""


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _is_type_checking(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def _imported(module: str, tree: ast.AST) -> set[tuple[str, str]]:
    """``(enclosing top-level function or "<module>", stance module)`` for every import in
    ``module`` (not under ``if TYPE_CHECKING``)."""
    found: set[tuple[str, str]] = set()

    def visit(node: ast.AST, scope: str) -> None:
        for child in ast.iter_child_nodes(node):
            if _is_type_checking(child):
                continue
            inner = scope
            if scope == "<module>" and isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                inner = child.name
            if isinstance(child, ast.Import):
                found.update((scope, alias.name) for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:  # relative import
                    package = module.split(".")
                    if MODULES[module].name != "__init__.py":
                        package = package[:-1]
                    package = package[: len(package) - child.level + 1]
                    base = ".".join([*package, *([base] if base else [])])
                for alias in child.names:
                    sub = f"{base}.{alias.name}"
                    found.add((scope, sub if sub in MODULES else base))
            visit(child, inner)

    visit(tree, "<module>")
    return {(scope, name) for scope, name in found if name in MODULES and name != module}


IMPORTS = {
    name: _imported(name, ast.parse(path.read_text(encoding="utf-8")))
    for name, path in MODULES.items()
}
GRAPH = {
    name: {target for _, target in edges if (name, target) not in DEPRECATED}
    for name, edges in IMPORTS.items()
}


def _build_time(name: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in BUILD_TIME)


def test_the_graph_is_read():
    assert "stance.workers" in GRAPH["stance.api"]
    assert "stance.backends.base" in GRAPH["stance.backends.baseline"]
    assert len(GRAPH) > 50
    assert ("_train", "stance.own_data.adapt") in IMPORTS["stance.cli"]


def test_no_import_cycle():
    """Tarjan's strongly connected components: each must be a single module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(GRAPH[node]):
            if target not in index:
                connect(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(GRAPH):
        if node not in index:
            connect(node)
    assert not cycles, f"import cycles: {cycles}"


def _own_data(module: str) -> bool:
    """``stance.own_data`` holds user features that train and evaluate: they may call the
    build-time side, but only inside the functions that do so (never at import)."""
    return module == "stance.own_data" or module.startswith("stance.own_data.")


@pytest.mark.parametrize("module", sorted(m for m in MODULES if not _build_time(m)))
def test_the_core_imports_no_build_time_module(module):
    bad = sorted(
        (scope, target)
        for scope, target in IMPORTS[module]
        if _build_time(target)
        and (module, target) not in DEPRECATED
        and (module, scope) not in HAND_OFFS
        and not (_own_data(module) and scope != "<module>")
    )
    assert not bad, f"{module} (runtime core) imports build-time {bad}"


def test_loading_a_format_1_model_imports_only_its_named_transformer(tmp_path):
    """A format-1 file names ``stance.training.lexicon_features.LexiconFeatures``, so that one
    build-time module (and its package) is imported; nothing else from the build side."""
    import subprocess
    import sys

    pytest.importorskip("sklearn")
    pytest.importorskip("skops")
    from stance import load_classifier
    from stance.backends.baseline import save_format_1
    from stance.training.baseline import pipeline_from_classifier

    shipped = load_classifier("baseline")
    shipped.pipeline = pipeline_from_classifier(shipped)
    old = save_format_1(shipped, tmp_path / "format-1")
    shipped.pipeline = None
    code = f"""
import sys
from stance import classify
classify("Luk jobcentret", model={str(old)!r})
print(sorted(m for m in sys.modules if m.startswith({BUILD_TIME!r})))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = out.stdout.strip().splitlines()[-1]
    assert loaded == "['stance.training', 'stance.training.lexicon_features']"
