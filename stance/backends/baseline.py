"""The scikit-learn baseline at inference: word and character TF-IDF plus Danish lexicon
scores, and a class-weighted logistic regression.

Saved with skops (no pickle); loading trusts only the types listed in :data:`TRUSTED_TYPES`.
Fitting lives in :mod:`stance.training.baseline`.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from stance.backends._skops import import_skops_io
from stance.backends.base import Classifier
from stance.errors import ConfigError, ModelError
from stance.labels import LABELS
from stance.modeldir import config_from_dict, retrain_hint, write_metadata

MODEL_FILE = "model.skops"
WORD_BITS = 18
CHAR_BITS = 19

TRUSTED_TYPES: tuple[str, ...] = (
    "builtins.slice",
    "numpy.dtype",
    "numpy.ndarray",
    "numpy.float64",
    "numpy.int64",
    "scipy.sparse._csr.csr_matrix",
    "sklearn.feature_extraction.text.HashingVectorizer",
    "sklearn.feature_extraction.text.TfidfTransformer",
    "sklearn.feature_selection._variance_threshold.VarianceThreshold",
    "sklearn.linear_model._logistic.LogisticRegression",
    "sklearn.pipeline.FeatureUnion",
    "sklearn.pipeline.Pipeline",
    "sklearn.preprocessing._data.StandardScaler",
    "stance.training.lexicon_features.LexiconFeatures",
)
"""Every type a baseline model file may contain; anything else is refused on load."""


CALIBRATION_DATA = ("all", "corpus")
"""Whose out-of-fold logits fit the temperature: every training text, or corpus units only."""


@dataclass(frozen=True)
class BaselineConfig:
    """Hyperparameters of the baseline pipeline. The defaults are the shipped recipe: there is
    no other copy of it (``tests/test_models.py`` checks the shipped model against them).

    >>> BaselineConfig(C=0)
    Traceback (most recent call last):
    ...
    stance.errors.ConfigError: C must be > 0, got 0
    """

    word_ngram_max: int = 2
    char_ngram_min: int = 3
    char_ngram_max: int = 6
    sublinear_tf: bool = True
    lexicon: bool = True
    lexicon_weight: float = 0.0
    domain_weight: float = 0.0
    C: float = 10.0
    class_weight: str | None = "balanced"
    calibrate: bool = False
    calibration_data: str = "all"

    def __post_init__(self) -> None:
        if self.word_ngram_max < 1:
            raise ConfigError(f"word_ngram_max must be >= 1, got {self.word_ngram_max}")
        if not 1 <= self.char_ngram_min <= self.char_ngram_max:
            raise ConfigError(
                "need 1 <= char_ngram_min <= char_ngram_max, got "
                f"{self.char_ngram_min}..{self.char_ngram_max}"
            )
        if self.C <= 0:
            raise ConfigError(f"C must be > 0, got {self.C}")
        if self.lexicon_weight < 0:
            raise ConfigError(f"lexicon_weight must be >= 0, got {self.lexicon_weight}")
        if self.domain_weight < 0:
            raise ConfigError(f"domain_weight must be >= 0, got {self.domain_weight}")
        if self.class_weight not in (None, "balanced"):
            raise ConfigError(f"class_weight must be None or 'balanced', got {self.class_weight!r}")
        if self.calibration_data not in CALIBRATION_DATA:
            raise ConfigError(
                f"calibration_data must be one of {CALIBRATION_DATA}, got {self.calibration_data!r}"
            )

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> BaselineConfig:
        """Build a config from saved hyperparameters, rejecting unknown names."""
        return config_from_dict(cls, values, "baseline")


class BaselineClassifier(Classifier):
    """A fitted baseline pipeline with its metadata."""

    def __init__(self, pipeline: Any, metadata: dict[str, Any], path: Path | None = None) -> None:
        super().__init__(metadata, path)
        self.pipeline = pipeline
        classes = list(pipeline.classes_)
        if classes != list(LABELS):
            raise ModelError(
                path or Path("."),
                f"model classes {classes} differ from stance.LABELS {list(LABELS)}",
                retrain_hint("baseline"),
            )

        self._blocks, self._weights, self._intercept = _compile(pipeline)

    @property
    def config(self) -> BaselineConfig:
        return BaselineConfig.from_dict(self.metadata.get("hyperparameters", {}))

    def feature_blocks(self, texts: list[str]) -> list[tuple[str, Any]]:
        """The weighted feature matrix of each block (``word``, ``char``, then the dense blocks
        such as ``lexicon`` and ``domain``), each a CSR matrix."""
        import scipy.sparse as sp
        import sklearn

        blocks = []
        with sklearn.config_context(assume_finite=True, skip_parameter_validation=True):
            for name, transformer, weight in self._blocks:
                if name not in ("word", "char"):
                    dense = transformer.transform(texts) * weight
                    blocks.append((name, sp.csr_matrix(dense)))
                else:
                    blocks.append((name, transformer.transform(texts) * weight))
        return blocks

    def _logits(self, texts: list[str]) -> np.ndarray:
        """Same values as ``pipeline.decision_function``, without its per-call overhead."""
        import scipy.sparse as sp

        features = sp.hstack([block for _, block in self.feature_blocks(texts)], format="csr")
        return np.asarray(features @ self._weights + self._intercept, dtype=np.float64)

    @classmethod
    def load(cls, path: Path, metadata: dict[str, Any]) -> BaselineClassifier:
        """Load ``model.skops`` from ``path``, trusting only :data:`TRUSTED_TYPES`."""
        sio = import_skops_io()
        file = path / MODEL_FILE
        if not file.is_file():
            raise ModelError(path, f"{MODEL_FILE} is missing", retrain_hint("baseline"))
        try:
            untrusted = sio.get_untrusted_types(file=file)
        except Exception as exc:
            raise ModelError(
                path,
                f"{MODEL_FILE} is corrupt or truncated ({type(exc).__name__}: {exc})",
                retrain_hint("baseline"),
            ) from exc
        refused = sorted(set(untrusted) - set(TRUSTED_TYPES))
        if refused:
            raise ModelError(
                path,
                f"{MODEL_FILE} contains types stance does not trust: {refused}",
                "Only load models from people you trust; " + retrain_hint("baseline"),
            )
        try:
            pipeline = sio.load(file, trusted=list(untrusted))
        except Exception as exc:
            raise ModelError(
                path,
                f"{MODEL_FILE} could not be read ({type(exc).__name__}: {exc})",
                retrain_hint("baseline"),
            ) from exc
        try:
            return cls(pipeline, metadata, path)
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise ModelError(
                path,
                f"{MODEL_FILE} does not hold a stance baseline pipeline ({exc})",
                retrain_hint("baseline"),
            ) from exc

    def save(self, path: str | Path) -> Path:
        """Write ``model.skops`` and ``metadata.json`` to ``path`` (created if needed)."""
        sio = import_skops_io()
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        sio.dump(
            self.pipeline, path / MODEL_FILE, compression=zipfile.ZIP_DEFLATED, compresslevel=9
        )
        write_metadata(path, self.metadata)
        self.path = path
        return path


def _compile(pipeline: Any) -> tuple[list[tuple[str, Any, float]], np.ndarray, np.ndarray]:
    """The fitted blocks and regression weights expanded back to the full hashed feature space."""
    union = pipeline.named_steps["features"]
    weights = union.transformer_weights or {}
    blocks = [(name, tr, float(weights.get(name, 1.0))) for name, tr in union.transformer_list]
    support = pipeline.named_steps["select"].get_support()
    clf = pipeline.named_steps["clf"]
    expanded = np.zeros((support.size, clf.coef_.shape[0]))
    expanded[support] = clf.coef_.T
    return blocks, expanded, np.asarray(clf.intercept_, dtype=np.float64)
