"""The interface every backend implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from stance.labels import LABELS
from stance.prediction import Prediction
from stance.text import prepare_texts


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax, numerically stable."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


class Classifier(ABC):
    """A stance classifier: texts in, one :class:`Prediction` per text out.

    Subclasses implement :meth:`_logits` for already-checked, NFC-normalised texts; calibration
    (a temperature) and the conversion to predictions live here, once.
    """

    labels: tuple[str, ...] = LABELS

    def __init__(self, metadata: dict[str, Any], path: Path | None = None) -> None:
        self.metadata = metadata
        self.path = path
        calibration = metadata.get("calibration") or {}
        self.temperature = float(calibration.get("temperature", 1.0))

    @property
    def backend(self) -> str:
        return str(self.metadata.get("backend"))

    @abstractmethod
    def _logits(self, texts: list[str]) -> np.ndarray:
        """Uncalibrated logits (or log-probabilities), shape ``(len(texts), len(LABELS))``."""

    def logits(self, texts: Iterable[str]) -> np.ndarray:
        """Uncalibrated logits for ``texts`` (checked and normalised first)."""
        checked = prepare_texts(texts)
        if not checked:
            return np.zeros((0, len(LABELS)))
        return self._logits(checked)

    def predict_proba(self, texts: Iterable[str], *, calibrated: bool = True) -> np.ndarray:
        """Probabilities in :data:`LABELS` order, shape ``(n, 3)``."""
        logits = self.logits(texts)
        return softmax(logits / (self.temperature if calibrated else 1.0))

    def predict(self, texts: Iterable[str]) -> list[Prediction]:
        """One :class:`Prediction` per text, in order."""
        return [Prediction.from_probabilities(row) for row in self.predict_proba(texts)]

    def __repr__(self) -> str:
        return f"{type(self).__name__}(path={str(self.path)!r})"
