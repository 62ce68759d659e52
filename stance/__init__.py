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
    "InputFileError",
    "MissingDependencyError",
    "ModelError",
    "Prediction",
    "StanceError",
    "TextTypeError",
    "__version__",
    "classify",
    "classify_many",
    "load_classifier",
]
