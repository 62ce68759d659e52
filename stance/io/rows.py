"""What a row is, where a reader stands, and the one definition of a text that cannot be
classified (:func:`text_problem`), shared by batch files, data frames and labelled files."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from stance.text import prepare_text


@dataclass
class Record:
    """One row of an input file.

    Attributes:
        number: Its line number (text formats; the first line of a multi-line CSV record) or
            row number (Parquet: from 1; Excel: the sheet's row, the header being row 1).
        values: Its fields; for a line that could not be read at all, ``{}`` or (JSON Lines)
            the line itself in ``raw_line``.
        problem: Why the row could not be read, or ``None``.
    """

    number: int
    values: dict[str, Any]
    problem: str | None = None


@dataclass(frozen=True)
class Position:
    """Where a reader stands: ``offset`` bytes (text formats) or rows (Parquet, Excel)
    consumed, and the number of the last line or row read. Reading can restart from here."""

    offset: int = 0
    number: int = 0


def is_missing(value: object) -> bool:
    """``None``, NaN or a pandas missing value."""
    if value is None:
        return True
    if isinstance(value, float) and value != value:
        return True
    return type(value).__name__ in ("NAType", "NaTType")


def text_problem(value: object, column: str = "text") -> tuple[str | None, str | None]:
    """``(text, None)`` for a usable text (NFC-normalised), else ``(None, why)``.

    The one definition of a row that cannot be classified: a missing value, not a string,
    empty or only whitespace, or holding a NUL character (U+0000: a sign of a binary or UTF-16
    file read as text; the row is reported, never silently changed).

    >>> text_problem("  ", "body")
    (None, "field 'body' is empty or only whitespace; nothing to classify")
    >>> text_problem(None, "body")[1]
    "field 'body' must be str, got NoneType (a missing value)"
    >>> text_problem("a\\x00b", "body")[1]
    "field 'body' holds a NUL character (U+0000) at character 2; is the file binary or UTF-16?"
    """
    try:
        text = prepare_text(value)
    except (TypeError, ValueError) as exc:
        if isinstance(value, float) and value != value:
            return None, f"field {column!r} is a missing value (NaN), not a str"
        if type(value).__name__ in ("NAType", "NaTType"):
            return None, f"field {column!r} is a missing value ({value}), not a str"
        message = str(exc).replace("text ", f"field {column!r} ", 1)
        return None, message + (" (a missing value)" if value is None else "")
    nul = text.find("\x00")
    if nul >= 0:
        return None, (
            f"field {column!r} holds a NUL character (U+0000) at character {nul + 1}; "
            "is the file binary or UTF-16?"
        )
    return text, None
