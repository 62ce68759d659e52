"""Explanations: which spans of a text pushed the prediction toward each label.

Two methods, both returning character offsets into the original string:

- ``linear`` (baseline): the linear layer's own contributions. Each hashed word or character
  n-gram contributes ``x_j * (w_jk - mean_c w_jc)`` to label ``k`` (TF-IDF value times the
  centred coefficient); for each dense block, each AFINN lexicon hit (or, for featurisers
  without a span finder in :data:`SPAN_FINDERS`, each word) contributes the change in the
  block's logits when it is blanked out. Contributions are summed onto the words they cover.
- ``occlusion`` (any model, used for BERT): each word (or window of words, so that at most
  ``max_units`` variants are scored) is deleted in turn and the drop in each label's
  probability is its weight. Time is bounded by ``max_units + 1`` model calls' worth of text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
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


def _word_ngrams(
    text: str, ngram_range: tuple[int, int], pattern: str, lowercase: bool = True
) -> list[tuple[str, int, int]]:
    """Word n-grams of ``text`` with the span of original text each one covers."""
    tokens = [
        (m.group().lower() if lowercase else m.group(), m.start(), m.end())
        for m in re.finditer(pattern, text)
    ]
    grams = []
    for n in range(ngram_range[0], ngram_range[1] + 1):
        for i in range(len(tokens) - n + 1):
            part = tokens[i : i + n]
            grams.append((" ".join(t for t, _, _ in part), part[0][1], part[-1][2]))
    return grams


def _char_wb_ngrams(
    text: str, n_min: int, n_max: int, lowercase: bool = True
) -> list[tuple[str, int, int]]:
    """scikit-learn's ``char_wb`` n-grams, with the span of original text each one covers."""
    grams = []
    for match in _NONSPACE.finditer(text):
        word = " " + (match.group().lower() if lowercase else match.group()) + " "
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


def _char_ngrams(
    text: str, n_min: int, n_max: int, lowercase: bool = True
) -> list[tuple[str, int, int]]:
    """scikit-learn's ``char`` n-grams (whitespace runs become one space), with their spans."""
    kept = [(m.start(), m.end()) for m in re.finditer(r"\s\s+|.", text, re.DOTALL)]
    chars = "".join(
        " " if end - start > 1 else text[start] for start, end in kept
    )  # the normalised text; kept[i] is the original span of its character i
    if lowercase:
        chars = chars.lower()
    grams = []
    for n in range(n_min, n_max + 1):
        for i in range(len(chars) - n + 1):
            grams.append((chars[i : i + n], kept[i][0], kept[i + n - 1][1]))
    return grams


def _block_ngrams(text: str, hasher: Any) -> list[tuple[str, int, int]]:
    low, high = hasher.ngram_range
    if hasher.analyzer == "word":
        return _word_ngrams(text, (low, high), hasher.token_pattern, hasher.lowercase)
    if hasher.analyzer == "char_wb":
        return _char_wb_ngrams(text, low, high, hasher.lowercase)
    return _char_ngrams(text, low, high, hasher.lowercase)


def _lexicon_spans(text: str) -> list[tuple[int, int]]:
    from stance.features.lexicon import lexicon_hits

    return [(start, end) for start, end, _ in lexicon_hits(text)]


SPAN_FINDERS: dict[str, Callable[[str], list[tuple[int, int]]]] = {"afinn": _lexicon_spans}
"""For a dense featuriser, the spans whose removal explains its values (default: each word)."""


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
    from stance.features.ngrams import columns_of, hash_blocks, hash_strings

    words = _word_spans(text)
    starts = np.array([s for s, _ in words])
    totals = np.zeros((len(words), len(LABELS)))
    for spec in classifier.features.blocks:
        block, index = classifier.block(spec.name)
        if spec.kind == "hashed":
            hasher = spec.hasher
            found = hash_blocks([text], [hasher])[0]
            nothing = (found[0][:0], found[1][:0])
            parts = [found if i == index else nothing for i in range(len(block.specs))]
            _, _, present, data = block.values(parts, 1)
            values = dict(zip(present.tolist(), data.tolist()))
            grams = _block_ngrams(text, hasher)
            indices = columns_of(hash_strings([g for g, _, _ in grams]), hasher.n_features)
            coef = block.coefficients(index, indices)
            centred = coef - coef.mean(axis=1, keepdims=True)
            counts: dict[int, int] = {}
            for j in indices.tolist():
                counts[j] = counts.get(j, 0) + 1
            for row, ((_, start, end), j) in enumerate(zip(grams, indices.tolist())):
                value = values.get(j, 0.0)
                if value:
                    _spread(value * centred[row] / counts[j], start, end, words, starts, totals)
        else:
            centred = block.coef - block.coef.mean(axis=1, keepdims=True)
            full = block.values([text])[0] @ centred
            finder = SPAN_FINDERS.get(spec.featurizer, _word_spans)
            for start, end in finder(text):
                without = text[:start] + " " * (end - start) + text[end:]
                reduced = block.values([without])[0]
                _spread(full - reduced @ centred, start, end, words, starts, totals)
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
        method: ``"linear"`` (backends with linear contributions, such as the baseline) or
            ``"occlusion"``; default: linear where the backend has it, occlusion otherwise.

    >>> e = explain("Jobcentret er en skændsel, luk det.")
    >>> e.prediction.label
    'against'
    >>> all(e.text[s.start:s.end] == s.text for s in e.spans["against"])
    True
    """
    from stance.arguments import check_at_least_one
    from stance.errors import ConfigError
    from stance.loading import load_classifier
    from stance.text import prepare_text

    check_at_least_one("top", top)
    text = prepare_text(text)
    classifier = load_classifier(model)
    if method is None:
        method = "linear" if classifier.has_contributions else "occlusion"
    if method == "linear":
        units, weights = classifier.contributions(text)
    elif method == "occlusion":
        units, weights = occlusion_word_weights(classifier, text)
    else:
        raise ConfigError(f"unknown method {method!r}; use 'linear' or 'occlusion'")
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
