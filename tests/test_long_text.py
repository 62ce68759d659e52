"""A text's features take time linear in its length, whatever its shape: one long token is not
much slower than the same length of ordinary words (the hard < 1 s timing for 300,000
characters is a row of ``benchmarks/long_text.py``)."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from stance import classify
from stance.features import domain

LETTERS = "abcdefghijklmnopqrstuvwxyz"
WORDS = "jobcentret hjalp mig ikke , men sagsbehandleren var sød . "


def _best_time(make: Callable[[int], str], repeats: int = 3) -> float:
    """The best of ``repeats`` classifications, each of a fresh text (no cache helps)."""
    times = []
    for i in range(repeats):
        text = make(i)
        started = time.perf_counter()
        classify(text)
        times.append(time.perf_counter() - started)
    return min(times)


@pytest.fixture(scope="module", autouse=True)
def _warm():
    classify("Jobcentret hjalp mig.")


def _token(length: int) -> Callable[[int], str]:
    return lambda i: LETTERS[i] * length


def _cue_token(length: int) -> Callable[[int], str]:  # a token with lexicon prefix candidates
    return lambda i: (("jobcentret" + LETTERS[i]) * length)[:length]


def _words(length: int) -> Callable[[int], str]:
    return lambda i: ((WORDS + LETTERS[i] + " ") * length)[:length]


@pytest.mark.parametrize("shape", [_token, _cue_token], ids=["letter", "cue-prefix"])
def test_a_long_token_is_not_much_slower_than_words(shape):
    length = 100_000
    token = _best_time(shape(length))
    words = _best_time(_words(length))
    assert token <= 4 * words + 0.05, f"token {token:.3f} s, words {words:.3f} s"


@pytest.mark.parametrize("shape", [_token, _cue_token, _words], ids=["letter", "cue", "words"])
def test_time_grows_linearly_with_length(shape):
    """Four times the text takes about four times as long (quadratic work would take 16)."""
    short = _best_time(shape(25_000))
    long = _best_time(shape(100_000))
    assert long <= 8 * short + 0.05, f"25k: {short:.3f} s, 100k: {long:.3f} s"


def test_prefix_lookup_is_bounded_by_the_longest_stem():
    lexicon = domain.domain_lexicon()
    assert 0 < lexicon.longest_prefix < 40
    assert lexicon.longest_prefix == max(map(len, lexicon.prefixes))
    stem = max(lexicon.prefixes, key=len)
    # a stem with a very long tail still finds its prefix entries
    found = domain.Lexicon(lexicon.exact, lexicon.prefixes).candidates(stem + "x" * 10_000)
    assert set(map(id, lexicon.prefixes[stem])) <= set(map(id, found))
