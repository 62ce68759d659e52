"""Reference classifiers for the evaluation table: what a user without this library would try.

- :class:`MajorityClassifier` always predicts the most frequent training label.
- :class:`SentimentAsStance` maps the Danish AFINN sentiment score to a stance with two
  thresholds chosen on the training data (negative → against, positive → for).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np

from stance.features.lexicon import sentiment_score
from stance.labels import LABEL2ID, LABELS


def _one_hot(labels: Sequence[str]) -> np.ndarray:
    probs = np.zeros((len(labels), len(LABELS)))
    probs[np.arange(len(labels)), [LABEL2ID[label] for label in labels]] = 1.0
    return probs


def _macro_f1(gold: np.ndarray, predicted: np.ndarray) -> float:
    """scikit-learn's ``f1_score(average="macro", zero_division=0)`` over the label ids that
    occur in ``gold`` or ``predicted``, without its per-call overhead (the threshold search
    calls it thousands of times).

    >>> _macro_f1(np.array([0, 2, 2]), np.array([0, 2, 1]))  # labels 0, 1, 2: (1 + 0 + 2/3) / 3
    0.5555555555555555
    """
    n = len(LABELS)
    confusion = np.bincount(gold * n + predicted, minlength=n * n).reshape(n, n)
    tp = np.diag(confusion)
    denominator = confusion.sum(axis=0) + confusion.sum(axis=1)  # 2 tp + fp + fn
    present = denominator > 0
    f1 = np.divide(2 * tp, denominator, out=np.zeros(n), where=present)
    return float(f1[present].mean())


class MajorityClassifier:
    """Predicts the most frequent training label for every text."""

    name = "majority class"

    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> MajorityClassifier:
        counts = Counter(labels)
        self.label_ = max(LABELS, key=lambda label: (counts[label], -LABEL2ID[label]))
        return self

    def predict_labels(self, texts: Sequence[str]) -> list[str]:
        return [self.label_] * len(texts)

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        return _one_hot(self.predict_labels(texts))


class SentimentAsStance:
    """AFINN-da sentiment score below ``low`` → against, above ``high`` → for, else neutral."""

    name = "sentiment as stance (AFINN-da)"

    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> SentimentAsStance:
        scores = np.array([sentiment_score(t) for t in texts])
        gold = np.array([LABEL2ID[label] for label in labels])
        candidates = np.unique(np.concatenate([scores - 0.5, scores + 0.5, [0.0]]))
        best = (-1.0, 0.0, 0.0, 0.0)
        for low in candidates:
            for high in candidates[candidates >= low]:
                predicted = np.where(scores < low, 0, np.where(scores > high, 1, 2))
                f1 = _macro_f1(gold, predicted)
                # among equally good thresholds, prefer those closest to zero sentiment
                key = (round(f1, 12), -(abs(low) + abs(high)))
                if key > best[:2]:
                    best = (*key, float(low), float(high))
        *_, self.low_, self.high_ = best
        return self

    @staticmethod
    def _label(scores: np.ndarray, low: float, high: float) -> list[str]:
        return ["against" if s < low else "for" if s > high else "neutral" for s in scores]

    def predict_labels(self, texts: Sequence[str]) -> list[str]:
        return self._label(np.array([sentiment_score(t) for t in texts]), self.low_, self.high_)

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        return _one_hot(self.predict_labels(texts))
