"""Finding texts that share a run of words (used to keep authored texts original)."""

from __future__ import annotations

import re
from collections.abc import Sequence

_WORD = re.compile(r"\w+")


def word_runs(text: str, n: int = 6) -> set[tuple[str, ...]]:
    """Every run of ``n`` consecutive lower-cased words in ``text``.

    >>> sorted(word_runs("A b c", 2))
    [('a', 'b'), ('b', 'c')]
    """
    words = _WORD.findall(text.lower())
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def shared_runs(
    texts: Sequence[str], reference: Sequence[str] = (), n: int = 6
) -> list[tuple[int, str, str]]:
    """Texts that share an ``n``-word run with an earlier text or with any reference text.

    Returns ``(index, "text <j>" or "reference <k>", run)`` for each offending text (the first
    run found), in order. Earlier texts win: the later of two similar texts is reported.
    """
    owner: dict[tuple[str, ...], str] = {}
    for k, text in enumerate(reference):
        for run in word_runs(text, n):
            owner.setdefault(run, f"reference {k}")
    found: list[tuple[int, str, str]] = []
    for i, text in enumerate(texts):
        runs = word_runs(text, n)
        clash = next((run for run in sorted(runs) if run in owner), None)
        if clash is not None:
            found.append((i, owner[clash], " ".join(clash)))
            continue
        for run in runs:
            owner.setdefault(run, f"text {i}")
    return found
