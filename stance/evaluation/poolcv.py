"""Page-grouped cross-validation over a real training pool, and paired bootstraps over pages.

Each variant is trained, in each fold, on its project texts plus the pool units of the other
folds, and predicts the held-out fold's units: every pool unit is predicted once, by a model
that never saw its page. Differences between variants are judged with a paired bootstrap that
resamples **pages** (units of one page are not independent), overall and per kind.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from stance.data.realpool import POOL_KINDS, PoolUnit
from stance.evaluation.metrics import macro_f1
from stance.labels import LABEL2ID, LABELS
from stance.training.baseline import BaselineConfig
from stance.training.trainset import MixedTrainingSet, pool_set


@dataclass(frozen=True)
class PoolVariant:
    """A training recipe for the cross-validation: hyperparameters and the mix.

    ``featurizer`` names a dense featuriser (registered in :data:`stance.features.DENSE_FEATURES`)
    for the domain block instead of the shipped one; ``comment_weight`` multiplies the weight of
    pool ``comment`` units.
    """

    name: str
    description: str
    config: BaselineConfig = field(default_factory=BaselineConfig)
    use_project: bool = True
    use_authored: bool = True
    authored_weight: float = 1.0
    real_weight: float = 1.0
    comment_weight: float = 1.0
    use_pool: bool = True
    featurizer: str | None = None

    def training_set(self, project: MixedTrainingSet, pool: Sequence[PoolUnit]) -> MixedTrainingSet:
        """The texts this variant trains on, given the project's texts and the pool units."""
        mix = MixedTrainingSet()
        if self.use_project:
            for i in range(len(project)):
                if project.origins[i] == "authored":
                    if not self.use_authored:
                        continue
                    weight = self.authored_weight
                else:
                    weight = 1.0
                mix.texts.append(project.texts[i])
                mix.labels.append(project.labels[i])
                mix.weights.append(weight)
                mix.groups.append(project.groups[i])
                mix.kinds.append(project.kinds[i])
                mix.origins.append(project.origins[i])
                mix.ids.append(project.ids[i])
        if self.use_pool:
            real = pool_set(pool, self.real_weight)
            real.weights = [
                w * (self.comment_weight if k == "comment" else 1.0)
                for w, k in zip(real.weights, real.kinds)
            ]
            mix.extend(real)
        return mix

    def fit(self, mix: MixedTrainingSet, seed: int = 0) -> Any:
        """A fitted scikit-learn pipeline (weights in the regression's loss)."""
        from stance.training.baseline import build_pipeline

        pipeline = build_pipeline(replace(self.config, calibrate=False), seed)
        if self.featurizer is not None and self.config.domain_weight > 0:
            pipeline.set_params(features__domain__scores__featurizer=self.featurizer)
        return pipeline.fit(
            list(mix.texts), list(mix.labels), clf__sample_weight=np.asarray(mix.weights)
        )


def page_folds(units: Sequence[PoolUnit], n_folds: int = 5, seed: int = 0) -> np.ndarray:
    """A fold number per unit: pages shuffled (seeded), each page to the fold with the fewest
    units so far, so folds are page-disjoint and about equal in size."""
    pages = sorted({u.source_url for u in units})
    sizes: dict[str, int] = {}
    for u in units:
        sizes[u.source_url] = sizes.get(u.source_url, 0) + 1
    rng = np.random.default_rng(seed)
    order = [pages[i] for i in rng.permutation(len(pages))]
    load = [0] * n_folds
    fold_of_page: dict[str, int] = {}
    for page in order:
        k = int(np.argmin(load))
        fold_of_page[page] = k
        load[k] += sizes[page]
    return np.array([fold_of_page[u.source_url] for u in units])


def cross_validate(
    variant: PoolVariant,
    project: MixedTrainingSet,
    units: Sequence[PoolUnit],
    folds: np.ndarray,
    *,
    seed: int = 0,
    subsample: Callable[[list[PoolUnit], int], list[PoolUnit]] | None = None,
    log: Callable[[str], None] | None = None,
) -> np.ndarray:
    """Out-of-fold probabilities (uncalibrated), shape ``(len(units), 3)``.

    A variant without the pool is fitted once (its training set does not depend on the fold).
    ``subsample(train_units, fold)`` may shrink each fold's pool training units (learning
    curves).
    """
    probs = np.zeros((len(units), len(LABELS)))
    texts = [u.text for u in units]
    if not variant.use_pool:
        model = variant.fit(variant.training_set(project, []), seed)
        return model.predict_proba(texts)
    for k in sorted(set(folds.tolist())):
        train_units = [u for u, f in zip(units, folds) if f != k]
        if subsample is not None:
            train_units = subsample(train_units, k)
        mix = variant.training_set(project, train_units)
        if not mix.texts:
            continue
        model = variant.fit(mix, seed)
        held = np.flatnonzero(folds == k)
        probs[held] = model.predict_proba([texts[i] for i in held])
        if log is not None:
            log(f"  {variant.name}: fold {k} done ({len(mix)} training texts)")
    return probs


def predicted_labels(probs: np.ndarray) -> list[str]:
    return [LABELS[i] for i in np.asarray(probs).argmax(axis=1)]


def kind_report(
    gold: Sequence[str], predicted: Sequence[str], kinds: Sequence[str]
) -> dict[str, float]:
    """Pooled macro-F1 overall and per kind.

    >>> kind_report(["for", "against"], ["for", "for"], ["comment", "article_paragraph"])
    {'all': 0.3333333333333333, 'comment': 1.0, 'article_paragraph': 0.0}
    """
    gold_a, pred_a, kinds_a = np.asarray(gold), np.asarray(predicted), np.asarray(kinds)
    out = {"all": macro_f1(list(gold_a), list(pred_a))}
    for kind in POOL_KINDS:
        idx = kinds_a == kind
        if idx.any():
            out[kind] = macro_f1(list(gold_a[idx]), list(pred_a[idx]))
    return out


def _macro_f1_matrix(gold: np.ndarray, pred: np.ndarray, samples: np.ndarray) -> np.ndarray:
    """Macro-F1 (over gold labels present) of each resample (rows of unit indices)."""
    g = gold[samples]
    p = pred[samples]
    scores = []
    present = []
    for label in range(len(LABELS)):
        is_g, is_p = g == label, p == label
        tp = (is_g & is_p).sum(axis=1)
        denom = is_g.sum(axis=1) + is_p.sum(axis=1)
        scores.append(np.where(denom > 0, 2 * tp / np.maximum(denom, 1), 0.0))
        present.append(is_g.any(axis=1))
    scores_a, present_a = np.array(scores), np.array(present)
    return (scores_a * present_a).sum(axis=0) / np.maximum(present_a.sum(axis=0), 1)


def page_bootstrap(
    gold: Sequence[str],
    first: Sequence[str],
    second: Sequence[str],
    pages: Sequence[str],
    kinds: Sequence[str],
    *,
    n_resamples: int = 1000,
    seed: int = 0,
) -> dict[str, dict[str, Any]]:
    """Paired bootstrap over pages of ``macro_f1(first) - macro_f1(second)``, overall and per
    kind: each resample draws pages with replacement and takes all their units.

    Returns, per scope (``all``, each kind and, with both kinds present, ``kind_mean``: the mean
    of the two kinds' differences): ``difference`` (on the full data), ``ci95`` and
    ``p_first_wins`` (share of resamples with a positive difference).
    """
    gold_i = np.array([LABEL2ID[x] for x in gold])
    first_i = np.array([LABEL2ID[x] for x in first])
    second_i = np.array([LABEL2ID[x] for x in second])
    kinds_a = np.asarray(kinds)
    page_names = sorted(set(pages))
    page_index = {p: i for i, p in enumerate(page_names)}
    members: list[list[int]] = [[] for _ in page_names]
    for i, p in enumerate(pages):
        members[page_index[p]].append(i)
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(page_names), (n_resamples, len(page_names)))
    scopes = {"all": np.ones(len(gold_i), dtype=bool)}
    for kind in POOL_KINDS:
        if (kinds_a == kind).any():
            scopes[kind] = kinds_a == kind
    result: dict[str, dict[str, Any]] = {}
    resampled: dict[str, np.ndarray] = {}
    for scope, mask in scopes.items():
        diffs = np.empty(n_resamples)
        for r in range(n_resamples):
            idx = np.concatenate([members[j] for j in draws[r]])
            idx = idx[mask[idx]]
            sample = idx[None, :]
            diffs[r] = (
                _macro_f1_matrix(gold_i, first_i, sample)[0]
                - _macro_f1_matrix(gold_i, second_i, sample)[0]
            )
        full = np.flatnonzero(mask)[None, :]
        resampled[scope] = diffs
        result[scope] = _interval(
            float(
                _macro_f1_matrix(gold_i, first_i, full)[0]
                - _macro_f1_matrix(gold_i, second_i, full)[0]
            ),
            diffs,
        )
    if all(kind in result for kind in POOL_KINDS):
        # the mean over kinds, resampled jointly (the same page draws for both kinds)
        result["kind_mean"] = _interval(
            float(np.mean([result[kind]["difference"] for kind in POOL_KINDS])),
            np.mean([resampled[kind] for kind in POOL_KINDS], axis=0),
        )
    return result


def _interval(difference: float, diffs: np.ndarray) -> dict[str, Any]:
    low, high = np.percentile(diffs, [2.5, 97.5])
    return {
        "difference": difference,
        "ci95": [float(low), float(high)],
        "p_first_wins": float(np.mean(diffs > 0)),
    }


def page_halves(pages: Sequence[str], seed: int = 0) -> np.ndarray:
    """``True`` for units whose page is in the first half of a seeded split of the pages."""
    names = sorted(set(pages))
    rng = np.random.default_rng(seed)
    first = set(rng.permutation(len(names))[: len(names) // 2].tolist())
    chosen = {names[i] for i in first}
    return np.array([p in chosen for p in pages])


def half_differences(
    gold: Sequence[str],
    first: Sequence[str],
    second: Sequence[str],
    pages: Sequence[str],
    seed: int = 0,
) -> tuple[float, float]:
    """Overall macro-F1 difference ``first - second`` on each half of a page-disjoint split."""
    half = page_halves(pages, seed)
    gold_a, first_a, second_a = np.asarray(gold), np.asarray(first), np.asarray(second)
    out = []
    for keep in (True, False):
        idx = half == keep
        out.append(
            macro_f1(list(gold_a[idx]), list(first_a[idx]))
            - macro_f1(list(gold_a[idx]), list(second_a[idx]))
        )
    return out[0], out[1]


def declared_variants() -> dict[str, PoolVariant]:
    """The variants of docs/real-training.md, "Variants, declared before running"."""
    from stance.training.knowledge import FEATURE_GROUPS, _without, register

    no_form = register("domain-without-text-shape", _without(FEATURE_GROUPS["text shape"]))
    shipped = BaselineConfig()
    return {
        "a": PoolVariant("a", "shipped recipe, no pool", use_pool=False),
        "b": PoolVariant("b", "+ pool, weight 1"),
        "c": PoolVariant("c", "+ pool, authored texts weight 0.3", authored_weight=0.3),
        "d": PoolVariant("d", "pool only", use_project=False),
        "e": PoolVariant("e", "b without the form features", featurizer=no_form),
        "f": PoolVariant(
            "f", "b without the domain block", config=replace(shipped, domain_weight=0.0)
        ),
        "g": PoolVariant("g", "b with pool comments weight 3", comment_weight=3.0),
    }
