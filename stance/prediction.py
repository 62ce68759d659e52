"""The result type of a classification."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from stance.errors import ConfigError
from stance.labels import LABELS


@dataclass(frozen=True)
class Prediction:
    """The stance of one text.

    Attributes:
        label: The most probable label, one of :data:`stance.LABELS`.
        score: The probability of ``label``.
        probabilities: The probability of every label in :data:`stance.LABELS`; they sum to 1.

    >>> p = Prediction.from_probabilities([0.7, 0.1, 0.2])
    >>> p.label, round(p.score, 2)
    ('against', 0.7)
    """

    label: str
    score: float
    probabilities: dict[str, float] = field(repr=False)

    @classmethod
    def from_probabilities(cls, probabilities: Sequence[float]) -> Prediction:
        """Build a prediction from probabilities in :data:`LABELS` order."""
        if len(probabilities) != len(LABELS):
            raise ConfigError(
                f"expected {len(LABELS)} probabilities (one per label in {LABELS}), "
                f"got {len(probabilities)}"
            )
        probs = {label: float(p) for label, p in zip(LABELS, probabilities)}
        label = max(LABELS, key=probs.__getitem__)
        return cls(label=label, score=probs[label], probabilities=probs)

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dictionary: label, score and probabilities."""
        return {"label": self.label, "score": self.score, "probabilities": dict(self.probabilities)}
