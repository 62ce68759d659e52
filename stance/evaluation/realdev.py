"""A real development set: real Danish texts about jobcentres, read from a path the user gives.

The project does not ship such a set (the texts belong to their authors and publishers); a team
that has one passes it explicitly (``--real-dev PATH``). It is for choosing models and for
reporting, never for training. Each line is a JSON object with at least ``id``, ``text``,
``label`` and ``kind`` (``comment`` for informal or personal voices, ``article_paragraph`` for
news and op-ed paragraphs); other fields (sources, confidence) are ignored.

Scores are reported for the whole set and for each kind, and models are chosen on the **mean of
the per-kind macro-F1**, so that neither kind decides for both.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from stance.data.corpus import real_rows
from stance.data.trainset import Example
from stance.evaluation.metrics import macro_f1, score

REAL_KINDS: tuple[str, ...] = ("comment", "article_paragraph")
REQUIRED_FIELDS: tuple[str, ...] = ("id", "text", "label", "kind")


def read_real_dev(path: str | Path) -> list[Example]:
    """Read a real dev set as examples (``group`` = kind, ``origin`` = ``"real"``).

    Raises:
        CorpusError: the file is missing, a line is not a JSON object, a required field is
            missing or empty, a label or kind is unknown, or an id repeats (file, line, field).
    """
    path = Path(path)
    examples: list[Example] = []
    not_found = "real dev file not found (pass --real-dev PATH)"
    for _, row in real_rows(path, REQUIRED_FIELDS, REAL_KINDS, not_found):
        source = row.get("source_url") or row["id"]
        examples.append(
            Example(row["id"], row["text"], row["label"], row["kind"], "real", source=source)
        )
    return examples


def kind_scores(
    examples: Sequence[Example], predicted: Sequence[str], probs: np.ndarray | None, seed: int = 0
) -> dict[str, Any]:
    """Scores of ``predicted`` on the whole set, per kind, and their per-kind mean."""
    gold = [e.label for e in examples]
    result: dict[str, Any] = {"all": score(gold, predicted, probs, seed=seed), "by_kind": {}}
    for kind in REAL_KINDS:
        idx = [i for i, e in enumerate(examples) if e.group == kind]
        if idx:
            result["by_kind"][kind] = score(
                [gold[i] for i in idx],
                [predicted[i] for i in idx],
                None if probs is None else probs[idx],
                seed=seed,
            )
    kinds = result["by_kind"].values()
    result["kind_mean_macro_f1"] = float(np.mean([s["macro_f1"] for s in kinds]))
    return result


def kind_mean_macro_f1(examples: Sequence[Example], predicted: Sequence[str]) -> float:
    """Mean over kinds of the macro-F1 (the selection score; cheap, no bootstrap).

    >>> ex = [Example("a", "x", "for", "comment", "real"),
    ...       Example("b", "y", "against", "article_paragraph", "real")]
    >>> kind_mean_macro_f1(ex, ["for", "for"])
    0.5
    """
    values = []
    for kind in REAL_KINDS:
        idx = [i for i, e in enumerate(examples) if e.group == kind]
        if idx:
            values.append(macro_f1([examples[i].label for i in idx], [predicted[i] for i in idx]))
    return float(np.mean(values))


def paired_difference(
    examples: Sequence[Example],
    first: Sequence[str],
    second: Sequence[str],
    *,
    metric: Callable[[Sequence[Example], Sequence[str]], float] = kind_mean_macro_f1,
    n_resamples: int = 1000,
    seed: int = 0,
) -> dict[str, Any]:
    """``metric(first) - metric(second)`` with a paired bootstrap 95 % interval and the share of
    resamples in which ``first`` wins (resampling texts within each kind)."""
    rng = np.random.default_rng(seed)
    by_kind = [
        np.array([i for i, e in enumerate(examples) if e.group == kind]) for kind in REAL_KINDS
    ]
    by_kind = [idx for idx in by_kind if len(idx)]
    first_arr, second_arr = np.asarray(first), np.asarray(second)
    diffs = []
    for _ in range(n_resamples):
        idx = np.concatenate([rng.choice(k, len(k)) for k in by_kind])
        chosen = [examples[i] for i in idx]
        diffs.append(metric(chosen, list(first_arr[idx])) - metric(chosen, list(second_arr[idx])))
    low, high = np.percentile(diffs, [2.5, 97.5])
    return {
        "difference": metric(examples, list(first)) - metric(examples, list(second)),
        "ci95": (float(low), float(high)),
        "p_first_wins": float(np.mean(np.asarray(diffs) > 0)),
    }


def split_half_check(
    examples: Sequence[Example],
    first: Sequence[str],
    second: Sequence[str],
    *,
    n_splits: int = 10,
    seed: int = 0,
) -> list[tuple[float, float]]:
    """For ``n_splits`` random splits of the source pages into two halves, the per-kind-mean
    macro-F1 difference ``first - second`` on each half (does a choice hold on both halves?)."""
    rng = np.random.default_rng(seed)
    pages = sorted({e.source or e.id for e in examples})
    results = []
    for _ in range(n_splits):
        half = set(rng.permutation(pages)[: len(pages) // 2].tolist())
        diffs = []
        for keep in (True, False):
            idx = [i for i, e in enumerate(examples) if ((e.source or e.id) in half) == keep]
            chosen = [examples[i] for i in idx]
            diffs.append(
                kind_mean_macro_f1(chosen, [first[i] for i in idx])
                - kind_mean_macro_f1(chosen, [second[i] for i in idx])
            )
        results.append((diffs[0], diffs[1]))
    return results
