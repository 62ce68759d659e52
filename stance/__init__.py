"""stance: the stance of Danish text toward Danish jobcentres (against, for or neutral).

>>> from stance import classify
>>> classify("Luk jobcentrene, de skaber ingen job.").label
'against'
"""

from __future__ import annotations

from stance.api import classify, classify_many, load_classifier
from stance.errors import (
    ConfigError,
    CorpusError,
    EmptyTextError,
    InputFileError,
    MissingDependencyError,
    ModelError,
    StanceError,
    TextTypeError,
)
from stance.labels import LABELS
from stance.prediction import Prediction

__version__ = "0.1.0"

__all__ = [
    "LABELS",
    "ConfigError",
    "CorpusError",
    "EmptyTextError",
    "Explanation",
    "InputFileError",
    "MissingDependencyError",
    "ModelError",
    "Prediction",
    "StanceError",
    "TextTypeError",
    "__version__",
    "classify",
    "classify_frame",
    "classify_many",
    "explain",
    "load_classifier",
]

_LAZY = {
    "explain": "stance.explanation",
    "Explanation": "stance.explanation",
    "classify_frame": "stance.frame",
}


def __getattr__(name: str) -> object:
    """``explain``, ``Explanation`` and ``classify_frame`` are imported on first use (they load
    numpy; ``classify_frame`` loads pandas only when it is called)."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'stance' has no attribute {name!r}")
