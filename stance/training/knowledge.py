"""Measuring the knowledge features piece by piece (build time only).

Each variant is a baseline configuration plus, where it removes part of the domain block, a
featuriser registered for this process only (never saved in a shipped model): the domain block
without its stance cues, without negation handling, without contrast / intensity, without the
target cues, or without the text-shape features.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

from stance.features import DENSE_FEATURES
from stance.features.domain import DOMAIN_FEATURE_NAMES, domain_features
from stance.training.baseline import BaselineConfig

FEATURE_GROUPS: dict[str, tuple[str, ...]] = {
    "stance cues": (
        "dom_against",
        "dom_for",
        "dom_balance",
        "dom_against_near_target",
        "dom_for_near_target",
        "dom_negated_cues",
    ),
    "target cues": (
        "dom_against_near_target",
        "dom_for_near_target",
        "afinn_near_target",
        "afinn_near_other",
        "target_mentions",
        "other_mentions",
    ),
    "text shape": (
        "question_rate",
        "exclamation_rate",
        "shouting_rate",
        "first_person_rate",
        "digit_rate",
        "quoted",
        "log_words",
    ),
    "AFINN with negation": ("afinn_adjusted", "afinn_near_target", "afinn_near_other"),
}
"""Columns of the domain block that belong to each piece (a column may belong to two)."""


def _without(columns: tuple[str, ...], **options: bool) -> Callable[[str], list[float]]:
    drop = [DOMAIN_FEATURE_NAMES.index(c) for c in columns]

    def featurize(text: str) -> list[float]:
        values = domain_features(text, **options)
        for i in drop:
            values[i] = 0.0
        return values

    return featurize


@dataclass(frozen=True)
class Variant:
    """A configuration, and the featuriser its domain block uses if not the shipped one."""

    name: str
    config: BaselineConfig
    featurizer: str | None = None

    def fit(self, texts: list[str], labels: list[str], seed: int = 0) -> Any:
        """The fitted scikit-learn pipeline of this variant."""
        from stance.training.baseline import build_pipeline

        pipeline = build_pipeline(replace(self.config, calibrate=False), seed)
        if self.featurizer is not None:
            pipeline.set_params(features__domain__scores__featurizer=self.featurizer)
        return pipeline.fit(texts, labels)


def register(name: str, function: Callable[[str], list[float]]) -> str:
    """Register ``function`` as a domain-shaped featuriser for this process; return its name."""
    DENSE_FEATURES[name] = (function, DOMAIN_FEATURE_NAMES)
    return name


def knowledge_variants(full: BaselineConfig) -> list[Variant]:
    """``full`` and one variant per piece removed (``full`` must use the domain block)."""
    none = replace(full, lexicon_weight=0.0, domain_weight=0.0)
    variants = [
        Variant("all knowledge features", full),
        Variant("no knowledge features (n-grams only)", none),
        Variant("AFINN-da block only", replace(none, lexicon_weight=max(full.lexicon_weight, 0.5))),
        Variant("domain block only", replace(full, lexicon_weight=0.0)),
        Variant("without the AFINN-da block", replace(full, lexicon_weight=0.0)),
    ]
    if full.lexicon_weight == 0:
        variants = [v for v in variants if v.name != "without the AFINN-da block"]
        variants = [v for v in variants if v.name != "domain block only"]
        variants.append(Variant("domain block + AFINN-da block", replace(full, lexicon_weight=0.5)))
    for piece, columns in FEATURE_GROUPS.items():
        name = register(f"domain-without-{piece}", _without(columns))
        variants.append(Variant(f"domain block without {piece}", full, name))
    name = register("domain-no-negation", partial(domain_features, negation=False))
    variants.append(Variant("domain block without negation handling", full, name))
    name = register("domain-no-context", partial(domain_features, context=False))
    variants.append(Variant("domain block without contrast / concession / intensity", full, name))
    return variants
