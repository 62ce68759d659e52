"""Metrics: macro-F1 over the gold labels, bootstrap intervals, and the full score dictionary."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from stance.evaluation.calibration import expected_calibration_error
from stance.labels import LABEL2ID, LABELS


def macro_f1(y_true: Sequence[str], y_pred: Sequence[str]) -> float:
    """Macro-F1 over the labels that occur in ``y_true`` (the gold labels).

    A label with no gold examples (``for`` on the test split) is left out of the average;
    wrongly predicting it still costs recall of the gold labels. (The same value as
    scikit-learn's ``f1_score(..., labels=sorted(set(y_true)), average="macro")``, computed
    with numpy: the bootstrap calls it thousands of times.)

    >>> macro_f1(["against", "neutral"], ["against", "for"])
    0.5
    """
    gold = np.asarray(y_true, dtype=object)
    predicted = np.asarray(y_pred, dtype=object)
    if gold.shape != predicted.shape:
        raise ValueError(f"{len(gold)} gold labels but {len(predicted)} predictions")
    scores = []
    for label in sorted(set(gold.tolist())):
        is_gold, is_pred = gold == label, predicted == label
        tp = int(np.sum(is_gold & is_pred))
        denominator = int(is_gold.sum()) + int(is_pred.sum())
        scores.append(2 * tp / denominator if denominator else 0.0)
    return float(np.mean(scores)) if scores else 0.0


def bootstrap_interval(
    y_true: Sequence[str],
    y_pred: Sequence[str],
    *,
    n_resamples: int = 1000,
    seed: int = 0,
    metric: Callable[[Sequence[str], Sequence[str]], float] = macro_f1,
) -> tuple[float, float]:
    """A percentile bootstrap 95 % interval of ``metric`` (resampling texts).

    For :func:`macro_f1` (the default) all resamples are scored at once with numpy, giving the
    same values as scoring each with scikit-learn, a few hundred times faster.
    """
    rng = np.random.default_rng(seed)
    gold = np.asarray(y_true)
    pred = np.asarray(y_pred)
    samples = [rng.integers(0, len(gold), len(gold)) for _ in range(n_resamples)]
    if metric is macro_f1:
        values = _resampled_macro_f1(gold, pred, np.array(samples))
    else:
        values = np.array([metric(list(gold[i]), list(pred[i])) for i in samples])
    low, high = np.percentile(values, [2.5, 97.5])
    return float(low), float(high)


def _resampled_macro_f1(y_true: np.ndarray, y_pred: np.ndarray, samples: np.ndarray) -> np.ndarray:
    """:func:`macro_f1` of every resample (a row of indices in ``samples``), vectorised.

    >>> g, p = np.array(["a", "b", "b"]), np.array(["a", "b", "c"])
    >>> _resampled_macro_f1(g, p, np.array([[0, 1, 2], [1, 2, 2]])).round(4).tolist()
    [0.8333, 0.5]
    >>> macro_f1(["a", "b", "b"], ["a", "b", "c"]), macro_f1(["b", "b", "b"], ["b", "c", "c"])
    (0.8333333333333333, 0.5)
    """
    names, codes = np.unique(np.concatenate([y_true, y_pred]), return_inverse=True)
    n = len(names)
    gold, pred = codes[: len(y_true)][samples], codes[len(y_true) :][samples]
    rows = np.arange(len(samples))[:, None]
    confusion = np.bincount(
        (rows * n * n + gold * n + pred).ravel(), minlength=len(samples) * n * n
    ).reshape(len(samples), n, n)
    tp = np.diagonal(confusion, axis1=1, axis2=2)
    support = confusion.sum(axis=2)  # gold counts: tp + fn
    denominator = support + confusion.sum(axis=1)  # 2 tp + fn + fp
    present = support > 0  # macro-F1 over the labels in each resample's gold labels
    f1 = np.divide(2 * tp, denominator, out=np.zeros(tp.shape), where=present)
    return (f1 * present).sum(axis=1) / present.sum(axis=1)


def score(
    y_true: Sequence[str],
    y_pred: Sequence[str],
    probs: np.ndarray | None = None,
    uncalibrated: np.ndarray | None = None,
    *,
    seed: int = 0,
) -> dict[str, Any]:
    """Accuracy, macro-F1 with a bootstrap 95 % interval, per-class scores, F_avg, confusion
    matrix, and (given probabilities) expected calibration error.

    ``f_avg`` is the SemEval-2016 stance score, the mean F1 of ``for`` and ``against``; it is
    ``None`` when either has no gold examples (as on the test split, which has no ``for``).
    """
    from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support

    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=list(LABELS), zero_division=0
    )
    per_class = {
        label: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
        for label, p, r, f, s in zip(LABELS, precision, recall, f1, support)
    }
    has_both = per_class["for"]["support"] > 0 and per_class["against"]["support"] > 0
    result: dict[str, Any] = {
        "n": len(y_true),
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "macro_f1": macro_f1(y_true, y_pred),
        "macro_f1_ci95": bootstrap_interval(y_true, y_pred, seed=seed),
        "f_avg": (per_class["for"]["f1"] + per_class["against"]["f1"]) / 2 if has_both else None,
        "per_class": per_class,
        "confusion": confusion_matrix(y_true, y_pred, labels=list(LABELS)).tolist(),
    }
    y = [LABEL2ID[label] for label in y_true]
    if probs is not None:
        result["ece"] = expected_calibration_error(probs, y)
    if uncalibrated is not None:
        result["ece_uncalibrated"] = expected_calibration_error(uncalibrated, y)
    return result
