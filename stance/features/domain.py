"""Domain knowledge the training texts do not teach: a stance lexicon about jobcentres with
negation, contrast and intensity, target cues, and the shape of a text (questions, shouting,
first person, figures, quotes).

The lexicon (``domain_lexicon.tsv`` beside this module) was written for the project (MIT). Each
cue's weight is reversed (and damped) when a negator stands just before it or, as Danish puts
*ikke* after the verb, just after it in the same clause; cues after *men* / *dog* count more and
cues inside a *selvom* clause count less; an intensifier before a cue strengthens it. Cues and
AFINN-da sentiment words near a mention of the target (jobcentre, caseworker, the employment
effort) are counted apart from the rest, as are mentions of other targets (government, laws,
a-kasser), so the model can tell criticism of the jobcentres from criticism of others.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from stance.errors import ConfigError

_TOKEN = re.compile(r"\w+(?:-\w+)*|[.!?;:]+|[,»«”“\"]")
_CAPS = re.compile(r"\b[A-ZÆØÅ]{3,}\b")
_DIGIT = re.compile(r"\d")
_QUOTE = re.compile(r"(?m)[»«”“\"]|^\s*[-–]\s")
_FIRST_PERSON = frozenset({"jeg", "mig", "min", "mit", "mine"})

NEGATION_FACTOR = -0.7
"""A negated cue counts for the opposite stance, a little weaker ("ikke hjælpsom")."""
CONTRAST_AFTER = 1.5
CONTRAST_BEFORE = 0.6
CONCESSIVE = 0.5
TARGET_WINDOW = 6
"""Tokens on each side of a target mention that count as "near the target"."""

DOMAIN_FEATURE_NAMES: tuple[str, ...] = (
    "dom_against",
    "dom_for",
    "dom_balance",
    "dom_against_near_target",
    "dom_for_near_target",
    "dom_negated_cues",
    "afinn_adjusted",
    "afinn_near_target",
    "afinn_near_other",
    "target_mentions",
    "other_mentions",
    "question_rate",
    "exclamation_rate",
    "shouting_rate",
    "first_person_rate",
    "digit_rate",
    "quoted",
    "log_words",
)


@dataclass(frozen=True)
class _Entry:
    tokens: tuple[str, ...]
    prefix: tuple[bool, ...]
    category: str
    weight: float


@dataclass(frozen=True, eq=False)
class Lexicon:
    """The parsed stance lexicon: entries by first token (exact, or a stem for prefix entries).

    ``longest_prefix`` is the longest stem, which bounds the prefixes of a token looked up, so
    a lookup takes time linear in the token's length (a 300,000-character token, too).
    """

    exact: dict[str, list[_Entry]]
    prefixes: dict[str, list[_Entry]]
    longest_prefix: int = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "longest_prefix", max(map(len, self.prefixes), default=0))

    def candidates(self, token: str) -> list[_Entry]:
        """Entries whose first token matches ``token``, longest phrase first."""
        return _candidates(self, token)


@lru_cache(maxsize=65536)
def _candidates(lexicon: Lexicon, token: str) -> list[_Entry]:
    found = list(lexicon.exact.get(token, ()))
    for k in range(1, min(len(token), lexicon.longest_prefix) + 1):
        found.extend(lexicon.prefixes.get(token[:k], ()))
    return sorted(found, key=lambda e: (-len(e.tokens), -len(e.tokens[0])))


@lru_cache(maxsize=1)
def domain_lexicon() -> Lexicon:
    """Read ``domain_lexicon.tsv`` (cached)."""
    # beside this module (read by path: importing importlib.resources costs a first classify)
    raw = (Path(__file__).parent / "domain_lexicon.tsv").read_text(encoding="utf-8")
    exact: dict[str, list[_Entry]] = {}
    prefixes: dict[str, list[_Entry]] = {}
    for number, line in enumerate(raw.splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        try:
            term, category, weight = line.split("\t")
            parts = term.lower().split()
            entry = _Entry(
                tuple(p.rstrip("*") for p in parts),
                tuple(p.endswith("*") for p in parts),
                category,
                float(weight),
            )
        except ValueError as exc:
            raise ConfigError(f"domain_lexicon.tsv, line {number}: {exc}") from None
        first = entry.tokens[0]
        (prefixes if entry.prefix[0] else exact).setdefault(first, []).append(entry)
    return Lexicon(exact, prefixes)


def _matches(entry: _Entry, words: list[str], i: int) -> bool:
    if i + len(entry.tokens) > len(words):
        return False
    for k, (token, prefix) in enumerate(zip(entry.tokens, entry.prefix)):
        word = words[i + k]
        if not (word.startswith(token) if prefix else word == token):
            return False
    return True


@dataclass(frozen=True)
class Hit:
    """A lexicon match: token span ``[start, end)``, category and weight."""

    start: int
    end: int
    category: str
    weight: float


def tokenize(text: str) -> list[str]:
    """Lower-cased words and the punctuation that bounds clauses.

    >>> tokenize("Jobcentret hjalp mig IKKE, men...")
    ['jobcentret', 'hjalp', 'mig', 'ikke', ',', 'men', '...']
    """
    return [t.lower() for t in _TOKEN.findall(text)]


MENTIONS = frozenset({"target", "other"})


def lexicon_matches(words: list[str]) -> list[Hit]:
    """Greedy longest-first matches of the lexicon over ``words``; mentions of targets are
    matched apart from the other categories, so "luk jobcentrene" is both a cue and a mention.

    >>> [(h.category, h.start) for h in lexicon_matches(tokenize("Luk jobcentrene"))]
    [('against', 0), ('target', 1)]
    """
    return _hits(words, [_token_record(w) for w in words])


def _hits(words: list[str], records: list[_Record]) -> list[Hit]:
    candidates = [r[0] for r in records]
    if not any(candidates):
        return []
    return _greedy(words, candidates, 0) + _greedy(words, candidates, 1)


_Record = tuple[Any, ...]
"""Per token: its lexicon candidates (empty tuple when none), whether it is a word, its AFINN-da
score, whether it can start an AFINN-da phrase, whether it ends a sentence, whether it is a
first-person pronoun."""


@lru_cache(maxsize=65536)
def _token_record(token: str) -> _Record:
    """What :func:`domain_features` needs to know about one lower-cased token (cached)."""
    from stance.features.lexicon import afinn_word_tables

    single, _, firsts = afinn_word_tables()
    cues, mentions = _split_candidates(token)
    return (
        (cues, mentions) if cues or mentions else (),
        token[0] not in _PUNCTUATION_CHARS,
        single.get(token, 0.0),
        token in firsts,
        token[0] in _SENTENCE_END_CHARS,
        token in _FIRST_PERSON,
    )


@lru_cache(maxsize=65536)
def _split_candidates(token: str) -> tuple[tuple[_Entry, ...], tuple[_Entry, ...]]:
    """A token's candidate entries: (cues and function words, target mentions)."""
    found = domain_lexicon().candidates(token)
    return (
        tuple(e for e in found if e.category not in MENTIONS),
        tuple(e for e in found if e.category in MENTIONS),
    )


def _greedy(words: list[str], candidates: list[Any], side: int) -> list[Hit]:
    """Greedy longest-first matches of one side of the candidates (0 cues, 1 mentions): left
    to right, the first candidate entry that matches at a token wins and its tokens are used
    up. A candidate's first token already matches its token, so a one-token entry matches."""
    hits: list[Hit] = []
    free = 0
    for i, found in enumerate(candidates):
        if i < free or not found or not found[side]:
            continue
        for entry in found[side]:
            if len(entry.tokens) == 1 or _matches(entry, words, i):
                hits.append(Hit(i, i + len(entry.tokens), entry.category, entry.weight))
                free = i + len(entry.tokens)
                break
    return hits


_SENTENCE_END_CHARS = frozenset(".!?;:")
_PUNCTUATION_CHARS = frozenset('.!?;:,»«”“"')
"""First characters of the tokens :func:`tokenize` yields that are not words."""


def _clause_and_sentence_ids(words: list[str]) -> tuple[list[int], list[int]]:
    """For every token, the index of its clause (commas and sentence ends split) and of its
    sentence."""
    clause = sentence = 0
    clauses, sentences = [], []
    for word in words:
        clauses.append(clause)
        sentences.append(sentence)
        if word[0] in _SENTENCE_END_CHARS:
            clause += 1
            sentence += 1
        elif word == ",":
            clause += 1
    return clauses, sentences


def _scaled_cues(
    words: list[str], hits: list[Hit], *, negation: bool = True, context: bool = True
) -> list[tuple[Hit, float, bool]]:
    """Each against/for cue with its weight after negation, contrast and intensity
    (``negation`` / ``context`` switch those off, for ablations)."""
    if not any(h.category in ("against", "for") for h in hits):
        return []
    clauses, sentences = _clause_and_sentence_ids(words)
    # indexes instead of scans, so the time stays linear in the number of hits
    negator_clauses_by_end: dict[int, set[int]] = {}
    negator_clauses_by_start: dict[int, set[int]] = {}
    intensifiers = {}
    first_contrast: dict[int, Hit] = {}  # per sentence, its first contrast
    concessive_clauses = set()
    for h in hits:
        if h.category == "negator":
            negator_clauses_by_end.setdefault(h.end, set()).add(clauses[h.start])
            negator_clauses_by_start.setdefault(h.start, set()).add(clauses[h.start])
        elif h.category == "intensifier":
            intensifiers[h.end] = h.weight
        elif h.category == "contrast":
            first_contrast.setdefault(sentences[h.start], h)
        elif h.category == "concessive":
            concessive_clauses.add(clauses[h.start])
    scaled = []
    for hit in hits:
        if hit.category not in ("against", "for"):
            continue
        weight = hit.weight * (intensifiers.get(hit.start, 1.0) if context else 1.0)
        clause = clauses[hit.start]
        # a negator in the same clause ending up to 2 tokens before the cue (or at its start),
        # or starting right after it or one token later
        negated = negation and (
            any(
                clause in negator_clauses_by_end.get(end, ())
                for end in (hit.start - 2, hit.start - 1, hit.start)
            )
            or any(
                clause in negator_clauses_by_start.get(start, ())
                for start in (hit.end, hit.end + 1)
            )
        )
        if negated:
            weight *= NEGATION_FACTOR
        if not context:
            scaled.append((hit, weight, negated))
            continue
        c = first_contrast.get(sentences[hit.start])
        if c is not None:
            weight *= CONTRAST_AFTER if hit.start >= c.end else CONTRAST_BEFORE
        if clause in concessive_clauses:
            weight *= CONCESSIVE
        scaled.append((hit, weight, negated))
    return scaled


def _afinn_phrases(words: list[str], records: list[_Record], scores: list[float]) -> None:
    """Rescore ``scores`` (each token's own AFINN-da score) where a two-word AFINN-da phrase
    matches, left to right: the phrase scores on its first word, its second scores 0 (as
    :func:`stance.features.lexicon.word_scores`)."""
    from stance.features.lexicon import afinn_word_tables

    pairs = afinn_word_tables()[1]
    i = 0
    while i < len(words) - 1:
        if records[i][3]:
            score = pairs.get((words[i], words[i + 1]))
            if score is not None:
                scores[i], scores[i + 1] = score, 0.0
                i += 2
                continue
        i += 1


def _near_mask(mentions: list[Hit], n: int) -> list[bool]:
    """For each of ``n`` tokens, whether it lies within :data:`TARGET_WINDOW` of a mention."""
    mask = [False] * n
    for m in mentions:
        for i in range(max(0, m.start - TARGET_WINDOW), min(n, m.end + TARGET_WINDOW)):
            mask[i] = True
    return mask


def domain_features(text: str, *, negation: bool = True, context: bool = True) -> list[float]:
    """The domain features of ``text``, in :data:`DOMAIN_FEATURE_NAMES` order.

    ``negation=False`` / ``context=False`` turn off negation handling / contrast, concession and
    intensity (used only to measure what they add).

    >>> f = dict(zip(DOMAIN_FEATURE_NAMES, domain_features("Jobcentret hjalp mig ikke.")))
    >>> f["dom_against"] > 0, f["dom_for"] == 0, f["target_mentions"] > 0
    (True, True, True)
    """
    words = tokenize(text)
    n = len(words)
    records = [_token_record(w) for w in words]
    n_words = max(1, sum(1 for r in records if r[1]))
    norm = math.sqrt(n_words)
    hits = _hits(words, records)
    targets = [h for h in hits if h.category == "target"]
    others = [h for h in hits if h.category == "other"]
    near_target_at = _near_mask(targets, n)
    near_other_at = _near_mask(others, n)

    against = favour = against_near = favour_near = 0.0
    negated_cues = 0
    for hit, weight, negated in _scaled_cues(words, hits, negation=negation, context=context):
        negated_cues += negated
        toward_against = (hit.category == "against") == (weight > 0)
        value = abs(weight)
        close = near_target_at[hit.start]
        if toward_against:
            against += value
            against_near += value * close
        else:
            favour += value
            favour_near += value * close

    afinn = [r[2] for r in records]
    if any(r[3] for r in records):
        _afinn_phrases(words, records, afinn)
    negated_at = [False] * n
    if negation:
        for j in {h.start for h in hits if h.category == "negator"}:
            # a sentiment word up to 3 tokens after a negator, or up to 2 before it
            for i in range(max(0, j - 2), min(n, j + 4)):
                if i != j:
                    negated_at[i] = True
    adjusted = near_target = near_other = 0.0
    for i, value in enumerate(afinn):
        if not value:
            continue
        if negated_at[i]:
            value *= NEGATION_FACTOR
        adjusted += value
        if near_target_at[i]:
            near_target += value
        if near_other_at[i]:
            near_other += value

    sentences = max(1, sum(1 for r in records if r[4]))
    return [
        against / norm,
        favour / norm,
        (favour - against) / norm,
        against_near / norm,
        favour_near / norm,
        negated_cues / norm,
        adjusted / norm,
        near_target / norm,
        near_other / norm,
        sum(h.weight for h in targets) / norm,
        sum(h.weight for h in others) / norm,
        text.count("?") / sentences,
        text.count("!") / sentences,
        len(_CAPS.findall(text)) / n_words,
        sum(1 for r in records if r[5]) / n_words,
        len(_DIGIT.findall(text)) / max(1, len(text)),
        1.0 if _QUOTE.search(text) else 0.0,
        math.log1p(n_words),
    ]
