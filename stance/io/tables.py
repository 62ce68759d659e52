"""Whole (small) files in memory: read every row, list the columns, write rows, for the
commands that need a file at once (evaluate, train, suggest) and for a web page that lets a user
pick the text column."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stance.errors import InputFileError, OutputFileError
from stance.io.formats import (
    JsonLinesReader,
    OutputSchema,
    Reader,
    open_reader,
    open_writer,
    output_format,
)
from stance.io.sources import STDIN


@dataclass
class Table:
    """The rows of a file, in order, with the column order and where each row is."""

    rows: list[dict[str, Any]]
    columns: list[str]
    format: str
    text_column: str
    line_numbers: list[int] = field(default_factory=list)
    path: Path | None = None
    unit: str = "line"
    notes: list[str] = field(default_factory=list)

    def where(self, i: int) -> str:
        """Where row ``i`` is in the file: ``"line 7"``, or ``"row 6"`` (Parquet, Excel)."""
        return f"{self.unit} {self.line_numbers[i]}"


def raise_row(reader: Reader, number: int, problem: str) -> None:
    """Raise an :class:`InputFileError` for row ``number`` of ``reader``."""
    if reader.unit == "line":
        raise InputFileError(reader.path, problem, line=number)
    raise InputFileError(reader.path, f"row {number}: {problem}")


def read_table(
    path: str | os.PathLike[str],
    text_column: str = "text",
    fmt: str | None = None,
    *,
    delimiter: str | None = None,
    encoding: str | None = None,
    sheet: str | int | None = None,
) -> Table:
    """Read a whole file of any format into memory, refusing it at the first unreadable row.

    Raises:
        InputFileError: the file is missing, malformed, or lacks the text column.

    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "x.tab"
    >>> _ = path.write_text("id\\ttext\\n1\\tTak\\n", encoding="utf-8")
    >>> read_table(path).rows
    [{'id': '1', 'text': 'Tak'}]
    """
    reader = open_reader(
        path, fmt, text_column, delimiter=delimiter, encoding=encoding, sheet=sheet
    )
    try:
        rows, numbers, columns = [], [], list(reader.columns or [])
        for record in reader.records():
            if record.problem is not None:
                raise_row(reader, record.number, record.problem)
            rows.append(record.values)
            numbers.append(record.number)
            if reader.columns is None:
                columns.extend(k for k in record.values if k not in columns)
        if reader.columns is None and rows and text_column not in columns:
            reader._check_column(columns)
        return Table(
            rows,
            columns,
            reader.format,
            text_column,
            numbers,
            None if str(path) == STDIN else Path(path),
            "row" if reader.unit == "row" else "line",
            list(reader.notes),
        )
    finally:
        reader.close()


def read_columns(
    path: str | os.PathLike[str],
    fmt: str | None = None,
    *,
    delimiter: str | None = None,
    encoding: str | None = None,
    sheet: str | int | None = None,
) -> list[str]:
    """The column names of a file (JSON Lines: the fields of its first 1,000 objects), without
    reading its rows: for letting a user pick the text column.

    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "x.csv"
    >>> _ = path.write_bytes("id;tekst;kilde\\n1;Tak;web\\n".encode("cp1252"))
    >>> read_columns(path)
    ['id', 'tekst', 'kilde']
    """
    reader = open_reader(path, fmt, None, delimiter=delimiter, encoding=encoding, sheet=sheet)
    try:
        if isinstance(reader, JsonLinesReader):
            return reader.peek_columns()
        return list(reader.columns or [])
    finally:
        reader.close()


def write_rows(
    rows: list[dict[str, Any]],
    columns: list[str],
    path: str | os.PathLike[str],
    fmt: str | None = None,
    *,
    excel: bool = False,
    types: dict[str, Any] | None = None,
) -> Path:
    """Write ``rows`` (their ``columns``, in order) to ``path`` atomically (a temporary file
    beside it, renamed at the end); the format from ``fmt`` or the extension. ``excel`` writes
    a CSV as Danish Excel opens it (``;`` and a UTF-8 byte order mark).

    Raises:
        OutputFileError: unknown extension, a directory, or the place cannot be written.
    """
    target = Path(path)
    out_fmt = check_output(target, fmt)
    schema = OutputSchema(list(columns), (), dict(types or {}))
    handle, temporary = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=".part", dir=target.parent
    )
    os.close(handle)
    part = Path(temporary)
    try:
        if out_fmt == "parquet":
            part.unlink()
        writer = open_writer(
            out_fmt,
            schema,
            part,
            delimiter=";" if excel and out_fmt == "csv" else None,
            bom=excel and out_fmt == "csv",
        )
        writer.write([{c: row.get(c) for c in columns} for row in rows])
        writer.finish(target)
    except BaseException:
        if part.is_dir():
            import shutil

            shutil.rmtree(part, ignore_errors=True)
        part.unlink(missing_ok=True)
        raise
    return target


def check_output(target: str | os.PathLike[str], fmt: str | None = None) -> str:
    """Check, before any work, that ``target`` can be written, and return its format: not a
    directory, a known extension (or ``fmt``), a folder that exists or can be made (it is
    made, last), a place this process may write.

    Raises:
        OutputFileError: saying which of these fails.
    """
    target = Path(target)
    if target.is_dir():
        raise OutputFileError(target, "is a directory; give a file name inside it")
    out_fmt = output_format(target, "csv", fmt)
    if target.exists() and not os.access(target, os.W_OK):
        raise OutputFileError(target, "exists and cannot be written (no permission)")
    parent = target.parent
    existing = parent
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise OutputFileError(target, f"{existing} is a file, not a folder")
    try:  # a probe file: permissions, read-only file systems, special folders
        handle, probe = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".probe", dir=existing)
        os.close(handle)
        os.unlink(probe)
    except OSError as exc:
        raise OutputFileError(target, f"cannot write in {existing}: {exc.strerror}") from exc
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputFileError(target, f"cannot make the folder {parent}: {exc.strerror}") from exc
    return out_fmt
