"""The stance labels, defined once."""

from __future__ import annotations

LABELS: tuple[str, ...] = ("against", "for", "neutral")
"""The three stances toward Danish jobcentres, in model output order."""

LABEL2ID: dict[str, int] = {label: i for i, label in enumerate(LABELS)}
ID2LABEL: dict[int, str] = dict(enumerate(LABELS))
