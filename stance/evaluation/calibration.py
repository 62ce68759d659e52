"""Calibration: temperature scaling and expected calibration error."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def fit_temperature(logits: np.ndarray, y: Sequence[int] | np.ndarray) -> float:
    """The temperature T > 0 that minimises the negative log-likelihood of ``softmax(logits / T)``.

    >>> logits = np.array([[4.0, 0.0, 0.0], [0.0, 4.0, 0.0], [4.0, 0.0, 0.0]])
    >>> fit_temperature(logits, [0, 1, 0]) < 1.0  # all correct: sharpen
    True
    """
    from scipy.optimize import minimize_scalar

    y = np.asarray(y)
    logits = np.asarray(logits, dtype=np.float64)

    def nll(log_t: float) -> float:
        logp = _log_softmax(logits / np.exp(log_t))
        return float(-logp[np.arange(len(y)), y].mean())

    result = minimize_scalar(nll, bounds=(np.log(0.05), np.log(20.0)), method="bounded")
    return float(np.exp(result.x))


def reliability_bins(
    probs: np.ndarray, y: Sequence[int] | np.ndarray, n_bins: int = 10
) -> list[tuple[float, float, float, int]]:
    """Per confidence bin: ``(lower edge, mean confidence, accuracy, count)``, non-empty only."""
    probs = np.asarray(probs)
    y = np.asarray(y)
    confidence = probs.max(axis=1)
    correct = probs.argmax(axis=1) == y
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    rows = []
    for lower, upper in itertools.pairwise(edges):
        in_bin = (confidence > lower) & (confidence <= upper)
        if in_bin.any():
            rows.append(
                (
                    float(lower),
                    float(confidence[in_bin].mean()),
                    float(correct[in_bin].mean()),
                    int(in_bin.sum()),
                )
            )
    return rows


def expected_calibration_error(
    probs: np.ndarray, y: Sequence[int] | np.ndarray, n_bins: int = 10
) -> float:
    """Expected calibration error of the top label, over ``n_bins`` equal-width bins.

    >>> expected_calibration_error(np.array([[1.0, 0.0, 0.0]]), [0])
    0.0
    """
    n = len(np.asarray(y))
    return float(
        sum(
            count / n * abs(acc - conf)
            for _, conf, acc, count in reliability_bins(probs, y, n_bins)
        )
    )
