"""The scikit-learn baseline: word and character TF-IDF plus Danish lexicon scores, and a
class-weighted logistic regression.

Saved with skops (no pickle); loading trusts only the types listed in :data:`TRUSTED_TYPES`.
"""

from __future__ import annotations

import time
import zipfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from stance.backends._skops import import_skops_io
from stance.backends.base import Classifier
from stance.errors import ConfigError, ModelError
from stance.hyperparameters import config_from_dict
from stance.labels import LABEL2ID, LABELS
from stance.modeldir import retrain_hint, write_metadata

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
    "stance.features.LexiconFeatures",
)
"""Every type a baseline model file may contain; anything else is refused on load."""


CALIBRATION_DATA = ("all", "corpus")
"""Whose out-of-fold logits fit the temperature: every training text, or corpus units only."""


@dataclass(frozen=True)
class BaselineConfig:
    """Hyperparameters of the baseline pipeline.

    >>> BaselineConfig(C=0)
    Traceback (most recent call last):
    ...
    stance.errors.ConfigError: C must be > 0, got 0
    """

    word_ngram_max: int = 2
    char_ngram_min: int = 2
    char_ngram_max: int = 5
    sublinear_tf: bool = True
    lexicon: bool = True
    lexicon_weight: float = 0.5
    C: float = 10.0
    class_weight: str | None = "balanced"
    calibrate: bool = True
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


def _hashed_tfidf(analyzer: str, ngram_range: tuple[int, int], bits: int, sublinear: bool) -> Any:
    from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer
    from sklearn.pipeline import Pipeline

    return Pipeline(
        [
            (
                "hash",
                HashingVectorizer(
                    analyzer=analyzer,
                    token_pattern=r"(?u)\b\w+\b" if analyzer == "word" else None,
                    ngram_range=ngram_range,
                    n_features=2**bits,
                    alternate_sign=False,
                    norm=None,
                    dtype=np.float64,
                ),
            ),
            ("tfidf", TfidfTransformer(sublinear_tf=sublinear)),
        ]
    )


def build_pipeline(config: BaselineConfig, seed: int = 0) -> Any:
    """An unfitted scikit-learn ``Pipeline`` for ``config``.

    Word and character n-grams are hashed (no vocabulary is stored, so a model file is small
    and loads fast), TF-IDF weighted and L2-normalised; columns no training text uses are
    dropped before the logistic regression.
    """
    from sklearn.feature_selection import VarianceThreshold
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion, Pipeline
    from sklearn.preprocessing import StandardScaler

    from stance.features import LexiconFeatures

    parts: list[tuple[str, Any]] = [
        ("word", _hashed_tfidf("word", (1, config.word_ngram_max), WORD_BITS, config.sublinear_tf)),
        (
            "char",
            _hashed_tfidf(
                "char_wb",
                (config.char_ngram_min, config.char_ngram_max),
                CHAR_BITS,
                config.sublinear_tf,
            ),
        ),
    ]
    weights = {"word": 1.0, "char": 1.0}
    if config.lexicon and config.lexicon_weight > 0:
        parts.append(
            ("lexicon", Pipeline([("scores", LexiconFeatures()), ("scale", StandardScaler())]))
        )
        weights["lexicon"] = config.lexicon_weight
    return Pipeline(
        [
            ("features", FeatureUnion(parts, transformer_weights=weights)),
            # drop the hashed columns no training text uses: a much smaller, faster regression
            ("select", VarianceThreshold(0.0)),
            (
                "clf",
                LogisticRegression(
                    C=config.C, class_weight=config.class_weight, max_iter=5000, random_state=seed
                ),
            ),
        ]
    )


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
        """The weighted feature matrix of each block (``word``, ``char``, ``lexicon``)."""
        import scipy.sparse as sp
        import sklearn

        blocks = []
        with sklearn.config_context(assume_finite=True, skip_parameter_validation=True):
            for name, transformer, weight in self._blocks:
                if name == "lexicon":
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


def fit_pipeline(
    texts: Sequence[str], labels: Sequence[str], config: BaselineConfig, seed: int = 0
) -> Any:
    """Fit a pipeline on ``texts`` with string ``labels``."""
    unknown = sorted(set(labels) - set(LABELS))
    if unknown:
        raise ValueError(f"unknown label(s) {unknown}; allowed: {LABELS}")
    pipeline = build_pipeline(config, seed)
    pipeline.fit(list(texts), list(labels))
    return pipeline


def out_of_fold_logits(
    texts: Sequence[str],
    labels: Sequence[str],
    groups: Sequence[str],
    config: BaselineConfig,
    seed: int = 0,
    n_splits: int = 5,
) -> np.ndarray:
    """Decision values for every text from a model that did not see its group."""
    from sklearn.model_selection import GroupKFold

    texts = list(texts)
    labels = list(labels)
    logits = np.zeros((len(texts), len(LABELS)))
    n_splits = min(n_splits, len(set(groups)))
    for train_idx, held_idx in GroupKFold(n_splits=n_splits).split(texts, labels, groups):
        pipe = fit_pipeline(
            [texts[i] for i in train_idx], [labels[i] for i in train_idx], config, seed
        )
        logits[held_idx] = pipe.decision_function([texts[i] for i in held_idx])
    return logits


def calibration_rows(config: BaselineConfig, origins: Sequence[str] | None, n: int) -> np.ndarray:
    """Boolean mask of the texts whose out-of-fold logits fit the temperature.

    >>> calibration_rows(BaselineConfig(calibration_data="corpus"), ["corpus", "authored"], 2)
    array([ True, False])
    """
    if config.calibration_data == "corpus" and origins is not None:
        mask = np.array([origin == "corpus" for origin in origins], dtype=bool)
        if mask.any():
            return mask
    return np.ones(n, dtype=bool)


def train_baseline(
    texts: Sequence[str],
    labels: Sequence[str],
    config: BaselineConfig | None = None,
    *,
    groups: Sequence[str] | None = None,
    origins: Sequence[str] | None = None,
    seed: int = 0,
    metadata: dict[str, Any] | None = None,
) -> BaselineClassifier:
    """Fit the baseline and, if ``config.calibrate``, a temperature on out-of-fold logits.

    Args:
        texts: Training texts (NFC-normalised).
        labels: Their labels, from :data:`LABELS`.
        config: Hyperparameters; defaults to :class:`BaselineConfig()`.
        groups: A group per text (source document or writer) for the calibration folds;
            without groups no temperature is fitted.
        origins: ``"corpus"`` or ``"authored"`` per text; with ``config.calibration_data ==
            "corpus"`` only corpus units' out-of-fold logits fit the temperature.
        seed: Random seed.
        metadata: Extra metadata to store (training data, scores).
    """
    from stance.calibration import fit_temperature

    config = config or BaselineConfig()
    started = time.perf_counter()
    pipeline = fit_pipeline(texts, labels, config, seed)
    calibration: dict[str, Any] = {"temperature": 1.0, "method": "none"}
    if config.calibrate and groups is not None and len(set(groups)) >= 2:
        oof = out_of_fold_logits(texts, labels, groups, config, seed)
        y = np.array([LABEL2ID[label] for label in labels])
        rows = calibration_rows(config, origins, len(texts))
        calibration = {
            "temperature": fit_temperature(oof[rows], y[rows]),
            "method": "temperature scaling on grouped out-of-fold logits of "
            + ("the corpus units" if rows.sum() < len(texts) else "the training data"),
        }
    meta = {
        "backend": "baseline",
        "hyperparameters": asdict(config),
        "seed": seed,
        "calibration": calibration,
        "training_seconds": round(time.perf_counter() - started, 2),
        **(metadata or {}),
    }
    return BaselineClassifier(pipeline, meta)


def train_baseline_on(
    training: Any,
    config: BaselineConfig | None = None,
    *,
    seed: int = 0,
    metadata: dict[str, Any] | None = None,
) -> BaselineClassifier:
    """:func:`train_baseline` on a :class:`stance.trainset.TrainingSet` (its groups and origins
    drive the calibration folds)."""
    return train_baseline(
        training.texts,
        training.labels,
        config,
        groups=training.groups,
        origins=training.origins,
        seed=seed,
        metadata=metadata,
    )
