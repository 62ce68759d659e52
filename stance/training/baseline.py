"""Fitting the baseline: the scikit-learn pipeline, out-of-fold logits and temperature scaling.

Training uses scikit-learn; the fitted pipeline is exported to arrays
(:meth:`BaselineClassifier.from_pipeline`), which is what a model directory holds (format 2)
and what inference runs on, without scikit-learn. :func:`pipeline_from_classifier` goes back.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from stance.backends.baseline import (
    CHAR_BITS,
    WORD_BITS,
    BaselineClassifier,
    DenseBlock,
    HashedBlock,
)
from stance.errors import ConfigError, LabelError
from stance.extras import require
from stance.labels import LABEL2ID, LABELS
from stance.modeldir import config_from_dict
from stance.training.registry import Trainer

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

    word_ngram_max: int = 3
    char_ngram_min: int = 3
    char_ngram_max: int = 6
    sublinear_tf: bool = True
    lexicon: bool = True
    lexicon_weight: float = 0.0
    domain_weight: float = 1.0
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


def require_sklearn() -> None:
    """Raise :class:`MissingDependencyError` unless scikit-learn and scipy are installed."""
    require(["sklearn", "scipy"], "train", "training the baseline")


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

    from stance.training.lexicon_features import LexiconFeatures

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
    if config.domain_weight > 0:
        parts.append(
            (
                "domain",
                Pipeline(
                    [("scores", LexiconFeatures(featurizer="domain")), ("scale", StandardScaler())]
                ),
            )
        )
        weights["domain"] = config.domain_weight
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


def fit_pipeline(
    texts: Sequence[str],
    labels: Sequence[str],
    config: BaselineConfig,
    seed: int = 0,
    sample_weight: Sequence[float] | None = None,
) -> Any:
    """Fit a pipeline on ``texts`` with string ``labels``.

    ``sample_weight`` (one non-negative weight per text) weights each text's term in the
    logistic regression's loss, on top of the class weights; the TF-IDF statistics are not
    weighted. ``None`` is the same as all ones.
    """
    unknown = sorted(set(labels) - set(LABELS))
    if unknown:
        raise LabelError(f"unknown label(s) {unknown}; allowed: {LABELS}")
    require_sklearn()
    pipeline = build_pipeline(config, seed)
    if sample_weight is None:
        pipeline.fit(list(texts), list(labels))
        return pipeline
    weights = np.asarray(sample_weight, dtype=np.float64)
    if weights.shape != (len(texts),) or (weights < 0).any() or not np.isfinite(weights).all():
        raise ConfigError(
            f"sample_weight needs one finite weight >= 0 per text ({len(texts)}), "
            f"got shape {weights.shape}"
        )
    pipeline.fit(list(texts), list(labels), clf__sample_weight=weights)
    return pipeline


def out_of_fold_logits(
    texts: Sequence[str],
    labels: Sequence[str],
    groups: Sequence[str],
    config: BaselineConfig,
    seed: int = 0,
    n_splits: int = 5,
    sample_weight: Sequence[float] | None = None,
) -> np.ndarray:
    """Decision values for every text from a model that did not see its group."""
    from sklearn.model_selection import GroupKFold

    texts = list(texts)
    labels = list(labels)
    logits = np.zeros((len(texts), len(LABELS)))
    n_splits = min(n_splits, len(set(groups)))
    for train_idx, held_idx in GroupKFold(n_splits=n_splits).split(texts, labels, groups):
        pipe = fit_pipeline(
            [texts[i] for i in train_idx],
            [labels[i] for i in train_idx],
            config,
            seed,
            None if sample_weight is None else [sample_weight[i] for i in train_idx],
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
    sample_weight: Sequence[float] | None = None,
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
        sample_weight: A weight per text in the regression's loss (see :func:`fit_pipeline`),
            e.g. to make a user's own texts count more than the shipped training data.
    """
    from stance.evaluation.calibration import fit_temperature

    config = config or BaselineConfig()
    started = time.perf_counter()
    pipeline = fit_pipeline(texts, labels, config, seed, sample_weight)
    calibration: dict[str, Any] = {"temperature": 1.0, "method": "none"}
    if config.calibrate and groups is not None and len(set(groups)) >= 2:
        oof = out_of_fold_logits(texts, labels, groups, config, seed, sample_weight=sample_weight)
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
    return BaselineClassifier.from_pipeline(pipeline, meta)


def train_baseline_on(
    training: Any,
    config: BaselineConfig | None = None,
    *,
    seed: int = 0,
    metadata: dict[str, Any] | None = None,
) -> BaselineClassifier:
    """:func:`train_baseline` on a :class:`stance.data.trainset.TrainingSet` (its groups and origins
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


def read_baseline_config(path: str | Path) -> BaselineConfig:
    """A :class:`BaselineConfig` from a JSON file of hyperparameters (missing names keep the
    shipped defaults).

    Raises:
        ConfigError: the file is missing, unreadable, not a JSON object, or names unknown or
            invalid hyperparameters; the message names the path.
    """
    path = Path(path)
    try:
        values = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the config file ({exc})") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}: not valid JSON ({exc.msg}, line {exc.lineno})") from None
    if not isinstance(values, dict):
        raise ConfigError(f"{path}: expected a JSON object of hyperparameters")
    try:
        return BaselineConfig.from_dict(values)
    except (ConfigError, TypeError) as exc:
        raise ConfigError(f"{path}: {exc}") from None


def pipeline_from_classifier(classifier: BaselineClassifier) -> Any:
    """The fitted scikit-learn pipeline that a baseline's arrays describe.

    The inverse of :meth:`BaselineClassifier.from_pipeline`: exporting the result gives the
    same settings and arrays, and its ``predict_proba`` is what the numpy baseline reproduces
    (the parity tests compare the two on every labelled text).
    """
    require_sklearn()
    from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer
    from sklearn.feature_selection import VarianceThreshold
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion, Pipeline
    from sklearn.preprocessing import StandardScaler

    from stance.training.lexicon_features import LexiconFeatures

    arrays = classifier.arrays
    parts: list[tuple[str, Any]] = []
    weights: dict[str, float] = {}
    supports: list[np.ndarray] = []
    coefs: list[np.ndarray] = []
    for spec in classifier.features.blocks:
        name = spec.name
        if isinstance(spec, HashedBlock):
            hasher = spec.hasher
            width = hasher.n_features
            hv = HashingVectorizer(
                analyzer=hasher.analyzer,
                ngram_range=hasher.ngram_range,
                n_features=width,
                lowercase=hasher.lowercase,
                token_pattern=hasher.token_pattern if hasher.analyzer == "word" else None,
                binary=spec.binary,
                norm=spec.count_norm,
                alternate_sign=False,
                dtype=np.float64,
            )
            part: Any = hv
            if spec.tfidf:
                tfidf = TfidfTransformer(
                    norm=spec.norm, use_idf=spec.use_idf, sublinear_tf=spec.sublinear_tf
                )
                tfidf.n_features_in_ = width
                if spec.use_idf:
                    idf = np.full(width, float(arrays[f"{name}.idf.default"][0]))
                    idf[arrays[f"{name}.idf.columns"]] = arrays[f"{name}.idf.values"]
                    tfidf.idf_ = idf
                part = Pipeline([("hash", hv), ("tfidf", tfidf)])
        else:
            assert isinstance(spec, DenseBlock)
            width = spec.n_values
            scores = LexiconFeatures(featurizer=spec.featurizer)
            scores.n_features_in_ = 1
            part = scores
            if spec.standardize:
                scale = StandardScaler()
                scale.mean_ = arrays[f"{name}.mean"].copy()
                scale.scale_ = arrays[f"{name}.scale"].copy()
                scale.var_ = scale.scale_**2
                scale.n_features_in_ = width
                scale.n_samples_seen_ = 1
                part = Pipeline([("scores", scores), ("scale", scale)])
        parts.append((name, part))
        weights[name] = spec.weight
        support = np.zeros(width, dtype=bool)
        support[arrays[f"{name}.columns"]] = True
        supports.append(support)
        coefs.append(arrays[f"{name}.coef"])
    steps: list[tuple[str, Any]] = [("features", FeatureUnion(parts, transformer_weights=weights))]
    support = np.concatenate(supports)
    if classifier.features.select:
        select = VarianceThreshold(0.0)
        select.variances_ = support.astype(np.float64)
        select.n_features_in_ = support.size
        steps.append(("select", select))
    clf = LogisticRegression()
    clf.coef_ = np.ascontiguousarray(np.vstack(coefs).T)
    clf.intercept_ = classifier.intercept.copy()
    clf.classes_ = np.array(LABELS, dtype=object)
    clf.n_features_in_ = clf.coef_.shape[1]
    clf.n_iter_ = np.array([0])
    steps.append(("clf", clf))
    return Pipeline(steps)


# --- the training registry's entry (stance.training.registry) ---------------------------------


def fit(
    texts: Sequence[str],
    labels: Sequence[str],
    config: BaselineConfig,
    *,
    seed: int = 0,
    sample_weight: Sequence[float] | None = None,
    groups: Sequence[str] | None = None,
    origins: Sequence[str] | None = None,
    metadata: dict[str, Any] | None = None,
    base_model: object = None,
    device: str = "auto",
) -> BaselineClassifier:
    """:func:`train_baseline` with the registry's common signature (``base_model`` and
    ``device`` do not apply)."""
    return train_baseline(
        texts,
        labels,
        config,
        groups=groups,
        origins=origins,
        seed=seed,
        metadata=metadata,
        sample_weight=sample_weight,
    )


def refit(
    metadata: dict[str, Any], *, seed: int | None = None, calibrate: bool = True
) -> Callable[[Any], BaselineClassifier]:
    """The training recipe of a saved baseline (hyperparameters and seed from its metadata) as
    a function of a training set; ``calibrate=False`` skips the temperature (it cannot change
    labels, so F1-only experiments save the out-of-fold fits)."""
    config = BaselineConfig.from_dict(metadata.get("hyperparameters", {}))
    if not calibrate:
        config = replace(config, calibrate=False)
    chosen = int(metadata.get("seed", 0)) if seed is None else seed

    def fit_on(training: Any) -> BaselineClassifier:
        return train_baseline_on(training, config, seed=chosen)

    return fit_on


def adapt_config(shipped: dict[str, Any], changes: dict[str, Any] | None) -> BaselineConfig:
    """The shipped baseline's hyperparameters with ``changes``."""
    return BaselineConfig.from_dict({**shipped.get("hyperparameters", {}), **(changes or {})})


TRAINER = Trainer(
    config=BaselineConfig,
    fit=fit,
    refit=refit,
    adapt_config=adapt_config,
    require=require_sklearn,
    libraries=("scikit-learn", "skops", "numpy", "afinn"),
    weighting="the logistic regression's loss (scikit-learn `sample_weight`, on top of the "
    "shipped model's class weights)",
    single_threaded=True,
)
"""How the baseline is trained (registered in :mod:`stance.training.registry`)."""
