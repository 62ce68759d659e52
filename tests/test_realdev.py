"""The real dev set in the harness: reading, per-kind scores, paired differences, the scripts."""

from __future__ import annotations

import json
import runpy
from pathlib import Path

import pytest

from stance.data.trainset import Example
from stance.errors import CorpusError
from stance.evaluation.realdev import (
    kind_mean_macro_f1,
    kind_scores,
    paired_difference,
    read_real_dev,
    split_half_check,
)

REPO = Path(__file__).resolve().parents[1]


def _examples() -> list[Example]:
    labels = ["against", "for", "neutral"] * 4
    return [
        Example(
            f"r{i}",
            f"t{i}",
            label,
            "comment" if i % 2 else "article_paragraph",
            "real",
            source=f"p{i // 3}",
        )
        for i, label in enumerate(labels)
    ]


@pytest.mark.parametrize(
    ("line", "match"),
    [
        ("not json", "line 1: invalid JSON"),
        ('["a"]', "expected a JSON object"),
        ('{"id": "a", "text": "x", "label": "for"}', "field 'kind'"),
        ('{"id": "a", "text": " ", "label": "for", "kind": "comment"}', "field 'text'"),
        ('{"id": "a", "text": "x", "label": "imod", "kind": "comment"}', "field 'label'"),
        ('{"id": "a", "text": "x", "label": "for", "kind": "tweet"}', "field 'kind'"),
    ],
)
def test_bad_lines_are_refused_with_file_line_and_field(tmp_path, line, match):
    path = tmp_path / "dev.jsonl"
    path.write_text(line + "\n", encoding="utf-8")
    with pytest.raises(CorpusError, match=match) as caught:
        read_real_dev(path)
    assert str(path) in str(caught.value)


def test_duplicate_ids_and_missing_file(tmp_path):
    row = {"id": "a", "text": "x", "label": "for", "kind": "comment"}
    path = tmp_path / "dev.jsonl"
    path.write_text(json.dumps(row) + "\n" + json.dumps({**row, "text": "y"}) + "\n")
    with pytest.raises(CorpusError, match="line 2, field 'id': duplicate id"):
        read_real_dev(path)
    with pytest.raises(CorpusError, match="not found"):
        read_real_dev(tmp_path / "nope.jsonl")


def test_reads_kinds_sources_and_ignores_extra_fields(real_dev_file):
    examples = read_real_dev(real_dev_file)
    assert {e.group for e in examples} == {"comment", "article_paragraph"}
    assert all(e.origin == "real" and e.source.startswith("https://") for e in examples)


def test_kind_scores_average_the_kinds():
    examples = _examples()
    perfect = [e.label for e in examples]
    wrong_comments = [e.label if e.group == "article_paragraph" else "neutral" for e in examples]
    assert kind_mean_macro_f1(examples, perfect) == 1.0
    scores = kind_scores(examples, wrong_comments, None)
    assert scores["by_kind"]["article_paragraph"]["macro_f1"] == 1.0
    assert scores["by_kind"]["comment"]["macro_f1"] < 1.0
    mean = (1.0 + scores["by_kind"]["comment"]["macro_f1"]) / 2
    assert scores["kind_mean_macro_f1"] == pytest.approx(mean)
    assert kind_mean_macro_f1(examples, wrong_comments) == pytest.approx(mean)


def test_paired_difference_and_split_halves():
    examples = _examples()
    perfect = [e.label for e in examples]
    constant = ["neutral"] * len(examples)
    diff = paired_difference(examples, perfect, constant, n_resamples=200)
    assert diff["difference"] > 0.5 and diff["ci95"][0] > 0 and diff["p_first_wins"] == 1.0
    halves = split_half_check(examples, perfect, constant, n_splits=3)
    assert len(halves) == 3 and all(a > 0 and b > 0 for a, b in halves)


def test_evaluate_script_reports_the_real_dev_set(baseline_dir, real_dev_file, tmp_path):
    module = runpy.run_path(str(REPO / "training" / "evaluate.py"), run_name="stance_script")
    out = tmp_path / "reports"
    module["main"](
        [
            "--model",
            str(baseline_dir),
            "--no-cv",
            "--real-dev",
            str(real_dev_file),
            "--output",
            str(out),
        ]
    )
    report = json.loads((out / "baseline.json").read_text())
    real = report["rows"]["baseline"]["real_dev"]
    assert set(real["by_kind"]) == {"comment", "article_paragraph"}
    assert real["all"]["n"] == sum(s["n"] for s in real["by_kind"].values())
    assert "real_dev" in report["rows"]["majority class"]
    text = (out / "baseline.md").read_text()
    assert "## Real dev set, comments" in text and "real dev macro-F1" in text
    texts = {json.loads(line)["text"] for line in real_dev_file.read_text().splitlines()}
    blob = (out / "baseline.json").read_text() + text
    assert not any(t in blob for t in texts), "real dev texts must never be written out"


def test_tune_baseline_on_a_real_dev_set(small_data, real_dev_file, tmp_path):
    module = runpy.run_path(str(REPO / "training" / "tune_baseline.py"), run_name="stance_script")
    report = tmp_path / "tuning.md"
    module["main"](
        [
            "--real-dev",
            str(real_dev_file),
            "--only",
            "domain_weight",
            "--rounds",
            "1",
            "--corpus",
            str(small_data[0]),
            "--authored",
            str(small_data[1]),
            "--report",
            str(report),
        ]
    )
    summary = json.loads(report.with_suffix(".json").read_text())
    assert len(summary["trials"]) == 5  # the start config and the other four domain weights
    assert len(summary["split_half"]) == 10
    assert "Split-half check" in report.read_text()


def test_knowledge_ablation_script(small_data, real_dev_file, tmp_path):
    module = runpy.run_path(
        str(REPO / "training" / "knowledge_ablation.py"), run_name="stance_script"
    )
    report = tmp_path / "knowledge.md"
    module["main"](
        [
            "--real-dev",
            str(real_dev_file),
            "--domain-weight",
            "0.5",
            "--corpus",
            str(small_data[0]),
            "--authored",
            str(small_data[1]),
            "--report",
            str(report),
        ]
    )
    rows = json.loads(report.with_suffix(".json").read_text())["rows"]
    names = [r["name"] for r in rows]
    assert names[0] == "all knowledge features" and len(names) == len(set(names)) >= 9
    assert "domain block without negation handling" in names
    assert all("vs_reference" in r for r in rows[1:])
    # the ablation variants live in this process only: the registry is restored for shipping
    from stance.features import DENSE_FEATURES

    assert {n for n in DENSE_FEATURES if not n.startswith("domain-")} == {"afinn", "domain"}


def test_authored_batches_script(small_data, real_dev_file, tmp_path):
    module = runpy.run_path(
        str(REPO / "training" / "authored_batches.py"), run_name="stance_script"
    )
    report = tmp_path / "batches.md"
    module["main"](
        [
            "--real-dev",
            str(real_dev_file),
            "--batches",
            "w17",
            "--domain-weight",
            "0.5",
            "--corpus",
            str(small_data[0]),
            "--authored",
            str(small_data[1]),
            "--report",
            str(report),
        ]
    )
    text = report.read_text()
    assert "| w17 | 120 | 1.000 |" in text
    results = json.loads(report.with_suffix(".json").read_text())["results"]
    assert [r["name"].split(" (")[0] for r in results["n-grams only"]] == ["no new batch", "+ w17"]
