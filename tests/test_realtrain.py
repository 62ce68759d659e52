"""Training with a real pool: the mixed training set, calibration on the held-out part, and the
page-grouped cross-validation (synthetic stand-ins; the real pool is never needed)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from stance.data.realpool import pool_fingerprint, pool_part, read_real_pool
from stance.errors import ConfigError
from stance.evaluation.poolcv import (
    PoolVariant,
    cross_validate,
    half_differences,
    kind_report,
    page_bootstrap,
    page_folds,
)
from stance.training.trainset import build_training_set

WORDS = {
    "against": "Jobcentret er elendigt og spilder min tid",
    "for": "Jobcentret hjalp mig godt og venligt videre",
    "neutral": "Jobcentret holder lukket på mandag efter planen",
}


def synthetic_pool(path: Path, n: int = 120) -> Path:
    labels = ("against", "for", "neutral")
    rows = [
        {
            "id": f"rp-s{i:04d}",
            "text": f"{WORDS[labels[i % 3]]} nr {i}.",
            "label": labels[i % 3],
            "kind": "comment" if i % 4 == 0 else "article_paragraph",
            "confidence": 3,
            "source_url": f"https://example.dk/side-{i // 2}",
        }
        for i in range(n)
    ]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return path


def test_mixed_set_adds_the_training_part_with_weights(tmp_path: Path) -> None:
    pool = synthetic_pool(tmp_path / "pool.jsonl")
    plain = build_training_set(use_authored=False)
    mix = build_training_set(real_train=pool, real_weight=0.5, use_authored=False)
    train_units = pool_part(read_real_pool(pool), "train")
    assert len(mix) == len(plain) + len(train_units)
    real = [i for i, o in enumerate(mix.origins) if o == "real"]
    assert {mix.weights[i] for i in real} == {0.5}
    assert {mix.kinds[i] for i in real} <= {"comment", "article_paragraph"}
    described = mix.description["real_train"]
    assert described["part"] == "train" and described["weight"] == 0.5
    assert len(described["fingerprint"]) == 64
    assert plain.description["real_train"] is None


def test_mixed_set_rejects_bad_weights_and_both_pool_forms(tmp_path: Path) -> None:
    pool = synthetic_pool(tmp_path / "pool.jsonl")
    with pytest.raises(ConfigError):
        build_training_set(real_train=pool, real_weight=-1)
    with pytest.raises(ConfigError):
        build_training_set(real_train=pool, pool=read_real_pool(pool))


def test_train_and_save_calibrates_on_the_held_out_part(tmp_path: Path) -> None:
    from stance import load_classifier
    from stance.training.baseline import BaselineConfig
    from stance.training.recipes import train_and_save_baseline

    pool = synthetic_pool(tmp_path / "pool.jsonl")
    classifier = train_and_save_baseline(
        tmp_path / "model", BaselineConfig(), use_authored=False, real_train=pool
    )
    meta = json.loads((tmp_path / "model" / "metadata.json").read_text("utf-8"))
    confusion = meta["real_text_confusion"]
    n_held = len(pool_part(read_real_pool(pool), "calibration"))
    assert confusion["labels"] == ["against", "for", "neutral"]
    assert confusion["n"] == n_held == sum(map(sum, confusion["counts"]))
    assert confusion["pool_fingerprint"] == meta["training_data"]["real_train"]["fingerprint"]
    assert sum(b["n"] for b in confusion["per_kind"].values()) == n_held
    for row in confusion["mean_probabilities"]:
        assert sum(row) == pytest.approx(1.0, abs=1e-3) or sum(row) == 0
    assert meta["calibration"]["temperature"] == classifier.temperature
    assert load_classifier(tmp_path / "model").temperature == classifier.temperature


def test_page_folds_are_page_disjoint(tmp_path: Path) -> None:
    units = read_real_pool(synthetic_pool(tmp_path / "pool.jsonl"))
    folds = page_folds(units, 5, seed=0)
    for page in {u.source_url for u in units}:
        assert len({f for u, f in zip(units, folds) if u.source_url == page}) == 1
    assert set(folds.tolist()) == set(range(5))
    assert (folds == page_folds(units, 5, seed=0)).all()


def test_cross_validation_predicts_every_unit_out_of_fold(tmp_path: Path) -> None:
    units = read_real_pool(synthetic_pool(tmp_path / "pool.jsonl", 60))
    folds = page_folds(units, 3, seed=0)
    project = build_training_set(use_authored=False)
    variant = PoolVariant("pool only", "", use_project=False)
    probs = cross_validate(variant, project, units, folds)
    assert probs.shape == (60, 3)
    assert np.allclose(probs.sum(axis=1), 1.0)
    predicted = [("against", "for", "neutral")[i] for i in probs.argmax(axis=1)]
    assert kind_report([u.label for u in units], predicted, [u.kind for u in units])["all"] > 0.6


def test_page_bootstrap_of_a_variant_against_itself_is_zero() -> None:
    rng = np.random.default_rng(0)
    labels = ("against", "for", "neutral")
    gold = [labels[i] for i in rng.integers(0, 3, 200)]
    first = [labels[i] for i in rng.integers(0, 3, 200)]
    pages = [f"p{i // 4}" for i in range(200)]
    kinds = ["comment" if i % 3 == 0 else "article_paragraph" for i in range(200)]
    same = page_bootstrap(gold, first, first, pages, kinds, n_resamples=50)
    assert same["all"]["difference"] == 0 and same["all"]["ci95"] == [0.0, 0.0]
    better = page_bootstrap(gold, gold, first, pages, kinds, n_resamples=50)
    assert better["all"]["ci95"][0] > 0 and better["comment"]["p_first_wins"] == 1.0
    assert all(d > 0 for d in half_differences(gold, gold, first, pages))


def test_shipped_baseline_records_its_real_text_confusion() -> None:
    """The contract the shares estimator reads: key, labels, integer counts, per kind."""
    repo = Path(__file__).resolve().parents[1]
    meta = json.loads((repo / "models" / "baseline" / "metadata.json").read_text("utf-8"))
    pool = meta["training_data"].get("real_train")
    if not pool:
        pytest.skip("the shipped baseline did not train on a real pool")
    block = meta["real_text_confusion"]
    assert block["labels"] == ["against", "for", "neutral"]
    assert block["pool_fingerprint"] == pool["fingerprint"]
    assert block["n"] == sum(map(sum, block["counts"]))
    assert all(isinstance(c, int) for row in block["counts"] for c in row)
    assert set(block["per_kind"]) == {"comment", "article_paragraph"}
    assert sum(b["n"] for b in block["per_kind"].values()) == block["n"]
    assert len(block["mean_probabilities"]) == 3 and "calibration part" in block["source"]


def test_stance_train_adds_the_pool_to_the_shipped_data(tmp_path: Path, small_data) -> None:
    from stance.own_data.adapt import train

    pool = synthetic_pool(tmp_path / "pool.jsonl")
    labels = ["against", "for", "neutral"] * 6
    texts = [f"{WORDS[label]}, skriver bruger {i}." for i, label in enumerate(labels)]
    train(
        texts,
        labels,
        output=tmp_path / "mine",
        folds=2,
        user_weight=2.0,
        corpus_path=small_data[0],
        authored_path=small_data[1],
        real_train=pool,
        real_train_weight=0.5,
    )
    meta = json.loads((tmp_path / "mine" / "metadata.json").read_text("utf-8"))
    described = meta["training_data"]["real_train"]
    assert described["weight"] == 0.5 and described["part"] == "train"
    assert described["fingerprint"] == pool_fingerprint(read_real_pool(pool))
