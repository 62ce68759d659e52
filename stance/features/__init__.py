"""Text features computed at inference (part of the runtime core).

Dense featurisers map one text to a short list of floats. The baseline names the ones it uses
(a ``FeatureUnion`` block per featuriser at training time); inference computes them with the
same pure-Python functions, so training and serving cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Callable

from stance.errors import UnknownNameError
from stance.features.domain import DOMAIN_FEATURE_NAMES, domain_features
from stance.features.lexicon import SENTIMENT_FEATURE_NAMES, sentiment_features

Featurizer = Callable[[str], list[float]]

DENSE_FEATURES: dict[str, tuple[Featurizer, tuple[str, ...]]] = {
    "afinn": (sentiment_features, SENTIMENT_FEATURE_NAMES),
    "domain": (domain_features, DOMAIN_FEATURE_NAMES),
}
"""Every dense featuriser by name: the function and the names of the values it returns."""


def dense_featurizer(name: str) -> tuple[Featurizer, tuple[str, ...]]:
    """The featuriser called ``name`` and its feature names.

    >>> dense_featurizer("afinn")[1][0]
    'afinn_score'
    """
    try:
        return DENSE_FEATURES[name]
    except KeyError:
        raise UnknownNameError(
            f"unknown dense featuriser {name!r}; known: {sorted(DENSE_FEATURES)}"
        ) from None
