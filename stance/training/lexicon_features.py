"""scikit-learn transformers used inside the baseline pipeline."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from stance.features.lexicon import SENTIMENT_FEATURE_NAMES, sentiment_features


class LexiconFeatures(TransformerMixin, BaseEstimator):
    """Danish AFINN sentiment scores of each text as dense features.

    Stateless: the lexicon comes from the installed ``afinn`` package, so a saved model holds
    no lexicon data.
    """

    def fit(self, texts: Iterable[str], y: object = None) -> LexiconFeatures:
        self.n_features_in_ = 1
        return self

    def transform(self, texts: Iterable[str]) -> np.ndarray:
        return np.asarray([sentiment_features(text) for text in texts], dtype=np.float64)

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        return np.asarray(SENTIMENT_FEATURE_NAMES, dtype=object)
