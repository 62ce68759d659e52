"""Calibrating a model on the held-out calibration part of a real pool, and the real-text
confusion matrix stored in its metadata (read by the shares estimator).

The calibration part's pages are never trained on and never used to choose a model; it fits
one temperature (temperature scaling of the uncalibrated logits) and measures, with that
temperature, how the model's predictions are spread for each true label.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from stance.data.realpool import POOL_KINDS, PoolUnit, pool_fingerprint
from stance.evaluation.calibration import (
    _log_softmax,
    expected_calibration_error,
    fit_temperature,
    reliability_bins,
)
from stance.labels import LABEL2ID, LABELS

CONFUSION_SOURCE = (
    "held-out calibration part of the real training pool "
    "(pages never used for training or choosing)"
)


def confusion_block(gold: Sequence[str], probs: np.ndarray) -> dict[str, Any]:
    """``n``, integer ``counts`` (rows true, columns predicted), ``mean_probabilities`` (rows
    true, columns mean probability of each label) and ``mean_squared_probabilities`` (the same
    for the squared probabilities, which the shares estimator's bootstrap uses to draw the
    confusion's sampling noise), in :data:`LABELS` order.

    >>> block = confusion_block(["for", "against"], np.array([[0.2, 0.7, 0.1], [0.6, 0.3, 0.1]]))
    >>> block["counts"]
    [[1, 0, 0], [0, 1, 0], [0, 0, 0]]
    """
    y = np.array([LABEL2ID[g] for g in gold], dtype=int)
    probs = np.asarray(probs, dtype=np.float64)
    predicted = probs.argmax(axis=1)
    counts = np.zeros((len(LABELS), len(LABELS)), dtype=int)
    means = np.zeros((len(LABELS), len(LABELS)))
    squares = np.zeros((len(LABELS), len(LABELS)))
    for t in range(len(LABELS)):
        rows = y == t
        for p in range(len(LABELS)):
            counts[t, p] = int(np.sum(rows & (predicted == p)))
        if rows.any():
            means[t] = probs[rows].mean(axis=0)
            squares[t] = (probs[rows] ** 2).mean(axis=0)
    return {
        "n": len(y),
        "counts": counts.tolist(),
        "mean_probabilities": np.round(means, 4).tolist(),
        "mean_squared_probabilities": np.round(squares, 4).tolist(),
    }


def real_text_confusion(
    units: Sequence[PoolUnit], probs: np.ndarray, fingerprint: str
) -> dict[str, Any]:
    """The ``real_text_confusion`` metadata block: overall and per kind."""
    gold = [u.label for u in units]
    kinds = np.array([u.kind for u in units])
    block: dict[str, Any] = {"labels": list(LABELS), **confusion_block(gold, probs)}
    block["per_kind"] = {}
    for kind in POOL_KINDS:
        idx = np.flatnonzero(kinds == kind)
        if idx.size:
            block["per_kind"][kind] = confusion_block([gold[i] for i in idx], probs[idx])
    block["source"] = CONFUSION_SOURCE
    block["pool_fingerprint"] = fingerprint
    return block


def calibrate_on_pool(
    classifier: Any, calibration_units: Sequence[PoolUnit], pool_units: Sequence[PoolUnit]
) -> dict[str, Any]:
    """Fit ``classifier``'s temperature on ``calibration_units`` and store it, the calibration
    report and the real-text confusion in its metadata; return the calibration record.

    ``pool_units`` is the whole pool (for its fingerprint).
    """
    texts = [u.text for u in calibration_units]
    y = np.array([LABEL2ID[u.label] for u in calibration_units])
    logits = classifier.logits(texts)
    temperature = fit_temperature(logits, y.tolist())

    def summary(t: float) -> dict[str, Any]:
        logp = _log_softmax(logits / t)
        probs = np.exp(logp)
        return {
            "ece": round(expected_calibration_error(probs, y.tolist()), 4),
            "nll": round(float(-logp[np.arange(len(y)), y].mean()), 4),
            "reliability": [
                [round(a, 3), round(b, 3), round(c, 3), d]
                for a, b, c, d in reliability_bins(probs, y.tolist())
            ],
        }

    fingerprint = pool_fingerprint(pool_units)
    record = {
        "temperature": round(float(temperature), 4),
        "method": "temperature scaling on the held-out calibration part of the real pool",
        "n": len(y),
        "pool_fingerprint": fingerprint,
        "before": summary(1.0),
        "after": summary(temperature),
    }
    classifier.temperature = record["temperature"]
    classifier.metadata["calibration"] = record
    probs = np.exp(_log_softmax(logits / record["temperature"]))
    classifier.metadata["real_text_confusion"] = real_text_confusion(
        calibration_units, probs, fingerprint
    )
    return record
