"""Explanations: which spans of a text pushed the prediction toward each label.

Two methods, both returning character offsets into the original string:

- ``linear`` (baseline): the logistic regression's own contributions. Each hashed word or
  character n-gram contributes ``x_j * (w_jk - mean_c w_jc)`` to label ``k`` (TF-IDF value times
  the centred coefficient); each AFINN lexicon hit contributes the change in the lexicon block's
  logits when the hit is removed, and each word the change in the domain block's logits when
  the word is removed. Contributions are summed onto the words they cover.
- ``occlusion`` (any model, used for BERT): each word (or window of words, so that at most
  ``max_units`` variants are scored) is deleted in turn and the drop in each label's
  probability is its weight. Time is bounded by ``max_units + 1`` model calls' worth of text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from stance.labels import LABELS
from stance.prediction import Prediction

_WORD = re.compile(r"\w+")
_NONSPACE = re.compile(r"\S+")


class Span(NamedTuple):
    """A piece of the text: ``text == original[start:end]``, and its weight toward a label."""

    start: int
    end: int
    text: str
    weight: float


@dataclass(frozen=True)
class Explanation:
    """A prediction and, per label, the spans that pushed toward it (strongest first).

    Attributes:
        text: The explained text (NFC-normalised), which the offsets index.
        prediction: The model's prediction for ``text``.
        spans: For each label in :data:`LABELS`, up to ``top`` spans with positive weight.
        method: ``"linear"`` or ``"occlusion"``.
    """

    text: str
    prediction: Prediction
    spans: dict[str, list[Span]]
    method: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "prediction": self.prediction.to_dict(),
            "method": self.method,
            "spans": {
                label: [span._asdict() for span in spans] for label, spans in self.spans.items()
            },
        }


def _hash_index(ngram: str, n_features: int) -> int:
    from sklearn.utils import murmurhash3_32

    h = murmurhash3_32(ngram, seed=0)
    if h == -2147483648:
        return (2147483647 - (n_features - 1)) % n_features
    return abs(h) % n_features


def _word_ngrams(text: str, n_max: int) -> list[tuple[str, int, int]]:
    tokens = [(m.group().lower(), m.start(), m.end()) for m in re.finditer(r"(?u)\b\w+\b", text)]
    grams = []
    for n in range(1, n_max + 1):
        for i in range(len(tokens) - n + 1):
            part = tokens[i : i + n]
            grams.append((" ".join(t for t, _, _ in part), part[0][1], part[-1][2]))
    return grams


def _char_wb_ngrams(text: str, n_min: int, n_max: int) -> list[tuple[str, int, int]]:
    """scikit-learn's ``char_wb`` n-grams, with the span of original text each one covers."""
    grams = []
    for match in _NONSPACE.finditer(text):
        word = " " + match.group().lower() + " "
        start, length = match.start(), len(match.group())
        for n in range(n_min, n_max + 1):
            offset = 0
            while True:
                gram = word[offset : offset + n]
                lo = start + max(offset - 1, 0)
                hi = start + min(offset + n - 1, length)
                grams.append((gram, lo, max(hi, lo + 1) if length else lo))
                if offset + n >= len(word):
                    break
                offset += 1
            if offset == 0:
                break
    return grams


def _word_spans(text: str) -> list[tuple[int, int]]:
    spans = [(m.start(), m.end()) for m in _WORD.finditer(text)]
    return spans or [(0, len(text))]


def _spread(
    contrib: np.ndarray,
    start: int,
    end: int,
    words: list[tuple[int, int]],
    starts: np.ndarray,
    totals: np.ndarray,
) -> None:
    """Add ``contrib`` (per label) evenly to the words overlapping ``[start, end)``."""
    lo = max(int(np.searchsorted(starts, start, side="right")) - 1, 0)
    hit = []
    for i in range(lo, len(words)):
        w_start, w_end = words[i]
        if w_start >= end:
            break
        if w_end > start:
            hit.append(i)
    if hit:
        totals[hit] += contrib / len(hit)


def linear_word_weights(classifier: Any, text: str) -> tuple[list[tuple[int, int]], np.ndarray]:
    """Per word of ``text``, its summed contribution to each label's centred logit."""
    from stance.backends.baseline import CHAR_BITS, WORD_BITS
    from stance.features.lexicon import lexicon_hits

    config = classifier.config
    weights = classifier._weights
    centred = weights - weights.mean(axis=1, keepdims=True)
    words = _word_spans(text)
    starts = np.array([s for s, _ in words])
    totals = np.zeros((len(words), len(LABELS)))
    blocks = dict(classifier.feature_blocks([text]))
    offset = 0
    for name, bits, grams in (
        ("word", WORD_BITS, _word_ngrams(text, config.word_ngram_max)),
        ("char", CHAR_BITS, _char_wb_ngrams(text, config.char_ngram_min, config.char_ngram_max)),
    ):
        n_features = 2**bits
        row = blocks[name].tocsr()
        values = dict(zip(row.indices.tolist(), row.data.tolist()))
        indices = [_hash_index(g, n_features) for g, _, _ in grams]
        counts: dict[int, int] = {}
        for j in indices:
            counts[j] = counts.get(j, 0) + 1
        for (_, start, end), j in zip(grams, indices):
            value = values.get(j, 0.0)
            if value:
                _spread(value * centred[offset + j] / counts[j], start, end, words, starts, totals)
        offset += n_features
    for name, block in blocks.items():
        if name in ("word", "char"):
            continue
        rows = centred[offset : offset + block.shape[1]]
        offset += block.shape[1]
        full = block.toarray()[0] @ rows
        # AFINN hits are removed one at a time; other dense blocks one word at a time
        spans = (
            [(start, end) for start, end, _ in lexicon_hits(text)] if name == "lexicon" else words
        )
        for start, end in spans:
            without = text[:start] + " " * (end - start) + text[end:]
            reduced = dict(classifier.feature_blocks([without]))[name].toarray()[0]
            _spread(full - reduced @ rows, start, end, words, starts, totals)
    return words, totals


def occlusion_word_weights(
    classifier: Any, text: str, max_units: int = 48
) -> tuple[list[tuple[int, int]], np.ndarray]:
    """Per word (or window of words), the drop in each label's probability when it is deleted."""
    words = _word_spans(text)
    size = max(1, -(-len(words) // max_units))
    units = [
        (words[i][0], words[min(i + size, len(words)) - 1][1]) for i in range(0, len(words), size)
    ]
    variants = [text[:s] + text[e:] for s, e in units]
    variants = [v if v.strip() else "." for v in variants]
    probs = classifier.predict_proba([text, *variants])
    return units, probs[0] - probs[1:]


def _top_spans(
    text: str, units: Sequence[tuple[int, int]], weights: np.ndarray, top: int
) -> dict[str, list[Span]]:
    spans: dict[str, list[Span]] = {}
    for k, label in enumerate(LABELS):
        order = np.argsort(-weights[:, k], kind="stable")
        chosen = [i for i in order if weights[i, k] > 0][:top]
        spans[label] = [
            Span(units[i][0], units[i][1], text[units[i][0] : units[i][1]], float(weights[i, k]))
            for i in chosen
        ]
    return spans


def explain(
    text: str, *, model: str | None = None, top: int = 10, method: str | None = None
) -> Explanation:
    """Explain the prediction for ``text``.

    Args:
        text: The text (normalised to NFC; offsets index the normalised text, which equals the
            input for NFC text).
        model: As in :func:`stance.classify`.
        top: How many spans to keep per label.
        method: ``"linear"`` (baseline only) or ``"occlusion"``; default: linear for the
            baseline, occlusion otherwise.

    >>> e = explain("Jobcentret er en skændsel, luk det.")
    >>> e.prediction.label
    'against'
    >>> all(e.text[s.start:s.end] == s.text for s in e.spans["against"])
    True
    """
    from stance.api import load_classifier
    from stance.text import prepare_text

    if top < 1:
        raise ValueError(f"top must be >= 1, got {top}")
    text = prepare_text(text)
    classifier = load_classifier(model)
    if method is None:
        method = "linear" if classifier.backend == "baseline" else "occlusion"
    if method == "linear":
        if classifier.backend != "baseline":
            raise ValueError("the linear method needs the baseline; use method='occlusion'")
        units, weights = linear_word_weights(classifier, text)
    elif method == "occlusion":
        units, weights = occlusion_word_weights(classifier, text)
    else:
        raise ValueError(f"unknown method {method!r}; use 'linear' or 'occlusion'")
    prediction = classifier.predict([text])[0]
    return Explanation(text, prediction, _top_spans(text, units, weights, top), method)


_COLOURS = {"against": "\033[1;31m", "for": "\033[1;32m", "neutral": "\033[1;34m"}


def render_explanation(explanation: Explanation, *, color: bool = False) -> str:
    """The label, the text with the predicted label's spans marked, and the top spans per label."""
    p = explanation.prediction
    marked = sorted(explanation.spans[p.label], key=lambda s: s.start)
    pieces, position = [], 0
    for span in marked:
        pieces.append(explanation.text[position : span.start])
        pieces.append(f"{_COLOURS[p.label]}{span.text}\033[0m" if color else f"[[{span.text}]]")
        position = span.end
    pieces.append(explanation.text[position:])
    lines = [
        f"{p.label} ({p.score:.2f})  "
        + "  ".join(f"{name}={v:.2f}" for name, v in p.probabilities.items()),
        "",
        "".join(pieces),
        "",
    ]
    for label in LABELS:
        shown = ", ".join(f"{s.text!r} {s.weight:+.3f}" for s in explanation.spans[label]) or "-"
        lines.append(f"toward {label}: {shown}")
    return "\n".join(lines)
