"""Inter-annotator agreement: Cohen's kappa between two labelling passes."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def cohen_kappa(first: Sequence[str], second: Sequence[str]) -> float:
    """Cohen's kappa of two label sequences.

    >>> first, second = ["for", "against", "neutral", "for"], ["for", "against", "for", "for"]
    >>> round(cohen_kappa(first, second), 3)
    0.556
    """
    if len(first) != len(second) or not first:
        raise ValueError("need two non-empty label sequences of equal length")
    labels = sorted(set(first) | set(second))
    n = len(first)
    observed = sum(a == b for a, b in zip(first, second)) / n
    expected = sum(
        (list(first).count(label) / n) * (list(second).count(label) / n) for label in labels
    )
    return 1.0 if expected == 1.0 else (observed - expected) / (1.0 - expected)


def read_pass(path: Path) -> dict[str, dict[str, Any]]:
    """An annotation pass (JSON Lines with at least ``id`` and ``label``) keyed by id."""
    rows = [
        json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
    ]
    return {row["id"]: row for row in rows}


def agreement(first: Path, second: Path) -> dict[str, Any]:
    """Kappa, raw agreement and the disagreeing ids of two passes over the same ids."""
    a, b = read_pass(first), read_pass(second)
    if set(a) != set(b):
        raise ValueError(
            f"{first} and {second} cover different ids: {sorted(set(a) ^ set(b))[:5]} …"
        )
    ids = sorted(a)
    x = [a[i]["label"] for i in ids]
    y = [b[i]["label"] for i in ids]
    return {
        "n": len(ids),
        "kappa": cohen_kappa(x, y),
        "agreement": sum(p == q for p, q in zip(x, y)) / len(ids),
        "disagreements": [i for i, p, q in zip(ids, x, y) if p != q],
    }
