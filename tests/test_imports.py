"""Heavy libraries stay lazy: import stance and the default classify import none of them."""

from __future__ import annotations

import subprocess
import sys


def _run(code: str) -> str:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return out.stdout.strip()


def test_import_stance_is_light():
    heavy = "('torch', 'transformers', 'sklearn', 'datasets')"
    code = f"import sys, stance; print(sorted(m for m in {heavy} if m in sys.modules))"
    assert _run(code) == "[]"


HEAVY = (
    "sklearn",
    "scipy",
    "skops",
    "pandas",
    "pyarrow",
    "datasets",
    "matplotlib",
    "torch",
    "transformers",
)


def test_classify_imports_no_heavy_library():
    """The default baseline runs on numpy alone: classify, classify_many, the linear explanation
    and the CLI load no scikit-learn, scipy, skops, pandas, pyarrow, datasets, matplotlib, torch
    or transformers."""
    code = (
        "import sys, stance; stance.classify('Jobcentret er godt'); "
        "stance.classify_many(['Luk jobcentrene', 'Tak til min sagsbehandler']); "
        "stance.explain('Jobcentret er en skændsel'); "
        "from stance.cli import main; main(['classify', 'Luk jobcentrene']); "
        f"print('heavy:', sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r}))"
    )
    assert _run(code).splitlines()[-1] == "heavy: []"


def test_default_classify_never_imports_torch_or_transformers():
    code = (
        "import sys, stance; stance.classify('Jobcentret er godt'); "
        "stance.classify_many(['a', 'b']); "
        "print('torch' in sys.modules, 'transformers' in sys.modules)"
    )
    assert _run(code) == "False False"


def test_bert_without_torch_says_how_to_install(monkeypatch):
    import builtins

    from stance.backends import bert
    from stance.errors import MissingDependencyError

    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name == "torch":
            raise ImportError("No module named 'torch'", name="torch")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    try:
        bert.require_torch()
    except MissingDependencyError as exc:
        assert 'pip install "stance[bert]"' in str(exc)
    else:
        raise AssertionError("expected MissingDependencyError")
