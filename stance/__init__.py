"""stance: the stance of Danish text toward Danish jobcentres (against, for or neutral).

>>> from stance import classify
>>> classify("Luk jobcentrene, de skaber ingen job.").label
'against'
"""

from __future__ import annotations

from stance._version import __version__
from stance.api import classify, classify_many, load_classifier
from stance.errors import (
    ConfigError,
    CorpusError,
    EmptyTextError,
    InputFileError,
    LabelError,
    MissingDependencyError,
    ModelError,
    StanceError,
    TextTypeError,
)
from stance.labels import LABELS
from stance.prediction import Prediction

__all__ = [
    "LABELS",
    "ConfigError",
    "CorpusError",
    "EmptyTextError",
    "Explanation",
    "InputFileError",
    "LabelError",
    "MissingDependencyError",
    "ModelError",
    "Prediction",
    "StanceError",
    "TextTypeError",
    "__version__",
    "classify",
    "classify_frame",
    "classify_many",
    "estimate_shares",
    "evaluate_file",
    "explain",
    "load_classifier",
    "suggest",
    "train",
]

_LAZY = {
    "explain": "stance.explanation",
    "Explanation": "stance.explanation",
    "evaluate_file": "stance.own_data.evaluate",
    "train": "stance.own_data.adapt",
    "suggest": "stance.own_data.suggest",
    "classify_frame": "stance.frame",
    "estimate_shares": "stance.shares",
}


def __getattr__(name: str) -> object:
    """``explain``, ``Explanation``, ``classify_frame``, ``evaluate_file``, ``train`` and
    ``suggest`` are imported on first use (they load numpy, pandas only when called, or
    build-time tools)."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'stance' has no attribute {name!r}")
