"""The error contract: every error a user can see is a StanceError (with the built-in base a
caller expects), hints name commands an installed stance has, and the CLI reports StanceErrors
as usage errors while real bugs keep their traceback."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

import stance.errors
from stance import ConfigError, ModelError, StanceError, classify, classify_many, explain
from stance.cli import main

PACKAGE = Path(stance.errors.__file__).resolve().parent
CORE_FILES = sorted(
    [*PACKAGE.glob("*.py"), *PACKAGE.glob("backends/*.py"), *PACKAGE.glob("features/*.py")]
)


def test_every_error_type_is_a_stance_error():
    classes = [c for _, c in inspect.getmembers(stance.errors, inspect.isclass)]
    errors = [c for c in classes if issubclass(c, BaseException)]
    assert len(errors) >= 9
    assert all(issubclass(c, StanceError) for c in errors)


@pytest.mark.parametrize("path", CORE_FILES, ids=lambda p: p.stem)
def test_the_core_raises_no_plain_builtin_errors(path):
    """``raise ValueError(...)``/``raise TypeError(...)`` in the core would reach users."""
    plain = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
            name = getattr(node.exc.func, "id", None)
            if name in ("ValueError", "TypeError", "KeyError", "OSError", "RuntimeError"):
                plain.append((node.lineno, name))
    assert not plain, f"{path.name} raises built-in errors at {plain}"


@pytest.mark.parametrize(
    "call, kind",
    [
        (lambda: classify_many(["a"], batch_size=0), ConfigError),
        (lambda: classify_many(["a"], min_score=2), ConfigError),
        (lambda: classify_many(["a"], n_jobs=0), ConfigError),
        (lambda: classify("a", model=3.5), TypeError),
        (lambda: explain("Luk jobcentret", top=0), ConfigError),
        (lambda: explain("Luk jobcentret", method="magic"), ConfigError),
    ],
)
def test_bad_arguments_raise_stance_errors_with_builtin_bases(call, kind):
    with pytest.raises(StanceError) as caught:
        call()
    assert isinstance(caught.value, kind)


def test_model_error_hints_name_installed_commands(tmp_path):
    with pytest.raises(ModelError) as caught:
        classify("Luk jobcentret", model=tmp_path)  # no metadata.json
    message = str(caught.value)
    assert "stance train" in message and "python training/" not in message


def test_cli_reports_a_stance_error_as_exit_2(monkeypatch, capsys):
    import stance.explanation

    def broken(*args, **kwargs):
        raise ConfigError("a clear message")

    monkeypatch.setattr(stance.explanation, "explain", broken)
    assert main(["explain", "Luk jobcentret"]) == 2
    assert "stance: error: a clear message" in capsys.readouterr().err


@pytest.mark.parametrize("bug", [ValueError, TypeError])
def test_cli_lets_a_real_bug_show_its_traceback(monkeypatch, bug):
    import stance.explanation

    def broken(*args, **kwargs):
        raise bug("a bug, not a usage error")

    monkeypatch.setattr(stance.explanation, "explain", broken)
    with pytest.raises(bug, match="a bug"):
        main(["explain", "Luk jobcentret"])
