"""How many are against? The share of each stance in a corpus (per group or period), corrected
for the model's errors, with 95 % intervals.

Counting the labels of an imperfect classifier is biased: a model that calls some neutral texts
``against`` inflates ``against`` in every corpus with many neutral texts, by an amount that
changes with the corpus's own mix. :func:`estimate_shares` corrects the counts with the model's
confusion measured on labelled texts (see :mod:`stance.quantification` for the methods), from,
in order:

1. your own labelled sample, drawn at random from the corpus (``gold=``);
2. the model directory's ``real_text_confusion`` (numbers measured on real Danish text held out
   from training and model choice; never the texts);
3. nothing: the raw counts, with a warning.

Intervals are bootstrap percentile intervals over both uncertainties: the texts of each group
are resampled with replacement, and so is the labelled sample the confusion was measured on
(see :meth:`stance.quantification.Confusion.replicates`); ``n_bootstrap`` replicates, seeded.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from stance import quantification as qf
from stance.errors import ConfigError, LabelError, MissingDependencyError, ModelError
from stance.labels import LABEL2ID, LABELS

DEFAULT_METHOD = "pacc"
"""The method :func:`estimate_shares` corrects with unless told otherwise, from the model's
stored confusion: the one with the lowest error in ``benchmarks/shares_validation.py``
(see docs/shares.md)."""
DEFAULT_WITH_GOLD = "em"
"""The default with a labelled sample of the corpus, which wins there."""
FALLBACK = {"cc": "cc", "pcc": "pcc", "acc": "cc", "pacc": "pcc", "em": "pcc"}
"""What each method falls back to when there is nothing to correct with."""
EVERY = ("week", "month", "year")
LEVEL = 0.95
N_BOOTSTRAP = 1000
MIN_GROUP = 2
SMALL_GROUP = 30
WIDE = 0.30
"""An interval wider than this (30 points) is too wide to be useful; the group is flagged."""
LARGE_CORRECTION = 0.20
SMALL_GOLD = 100
CONFUSION_KEY = "real_text_confusion"
ALL = "all"
MISSING = "(missing)"
OPTIONS = {"gold_text_column", "gold_label_column", "label_map", "time_where", "time_column"}

METHOD_NAMES = {
    "cc": "classify and count (the share of texts given each label)",
    "pcc": "probabilistic classify and count (the mean of the label probabilities)",
    "acc": "adjusted classify and count (Forman)",
    "pacc": "probabilistic adjusted classify and count (Bella et al.)",
    "em": "expectation maximisation of the label shares (Saerens et al.)",
}


@dataclass(frozen=True)
class Shares:
    """The shares of each stance per group (and period), as plain rows.

    Attributes:
        rows: One dict per group: ``group`` (``"all"`` without ``by``), ``period`` (with
            ``time``), ``n`` (texts), and per label ``raw_<label>`` (the share of texts the model
            gives that label), ``share_<label>`` (the corrected share), ``low_<label>`` and
            ``high_<label>`` (its interval).
        method: The method used (``cc``, ``pcc``, ``acc``, ``pacc`` or ``em``).
        correction: Where the correction came from, in words.
        source: ``"gold"`` (your labelled sample), ``"model"`` (the model's real-text
            confusion), ``"given"`` (a confusion passed in) or ``"none"``.
        assumptions: The method and its assumptions, in two sentences.
        warnings: Things to know before using the numbers.
        advice: How many labelled texts narrow the intervals to the target width.
    """

    rows: tuple[dict[str, Any], ...]
    method: str
    correction: str
    source: str
    assumptions: str
    warnings: tuple[str, ...] = ()
    advice: str = ""
    labels: tuple[str, ...] = LABELS
    level: float = LEVEL
    n_bootstrap: int = N_BOOTSTRAP
    seed: int = 0
    confusion_n: int = 0
    has_period: bool = field(default=False, repr=False)

    @property
    def columns(self) -> list[str]:
        """The row keys, in table order."""
        head = ["group", *(["period"] if self.has_period else []), "n"]
        for prefix in ("raw", "share", "low", "high"):
            head += [f"{prefix}_{label}" for label in self.labels]
        return head

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of everything."""
        return {
            "method": self.method,
            "method_name": METHOD_NAMES[self.method],
            "correction": self.correction,
            "source": self.source,
            "confusion_n": self.confusion_n,
            "level": self.level,
            "n_bootstrap": self.n_bootstrap,
            "seed": self.seed,
            "assumptions": self.assumptions,
            "warnings": list(self.warnings),
            "advice": self.advice,
            "labels": list(self.labels),
            "columns": self.columns,
            "rows": [dict(row) for row in self.rows],
        }

    def to_frame(self) -> Any:
        """The rows as a pandas DataFrame (needs ``pip install "stance[pandas]"``)."""
        try:
            import pandas as pd
        except ImportError as exc:
            raise MissingDependencyError(
                'Shares.to_frame needs pandas; install it with: pip install "stance[pandas]"'
            ) from exc
        return pd.DataFrame([dict(row) for row in self.rows], columns=self.columns)

    def render(self) -> str:
        """The report as text: the table, the correction, the assumptions and the warnings."""
        return render(self)

    def write(self, path: str | os.PathLike[str]) -> Path:
        """Write the table as ``.csv`` / ``.tsv`` (rows) or ``.json`` (everything)."""
        return write_table(self, Path(path))

    def plot(self, path: str | os.PathLike[str]) -> Path:
        """Draw the shares with their intervals: ``.png`` (matplotlib, the ``train`` extra) or
        a self-contained ``.html`` with an inline SVG chart (no extra)."""
        from stance.shares_plot import plot_shares

        return plot_shares(self, Path(path))


# Inputs -------------------------------------------------------------------------------------


def period_of(value: Any, every: str) -> str:
    """The period (``"2024-03"``, ``"2024-W09"`` or ``"2024"``) of an ISO date.

    Raises:
        ValueError: the value is not an ISO date (the message says what it is).

    >>> period_of("2024-03-05", "month"), period_of("2024-03-05T10:00:00Z", "week")
    ('2024-03', '2024-W10')
    >>> period_of("2024-03", "year")
    '2024'
    """
    if every not in EVERY:
        raise ConfigError(f"every must be one of {EVERY}, got {every!r}")
    day: dt.date | None = None
    month: tuple[int, int] | None = None
    if isinstance(value, dt.datetime):
        day = value.date()
    elif isinstance(value, dt.date):
        day = value
    elif (
        isinstance(value, (int, np.integer))
        and not isinstance(value, bool)
        and 1000 <= value <= 9999
    ):
        if every != "year":
            raise ConfigError(f"{value!r} is a year only; --every {every} needs full dates")
        return str(int(value))
    elif isinstance(value, str):
        text = value.strip()
        if re.fullmatch(r"\d{4}", text):
            if every != "year":
                raise ConfigError(f"{value!r} is a year only; --every {every} needs full dates")
            return text
        if re.fullmatch(r"\d{4}-\d{2}", text):
            month = (int(text[:4]), int(text[5:]))
            if not 1 <= month[1] <= 12:
                raise ConfigError(f"{value!r} has no month {month[1]}")
            if every == "week":
                raise ConfigError(f"{value!r} has no day; --every week needs full dates")
        else:
            try:
                day = dt.datetime.fromisoformat(re.sub(r"Z$", "+00:00", text)).date()
            except ValueError:
                try:
                    day = dt.date.fromisoformat(text[:10])
                except ValueError:
                    day = None
                if day is None or not re.fullmatch(r"\d{4}-\d{2}-\d{2}([T ].*)?", text):
                    raise ConfigError(
                        f"cannot read {value!r} as an ISO date (YYYY-MM-DD, optionally with a "
                        "time, or YYYY-MM)"
                    ) from None
    else:
        missing = value is None or (isinstance(value, float) and math.isnan(value))
        what = "no date" if missing else f"a {type(value).__name__} ({value!r}), not a date"
        raise ConfigError(f"{what}; dates must be ISO dates (YYYY-MM-DD)")
    if month is not None:
        return f"{month[0]}" if every == "year" else f"{month[0]}-{month[1]:02d}"
    assert day is not None
    if every == "year":
        return f"{day.year}"
    if every == "month":
        return f"{day.year}-{day.month:02d}"
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def time_bins(
    values: Sequence[Any],
    every: str = "month",
    *,
    where: Sequence[str] | None = None,
    column: str | None = None,
) -> list[str]:
    """:func:`period_of` for every value; a bad one raises a :class:`ConfigError` naming its
    position (``where[i]``, e.g. ``"comments.csv, line 7"``) and ``column``."""
    if every not in EVERY:
        raise ConfigError(f"every must be one of {', '.join(EVERY)}, got {every!r}")
    out = []
    for i, value in enumerate(values):
        try:
            out.append(period_of(value, every))
        except ValueError as exc:
            place = where[i] if where is not None else f"time value at position {i}"
            col = f", column {column!r}" if column else ""
            raise ConfigError(f"{place}{col}: {exc}") from None
    return out


def group_key(value: Any) -> str:
    """A group value as text (missing values as ``"(missing)"``)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return MISSING
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value).strip()
    return text or MISSING


def check_probabilities(probabilities: Any, what: str = "probabilities") -> np.ndarray:
    """``(n, 3)`` finite probabilities in :data:`LABELS` order, rows summing to 1."""
    try:
        probs = np.asarray(probabilities, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{what} must be numbers, shape (n, {len(LABELS)}): {exc}") from None
    if probs.ndim != 2 or probs.shape[1] != len(LABELS):
        raise ConfigError(
            f"{what} must have shape (n, {len(LABELS)}) (one column per label in {LABELS}), "
            f"got {probs.shape}"
        )
    bad = ~np.isfinite(probs).all(axis=1) | (probs < -1e-9).any(axis=1)
    bad |= np.abs(probs.sum(axis=1) - 1.0) > 1e-3
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ConfigError(
            f"{what} row {i} is not a probability vector (finite, >= 0, summing to 1): "
            f"{probs[i].tolist()}"
        )
    return np.clip(probs, 0.0, 1.0)


def _labelled_files() -> Any:
    """The module with the labelled-file reader ``stance evaluate --input`` uses."""
    import stance.own_data.labelled as labelled

    return labelled


def _read_labelled_file(
    path: str | os.PathLike[str], text_column: str, label_column: str, label_map: Any
) -> tuple[list[str], list[str], str]:
    """Texts, labels and a sentence on the rows left out, of a labelled file."""
    data = _labelled_files().read_labelled(
        path, text_column=text_column, label_column=label_column, label_map=label_map
    )
    return data.texts, data.labels, data.skipped_sentence()


def _gold_labels(labels: Sequence[Any], where: str) -> np.ndarray:
    unknown: dict[str, int] = {}
    for label in labels:
        if label not in LABEL2ID:
            unknown[repr(label)] = unknown.get(repr(label), 0) + 1
    if unknown:
        listed = ", ".join(f"{value} ({count}x)" for value, count in unknown.items())
        raise LabelError(
            f"{where}: labels must be {', '.join(LABELS)}; found {listed}. A labelled sample "
            "from another label set cannot correct this model's shares: map its labels to "
            "these (label_map= / --label-map) or label a sample with them"
        )
    return np.array([LABEL2ID[label] for label in labels], dtype=int)


@dataclass
class _Gold:
    labels: np.ndarray
    probabilities: np.ndarray
    where: str
    notes: list[str] = field(default_factory=list)


def _resolve_gold(
    gold: Any,
    classify: Any,
    text_column: str,
    label_column: str,
    label_map: Any,
) -> _Gold:
    """``gold`` (a labelled file, ``(texts, labels)`` or ``(probabilities, labels)``) as true
    label indices and the model's probabilities."""
    notes: list[str] = []
    if isinstance(gold, (str, os.PathLike)):
        texts, labels, skipped = _read_labelled_file(gold, text_column, label_column, label_map)
        if skipped:
            notes.append(f"labelled sample: {skipped}")
        where = f"labelled sample {Path(gold).name}"
        y = _gold_labels(labels, where)
        probs = classify(texts) if texts else np.zeros((0, len(LABELS)))
    elif isinstance(gold, (tuple, list)) and len(gold) == 2:
        first, labels = gold
        if hasattr(first, "to_numpy"):  # pandas
            first = first.to_numpy()
        numeric = isinstance(first, np.ndarray) and first.dtype.kind in "fiu"
        first = first if numeric else list(first)
        labels = list(labels)
        if len(first) != len(labels):
            raise ConfigError(
                f"gold needs one label per text: {len(first)} texts, {len(labels)} labels"
            )
        where = "labelled sample"
        if label_map is not None:
            mapping = _labelled_files().parse_label_map(label_map) or {}
            labels = [mapping.get(str(label), label) for label in labels]
        y = _gold_labels(labels, where)
        if numeric or (len(first) and not isinstance(first[0], str)):
            probs = check_probabilities(first, "gold probabilities")
        else:
            probs = classify(list(first)) if len(first) else np.zeros((0, len(LABELS)))
    else:
        raise ConfigError(
            "gold must be a labelled file (path), (texts, labels) or (probabilities, labels); "
            f"got {type(gold).__name__}"
        )
    if len(y) < 2:
        raise LabelError(
            f"{where}: {len(y)} labelled text(s); a correction needs a random sample of at "
            "least a few dozen (see the advice on how many)"
        )
    return _Gold(y, probs, where, notes)


def _confusion_from_metadata(value: Any, path: Path, kind: str | None) -> tuple[qf.Confusion, str]:
    """The ``real_text_confusion`` of a model directory, checked, in :data:`LABELS` order."""

    def bad(problem: str) -> ModelError:
        return ModelError(path, f"metadata {CONFUSION_KEY!r}: {problem}")

    if not isinstance(value, Mapping):
        raise bad("must be a JSON object")
    block: Any = value
    if kind is not None:
        kinds = value.get("per_kind") or {}
        if kind not in kinds:
            raise ConfigError(
                f"the model's real-text confusion has no kind {kind!r}; kinds: "
                + (", ".join(sorted(kinds)) or "none")
            )
        block = kinds[kind]
        if not isinstance(block, Mapping):
            raise bad(f"per_kind[{kind!r}] must be a JSON object")
    labels = list(block.get("labels", value.get("labels", [])))
    if sorted(labels) != sorted(LABELS):
        raise bad(f"labels {labels!r} differ from {list(LABELS)}")
    order = [labels.index(label) for label in LABELS]
    try:
        counts = np.asarray(block["counts"], dtype=float)
        means = np.asarray(block["mean_probabilities"], dtype=float)
    except (KeyError, TypeError, ValueError) as exc:
        raise bad(f"needs numeric 'counts' and 'mean_probabilities' ({exc})") from None
    squares = block.get("mean_squared_probabilities")
    try:
        squares = None if squares is None else np.asarray(squares, dtype=float)
    except (TypeError, ValueError) as exc:
        raise bad(f"'mean_squared_probabilities' must be numbers ({exc})") from None
    k = len(LABELS)
    for name, matrix in (
        ("counts", counts),
        ("mean_probabilities", means),
        ("mean_squared_probabilities", squares),
    ):
        if matrix is not None and (matrix.shape != (k, k) or not np.isfinite(matrix).all()):
            raise bad(f"{name!r} must be a {k}x{k} matrix of finite numbers")
    if (counts < 0).any() or counts.sum() < 1:
        raise bad("'counts' must be non-negative and hold at least one text")
    counts = counts[np.ix_(order, order)]
    means = means[np.ix_(order, order)]
    if squares is not None:
        squares = squares[np.ix_(order, order)]
    confusion = qf.Confusion.from_summary(counts, means, squares)
    return confusion, str(value.get("source") or "")


def _given_confusion(confusion: Any) -> qf.Confusion:
    if isinstance(confusion, qf.Confusion):
        return confusion
    conf, _ = _confusion_from_metadata(confusion, Path("<confusion>"), None)
    return conf


# The estimate -------------------------------------------------------------------------------


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _assumptions(method: str, source: str) -> str:
    if method in qf.ADJUSTED:
        where = {
            "gold": "your labelled sample",
            "model": "the real Danish texts the model's confusion was measured on",
            "given": "the labelled texts the confusion was measured on",
        }[source]
        return (
            f"{_sentence(METHOD_NAMES[method])} undoes the model's typical errors, assuming "
            f"prior shift: texts of each stance look alike to the model in every group and in "
            f"{where}, so only the mix of stances differs. That is doubtful when a group differs "
            "in kind of text (comments or news), topic or time from those texts"
            + (
                "; a labelled random sample of your own corpus (--gold) removes most of the doubt."
                if source != "gold"
                else "; your sample comes from your corpus, which removes most of the doubt for "
                "the corpus as a whole."
            )
        )
    return (
        f"{_sentence(METHOD_NAMES[method])} takes the model's labels at face value, so its "
        "shares carry the model's errors (e.g. neutral texts called against inflate against). "
        "The intervals cover only the sampling of your texts, not that bias."
    )


def _advice(half_width: float, rates: np.ndarray | None, level: float) -> str:
    n = qf.labelled_needed(half_width, rates, level)
    return (
        f"For intervals of about ±{half_width * 100:.0f} points, label about {n} texts drawn at "
        "random from this corpus (every text equally likely; not the texts `stance suggest` "
        "picks, which are chosen for being hard and would bias the correction) and pass them "
        "as the labelled sample (--gold / gold=)."
    )


def estimate_shares_from_probabilities(
    probabilities: Any,
    *,
    groups: Sequence[Any] | None = None,
    time: Sequence[Any] | None = None,
    every: str = "month",
    model: str | os.PathLike[str] | None = None,
    gold: Any = None,
    method: str | None = None,
    confusion: Any = None,
    kind: str | None = None,
    n_bootstrap: int = N_BOOTSTRAP,
    seed: int = 0,
    level: float = LEVEL,
    min_group: int = MIN_GROUP,
    drop_small: bool = False,
    target_width: float = 0.10,
    gold_text_column: str = "text",
    gold_label_column: str = "label",
    label_map: Any = None,
    time_where: Sequence[str] | None = None,
    time_column: str | None = None,
) -> Shares:
    """:func:`estimate_shares` for texts already classified.

    Args:
        probabilities: ``(n, 3)`` calibrated probabilities in :data:`LABELS` order (e.g. the
            ``p_against``, ``p_for``, ``p_neutral`` columns of ``stance classify``).
        groups: One group value per text (``None``: one group, ``"all"``).
        time: One ISO date per text; the shares are then given per ``every`` (``"week"``,
            ``"month"`` or ``"year"``) within each group.
        model: The model that gave the probabilities (its ``real_text_confusion`` corrects
            when no ``gold`` is given; its classifier labels ``gold`` texts).
        gold: A labelled random sample of the corpus: a labelled file, ``(texts, labels)`` or
            ``(probabilities, labels)``.
        method: ``"cc"``, ``"pcc"``, ``"acc"``, ``"pacc"`` or ``"em"`` (default
            :data:`DEFAULT_METHOD`, or :data:`DEFAULT_WITH_GOLD` with ``gold``).
        confusion: A confusion to correct with instead (a dict shaped like the metadata's
            ``real_text_confusion``, or a :class:`stance.quantification.Confusion`).
        kind: Use the model's confusion measured on one kind of text only (e.g.
            ``"comment"``), when its metadata has it.
        n_bootstrap, seed, level: The bootstrap intervals.
        min_group: Groups with fewer texts are refused (or left out with ``drop_small``).
        target_width: The interval width the advice on how many texts to label aims at.

    Raises:
        ConfigError: bad arguments, a group smaller than ``min_group``, an unreadable date.
        LabelError, InputFileError: a labelled sample with other labels, or unreadable.
        ModelError: the model (or its stored confusion) cannot be used.
    """
    probs = check_probabilities(probabilities)
    n = len(probs)
    if n == 0:
        raise ConfigError("no texts to estimate shares of")
    if method is not None and method not in qf.METHODS:
        raise ConfigError(f"unknown method {method!r}; use one of {', '.join(qf.METHODS)}")
    if n_bootstrap < 10:
        raise ConfigError(f"n_bootstrap must be at least 10, got {n_bootstrap}")
    if not 0.5 <= level < 1:
        raise ConfigError(f"level must be between 0.5 and 1, got {level}")
    if not 0 < target_width < 1:
        raise ConfigError(f"target_width must be between 0 and 1, got {target_width}")
    keys = [ALL] * n if groups is None else [group_key(g) for g in groups]
    if len(keys) != n:
        raise ConfigError(f"groups must give one value per text: {n} texts, {len(keys)} groups")
    periods: list[str] | None = None
    if time is not None:
        time = list(time)
        if len(time) != n:
            raise ConfigError(f"time must give one date per text: {n} texts, {len(time)} dates")
        periods = time_bins(time, every, where=time_where, column=time_column)
    warnings: list[str] = []

    # where the correction comes from
    source, conf, description = "none", None, ""
    classifier = None

    def classify(texts: list[str]) -> np.ndarray:
        nonlocal classifier
        if classifier is None:
            from stance.api import load_classifier

            classifier = load_classifier(model)
        return _predict(classifier, texts)

    if confusion is not None:
        conf = _given_confusion(confusion)
        source = "given"
        description = f"corrected with the given confusion, measured on {conf.n} texts"
    elif gold is not None:
        sample = _resolve_gold(gold, classify, gold_text_column, gold_label_column, label_map)
        warnings += sample.notes
        conf = qf.Confusion.from_predictions(sample.labels, sample.probabilities)
        source = "gold"
        description = (
            f"corrected with your labelled sample of {conf.n} texts ({sample.where}), "
            "assumed drawn at random from this corpus"
        )
        if conf.n < SMALL_GOLD:
            warnings.append(
                f"your labelled sample has only {conf.n} texts, so the correction is uncertain "
                "and the intervals are wide"
            )
    else:
        from stance.modeldir import read_metadata, resolve_model_dir

        path = resolve_model_dir(model)
        meta = read_metadata(path)
        stored = meta.get(CONFUSION_KEY)
        if stored is not None:
            conf, what = _confusion_from_metadata(stored, path, kind)
            source = "model"
            description = (
                f"corrected with the model's real-text confusion, measured on {conf.n} texts"
                + (f" of kind {kind!r}" if kind else "")
                + (f" ({what})" if what else "")
            )
        elif kind is not None:
            raise ConfigError(f"kind={kind!r} needs a model with a stored {CONFUSION_KEY!r}")
    if conf is not None and kind is not None and source != "model":
        warnings.append(f"kind={kind!r} applies to the model's stored confusion; it was not used")
    if conf is not None:
        missing = [LABELS[i] for i in range(len(LABELS)) if conf.counts[i].sum() == 0]
        if missing:
            warnings.append(
                "no labelled text is "
                + " or ".join(repr(m) for m in missing)
                + "; the correction assumes the model never errs on such texts"
            )

    chosen = method or (DEFAULT_WITH_GOLD if source == "gold" else DEFAULT_METHOD)
    if conf is None:
        fallback = FALLBACK[chosen]
        warnings.insert(
            0,
            "not corrected: no labelled sample was given and the model stores no real-text "
            f"confusion ({CONFUSION_KEY}), so these are raw {fallback} shares, biased by the "
            "model's errors"
            + (f" (method {chosen!r} needs a correction)" if chosen != fallback else ""),
        )
        chosen = fallback
        description = "not corrected (no labelled sample, no stored confusion)"

    # groups
    order: dict[tuple[str, str | None], list[int]] = {}
    for i, key in enumerate(keys):
        order.setdefault((key, None if periods is None else periods[i]), []).append(i)
    cells = sorted(order)
    small = [c for c in cells if len(order[c]) < min_group]
    if small:
        names = ", ".join(
            _cell_name(c) + f" ({len(order[c])} text{'s' * (len(order[c]) != 1)})"
            for c in small[:5]
        )
        if not drop_small:
            raise ConfigError(
                f"{len(small)} group(s) have fewer than {min_group} texts: {names}"
                + (" and more" if len(small) > 5 else "")
                + ". A share of so few texts says nothing; merge groups (a coarser --every), "
                "or leave them out with --drop-small (drop_small=True)"
            )
        warnings.append(
            f"left out {len(small)} group(s) with fewer than {min_group} texts: {names}"
        )
        cells = [c for c in cells if c not in small]
        if not cells:
            raise ConfigError(f"every group has fewer than {min_group} texts")

    rng = np.random.default_rng(seed)
    replicates = conf.replicates(rng, n_bootstrap) if conf is not None else None
    rows = []
    for c in cells:
        idx = order[c]
        part = probs[idx]
        raw = qf.classify_and_count(part)
        point = qf.estimate(chosen, part, conf)
        boot = qf.bootstrap(chosen, part, conf, replicates, rng, n_bootstrap)
        low, high = qf.percentile_interval(boot, level)
        low, high = np.minimum(low, point), np.maximum(high, point)
        row: dict[str, Any] = {"group": c[0]}
        if periods is not None:
            row["period"] = c[1]
        row["n"] = len(idx)
        for prefix, values in (("raw", raw), ("share", point), ("low", low), ("high", high)):
            for label, value in zip(LABELS, values):
                row[f"{prefix}_{label}"] = round(float(value), 6)
        rows.append(row)
        half = float((high - low).max()) / 2
        if len(idx) < SMALL_GROUP or 2 * half > WIDE:
            warnings.append(
                f"{_cell_name(c)}: only {len(idx)} texts; its intervals (up to ±"
                f"{half * 100:.0f} points) are too wide to be useful"
                if len(idx) < SMALL_GROUP
                else f"{_cell_name(c)}: intervals up to ±{half * 100:.0f} points are too wide "
                "to be useful"
            )
        moved = np.abs(point - raw)
        if chosen in qf.ADJUSTED and moved.max() > LARGE_CORRECTION:
            label = LABELS[int(moved.argmax())]
            warnings.append(
                f"{_cell_name(c)}: the correction moved {label!r} by {moved.max() * 100:.0f} "
                "points; a correction this large leans hard on the prior-shift assumption"
                + ("; check it with a labelled random sample (--gold)" if source != "gold" else "")
            )
    rates = conf.rates if conf is not None else None
    if chosen == "pacc" and conf is not None:
        rates = conf.mean_probabilities
    return Shares(
        rows=tuple(rows),
        method=chosen,
        correction=description,
        source=source,
        assumptions=_assumptions(chosen, source),
        warnings=tuple(warnings),
        advice=_advice(target_width / 2, rates, level),
        level=level,
        n_bootstrap=n_bootstrap,
        seed=seed,
        confusion_n=0 if conf is None else conf.n,
        has_period=periods is not None,
    )


def _cell_name(cell: tuple[str, str | None]) -> str:
    group, period = cell
    if period is None:
        return f"group {group!r}"
    return f"period {period}" if group == ALL else f"group {group!r}, period {period}"


def _predict(
    classifier: Any, texts: Sequence[str], batch_size: int = 256, bar: Any = None
) -> np.ndarray:
    out = []
    for start in range(0, len(texts), batch_size):
        batch = list(texts[start : start + batch_size])
        out.append(classifier.predict_proba(batch))
        if bar is not None:
            bar.update(len(batch))
    return np.concatenate(out) if out else np.zeros((0, len(LABELS)))


def estimate_shares(
    texts: Sequence[str],
    *,
    by: Sequence[Any] | None = None,
    gold: Any = None,
    method: str | None = None,
    model: str | os.PathLike[str] | None = None,
    time: Sequence[Any] | None = None,
    every: str = "month",
    kind: str | None = None,
    n_bootstrap: int = N_BOOTSTRAP,
    seed: int = 0,
    level: float = LEVEL,
    min_group: int = MIN_GROUP,
    drop_small: bool = False,
    target_width: float = 0.10,
    batch_size: int = 256,
    progress: bool = False,
    **options: Any,
) -> Shares:
    """The share of each stance among ``texts`` (per group of ``by``), corrected for the
    model's errors, with 95 % intervals.

    Args:
        texts: The corpus, each a non-empty ``str``.
        by: One group value per text (e.g. the municipality or the source), or ``None``.
        gold: A random sample of the corpus that you labelled: a labelled file (as
            ``stance evaluate --input`` reads) or ``(texts, labels)``. It corrects the shares
            with the model's errors on *your* texts. Without it, the model's stored real-text
            confusion is used; without that, the raw counts, with a warning.
        method: ``"cc"``, ``"pcc"``, ``"acc"``, ``"pacc"`` or ``"em"``; default
            :data:`DEFAULT_METHOD` (``pacc``), or :data:`DEFAULT_WITH_GOLD` (``em``) with
            ``gold``.
        model: ``None``/``"baseline"``, ``"bert"`` or a model directory.
        time, every: One ISO date per text, and the period (``"week"``, ``"month"``,
            ``"year"``) to give shares for.
        kind, n_bootstrap, seed, level, min_group, drop_small, target_width: See
            :func:`estimate_shares_from_probabilities`.
        options: ``gold_text_column``, ``gold_label_column``, ``label_map`` for a labelled
            file; ``time_where``, ``time_column`` to name where a bad date is.

    Returns:
        A :class:`Shares`; ``.rows`` per group, ``.to_frame()``, ``.render()``, ``.plot()``.
    """
    from stance.api import load_classifier
    from stance.text import prepare_texts

    unknown = set(options) - OPTIONS
    if unknown:
        raise ConfigError(f"estimate_shares() got unexpected keyword argument(s) {sorted(unknown)}")
    checked = prepare_texts(texts)
    if time is not None:  # refuse a bad date before classifying anything
        time = list(time)
        if len(time) == len(checked):
            time_bins(
                time, every, where=options.get("time_where"), column=options.get("time_column")
            )
    classifier = load_classifier(model)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(checked), unit="text", desc="classify", leave=False)
    probs = _predict(classifier, checked, batch_size, bar)
    if bar is not None:
        bar.close()
    return estimate_shares_from_probabilities(
        probs,
        groups=by,
        time=time,
        every=every,
        model=model,
        gold=gold,
        method=method,
        kind=kind,
        n_bootstrap=n_bootstrap,
        seed=seed,
        level=level,
        min_group=min_group,
        drop_small=drop_small,
        target_width=target_width,
        **options,
    )


# Output -------------------------------------------------------------------------------------


def _pct(value: float) -> str:
    return f"{value * 100:.1f}"


def render(shares: Shares) -> str:
    """The report as text."""
    lines = [
        f"Shares of each stance, {shares.method} ({METHOD_NAMES[shares.method]}), "
        f"{shares.level * 100:g} % bootstrap intervals ({shares.n_bootstrap} replicates, seed "
        f"{shares.seed})",
        shares.correction[:1].upper() + shares.correction[1:] + ".",
        "",
    ]
    head = ["group", *(["period"] if shares.has_period else []), "n"]
    head += [f"{label} % [interval] (raw)" for label in shares.labels]
    table = [head]
    for row in shares.rows:
        cells = [str(row["group"]), *([str(row["period"])] if shares.has_period else [])]
        cells.append(str(row["n"]))
        for label in shares.labels:
            cells.append(
                f"{_pct(row[f'share_{label}'])} [{_pct(row[f'low_{label}'])}, "
                f"{_pct(row[f'high_{label}'])}] ({_pct(row[f'raw_{label}'])})"
            )
        table.append(cells)
    widths = [max(len(r[i]) for r in table) for i in range(len(head))]
    for r in table:
        lines.append("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
    lines += ["", shares.assumptions]
    if shares.warnings:
        lines += ["", "Warnings:"] + [f"- {w}" for w in shares.warnings]
    if shares.advice:
        lines += ["", shares.advice]
    return "\n".join(lines)


def write_table(shares: Shares, path: Path) -> Path:
    """Write ``.csv``/``.tsv`` (the rows) or ``.json`` (everything), atomically."""
    import csv
    import io
    import json

    suffix = path.suffix.lower()
    if suffix == ".json":
        body = json.dumps(shares.to_dict(), ensure_ascii=False, indent=1) + "\n"
    elif suffix in (".csv", ".tsv"):
        buffer = io.StringIO()
        writer = csv.DictWriter(
            buffer, fieldnames=shares.columns, delimiter="\t" if suffix == ".tsv" else ","
        )
        writer.writeheader()
        writer.writerows(shares.rows)
        body = buffer.getvalue()
    else:
        raise ConfigError(f"{path}: write shares as .csv, .tsv or .json, not {path.suffix!r}")
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(body, encoding="utf-8")
    os.replace(temporary, path)
    return path
