"""Hashed word and character n-grams, exactly as scikit-learn's ``HashingVectorizer`` makes them.

Pure numpy. MurmurHash3 (x86, 32 bit, seed 0, over the UTF-8 bytes, as
``sklearn.utils.murmurhash3_32``) runs vectorised over every n-gram of a batch at once: the
texts are joined into one string and each n-gram is a ``(start, length)`` span of it. The
column of an n-gram is ``abs(hash) % n_features``, as in
``HashingVectorizer(alternate_sign=False)``.

Real text repeats its words, so each hasher remembers the columns of the words (``char_wb``:
the n-grams of one word) and word n-grams (``word``) it has hashed, up to
:attr:`NgramHasher.cache_size` entries; only unseen ones are hashed. The cache cannot change a
result, only skip work.

>>> hasher = NgramHasher("word", (1, 2), 2**18)
>>> docs, columns = hasher.columns(["Luk jobcentret", "Tak"])
>>> docs.tolist()
[0, 0, 0, 1]
>>> int(hash_strings(["luk"])[0])
-1601684994
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import pairwise
from typing import Any

import numpy as np

from stance.errors import ConfigError

ANALYZERS = ("word", "char", "char_wb")
"""The analyzers of ``HashingVectorizer`` this module reproduces."""

TOKEN_PATTERN = r"(?u)\b\w+\b"
"""The baseline's word pattern (scikit-learn's default, ``\\w\\w+``, drops one-letter words)."""

CACHE_SIZE = 1 << 16
"""Words (or word n-grams) whose columns a hasher remembers; the cache is emptied when full."""

_WHITE_SPACES = re.compile(r"\s\s+")  # scikit-learn's whitespace normalisation for "char"

_C1, _C2 = np.uint32(0xCC9E2D51), np.uint32(0x1B873593)
_F1, _F2 = np.uint32(0x85EBCA6B), np.uint32(0xC2B2AE35)
_FIVE, _N = np.uint32(5), np.uint32(0xE6546B64)
_TAIL_MASKS = np.array([0, 0xFF, 0xFFFF, 0xFFFFFF], dtype=np.uint32)
_U = {r: np.uint32(r) for r in (13, 15, 16, 17, 19, 32 - 13, 32 - 15)}

Spans = tuple[str, np.ndarray, np.ndarray, np.ndarray]


def _rotl(x: np.ndarray, r: int) -> np.ndarray:
    return (x << _U[r]) | (x >> _U[32 - r])


_FEW_SPANS = 16
"""Below this many spans still hashing, the remaining blocks are hashed in plain Python."""


def _finish_long_spans(
    h: np.ndarray, position: np.ndarray, left: np.ndarray, mixed: np.ndarray, a: int, step: int
) -> None:
    """Hash the remaining blocks of the first ``a`` spans (at block ``step`` of each) in place:
    ``h``, and ``position`` moved past the last block, as the vectorised loop leaves them."""
    for j in range(a):
        count = int(left[j]) - step
        start = int(position[j])
        x = int(h[j])
        for m in mixed[start : start + 4 * count : 4].tolist():
            x ^= m
            x = ((x << 13) | (x >> 19)) & 0xFFFFFFFF
            x = (x * 5 + 0xE6546B64) & 0xFFFFFFFF
        h[j] = x
        position[j] = start + 4 * count


def murmurhash3_32(
    data: bytes, starts: np.ndarray, lengths: np.ndarray, seed: int = 0
) -> np.ndarray:
    """Signed 32-bit MurmurHash3 of ``data[s : s + n]`` for every ``(s, n)`` in the spans.

    Args:
        data: The bytes the spans index.
        starts: Byte offsets.
        lengths: Byte lengths.
        seed: The hash seed (scikit-learn uses 0).

    >>> int(murmurhash3_32(b"jobcenter", np.array([0]), np.array([9]))[0])
    780073288
    """
    starts = np.asarray(starts, dtype=np.int64)
    lengths = np.asarray(lengths, dtype=np.int64)
    if starts.size == 0:
        return np.zeros(0, dtype=np.int32)
    padded = np.frombuffer(data + b"\0\0\0\0", dtype=np.uint8)
    # the little-endian 32-bit word that starts at every byte offset (copied out of an
    # overlapping view, so that gathers read aligned memory)
    words = np.ndarray(shape=(len(data) + 1,), dtype="<u4", buffer=padded, strides=(1,)).copy()
    blocks = lengths >> 2
    most = int(blocks.max())
    h = np.full(starts.size, seed, dtype=np.uint32)
    order = None
    if most:
        # every 4-byte block mixed once, wherever it starts
        mixed = words * _C1
        mixed = _rotl(mixed, 15)
        mixed *= _C2
        # longest first, so that the spans still hashing their k-th block are a prefix
        key = (255 - blocks).astype(np.uint8) if most < 256 else -blocks
        order = np.argsort(key, kind="stable")  # a radix sort for uint8 keys
        starts, lengths = starts[order], lengths[order]
        active = np.searchsorted(-blocks[order], -np.arange(1, most + 1), side="right").tolist()
        position = starts.copy()  # each span's next block
        left = blocks[order]  # blocks per span, in this order
        for step, a in enumerate(active):
            if a <= _FEW_SPANS and most - step > _FEW_SPANS:
                # a few long spans left (one long token, say): plain Python integers are
                # faster than numpy calls on tiny arrays, and keep the time linear in length
                _finish_long_spans(h, position, left, mixed, a, step)
                break
            part = h[:a]
            here = position[:a]
            part ^= mixed[here]
            here += 4
            rotated = _rotl(part, 13)
            rotated *= _FIVE
            rotated += _N
            part[...] = rotated
        tail = words[position]
    else:
        tail = words[starts]
    tail &= _TAIL_MASKS[lengths & 3]
    tail *= _C1
    tail = _rotl(tail, 15)
    tail *= _C2
    h ^= tail
    h ^= lengths.astype(np.uint32)
    h ^= h >> _U[16]
    h *= _F1
    h ^= h >> _U[13]
    h *= _F2
    h ^= h >> _U[16]
    if order is not None:
        unsorted = np.empty_like(h)
        unsorted[order] = h
        h = unsorted
    return h.view(np.int32)


def hash_strings(strings: Sequence[str], seed: int = 0) -> np.ndarray:
    """``sklearn.utils.murmurhash3_32(s, seed)`` for every string (UTF-8 bytes), as int32.

    >>> hash_strings(["", "a"]).tolist()
    [0, 1009084850]
    """
    encoded = [s.encode("utf-8") for s in strings]
    lengths = np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))
    return murmurhash3_32(b"".join(encoded), _starts(lengths, 0), lengths, seed)


def columns_of(hashes: np.ndarray, n_features: int) -> np.ndarray:
    """``abs(h) % n_features`` as scikit-learn computes it (also for ``h == -2**31``).

    >>> columns_of(np.array([-7, 7, -2**31], dtype=np.int32), 5).tolist()
    [2, 2, 3]
    """
    # abs(-2**31) stays -2**31 in int32, which read as uint32 is 2**31: the exact value
    magnitude = np.abs(hashes.astype(np.int32, copy=False)).view(np.uint32)
    if n_features & (n_features - 1) == 0:
        return (magnitude & np.uint32(n_features - 1)).astype(np.int64)
    return (magnitude % np.uint32(n_features)).astype(np.int64)


# scikit-learn's default token pattern finds the same words as the faster plain ``\w+``:
# a greedy run of word characters always starts and ends at a word boundary
_FAST_PATTERNS = {TOKEN_PATTERN: r"\w+"}


@lru_cache(maxsize=32)
def _findall(pattern: str) -> Callable[[str], list[Any]]:
    compiled = re.compile(pattern)
    if compiled.groups > 1:
        raise ConfigError(f"token pattern {pattern!r} has more than one capturing group")
    return re.compile(_FAST_PATTERNS.get(pattern, pattern)).findall


def _ranges(counts: np.ndarray) -> np.ndarray:
    """``concatenate([arange(c) for c in counts])``, vectorised."""
    ends = np.cumsum(counts)
    total = int(ends[-1]) if ends.size else 0
    return np.arange(total, dtype=np.int64) - np.repeat(ends - counts, counts)


def _starts(lengths: np.ndarray, gap: int) -> np.ndarray:
    """Where each piece starts when the pieces are joined with ``gap`` characters between."""
    starts = np.zeros(lengths.size, dtype=np.int64)
    np.cumsum(lengths[:-1] + gap, out=starts[1:])
    return starts


_TEMPLATE_MAX = 34  # padded words up to this length use a precomputed n-gram template


@lru_cache(maxsize=16)
def _char_wb_template(low: int, high: int) -> tuple[np.ndarray, ...]:
    """The n-grams of a padded word of every length ``m <= _TEMPLATE_MAX``, as scikit-learn's
    ``_char_wb_ngrams`` makes them: ``(first, count, offsets, lengths)``, where the n-grams of
    a word of length ``m`` are entries ``first[m] : first[m] + count[m]``."""
    offsets: list[int] = []
    lengths: list[int] = []
    first = np.zeros(_TEMPLATE_MAX + 1, dtype=np.int64)
    count = np.zeros(_TEMPLATE_MAX + 1, dtype=np.int64)
    for m in range(_TEMPLATE_MAX + 1):
        first[m] = len(offsets)
        for n in range(low, high + 1):
            offset = 0
            offsets.append(offset)
            lengths.append(min(n, m))
            while offset + n < m:
                offset += 1
                offsets.append(offset)
                lengths.append(n)
            if offset == 0:
                break
        count[m] = len(offsets) - first[m]
    return first, count, np.array(offsets, dtype=np.int64), np.array(lengths, dtype=np.int64)


@dataclass(frozen=True)
class NgramHasher:
    """The settings of one ``HashingVectorizer`` that this module reproduces.

    Attributes:
        analyzer: ``"word"``, ``"char"`` or ``"char_wb"`` (as scikit-learn).
        ngram_range: Smallest and largest n.
        n_features: The number of hash columns.
        lowercase: Lowercase the text first (``str.lower`` on the whole text).
        token_pattern: The word regex (``"word"`` only).
        cache_size: How many words (``char_wb``) or word n-grams (``word``) to remember the
            columns of; 0 turns the cache off. Not a model setting: it changes no result.
    """

    analyzer: str
    ngram_range: tuple[int, int]
    n_features: int
    lowercase: bool = True
    token_pattern: str = TOKEN_PATTERN
    cache_size: int = field(default=CACHE_SIZE, compare=False, repr=False)
    _tokenize: Any = field(init=False, repr=False, compare=False)
    _cache: dict[Any, Any] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.analyzer not in ANALYZERS:
            raise ConfigError(f"analyzer must be one of {ANALYZERS}, got {self.analyzer!r}")
        low, high = self.ngram_range
        if not 1 <= low <= high:
            raise ConfigError(f"need 1 <= min_n <= max_n, got ngram_range {self.ngram_range}")
        if not 1 <= self.n_features <= 2**31 - 1:
            raise ConfigError(f"n_features must be in 1..2**31-1, got {self.n_features}")
        object.__setattr__(self, "ngram_range", (int(low), int(high)))
        tokenize = _findall(self.token_pattern) if self.analyzer == "word" else None
        object.__setattr__(self, "_tokenize", tokenize)
        object.__setattr__(self, "_cache", {})

    def columns(
        self, texts: Sequence[str], *, lowered: bool = False
    ) -> tuple[np.ndarray, np.ndarray]:
        """The hash column of every n-gram of ``texts``, with the index of its text.

        Args:
            texts: The texts.
            lowered: ``texts`` are already lowercased (when :attr:`lowercase` is set).

        Returns:
            ``(docs, columns)``, int64 arrays with one entry per n-gram occurrence (repeated
            n-grams repeat; their counts are summed later).
        """
        if self.lowercase and not lowered:
            texts = [text.lower() for text in texts]
        if self.analyzer == "word":
            return self._word_columns(texts)
        if self.analyzer == "char_wb":
            return self._char_wb_columns(texts)
        joined, docs, starts, lengths = self._char_spans(texts)
        return docs, columns_of(
            murmurhash3_32(*_utf8_spans(joined, starts, lengths)), self.n_features
        )

    def _remember(self, new: dict[Any, bytes]) -> None:
        cache = self._cache
        if len(cache) + len(new) > self.cache_size:
            cache.clear()
        if len(new) <= self.cache_size:
            cache.update(new)

    def _lookup(self, keys: list[Any], compute: Any) -> list[bytes]:
        """The cached columns (int32 bytes) of every key; ``compute(missing)`` gives the
        columns of the keys not cached yet, one bytes object per key."""
        try:
            return list(map(self._cache.__getitem__, keys))
        except KeyError:
            pass
        get = self._cache.get
        found = list(map(get, keys))
        missing = list(dict.fromkeys(k for k, c in zip(keys, found) if c is None))
        new = dict(zip(missing, compute(missing)))
        self._remember(new)
        return [new[k] if c is None else c for k, c in zip(keys, found)]

    def _word_columns(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Word n-grams: a unigram is its token, a longer n-gram the tuple of its tokens."""
        tokenize = self._tokenize
        low, high = self.ngram_range
        grams: list[Any] = []
        per_text = [0] * len(texts)
        for i, text in enumerate(texts):
            tokens = tokenize(text)
            before = len(grams)
            for n in range(low, min(high, len(tokens)) + 1):
                if n == 1:
                    grams += tokens
                elif n == 2:
                    grams += pairwise(tokens)
                else:
                    grams += zip(*(tokens[k:] for k in range(n)))
            per_text[i] = len(grams) - before

        def compute(missing: list[Any]) -> list[bytes]:
            strings = [g if isinstance(g, str) else " ".join(g) for g in missing]
            blob = columns_of(hash_strings(strings), self.n_features).astype(np.int32).tobytes()
            return [blob[4 * i : 4 * i + 4] for i in range(len(missing))]

        found = self._lookup(grams, compute)
        columns = np.frombuffer(b"".join(found), dtype=np.int32).astype(np.int64)
        return _docs(per_text, len(found)), columns

    def _char_wb_columns(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """``char_wb`` n-grams never cross a word, so each word's columns are remembered."""
        words: list[str] = []
        per_text = [0] * len(texts)
        for i, text in enumerate(texts):
            found_words = text.split()
            words += found_words
            per_text[i] = len(found_words)

        def compute(missing: list[str]) -> list[bytes]:
            joined, docs, starts, lengths = self._char_wb_spans(missing)
            hashed = murmurhash3_32(*_utf8_spans(joined, starts, lengths))
            blob = columns_of(hashed, self.n_features).astype(np.int32).tobytes()
            ends = (4 * np.cumsum(np.bincount(docs, minlength=len(missing)))).tolist()
            return [blob[a:b] for a, b in zip([0, *ends[:-1]], ends)]

        found = self._lookup(words, compute)
        columns = np.frombuffer(b"".join(found), dtype=np.int32).astype(np.int64)
        if len(texts) == 1:
            return np.zeros(columns.size, dtype=np.int64), columns
        sizes = np.fromiter(map(len, found), dtype=np.int64, count=len(found)) >> 2
        word_docs = np.repeat(np.arange(len(texts), dtype=np.int64), per_text)
        return np.repeat(word_docs, sizes), columns

    def spans(self, texts: Sequence[str], *, lowered: bool = False) -> Spans:
        """Every n-gram of ``texts`` as a span of one joined string (``char`` and ``char_wb``).

        Returns:
            ``(joined, docs, starts, lengths)``: n-gram ``i`` of text ``docs[i]`` is
            ``joined[starts[i] : starts[i] + lengths[i]]`` (character offsets); each text's
            n-grams are contiguous and in text order.
        """
        if self.lowercase and not lowered:
            texts = [text.lower() for text in texts]
        if self.analyzer == "char_wb":
            return self._char_wb_spans(texts)
        if self.analyzer == "char":
            return self._char_spans(texts)
        raise ConfigError("spans() covers the character analyzers; use columns() for words")

    def _char_wb_spans(self, texts: Sequence[str]) -> Spans:
        words: list[str] = []
        per_text = [0] * len(texts)
        for i, text in enumerate(texts):
            found = text.split()
            words += found
            per_text[i] = len(found)
        n = len(words)
        # in " w1 w2 w3 ", word i padded with a space on each side starts at padded[i]
        padded_lengths = np.fromiter(map(len, words), dtype=np.int64, count=n) + 2
        padded = _starts(padded_lengths, -1)
        word_docs = np.repeat(np.arange(len(texts), dtype=np.int64), per_text)
        joined = " " + " ".join(words) + " " if words else ""
        first, count, offsets, lengths = _char_wb_template(*self.ngram_range)
        if n == 0 or int(padded_lengths.max()) <= _TEMPLATE_MAX:
            counts = count[padded_lengths]
            index = np.repeat(first[padded_lengths], counts) + _ranges(counts)
            return (
                joined,
                np.repeat(word_docs, counts),
                np.repeat(padded, counts) + offsets[index],
                lengths[index],
            )
        # some long words: the general construction, then each word's n-grams together
        low, high = self.ngram_range
        parts_words, parts_starts, parts_lengths = [], [], []
        for size in range(low, high + 1):
            if size == low:  # a word shorter than the smallest n counts once, whole
                sel = np.arange(n)
                counts = np.maximum(padded_lengths - size + 1, 1)
            else:  # scikit-learn stops at the first n that covers the whole word
                sel = np.flatnonzero(padded_lengths >= size)
                counts = padded_lengths[sel] - size + 1
            parts_words.append(np.repeat(sel, counts))
            parts_starts.append(np.repeat(padded[sel], counts) + _ranges(counts))
            parts_lengths.append(np.minimum(np.repeat(padded_lengths[sel], counts), size))
        word, starts, lengths = _concatenate(parts_words, parts_starts, parts_lengths)
        order = np.argsort(word, kind="stable")
        return joined, word_docs[word[order]], starts[order], lengths[order]

    def _char_spans(self, texts: Sequence[str]) -> Spans:
        texts = [_WHITE_SPACES.sub(" ", text) for text in texts]
        text_lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
        text_starts = _starts(text_lengths, 0)
        low, high = self.ngram_range
        parts_docs, parts_starts, parts_lengths = [], [], []
        for size in range(low, high + 1):
            sel = np.flatnonzero(text_lengths >= size)
            if sel.size == 0:
                break
            counts = text_lengths[sel] - size + 1
            parts_docs.append(np.repeat(sel, counts))
            parts_starts.append(np.repeat(text_starts[sel], counts) + _ranges(counts))
            parts_lengths.append(np.full(int(counts.sum()), size, dtype=np.int64))
        docs, starts, lengths = _concatenate(parts_docs, parts_starts, parts_lengths)
        order = np.argsort(docs, kind="stable")
        return "".join(texts), docs[order], starts[order], lengths[order]


def _docs(per_text: list[int], total: int) -> np.ndarray:
    """The text index of each entry, given how many entries each text has."""
    if len(per_text) == 1:
        return np.zeros(total, dtype=np.int64)
    return np.repeat(np.arange(len(per_text), dtype=np.int64), per_text)


def _concatenate(
    docs: list[np.ndarray], starts: list[np.ndarray], lengths: list[np.ndarray]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if not docs:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    if len(docs) == 1:
        return docs[0], starts[0], lengths[0]
    return np.concatenate(docs), np.concatenate(starts), np.concatenate(lengths)


def _utf8_spans(
    joined: str, starts: np.ndarray, lengths: np.ndarray
) -> tuple[bytes, np.ndarray, np.ndarray]:
    """The UTF-8 bytes of ``joined`` and the character spans turned into byte spans."""
    if joined.isascii():
        return joined.encode("ascii"), starts, lengths
    data = joined.encode("utf-8")
    raw = np.frombuffer(data, dtype=np.uint8)
    # the byte offset of every character (a byte that is not a continuation byte), then the end
    offsets = np.flatnonzero((raw & 0xC0) != 0x80)
    offsets = np.append(offsets, raw.size)
    byte_starts = offsets[starts]
    return data, byte_starts, offsets[starts + lengths] - byte_starts


def hash_blocks(
    texts: Sequence[str], hashers: Sequence[NgramHasher]
) -> list[tuple[np.ndarray, np.ndarray]]:
    """:meth:`NgramHasher.columns` of every hasher for ``texts`` (lowercased once)."""
    lowered = None
    out = []
    for hasher in hashers:
        if hasher.lowercase:
            if lowered is None:
                lowered = [text.lower() for text in texts]
            out.append(hasher.columns(lowered, lowered=True))
        else:
            out.append(hasher.columns(texts))
    return out
