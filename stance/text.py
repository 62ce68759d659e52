"""Checking and normalising the texts that users pass in."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from stance.errors import EmptyTextError, TextTypeError


def prepare_text(text: object, position: int | None = None) -> str:
    """Return ``text`` NFC-normalised, or raise a clear error.

    Args:
        text: The text to check.
        position: Its index in a batch, named in the error message when given.

    Raises:
        TextTypeError: ``text`` is not a ``str``.
        EmptyTextError: ``text`` is empty or only whitespace.

    >>> prepare_text("Ma\u030ale") == "Måle"
    True
    """
    where = "" if position is None else f" at position {position}"
    if not isinstance(text, str):
        hint = " (decode bytes first, e.g. data.decode('utf-8'))" if isinstance(text, bytes) else ""
        raise TextTypeError(f"text{where} must be str, got {type(text).__name__}{hint}")
    text = unicodedata.normalize("NFC", text)
    if not text.strip():
        raise EmptyTextError(f"text{where} is empty or only whitespace; nothing to classify")
    return text


def prepare_texts(texts: Iterable[object]) -> list[str]:
    """Apply :func:`prepare_text` to each text, naming the position of a bad one."""
    if isinstance(texts, (str, bytes)):
        raise TextTypeError(
            "texts must be an iterable of str, not a single "
            f"{type(texts).__name__}; use classify() for one text"
        )
    return [prepare_text(text, i) for i, text in enumerate(texts)]
