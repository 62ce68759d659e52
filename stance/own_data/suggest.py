"""Choosing which texts to label next: ``stance suggest`` and :func:`stance.suggest`.

Uncertainty sampling by margin, with a diversity step:

1. the model scores every text; a text's *margin* is the probability of its most likely label
   minus that of the second (0 = the model cannot decide between two labels);
2. texts are taken in order of increasing margin, skipping any whose character 3–5-gram profile
   has a cosine similarity of at least ``max_similarity`` (default 0.6) with a text already
   taken, so a batch of near-duplicates (the same comment pasted twice, a template with one
   word changed) costs one label, not many;
3. if that leaves fewer than ``n`` texts, the skipped ones fill up, still by margin.

The texts it picks are coded by a person and trained on with ``stance train``. It needs only a
model and numpy (no scikit-learn).
"""

from __future__ import annotations

import math
import os
import re
import zlib
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from stance.errors import ConfigError
from stance.io import check_output
from stance.io import write_rows as write_table_rows

MAX_SIMILARITY = 0.6
_SPACE = re.compile(r"\s+")


def ngram_profile(text: str, low: int = 3, high: int = 5) -> dict[int, float]:
    """Hashed character ``low``–``high``-gram counts of ``text`` (lower-cased, spaces squeezed),
    L2-normalised.

    >>> p = ngram_profile("Jobcentret")
    >>> round(sum(v * v for v in p.values()), 6)
    1.0
    """
    text = f" {_SPACE.sub(' ', text.casefold()).strip()} "
    counts: Counter[int] = Counter(
        zlib.crc32(text[i : i + n].encode("utf-8"))
        for n in range(low, high + 1)
        for i in range(max(1, len(text) - n + 1))
    )
    norm = math.sqrt(sum(c * c for c in counts.values())) or 1.0
    return {key: c / norm for key, c in counts.items()}


def cosine(a: dict[int, float], b: dict[int, float]) -> float:
    """Cosine similarity of two normalised profiles.

    >>> round(cosine(ngram_profile("Luk jobcentret nu"), ngram_profile("Luk jobcentret nu!")), 2)
    0.91
    >>> cosine(ngram_profile("Luk jobcentret"), ngram_profile("Tak for hjælpen")) < 0.2
    True
    """
    if len(a) > len(b):
        a, b = b, a
    return float(sum(v * b.get(k, 0.0) for k, v in a.items()))


def margins(probs: np.ndarray) -> np.ndarray:
    """Top probability minus the second, per row.

    >>> margins(np.array([[0.5, 0.3, 0.2], [0.9, 0.05, 0.05]])).round(2).tolist()
    [0.2, 0.85]
    """
    ordered = np.sort(np.asarray(probs), axis=1)
    return ordered[:, -1] - ordered[:, -2]


def select(
    texts: Sequence[str],
    probs: np.ndarray,
    n: int,
    *,
    max_similarity: float | None = MAX_SIMILARITY,
    seed: int = 0,
) -> tuple[list[int], int]:
    """Positions of ``n`` texts to label, most informative first, and how many near-duplicates
    were passed over.

    ``probs`` holds a model's probabilities for ``texts``. Ties in margin are broken at random
    with ``seed``. ``max_similarity=None`` turns the diversity step off (margin only).

    >>> probs = np.array([[0.4, 0.35, 0.25], [0.5, 0.3, 0.2], [0.9, 0.05, 0.05]])
    >>> select(["Luk jobcentret nu", "Luk jobcentret nu!", "Tak"], probs, 2)
    ([0, 2], 1)
    >>> select(["Luk jobcentret nu", "Luk jobcentret nu!", "Tak"], probs, 2, max_similarity=None)
    ([0, 1], 0)
    """
    if n < 0:
        raise ConfigError(f"n must be >= 0, got {n}")
    if max_similarity is not None and not 0 < max_similarity <= 1:
        raise ConfigError(f"max_similarity must be in (0, 1], got {max_similarity}")
    m = margins(probs)
    tie_break = np.random.default_rng(seed).random(len(texts))
    order = np.lexsort((tie_break, m))
    if max_similarity is None:
        return [int(i) for i in order[:n]], 0
    picked: list[int] = []
    profiles: list[dict[int, float]] = []
    passed: list[int] = []
    for i in order:
        if len(picked) >= n:
            break
        profile = ngram_profile(texts[i])
        if any(cosine(profile, other) >= max_similarity for other in profiles):
            passed.append(int(i))
            continue
        picked.append(int(i))
        profiles.append(profile)
    skipped = len(passed)
    if len(picked) < n:  # not enough distinct texts: fill up with the passed-over ones
        picked += passed[: n - len(picked)]
    return picked, skipped


def suggest(
    texts: Sequence[str],
    n: int = 100,
    *,
    model: Any = None,
    max_similarity: float = MAX_SIMILARITY,
    seed: int = 0,
    batch_size: int = 256,
) -> list[int]:
    """The positions of the ``n`` texts whose labels would teach ``model`` most, best first.

    Uncertainty sampling by margin with a near-duplicate filter (see the module docstring).

    Args:
        texts: Unlabelled texts.
        n: How many to pick (all, if there are fewer).
        model: ``None``/``"baseline"``, ``"bert"``, a model directory or a loaded classifier.
        max_similarity: Skip a text whose character n-gram cosine similarity with an already
            picked one is at least this.
        seed: Breaks ties in margin.
        batch_size: Texts per model call.

    >>> texts = ["Jobcentret er en skændsel", "Jobcentret er en skændsel!", "Mødet er i dag"]
    >>> len(suggest(texts, 2))
    2
    """
    from stance.api import load_classifier
    from stance.text import prepare_text

    checked = [prepare_text(text, i) for i, text in enumerate(texts)]
    classifier = model if hasattr(model, "predict_proba") else load_classifier(model)
    probs = _probabilities(classifier, checked, batch_size)
    return select(checked, probs, n, max_similarity=max_similarity, seed=seed)[0]


def _probabilities(classifier: Any, texts: list[str], batch_size: int, bar: Any = None) -> Any:
    from stance.labels import LABELS

    chunks = []
    for start in range(0, len(texts), batch_size):
        chunks.append(classifier.predict_proba(texts[start : start + batch_size]))
        if bar is not None:
            bar.update(len(chunks[-1]))
    return np.vstack(chunks) if chunks else np.zeros((0, len(LABELS)))


def write_rows(rows: list[dict[str, Any]], columns: list[str], path: Path) -> None:
    """Write rows atomically in the format of ``path``'s extension (see
    :func:`stance.io.write_rows`)."""
    write_table_rows(rows, columns, path)


def suggest_file(
    path: str | os.PathLike[str],
    n: int = 100,
    *,
    output: str | os.PathLike[str],
    text_column: str = "text",
    label_column: str = "label",
    model: Any = None,
    max_similarity: float = MAX_SIMILARITY,
    seed: int = 0,
    progress: bool = False,
    excel: bool = False,
    delimiter: str | None = None,
    encoding: str | None = None,
    sheet: str | int | None = None,
) -> dict[str, Any]:
    """Pick ``n`` rows of an unlabelled file for labelling and write them to ``output``
    (``excel``: a CSV as Danish Excel opens it; ``delimiter``, ``encoding``, ``sheet``: how to
    read the input, detected by default).

    The output keeps each picked row's columns, most informative row first, with an empty
    ``label_column`` added for coding. Rows without a usable text are not candidates; rows
    that already have a value in ``label_column`` are not picked again.

    Returns:
        A summary: ``rows_read``, ``candidates``, ``picked``, ``near_duplicates_skipped``,
        ``rows_without_text``, ``rows_already_labelled``, ``max_margin`` and ``output``.
    """
    from stance.api import load_classifier
    from stance.own_data.labelled import label_value, read_user_table, text_problem
    from stance.text import prepare_text

    output = Path(output)
    if output.resolve() == Path(path).resolve():
        raise ConfigError(f"the output {output} is the input file; write the picks elsewhere")
    check_output(output)  # a bad output fails before any work
    table = read_user_table(path, text_column, delimiter=delimiter, encoding=encoding, sheet=sheet)
    candidates, texts = [], []
    no_text = labelled = 0
    for i, row in enumerate(table.rows):
        if text_problem(row.get(text_column)) is not None:
            no_text += 1
        elif label_value(row.get(label_column)) is not None:
            labelled += 1
        else:
            candidates.append(i)
            texts.append(prepare_text(row[text_column]))
    classifier = model if hasattr(model, "predict_proba") else load_classifier(model)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(texts), unit="text", desc="score", leave=False)
    probs = _probabilities(classifier, texts, 256, bar)
    if bar is not None:
        bar.close()
    picked, skipped = select(texts, probs, n, max_similarity=max_similarity, seed=seed)
    columns = list(table.columns) + ([label_column] if label_column not in table.columns else [])
    rows = [{**table.rows[candidates[j]], label_column: ""} for j in picked]
    write_table_rows(rows, columns, output, excel=excel)
    m = margins(probs)
    return {
        "file": str(table.path or path),
        "output": str(output),
        "rows_read": len(table.rows),
        "candidates": len(texts),
        "picked": len(picked),
        "near_duplicates_skipped": skipped,
        "rows_without_text": no_text,
        "rows_already_labelled": labelled,
        "max_margin": float(m[picked].max()) if picked else None,
        "where": [table.where(candidates[j]) for j in picked],
    }
