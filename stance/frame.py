"""Data frames: :func:`classify_frame` adds the stance columns to a pandas DataFrame. It is the
function that Dask's ``map_partitions`` and Spark's ``mapInPandas`` call on each partition;
each worker process loads the model once (the model cache of :func:`stance.load_classifier`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stance.errors import ConfigError

if TYPE_CHECKING:
    import pandas as pd

FRAME_COLUMNS = ("stance_label", "stance_score", "p_against", "p_for", "p_neutral", "error")
"""The columns :func:`classify_frame` adds, as the CLI does (same names, same order)."""


def _pandas() -> Any:
    from stance.extras import import_extra

    return import_extra("pandas", "pandas", "classify_frame")


def classify_frame(
    df: pd.DataFrame,
    *,
    text_column: str = "text",
    model: Any = None,
    min_score: float | None = None,
) -> pd.DataFrame:
    """A copy of ``df`` with the stance of each row's text in six added columns.

    ``stance_label`` (``""`` where there is none), ``stance_score``, ``p_against``, ``p_for``,
    ``p_neutral`` (NaN where there is none) and ``error`` (``""``, or why the row has no
    label). A row whose text is missing, empty or not a string gets an error instead of a
    label; it never raises for a bad row. With ``min_score``, rows below it keep their
    probabilities but get an empty label and a note in ``error``. Rows, index and the other
    columns are kept as they are.

    Args:
        df: A pandas DataFrame.
        text_column: The column holding the texts.
        model: As in :func:`stance.classify`.
        min_score: Leave the label empty where the score is below this (0-1).

    Raises:
        ConfigError: ``df`` is not a DataFrame, ``text_column`` is not one of its columns, or
            ``min_score`` is outside 0-1.
        MissingDependencyError: pandas is not installed (``pip install "stance[pandas]"``).

    >>> import pandas as pd
    >>> out = classify_frame(pd.DataFrame({"text": ["Luk jobcentrene!", " ", float("nan")]}))
    >>> out["stance_label"].tolist()
    ['against', '', '']
    >>> out["error"].tolist()[1:]  # doctest: +NORMALIZE_WHITESPACE
    ["field 'text' is empty or only whitespace; nothing to classify",
     "field 'text' is a missing value (NaN), not a str"]
    """
    pd = _pandas()
    import numpy as np

    from stance.arguments import check_min_score
    from stance.batch import text_problem
    from stance.labels import LABELS
    from stance.loading import load_classifier
    from stance.workers import predict_texts

    if not isinstance(df, pd.DataFrame):
        raise ConfigError(f"classify_frame needs a pandas DataFrame, got {type(df).__name__}")
    if text_column not in df.columns:
        raise ConfigError(
            f"text_column {text_column!r} is not a column of the frame; its columns are "
            f"{list(df.columns)}. Pass text_column=NAME"
        )
    check_min_score(min_score)
    values = df[text_column].tolist()
    errors = [""] * len(values)
    texts, slots = [], []
    for i, value in enumerate(values):
        text, problem = text_problem(value, text_column)
        if problem is None:
            texts.append(str(text))
            slots.append(i)
        else:
            errors[i] = problem
    probabilities = np.full((len(values), len(LABELS)), np.nan)
    if texts:
        found, failures = predict_texts(load_classifier(model), texts, 256)
        probabilities[slots] = found
        for j, message in failures.items():
            errors[slots[j]] = message
    known = ~np.isnan(probabilities).any(axis=1)
    best = np.where(known, np.nan_to_num(probabilities, nan=-1.0).argmax(axis=1), 0)
    scores = np.where(known, probabilities[np.arange(len(values)), best], np.nan)
    labels = [LABELS[b] if k else "" for b, k in zip(best.tolist(), known.tolist())]
    if min_score is not None:
        for i in np.flatnonzero(known & (scores < min_score)).tolist():
            labels[i] = ""
            errors[i] = f"score {scores[i]:.3f} below min_score {min_score}"
    out = df.copy()
    out["stance_label"] = pd.Series(labels, index=df.index, dtype=str)
    out["stance_score"] = pd.Series(scores, index=df.index, dtype="float64")
    for j, label in enumerate(LABELS):
        out[f"p_{label}"] = pd.Series(probabilities[:, j], index=df.index, dtype="float64")
    out["error"] = pd.Series(errors, index=df.index, dtype=str)
    return out
