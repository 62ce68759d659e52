"""The numpy n-gram hashing gives exactly scikit-learn's HashingVectorizer columns and counts."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from stance.features.ngrams import NgramHasher, columns_of, hash_blocks, hash_strings

EDGE_TEXTS = [
    "İstanbul ΟΔΟΣ  x\t\ty\n z",  # lowercasing that changes length; final sigma; whitespace runs
    "a",
    "!!!",  # no word tokens
    "  a  b ",
    "x" * 300,  # a word longer than the n-gram templates
    "😀 emoji 𝄞 tegn",  # four-byte UTF-8
    "ab",
    "a" * 46 + " " + "b" * 47,  # padded lengths at the template limit
    "Det   er\u00a0en\u2003skændsel… — «citat» 100% (ja!)",
]

SETTINGS = [
    ("word", (1, 2), 2**18),
    ("word", (2, 3), 1000),
    ("word", (1, 1), 7),
    ("char_wb", (3, 6), 2**19),
    ("char_wb", (2, 5), 2**19),
    ("char_wb", (1, 1), 7),
    ("char", (1, 4), 2**10),
]


@pytest.fixture(scope="module")
def texts(corpus_rows, authored_rows) -> list[str]:
    return [r["text"] for r in corpus_rows] + [r["text"] for r in authored_rows] + EDGE_TEXTS


def _counts(docs: np.ndarray, columns: np.ndarray, n_docs: int, n_features: int):
    import scipy.sparse as sp

    matrix = sp.csr_matrix(
        (np.ones(docs.size), (docs, columns)), shape=(n_docs, n_features), dtype=np.float64
    )
    matrix.sum_duplicates()
    return matrix


@pytest.mark.parametrize(("analyzer", "ngram_range", "n_features"), SETTINGS)
def test_columns_match_hashing_vectorizer(texts, analyzer, ngram_range, n_features):
    from sklearn.feature_extraction.text import HashingVectorizer

    vectorizer = HashingVectorizer(
        analyzer=analyzer,
        ngram_range=ngram_range,
        n_features=n_features,
        alternate_sign=False,
        norm=None,
        token_pattern=r"(?u)\b\w+\b" if analyzer == "word" else None,
    )
    batches = (texts, texts[:1], texts[-len(EDGE_TEXTS) :], texts[::50])
    expected = [vectorizer.transform(batch) for batch in batches]
    hasher = NgramHasher(analyzer, ngram_range, n_features)
    for batch, want in zip(batches, expected):
        docs, columns = hasher.columns(batch)
        assert abs(want - _counts(docs, columns, len(batch), n_features)).max() == 0
    # the cache changes nothing: off, thrashing (50 entries), and read on a second pass
    for cache_size in (0, 50, 1 << 16):
        hasher = NgramHasher(analyzer, ngram_range, n_features, cache_size=cache_size)
        for _ in range(2):
            for batch, want in zip(batches[1:], expected[1:]):
                docs, columns = hasher.columns(batch)
                assert abs(want - _counts(docs, columns, len(batch), n_features)).max() == 0


@given(st.lists(st.text(max_size=40), max_size=30))
def test_murmurhash_matches_scikit_learn(strings):
    from sklearn.utils import murmurhash3_32

    expected = [murmurhash3_32(s, seed=0) for s in strings]
    assert hash_strings(strings).tolist() == expected


def test_columns_of_the_most_negative_hash():
    """scikit-learn special-cases abs(-2**31); the column must agree for any n_features."""
    for n in (1, 3, 7, 2**18, 2**20 + 1, 2**31 - 1):
        assert columns_of(np.array([-(2**31)], dtype=np.int32), n)[0] == 2**31 % n


def test_one_pass_over_several_hashers(texts):
    hashers = [NgramHasher(a, r, n) for a, r, n in SETTINGS]
    joint = hash_blocks(texts[:50], hashers)
    for hasher, (docs, columns) in zip(hashers, joint):
        alone = NgramHasher(hasher.analyzer, hasher.ngram_range, hasher.n_features, cache_size=0)
        expected_docs, expected_columns = alone.columns(texts[:50])
        assert sorted(zip(docs.tolist(), columns.tolist())) == sorted(
            zip(expected_docs.tolist(), expected_columns.tolist())
        )


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="analyzer"):
        NgramHasher("chars", (1, 2), 10)
    with pytest.raises(ValueError, match="ngram_range"):
        NgramHasher("word", (3, 2), 10)
    with pytest.raises(ValueError, match="n_features"):
        NgramHasher("word", (1, 2), 0)
