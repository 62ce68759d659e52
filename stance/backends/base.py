"""The interface every backend implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from stance.errors import ConfigError
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

    Subclasses implement :meth:`_logits` for already-checked, NFC-normalised texts, and
    :meth:`load` / :meth:`save` for their model directories; calibration (a temperature) and
    the conversion to predictions live here, once. A subclass is registered by name in
    :mod:`stance.backends.registry`, and declares what it can do:

    - :attr:`format_version` / :attr:`readable_formats`: the model directory formats it writes
      and reads (checked by :func:`stance.modeldir.read_metadata`);
    - :attr:`has_contributions`: :meth:`contributions` gives each word's exact contribution to
      the logits (the ``linear`` explanation); otherwise explanations use occlusion.
    """

    labels: tuple[str, ...] = LABELS
    format_version: ClassVar[int] = 1
    """The model directory format this backend writes."""
    readable_formats: ClassVar[tuple[int, ...]] = (1,)
    """The model directory formats this backend reads."""
    has_contributions: ClassVar[bool] = False
    """Whether :meth:`contributions` is implemented (a linear explanation exists)."""

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

    @classmethod
    @abstractmethod
    def load(cls, path: Path, metadata: dict[str, Any]) -> Classifier:
        """Load the model directory ``path`` whose checked ``metadata.json`` is ``metadata``.

        Raises:
            ModelError: a file is missing, corrupt or does not fit the metadata.
        """

    @abstractmethod
    def save(self, path: str | Path) -> Path:
        """Write the model directory (weights and ``metadata.json``) to ``path``; return it."""

    def contributions(self, text: str) -> tuple[list[tuple[int, int]], np.ndarray]:
        """Per word of ``text`` (its ``(start, end)`` offsets), the word's contribution to each
        label's centred logit; only where :attr:`has_contributions` is true.

        Raises:
            ConfigError: this backend has no linear contributions.
        """
        raise ConfigError(
            f"the {self.backend} backend has no linear contributions; explain it with "
            "method='occlusion'"
        )

    def set_threads(self, threads: int) -> None:
        """Use at most ``threads`` threads for inference (a worker process calls this once);
        the default does nothing (numpy backends run single-threaded)."""
        return None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(path={str(self.path)!r})"
