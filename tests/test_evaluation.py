"""Metrics, LODO cross-validation, reference rows, calibration and report files."""

from __future__ import annotations

import json

import numpy as np
import pytest

from stance.data.agreement import cohen_kappa
from stance.data.trainset import Example, TrainingSet
from stance.evaluation.calibration import expected_calibration_error, fit_temperature
from stance.evaluation.harness import leave_one_document_out
from stance.evaluation.metrics import score
from stance.evaluation.reference import MajorityClassifier, SentimentAsStance


def test_score_known_values():
    y_true = ["against", "against", "for", "neutral"]
    y_pred = ["against", "for", "for", "neutral"]
    result = score(y_true, y_pred)
    assert result["accuracy"] == 0.75
    assert result["per_class"]["against"] == {
        "precision": 1.0,
        "recall": 0.5,
        "f1": pytest.approx(2 / 3),
        "support": 2,
    }
    assert result["f_avg"] == pytest.approx((2 / 3 + 2 / 3) / 2)
    assert result["macro_f1"] == pytest.approx((2 / 3 + 2 / 3 + 1) / 3)
    assert result["confusion"] == [[1, 1, 0], [0, 1, 0], [0, 0, 1]]
    low, high = result["macro_f1_ci95"]
    assert 0 <= low <= result["macro_f1"] <= high <= 1


def test_f_avg_undefined_without_for_gold():
    assert score(["against", "neutral"], ["against", "neutral"])["f_avg"] is None


def test_calibration_helpers():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 500)
    logits = rng.normal(size=(500, 3))
    logits[np.arange(500), y] += 1.0
    overconfident = logits * 5
    t = fit_temperature(overconfident, y)
    assert t > 1.5
    from stance.backends.base import softmax

    assert expected_calibration_error(softmax(overconfident / t), y) < expected_calibration_error(
        softmax(overconfident), y
    )


def test_kappa():
    assert cohen_kappa(["a", "b", "a"], ["a", "b", "a"]) == 1.0
    assert cohen_kappa(["a", "a", "b", "b"], ["a", "b", "a", "b"]) == 0.0


def test_leave_one_document_out_never_trains_on_the_held_out_document():
    corpus = [
        Example(f"{d}-{i}", f"tekst {d} {i}", "neutral", d, "corpus", "train")
        for d in ("d000", "d001", "d002")
        for i in range(3)
    ]
    authored = [Example("a-1", "skrevet", "for", "w01", "authored")]
    seen = []

    class Constant:
        def predict_proba(self, texts):
            return np.tile([0.1, 0.2, 0.7], (len(texts), 1))

    def fit(training: TrainingSet):
        seen.append({e.group for e in training.examples})
        return Constant()

    predictions = leave_one_document_out(fit, corpus, authored)
    assert len(predictions.examples) == len(corpus)
    assert seen == [{"d001", "d002", "w01"}, {"d000", "d002", "w01"}, {"d000", "d001", "w01"}]
    assert predictions.y_pred == ["neutral"] * len(corpus)


def test_reference_models():
    texts = ["godt og glad", "elendigt og dårligt", "på tirsdag"] * 3
    labels = ["for", "against", "neutral"] * 3
    assert MajorityClassifier().fit(texts, labels).predict_labels(["x"]) in (
        ["for"],
        ["against"],
        ["neutral"],
    )
    lexicon = SentimentAsStance().fit(texts, labels)
    assert lexicon.predict_labels(["en god dag", "en elendig dag"]) == ["for", "against"]


def test_evaluate_writes_report_json_and_plots(baseline_dir, tmp_path):
    from stance.evaluation.harness import evaluate_model
    from stance.evaluation.report import write_report

    report = evaluate_model(baseline_dir, cv=False)
    assert {"baseline", "majority class", "sentiment as stance (AFINN-da)"} <= set(report["rows"])
    paths = write_report(report, tmp_path, "test")
    names = {p.name for p in paths}
    assert {"baseline.md", "baseline.json", "baseline-confusion.png"} <= names
    data = json.loads((tmp_path / "baseline.json").read_text())
    assert data["rows"]["baseline"]["test"]["n"] == 16
    assert (tmp_path / "baseline-confusion.png").read_bytes()[:4] == b"\x89PNG"


def test_baseline_temperature_from_corpus_units_only(corpus_rows, authored_rows):
    """calibration_data="corpus" fits T on corpus units' out-of-fold logits, not the authored."""
    from stance.data.trainset import authored_examples, corpus_examples
    from stance.errors import ConfigError
    from stance.training.baseline import BaselineConfig, train_baseline

    corpus = [e for e in corpus_examples(corpus_rows) if e.split == "train"]
    authored = [e for e in authored_examples(authored_rows) if e.group in ("w01", "w05")][:60]
    training = TrainingSet(corpus + authored)
    fitted = {}
    for data in ("all", "corpus"):
        model = train_baseline(
            training.texts,
            training.labels,
            BaselineConfig(char_ngram_max=4, calibrate=True, calibration_data=data),
            groups=training.groups,
            origins=training.origins,
        )
        fitted[data] = model.metadata["calibration"]
    assert "corpus units" in fitted["corpus"]["method"]
    assert "training data" in fitted["all"]["method"]
    assert fitted["corpus"]["temperature"] != pytest.approx(fitted["all"]["temperature"])
    with pytest.raises(ConfigError, match="calibration_data"):
        BaselineConfig(calibration_data="dev")


def test_ablation_runs_seed_major_saves_each_record_and_skips_done(corpus_rows, authored_rows):
    from dataclasses import asdict

    from stance.data.trainset import authored_examples, corpus_examples
    from stance.training.ablation import run, still_valid
    from stance.training.baseline import BaselineConfig

    corpus = corpus_examples(corpus_rows)
    authored = [e for e in authored_examples(authored_rows) if e.group == "w03"][:40]
    metadata = {"hyperparameters": asdict(BaselineConfig(char_ngram_max=4, lexicon=False))}
    saved = []
    records = run(
        "baseline",
        metadata,
        corpus,
        authored,
        [0.0, 0.5],
        [0, 1],
        log=lambda _: None,
        skip={(0.5, 1)},
        on_record=saved.append,
    )
    assert [(r["seed"], r["fraction"]) for r in records] == [(0, 0.0), (0, 0.5), (1, 0.0)]
    assert saved == records
    assert [r["n_authored"] for r in records] == [0, 20, 0]
    assert all(0.0 <= r["lodo_macro_f1"] <= 1.0 for r in records)
    # records made with another recipe, on other data or before fingerprints are stale
    assert all(still_valid(r, metadata, corpus, authored) for r in records)
    assert not still_valid(records[1], metadata, corpus, authored[:-2])
    other = {"hyperparameters": asdict(BaselineConfig(char_ngram_max=5, lexicon=False))}
    assert not still_valid(records[1], other, corpus, authored)
    assert not still_valid(
        {k: v for k, v in records[1].items() if k != "data"}, metadata, corpus, authored
    )
