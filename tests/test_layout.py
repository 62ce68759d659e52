"""The layout holds the architecture: the runtime core never imports the build-time packages."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "stance"
BUILD_TIME = ("stance.data", "stance.evaluation", "stance.training")
CORE_MODULES = sorted(
    ".".join(p.relative_to(PACKAGE.parent).with_suffix("").parts)
    for p in [*PACKAGE.glob("*.py"), *PACKAGE.glob("backends/*.py"), *PACKAGE.glob("features/*.py")]
    if p.name != "__main__.py"
)
# Where the core hands work to a build-time tool on request (a CLI command that evaluates or
# trains); nothing else in the core may name a build-time package.
HAND_OFFS = {
    ("stance.cli", "_evaluate"),
    ("stance.cli", "_evaluate_file"),
    ("stance.cli", "_train"),
    ("stance.cli", "_suggest"),
    ("stance.cli", "_check_texts"),  # stance convert checks on the labelled texts
    ("stance.shares", "_labelled_files"),  # stance shares --gold reads a labelled file
    # BaselineConfig moved to stance.training.baseline; the old import path still resolves
    ("stance.backends.baseline", "__getattr__"),
}


def _build_time(name: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in BUILD_TIME)


def _imports(tree: ast.AST) -> list[tuple[str, str]]:
    """(enclosing function or '<module>', imported module) for every import in ``tree``."""
    found: list[tuple[str, str]] = []

    def visit(node: ast.AST, where: str) -> None:
        for child in ast.iter_child_nodes(node):
            scope = (
                child.name if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)) else where
            )
            if isinstance(child, ast.Import):
                found.extend((where, alias.name) for alias in child.names)
            elif isinstance(child, ast.ImportFrom) and child.module:
                found.append((where, child.module))
            visit(child, scope)

    visit(tree, "<module>")
    return found


def test_core_modules_are_listed():
    assert {"stance.api", "stance.cli", "stance.backends.baseline"} <= set(CORE_MODULES)
    assert not [m for m in CORE_MODULES if _build_time(m)]


@pytest.mark.parametrize("module", CORE_MODULES)
def test_core_module_names_no_build_time_package(module):
    path = PACKAGE.parent / (module.replace(".", "/") + ".py")
    bad = [
        (where, name)
        for where, name in _imports(ast.parse(path.read_text(encoding="utf-8")))
        if _build_time(name) and (module, where) not in HAND_OFFS
    ]
    assert not bad, f"{module} imports build-time code: {bad}"


def test_runtime_calls_import_no_build_time_package():
    code = f"""
import importlib, sys
for name in {CORE_MODULES!r}:
    if name != "stance.backends.bert":
        importlib.import_module(name)
import stance
stance.classify("Jobcentret er godt")
stance.classify_many(["Tak til min sagsbehandler", "Mødet er flyttet"])
stance.explain("Jobcentret er en skændsel")
from stance.cli import main
main(["classify", "--quiet", "Luk jobcentrene"])
print(sorted(m for m in sys.modules if m.startswith({BUILD_TIME!r})))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"
