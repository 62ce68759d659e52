"""A user's own files: read a table of texts (and labels) for evaluating, training and suggesting.

Every format is read through the one file layer, :mod:`stance.io` (CSV with any delimiter and
encoding, TSV and ``.tab``, JSON Lines, text with one text a line, Parquet and Excel).

Rows whose text or label is missing are kept out of the examples but counted and listed, with
their line numbers, in :meth:`LabelledData.summary`. Labels must be ``against``, ``for`` or
``neutral`` unless mapped (``label_map="imod=against,for=for,neutral=neutral"``); anything else
is refused with a message that lists what the file holds.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stance.errors import ConfigError, InputFileError, LabelError
from stance.io import Table, detect_format, read_table
from stance.io.rows import is_missing
from stance.io.rows import text_problem as _text_problem
from stance.labels import LABELS

MIN_EXAMPLES = 5
"""Fewest examples of each label that training (and its k-fold cross-validation) accepts."""

UserTable = Table
"""The rows of a user's file (:class:`stance.io.Table`): ``rows``, ``columns``, ``format``,
``path`` and :meth:`~stance.io.Table.where` for a row's line or row number."""


def table_format(path: Path) -> str:
    """The format of ``path`` from its extension (see :func:`stance.io.detect_format`).

    >>> table_format(Path("gold.tab")), table_format(Path("gold.parquet"))
    ('tsv', 'parquet')
    """
    return detect_format(path)


def read_user_table(
    path: str | os.PathLike[str],
    text_column: str = "text",
    *,
    delimiter: str | None = None,
    encoding: str | None = None,
    sheet: str | int | None = None,
) -> Table:
    """Read a file of any format :mod:`stance.io` reads into a :class:`stance.io.Table`.

    Raises:
        InputFileError: the file is missing, of an unknown format, not in its encoding,
            malformed, or lacks ``text_column``; the message names the file and line.
        MissingDependencyError: a Parquet file without pyarrow, an Excel file without openpyxl.
    """
    return read_table(path, text_column, delimiter=delimiter, encoding=encoding, sheet=sheet)


def parse_label_map(spec: str | Mapping[str, str] | None) -> dict[str, str] | None:
    """A label mapping from ``"imod=against,for=for"`` (or a dict), checked.

    >>> parse_label_map("imod=against, positiv=for,neutral=neutral")
    {'imod': 'against', 'positiv': 'for', 'neutral': 'neutral'}
    >>> parse_label_map("imod=nej")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    stance.errors.ConfigError: label map: 'imod=nej' maps to 'nej'; map each value to one of ...
    """
    if spec is None:
        return None
    pairs: list[tuple[str, str]]
    if isinstance(spec, str):
        pairs = []
        for item in (part.strip() for part in spec.split(",")):
            if not item:
                continue
            if "=" not in item:
                raise ConfigError(
                    f"label map: {item!r} has no '='; write it like "
                    '"imod=against,for=for,neutral=neutral"'
                )
            source, target = (s.strip() for s in item.rsplit("=", 1))
            pairs.append((source, target))
    else:
        pairs = [(str(k).strip(), str(v).strip()) for k, v in spec.items()]
    mapping: dict[str, str] = {}
    for source, target in pairs:
        if not source:
            raise ConfigError(f"label map: empty value before '={target}'")
        if target not in LABELS:
            raise ConfigError(
                f"label map: '{source}={target}' maps to {target!r}; map each value to one of "
                + ", ".join(LABELS)
            )
        if source in mapping and mapping[source] != target:
            raise ConfigError(f"label map: {source!r} is mapped twice")
        mapping[source] = target
    if not mapping:
        raise ConfigError("label map is empty")
    return mapping


def label_value(value: Any) -> str | None:
    """A cell as a label string (``None`` when missing or empty); ``1.0`` reads as ``"1"``.

    >>> label_value(" for "), label_value(""), label_value(None), label_value(-1.0)
    ('for', None, None, '-1')
    """
    if value is None:
        return None
    if isinstance(value, float):
        if value != value:  # NaN, as pandas writes missing values
            return None
        if value.is_integer():
            value = int(value)
    text = str(value).strip()
    return text or None


def text_problem(value: Any) -> str | None:
    """Why a cell is not a usable text, in a few words (``None`` when it is), by the one
    definition of :func:`stance.io.text_problem`.

    >>> text_problem(None), text_problem(" "), text_problem(3), text_problem("Tak")
    ('no text', 'empty text', 'text is int, not a string', None)
    """
    _, problem = _text_problem(value)
    if problem is None:
        return None
    if is_missing(value):
        return "no text"
    if not isinstance(value, str):
        return f"text is {type(value).__name__}, not a string"
    if not value.strip():
        return "empty text"
    return "text holds a NUL character"


@dataclass
class LabelledData:
    """The usable examples of a labelled file, and what was left out."""

    texts: list[str]
    labels: list[str]
    positions: list[str]  # where each example is in the file ("line 7")
    n_rows: int
    skipped: list[dict[str, str]] = field(default_factory=list)
    missing_text: int = 0
    missing_label: int = 0
    path: Path | None = None
    text_column: str = "text"
    label_column: str = "label"
    label_map: dict[str, str] | None = None

    def label_counts(self) -> dict[str, int]:
        counts = Counter(self.labels)
        return {label: counts[label] for label in LABELS}

    def sha256(self) -> str:
        """A fingerprint of the examples (texts and labels, in order)."""
        body = json.dumps([self.texts, self.labels], ensure_ascii=False).encode("utf-8")
        return hashlib.sha256(body).hexdigest()

    def summary(self, listed: int = 50) -> dict[str, Any]:
        """Rows read, used and left out (with where and why, the first ``listed`` of them)."""
        return {
            "file": None if self.path is None else str(self.path),
            "text_column": self.text_column,
            "label_column": self.label_column,
            "label_map": self.label_map,
            "rows_read": self.n_rows,
            "rows_used": len(self.texts),
            "rows_skipped": len(self.skipped),
            "missing_text": self.missing_text,
            "missing_label": self.missing_label,
            "skipped": self.skipped[:listed],
            "label_counts": self.label_counts(),
        }

    def skipped_sentence(self) -> str:
        """One line for people: how many rows were left out and where (empty when none)."""
        if not self.skipped:
            return ""
        where = ", ".join(s["where"] for s in self.skipped[:10])
        more = f" and {len(self.skipped) - 10} more" if len(self.skipped) > 10 else ""
        return (
            f"{len(self.skipped)} of {self.n_rows} rows left out ({self.missing_text} without a "
            f"text, {self.missing_label} without a label): {where}{more}"
        )


def _unknown_labels_message(
    found: Counter[str], first: dict[str, str], column: str, mapped: bool
) -> str:
    listed = ", ".join(
        f"{value!r} ({count} rows, first at {first[value]})" for value, count in found.most_common()
    )
    guesses = []
    for value in sorted(found, key=lambda v: -found[v]):
        guess = next((label for label in LABELS if value.casefold() == label), "?")
        guesses.append(f"{value}={guess}")
    return (
        f"column {column!r} holds label(s) other than {', '.join(LABELS)}: {listed}. "
        + ("They are not in --label-map either. " if mapped else "")
        + f'Map them, e.g. --label-map "{",".join(guesses)}" (label_map= in Python), '
        "replacing each ? with against, for or neutral"
    )


def labelled_from_table(
    table: Table,
    *,
    text_column: str = "text",
    label_column: str = "label",
    label_map: str | Mapping[str, str] | None = None,
) -> LabelledData:
    """The examples of a table; see :func:`read_labelled`."""
    from stance.text import prepare_text

    mapping = parse_label_map(label_map)
    if table.rows and label_column not in table.columns:
        raise InputFileError(
            table.path or "-",
            f"no column {label_column!r}; columns are {table.columns}. Pass --label-column NAME",
            column=label_column,
        )
    data = LabelledData(
        [],
        [],
        [],
        len(table.rows),
        path=table.path,
        text_column=text_column,
        label_column=label_column,
        label_map=mapping,
    )
    unknown: Counter[str] = Counter()
    first: dict[str, str] = {}
    for i, row in enumerate(table.rows):
        where = table.where(i)
        problem = text_problem(row.get(text_column))
        label = label_value(row.get(label_column))
        if label is not None and mapping is not None:
            label = mapping.get(label, label)
        reasons = []
        if problem is not None:
            data.missing_text += 1
            reasons.append(problem)
        if label is None:
            data.missing_label += 1
            reasons.append("no label")
        if reasons or label is None:
            data.skipped.append({"where": where, "reason": " and ".join(reasons)})
            continue
        if label not in LABELS:
            unknown[label] += 1
            first.setdefault(label, where)
            continue
        data.texts.append(prepare_text(row[text_column]))
        data.labels.append(label)
        data.positions.append(where)
    if unknown:
        raise InputFileError(
            table.path or "-",
            _unknown_labels_message(unknown, first, label_column, mapping is not None),
            column=label_column,
        )
    return data


def read_labelled(
    path: str | os.PathLike[str],
    *,
    text_column: str = "text",
    label_column: str = "label",
    label_map: str | Mapping[str, str] | None = None,
    delimiter: str | None = None,
    encoding: str | None = None,
    sheet: str | int | None = None,
) -> LabelledData:
    """Read a labelled file: CSV, TSV/``.tab``, JSON Lines, Parquet or Excel ``.xlsx``.

    Args:
        path: The file.
        text_column: Column (or JSON field) with the text.
        label_column: Column with the label.
        label_map: Your labels → stance's, as ``"imod=against,for=for"`` or a dict; values
            already named ``against``/``for``/``neutral`` need no entry.
        delimiter, encoding, sheet: How to read the file (see :func:`stance.io.open_reader`;
            by default detected).

    Raises:
        InputFileError: unreadable file, missing column, or labels outside
            :data:`stance.LABELS` that the map does not cover (the message lists them).
    """
    table = read_user_table(path, text_column, delimiter=delimiter, encoding=encoding, sheet=sheet)
    return labelled_from_table(
        table, text_column=text_column, label_column=label_column, label_map=label_map
    )


def check_labels(labels: Sequence[Any]) -> list[str]:
    """``labels`` as strings of :data:`LABELS`, or a :class:`LabelError` listing the others.

    >>> check_labels(["for", "against"])
    ['for', 'against']
    >>> check_labels(["for", "imod", "imod"])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    stance.errors.LabelError: labels must be against, for or neutral; found 'imod' (2 times, ...
    """
    unknown: Counter[str] = Counter()
    first: dict[str, int] = {}
    for i, label in enumerate(labels):
        if label not in LABELS:
            unknown[repr(label)] += 1
            first.setdefault(repr(label), i)
    if unknown:
        listed = ", ".join(
            f"{value} ({count} time{'s' * (count > 1)}, first at position {first[value]})"
            for value, count in unknown.most_common()
        )
        raise LabelError(
            f"labels must be {', '.join(LABELS[:-1])} or {LABELS[-1]}; found {listed}. Map them to "
            "these labels first (read_labelled(..., label_map=...) does it for a file)"
        )
    return list(labels)


def check_enough_examples(
    labels: Sequence[str], minimum: int = MIN_EXAMPLES, source: str | None = None
) -> dict[str, int]:
    """Label counts, or a :class:`LabelError` when a label has fewer than ``minimum`` examples.

    >>> check_enough_examples(["for"] * 5 + ["against"] * 5 + ["neutral"] * 4)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    stance.errors.LabelError: too few examples: each label needs at least 5 ...
    """
    counts = Counter(labels)
    found = {label: counts[label] for label in LABELS}
    short = [label for label, n in found.items() if n < minimum]
    if short:
        where = f"{source}: " if source else ""
        raise LabelError(
            f"{where}too few examples: each label needs at least {minimum} (to train on it and "
            f"to score it in {minimum}-fold cross-validation); found "
            + ", ".join(f"{label} {n}" for label, n in found.items())
            + ". Label more texts of "
            + ", ".join(repr(label) for label in short)
            + " (stance suggest picks texts worth labelling)"
        )
    return found
