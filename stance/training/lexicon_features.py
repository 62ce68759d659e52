"""scikit-learn transformers used inside the baseline pipeline."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from stance.features import dense_featurizer


class LexiconFeatures(TransformerMixin, BaseEstimator):
    """The dense features of one featuriser in :data:`stance.features.DENSE_FEATURES`.

    Stateless: the featuriser is pure Python in the runtime core (the AFINN lexicon comes from
    the installed ``afinn`` package), so a saved model holds only the featuriser's name.
    """

    def __init__(self, featurizer: str = "afinn") -> None:
        self.featurizer = featurizer

    def fit(self, texts: Iterable[str], y: object = None) -> LexiconFeatures:
        dense_featurizer(self.featurizer)
        self.n_features_in_ = 1
        return self

    def transform(self, texts: Iterable[str]) -> np.ndarray:
        function, names = dense_featurizer(self.featurizer)
        rows = [function(text) for text in texts]
        return np.asarray(rows, dtype=np.float64).reshape(len(rows), len(names))

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        return np.asarray(dense_featurizer(self.featurizer)[1], dtype=object)
