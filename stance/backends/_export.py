"""A fitted scikit-learn baseline pipeline, reduced to format-2 settings and arrays.

Reads the fitted objects' attributes only (scikit-learn is not imported here), so training
(:mod:`stance.training.baseline`), format-1 loading and ``stance convert`` share one exporter.
The pipeline must be ``Pipeline([("features", FeatureUnion(...)), ("select", selector)?,
("clf", LogisticRegression)])``, whose union blocks are each

- hashed n-grams: ``HashingVectorizer`` alone or ``Pipeline([(_, HashingVectorizer),
  (_, TfidfTransformer)])``, or
- dense features: ``LexiconFeatures(featurizer=NAME)`` alone or ``Pipeline([(_,
  LexiconFeatures), (_, StandardScaler)])``, ``NAME`` a key of
  :data:`stance.features.DENSE_FEATURES`,

with any block names and transformer weights. Anything else raises :class:`ConfigError` naming
the step and the setting.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from stance.backends.blocks import BaselineFeatures, Block, DenseBlock, HashedBlock
from stance.errors import ConfigError
from stance.features import dense_featurizer
from stance.features.ngrams import ANALYZERS, NgramHasher
from stance.labels import LABELS


def _kind(obj: Any) -> str:
    return type(obj).__name__


def _steps(obj: Any) -> list[Any]:
    """The steps of a ``Pipeline`` (or the object itself)."""
    if _kind(obj) == "Pipeline":
        return [step for _, step in obj.steps if step not in (None, "passthrough")]
    return [obj]


def _refuse(block: str, problem: str) -> ConfigError:
    return ConfigError(f"cannot export baseline block {block!r}: {problem}")


def _hashed(
    name: str, weight: float, steps: list[Any], arrays: dict[str, np.ndarray]
) -> HashedBlock:
    hv = steps[0]
    if len(steps) > 2 or (len(steps) == 2 and _kind(steps[1]) != "TfidfTransformer"):
        raise _refuse(name, f"expected HashingVectorizer [+ TfidfTransformer], got {steps}")
    checks = {
        "input": ("content",),
        "strip_accents": (None,),
        "preprocessor": (None,),
        "tokenizer": (None,),
        "stop_words": (None,),
        "alternate_sign": (False,),
        "norm": (None, "l1", "l2"),
    }
    for attribute, allowed in checks.items():
        value = getattr(hv, attribute, None)
        if value not in allowed:
            raise _refuse(
                name,
                f"HashingVectorizer({attribute}={value!r}) is not supported; use {allowed[0]!r}",
            )
    if hv.analyzer not in ANALYZERS:
        raise _refuse(name, f"analyzer {hv.analyzer!r} is not one of {ANALYZERS}")
    if np.dtype(hv.dtype) != np.float64:
        raise _refuse(name, f"HashingVectorizer(dtype={hv.dtype}) must be float64")
    hasher = NgramHasher(
        analyzer=hv.analyzer,
        ngram_range=tuple(hv.ngram_range),
        n_features=int(hv.n_features),
        lowercase=bool(hv.lowercase),
        token_pattern=hv.token_pattern if hv.analyzer == "word" else NgramHasher.token_pattern,
    )
    if len(steps) == 1:
        spec = HashedBlock(
            name, hasher, weight, bool(hv.binary), hv.norm, tfidf=False, use_idf=False, norm=None
        )
        return spec
    tfidf = steps[1]
    if tfidf.norm not in (None, "l1", "l2"):
        raise _refuse(name, f"TfidfTransformer(norm={tfidf.norm!r}) is not supported")
    use_idf = bool(tfidf.use_idf)
    if use_idf:
        idf = np.asarray(tfidf.idf_, dtype=np.float64)
        if idf.shape != (hasher.n_features,):
            raise _refuse(name, f"idf_ has shape {idf.shape}, expected ({hasher.n_features},)")
        # columns no training text has share the largest IDF; store only the others
        default = float(idf.max())
        columns = np.flatnonzero(idf != default).astype(np.int32)
        arrays[f"{name}.idf.columns"] = columns
        arrays[f"{name}.idf.values"] = idf[columns].copy()
        arrays[f"{name}.idf.default"] = np.array([default])
    return HashedBlock(
        name,
        hasher,
        weight,
        binary=bool(hv.binary),
        count_norm=hv.norm,
        tfidf=True,
        sublinear_tf=bool(tfidf.sublinear_tf),
        use_idf=use_idf,
        norm=tfidf.norm,
    )


def _dense(name: str, weight: float, steps: list[Any], arrays: dict[str, np.ndarray]) -> DenseBlock:
    features = steps[0]
    if len(steps) > 2 or (len(steps) == 2 and _kind(steps[1]) != "StandardScaler"):
        raise _refuse(name, f"expected LexiconFeatures [+ StandardScaler], got {steps}")
    featurizer = features.featurizer
    try:
        _, names = dense_featurizer(featurizer)
    except KeyError as exc:
        raise _refuse(name, str(exc.args[0])) from exc
    d = len(names)
    standardize = len(steps) == 2
    if standardize:
        scaler = steps[1]
        mean = getattr(scaler, "mean_", None) if scaler.with_mean else None
        scale = getattr(scaler, "scale_", None) if scaler.with_std else None
        arrays[f"{name}.mean"] = np.zeros(d) if mean is None else np.asarray(mean, np.float64)
        arrays[f"{name}.scale"] = np.ones(d) if scale is None else np.asarray(scale, np.float64)
        for key in (f"{name}.mean", f"{name}.scale"):
            if arrays[key].shape != (d,):
                raise _refuse(name, f"StandardScaler has {arrays[key].shape} values, expected {d}")
    return DenseBlock(name, featurizer, d, weight, standardize)


def _width(spec: Block) -> int:
    return spec.hasher.n_features if isinstance(spec, HashedBlock) else spec.n_values


def export_pipeline(pipeline: Any) -> tuple[BaselineFeatures, dict[str, np.ndarray]]:
    """The settings and arrays of a fitted baseline ``pipeline``.

    Raises:
        ConfigError: a step or setting cannot be reproduced without scikit-learn.
    """
    if _kind(pipeline) != "Pipeline":
        raise ConfigError(f"expected a scikit-learn Pipeline, got {_kind(pipeline)}")
    steps = _steps(pipeline)
    if len(steps) not in (2, 3) or _kind(steps[0]) != "FeatureUnion":
        raise ConfigError(
            "expected Pipeline([features (FeatureUnion), select (optional), clf]), got "
            f"{[_kind(s) for s in steps]}"
        )
    union, clf = steps[0], steps[-1]
    selector = steps[1] if len(steps) == 3 else None
    weights = union.transformer_weights or {}
    arrays: dict[str, np.ndarray] = {}
    specs: list[Block] = []
    for name, transformer in union.transformer_list:
        if transformer in (None, "drop"):
            continue
        if transformer == "passthrough":
            raise _refuse(name, "'passthrough' blocks are not supported")
        parts = _steps(transformer)
        weight = float(weights.get(name, 1.0))
        if _kind(parts[0]) == "HashingVectorizer":
            specs.append(_hashed(name, weight, parts, arrays))
        elif _kind(parts[0]) == "LexiconFeatures":
            specs.append(_dense(name, weight, parts, arrays))
        else:
            raise _refuse(name, f"unsupported step {_kind(parts[0])}")
    total = sum(_width(spec) for spec in specs)
    support = np.ones(total, dtype=bool)
    if selector is not None:
        if not hasattr(selector, "get_support"):
            raise ConfigError(f"the selection step {_kind(selector)} has no get_support()")
        support = np.asarray(selector.get_support(), dtype=bool)
        if support.shape != (total,):
            raise ConfigError(f"the selection covers {support.size} columns, the blocks {total}")
    if _kind(clf) != "LogisticRegression":
        raise ConfigError(f"the last step must be a LogisticRegression, got {_kind(clf)}")
    if getattr(clf, "multi_class", "auto") == "ovr" or getattr(clf, "solver", "") == "liblinear":
        raise ConfigError("one-vs-rest logistic regression is not supported; use multinomial")
    classes = [str(c) for c in clf.classes_]
    if classes != list(LABELS):
        raise ConfigError(f"model classes {classes} differ from stance.LABELS {list(LABELS)}")
    coef = np.asarray(clf.coef_, dtype=np.float64)
    if coef.shape != (len(LABELS), int(support.sum())):
        raise ConfigError(
            f"coef_ has shape {coef.shape}, expected ({len(LABELS)}, {support.sum()})"
        )
    kept = np.cumsum(support) - 1  # column of the full union -> its row in coef_.T
    offset = 0
    for spec in specs:
        width = _width(spec)
        columns = np.flatnonzero(support[offset : offset + width]).astype(np.int32)
        arrays[f"{spec.name}.columns"] = columns
        arrays[f"{spec.name}.coef"] = np.ascontiguousarray(coef[:, kept[offset + columns]].T)
        offset += width
    arrays["intercept"] = np.asarray(clf.intercept_, dtype=np.float64).reshape(len(LABELS))
    return BaselineFeatures(tuple(specs), select=selector is not None), arrays
