"""The Danish AFINN sentiment lexicon, read from the ``afinn`` package.

Used twice: as extra features of the baseline, and as the "sentiment as stance" reference that a
user without this library would try.
"""

from __future__ import annotations

import re
from functools import lru_cache

_WORD = re.compile(r"\w+")


def _afinn_da() -> str:
    """The text of the ``afinn`` package's Danish word list.

    Found through the package's import location, which is much cheaper than importing
    ``importlib.resources``; that is the fallback (e.g. for a zipped install).
    """
    import importlib.util
    from pathlib import Path

    spec = importlib.util.find_spec("afinn")
    for folder in (spec and spec.submodule_search_locations) or ():
        file = Path(folder) / "data" / "AFINN-da-32.txt"
        if file.is_file():
            return file.read_text(encoding="utf-8")
    from importlib import resources

    return (
        resources.files("afinn")
        .joinpath("data")
        .joinpath("AFINN-da-32.txt")
        .read_text(encoding="utf-8")
    )


@lru_cache(maxsize=1)
def _lexicon() -> tuple[dict[str, int], dict[tuple[str, ...], int]]:
    raw = _afinn_da()
    words: dict[str, int] = {}
    phrases: dict[tuple[str, ...], int] = {}
    for line in raw.splitlines():
        if not line.strip():
            continue
        term, score = line.rsplit("\t", 1)
        key = tuple(term.lower().split())
        if len(key) == 1:
            words[key[0]] = int(score)
        else:
            phrases[key] = int(score)
    return words, phrases


def lexicon_hits(text: str) -> list[tuple[int, int, int]]:
    """AFINN-da hits in ``text`` as ``(start, end, score)`` character spans.

    Two-word phrases in the lexicon win over their single words.

    >>> [(s, e, v) for s, e, v in lexicon_hits("Det er en skændsel")]
    [(10, 18, -2)]
    """
    words, phrases = _lexicon()
    tokens = [(m.start(), m.end(), m.group().lower()) for m in _WORD.finditer(text)]
    hits: list[tuple[int, int, int]] = []
    i = 0
    while i < len(tokens):
        if i + 1 < len(tokens) and (tokens[i][2], tokens[i + 1][2]) in phrases:
            hits.append((tokens[i][0], tokens[i + 1][1], phrases[(tokens[i][2], tokens[i + 1][2])]))
            i += 2
            continue
        score = words.get(tokens[i][2])
        if score is not None:
            hits.append((tokens[i][0], tokens[i][1], score))
        i += 1
    return hits


def sentiment_score(text: str) -> float:
    """The summed AFINN-da score of ``text`` (negative = negative sentiment).

    >>> sentiment_score("Tak for en god og venlig samtale") > 0
    True
    """
    return float(sum(score for _, _, score in lexicon_hits(text)))


def sentiment_features(text: str) -> list[float]:
    """Length-normalised lexicon features: score, positive mass, negative mass, hit rates."""
    n_words = max(1, len(_WORD.findall(text)))
    scores = [score for _, _, score in lexicon_hits(text)]
    positive = sum(s for s in scores if s > 0)
    negative = -sum(s for s in scores if s < 0)
    norm = n_words**0.5
    return [
        (positive - negative) / norm,
        positive / norm,
        negative / norm,
        sum(s > 0 for s in scores) / n_words,
        sum(s < 0 for s in scores) / n_words,
    ]


SENTIMENT_FEATURE_NAMES: tuple[str, ...] = (
    "afinn_score",
    "afinn_positive",
    "afinn_negative",
    "afinn_positive_rate",
    "afinn_negative_rate",
)


@lru_cache(maxsize=1)
def afinn_word_tables() -> tuple[dict[str, float], dict[tuple[str, str], float], frozenset[str]]:
    """Single-word and two-word scores as floats, and the first words of the phrases."""
    single, phrases = _lexicon()
    pairs = {(k[0], k[1]): float(v) for k, v in phrases.items() if len(k) == 2}
    return (
        {k: float(v) for k, v in single.items()},
        pairs,
        frozenset(first for first, _ in pairs),
    )


def word_scores(words: list[str]) -> list[float]:
    """The AFINN-da score of each lower-cased token (a two-word phrase scores on its first word).

    >>> word_scores(["en", "skændsel"])
    [0.0, -2.0]
    """
    single, phrases, firsts = afinn_word_tables()
    scores = [single.get(w, 0.0) for w in words]
    if firsts.isdisjoint(words):
        return scores
    i, n = 0, len(words)
    while i < n:
        if i + 1 < n and (words[i], words[i + 1]) in phrases:
            scores[i] = phrases[(words[i], words[i + 1])]
            scores[i + 1] = 0.0
            i += 2
            continue
        scores[i] = single.get(words[i], 0.0)
        i += 1
    return scores
