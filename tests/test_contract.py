"""One contract for every backend: the same behaviour from the baseline and from BERT."""

from __future__ import annotations

import json
import math

import numpy as np

from stance import LABELS, Prediction, classify, classify_many, load_classifier


def test_predict_contract(model_dir):
    classifier = load_classifier(model_dir)
    assert classifier.labels == LABELS
    texts = ["Luk jobcentrene!", "Tak til min sagsbehandler.", "Mødet er flyttet til kl. 10."]
    predictions = classifier.predict(texts)
    assert len(predictions) == 3
    for p in predictions:
        assert isinstance(p, Prediction) and p.label in LABELS
        assert math.isclose(sum(p.probabilities.values()), 1.0, abs_tol=1e-6)
        assert p.score == max(p.probabilities.values())
    # batching may change float rounding (padding), never the result
    one_by_one = [classify(t, model=model_dir) for t in texts]
    for a, b, c in zip(
        one_by_one, classify_many(texts, model=model_dir, batch_size=1), predictions
    ):
        assert a.label == b.label == c.label
        for label in LABELS:
            assert math.isclose(a.probabilities[label], c.probabilities[label], abs_tol=1e-6)
            assert math.isclose(b.probabilities[label], c.probabilities[label], abs_tol=1e-6)


def test_calibration_changes_confidence_not_labels(model_dir):
    classifier = load_classifier(model_dir)
    texts = ["Jobcentret er elendigt.", "Jobcentret er godt.", "Hvornår åbner jobcentret?"]
    raw = classifier.predict_proba(texts, calibrated=False)
    calibrated = classifier.predict_proba(texts)
    assert (raw.argmax(axis=1) == calibrated.argmax(axis=1)).all()
    assert np.allclose(calibrated.sum(axis=1), 1.0)


def test_metadata_describes_the_model(model_dir):
    from stance.modeldir import FORMAT_VERSIONS

    meta = json.loads((model_dir / "metadata.json").read_text())
    assert meta["format_version"] == FORMAT_VERSIONS[meta["backend"]]
    assert meta["labels"] == list(LABELS)
    assert meta["backend"] in ("baseline", "bert", "e5")
    for key in ("training_data", "hyperparameters", "library_versions", "seed", "calibration"):
        assert key in meta, key
    assert len(meta["training_data"]["sha256"]) == 64


def test_long_text_is_not_cut(model_dir):
    """The end of a long text still matters: appending a strong opinion changes the result."""
    classifier = load_classifier(model_dir)
    filler = "Mødet blev holdt i kantinen, og der var kaffe på bordet. " * 200
    tail = "Jobcentret er en skændsel og ydmyger syge mennesker. " * 30
    plain, with_tail = classifier.predict_proba([filler, filler + tail])
    assert not np.array_equal(plain, with_tail)  # truncation would give identical output
