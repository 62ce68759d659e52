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
    "stance.own_data.labelled",
    "stance.own_data.suggest",
    "stance.evaluation.reference",
    "stance.own_data.evaluate",
    "stance.own_data.adapt",
    "stance.batch",
    "stance.io.formats",
    "stance.io",
    "stance.io.sources",
    "stance.io.rows",
    "stance.io.excel",
    "stance.io.tables",
    "stance.cli",
    "stance.workers",
    "stance.frame",
    "stance.data.realpool",
    "stance.training.trainset",
    "stance.evaluation.poolcv",
    "stance.training.poolcalibration",
    "stance.evaluation.realcard",
    "stance.arguments",
    "stance.backends.registry",
    "stance.training.registry",
    "stance.training.e5head",
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


DOC_PAGES = sorted((REPO / "docs").glob("*.md"))


@pytest.mark.parametrize("page", DOC_PAGES, ids=lambda p: p.name)
def test_docs_python_examples(page):
    """Every ``>>>`` example on the docs site runs and prints what the page says."""
    text = page.read_text(encoding="utf-8")
    if "import pandas" in text:
        pytest.importorskip("pandas")
    blocks = [b for b in re.findall(r"```python\n(.*?)```", text, flags=re.S) if ">>>" in b]
    for number, block in enumerate(blocks):
        test = doctest.DocTestParser().get_doctest(block, {}, page.name, str(page), number)
        runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
        runner.run(test)
        assert runner.failures == 0, f"{page.name}, example block {number + 1}"


def test_the_docs_have_runnable_examples_and_a_short_readme():
    pages_with_examples = [p.name for p in DOC_PAGES if ">>>" in p.read_text(encoding="utf-8")]
    assert {"index.md", "usage.md"} <= set(pages_with_examples)
    assert len((REPO / "README.md").read_text(encoding="utf-8").splitlines()) < 250


def test_every_docs_page_is_in_the_site_navigation():
    config = (REPO / "mkdocs.yml").read_text(encoding="utf-8")
    missing = [p.name for p in DOC_PAGES if f": {p.name}" not in config]
    assert not missing, f"pages not in mkdocs.yml's nav: {missing}"


def test_scripts_fill_their_tables_in_the_readme_and_the_docs(tmp_path):
    from stance.data.datacard import update_pages

    (tmp_path / "docs").mkdir()
    block = "<!-- results:start -->\nold\n<!-- results:end -->"
    (tmp_path / "README.md").write_text(f"# x\n{block}\n", encoding="utf-8")
    (tmp_path / "docs" / "models.md").write_text(f"# y\n{block}\n", encoding="utf-8")
    (tmp_path / "docs" / "other.md").write_text("# no table here\n", encoding="utf-8")
    changed = update_pages(tmp_path, {"results": "new"})
    assert [p.name for p in changed] == ["README.md", "models.md"]
    for page in changed:
        assert "\nnew\n" in page.read_text(encoding="utf-8")
