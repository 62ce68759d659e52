"""The docstring examples and the README's Python examples run and print what they say."""

from __future__ import annotations

import doctest
import importlib
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
MODULES = [
    "stance",
    "stance.api",
    "stance.prediction",
    "stance.text",
    "stance.data",
    "stance.data.corpus",
    "stance.features",
    "stance.features.lexicon",
    "stance.features.domain",
    "stance.evaluation.realdev",
    "stance.features.ngrams",
    "stance.extras",
    "stance.evaluation.calibration",
    "stance.evaluation.metrics",
    "stance.evaluation.harness",
    "stance.data.agreement",
    "stance.data.originality",
    "stance.explanation",
    "stance.backends.baseline",
    "stance.backends.bert",
    "stance.training.baseline",
    "stance.training.bert",
    "stance.errors",
    "stance.modeldir",
    "stance.extras",
    "stance.data.userdata",
    "stance.data.selection",
    "stance.evaluation.reference",
    "stance.evaluation.userfile",
    "stance.training.adapt",
    "stance.batch",
    "stance.formats",
    "stance.workers",
    "stance.frame",
    "stance.arguments",
    "stance.backends.registry",
    "stance.training.registry",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    if name in ("stance.backends.bert", "stance.training.bert"):
        pytest.importorskip("torch")
    if name == "stance.frame":
        pytest.importorskip("pandas")
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


def test_readme_python_examples():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", readme, flags=re.S)
    assert blocks
    for block in blocks:
        if ">>>" in block:
            test = doctest.DocTestParser().get_doctest(block, {}, "README", "README.md", 0)
            runner = doctest.DocTestRunner(
                optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
            )
            runner.run(test)
            assert runner.failures == 0
