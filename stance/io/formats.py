"""Readers and writers, one per format, streamed a record at a time with resumable positions:
CSV (any of ``,`` ``;`` tab ``|``, sniffed), TSV (``.tsv``, ``.tab``), JSON Lines, plain text
(one text a line), Parquet and Excel ``.xlsx`` (:mod:`stance.io.excel`).

Readers never stop at a bad row: a row that cannot be read (malformed JSON or CSV, a wrong
number of fields, bytes that are not in the file's encoding) comes back as a :class:`Record`
with a ``problem`` and the reader goes on with the next row. Only an input that cannot be read
at all (missing, a directory, no header, no text column) raises
:class:`stance.errors.InputFileError`. Parquet needs ``pyarrow`` (``stance[parquet]``), Excel
``openpyxl`` (``stance[excel]``), imported only when such a file is used.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import stat
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from stance.errors import InputFileError, OutputFileError
from stance.extras import require
from stance.io.rows import Position, Record
from stance.io.sources import (
    BOM,
    STDIN,
    ascii_compatible,
    check_encoding,
    detect_encoding,
    sniff_delimiter,
    sniff_format,
    spool,
    stdin,
    transcode,
)

FORMATS = ("csv", "tsv", "jsonl", "txt", "parquet", "xlsx")
OUTPUT_FORMATS = ("csv", "tsv", "jsonl", "parquet", "xlsx")
TEXT_FORMATS = ("csv", "tsv", "jsonl", "txt")
SEEKING_FORMATS = ("parquet", "xlsx")
SUFFIXES = {
    "csv": "csv",
    "tsv": "tsv",
    "tab": "tsv",
    "jsonl": "jsonl",
    "ndjson": "jsonl",
    "json": "jsonl",
    "txt": "txt",
    "text": "txt",
    "": "txt",
    "parquet": "parquet",
    "pq": "parquet",
    "xlsx": "xlsx",
}
OUTPUT_SUFFIXES = {k: v for k, v in SUFFIXES.items() if v in OUTPUT_FORMATS}
EXCEL_DELIMITER = ";"


PLUGINS: dict[tuple[str, str], str] = {
    ("xlsx", "reader"): "stance.io.excel:XlsxReader",
    ("xlsx", "writer"): "stance.io.excel:XlsxWriter",
}
"""Readers and writers that live in their own module (built on the classes here), imported on
first use: format and role -> ``"module:Class"``."""


def _plugin(fmt: str, role: str) -> Any:
    """The reader or writer class of ``fmt`` from :data:`PLUGINS`."""
    import importlib

    module, name = PLUGINS[(fmt, role)].split(":")
    return getattr(importlib.import_module(module), name)


def require_pyarrow() -> Any:
    """Import ``pyarrow.parquet`` or say how to install it."""
    require(["pyarrow"], "parquet", "Parquet files")
    import pyarrow.parquet as pq

    return pq


def detect_format(path: str | os.PathLike[str], explicit: str | None = None) -> str:
    """The format of an input file from ``explicit`` or its extension (``.tab`` is TSV,
    ``.ndjson`` JSON Lines, ``.pq`` Parquet, no extension plain text).

    >>> detect_format("comments.tab"), detect_format("posts.ndjson"), detect_format("x", "csv")
    ('tsv', 'jsonl', 'csv')
    """
    path = Path(path)
    if explicit:
        if explicit not in FORMATS:
            raise InputFileError(path, f"unknown format {explicit!r}; use one of {FORMATS}")
        return explicit
    if str(path) == STDIN:
        return "auto"
    suffix = path.suffix.lower().lstrip(".")
    if suffix not in SUFFIXES:
        raise InputFileError(
            path,
            f"cannot tell the format from {path.suffix!r}; give a file ending in .csv, .tsv, "
            ".tab, .jsonl, .txt, .parquet or .xlsx, or name the format",
        )
    return SUFFIXES[suffix]


def output_format(
    path: str | os.PathLike[str] | None, input_format: str, explicit: str | None = None
) -> str:
    """The output format: ``explicit``, else from the output file's extension, else (standard
    output) one that fits the input: CSV for CSV, text and Excel, TSV for TSV, JSON Lines for
    JSON Lines and Parquet.

    Raises:
        OutputFileError: the extension is not one stance writes (and no ``explicit``).

    >>> output_format("out.xlsx", "csv"), output_format(None, "txt"), output_format("o", "x", "tsv")
    ('xlsx', 'csv', 'tsv')
    """
    if explicit:
        if explicit not in OUTPUT_FORMATS:
            raise OutputFileError(
                Path(path or STDIN),
                f"cannot write format {explicit!r}; use one of {OUTPUT_FORMATS}",
            )
        return explicit
    if path is not None:
        suffix = Path(path).suffix.lower().lstrip(".")
        if suffix not in OUTPUT_SUFFIXES:
            raise OutputFileError(
                Path(path),
                f"cannot tell the output format from {Path(path).suffix or 'no extension'!r}; "
                "name the file .csv, .tsv, .tab, .jsonl, .parquet or .xlsx, or name the format",
            )
        return OUTPUT_SUFFIXES[suffix]
    if input_format in ("txt", "xlsx"):
        return "csv"
    if input_format == "parquet":
        return "jsonl"
    return input_format


# Reading -----------------------------------------------------------------------------------


class Reader:
    """Streams the records of one input file. Subclasses implement :meth:`records`."""

    format: str = ""
    unit = "line"

    def __init__(
        self, path: Path, handle: IO[bytes] | None, text_column: str | None, encoding: str = "utf-8"
    ) -> None:
        self.path = path
        self.handle = handle
        self.text_column = text_column
        self.encoding = encoding
        self.columns: list[str] | None = None
        self.position = Position()
        self.notes: list[str] = []  # sentences for the person running the job
        self.temporary: list[Path] = []  # spooled or converted copies, deleted on close

    def _check_column(self, columns: list[str], line: int | None = None) -> None:
        column = self.text_column
        if column is None or column in columns:
            return
        hint = ""
        if self.format == "csv" and len(columns) == 1:
            hint = "; only one column was found: name the delimiter with --delimiter"
        raise InputFileError(
            self.path,
            f"no column {column!r}; columns are {columns}. Pass --text-column NAME{hint}",
            line=line,
            column=column,
        )

    @property
    def total(self) -> int | None:
        """The size in bytes (text formats) or rows (Parquet), if known."""
        try:
            info = os.fstat(self.handle.fileno())  # type: ignore[union-attr]
        except (OSError, AttributeError, io.UnsupportedOperation):
            return None
        return info.st_size if stat.S_ISREG(info.st_mode) else None  # not for a pipe

    def records(self, start: Position | None = None) -> Iterator[Record]:
        """The records from ``start`` (the beginning by default); ``self.position`` is updated
        before each record is yielded."""
        raise NotImplementedError

    def _seek(self, start: Position | None) -> None:
        if start is not None and start.offset:
            self.handle.seek(start.offset)  # type: ignore[union-attr]
            self.position = start

    def decode(self, raw: bytes, where: str = "") -> tuple[str, str | None]:
        """Decode one line; a line with bytes that are not in the encoding is decoded with
        U+FFFD for them and comes back with a problem naming the first (``where`` says which
        line, if that is not the row's own first line)."""
        return _decode(raw, self.encoding, where)

    def _lines(self, start: Position | None) -> Iterator[tuple[int, bytes]]:
        """The raw lines from ``start`` with their 1-based numbers (BOM stripped); the
        position is advanced past each line before it is yielded."""
        self._seek(start)
        offset, number = self.position.offset, self.position.number
        for raw in self.handle:  # type: ignore[union-attr]
            offset += len(raw)
            number += 1
            if number == 1 and raw.startswith(BOM):
                raw = raw[len(BOM) :]
            self.position = Position(offset, number)
            yield number, raw

    def close(self) -> None:
        if self.handle is not None:
            self.handle.close()
        for path in self.temporary:
            path.unlink(missing_ok=True)


def _decode(raw: bytes, encoding: str = "utf-8", where: str = "") -> tuple[str, str | None]:
    try:
        return raw.decode(encoding), None
    except UnicodeDecodeError as exc:
        name = "UTF-8" if encoding in ("utf-8", "utf_8") else encoding
        return raw.decode(encoding, "replace"), (
            f"not valid {name} (byte {raw[exc.start]:#04x} at {where}column {exc.start + 1}); "
            + (
                "re-save the file as UTF-8, or name its encoding (e.g. cp1252)"
                if name == "UTF-8"
                else "name the file's encoding"
            )
        )


class TextReader(Reader):
    """Plain text: every line is a row with the columns ``line`` and ``text``."""

    format = "txt"

    def __init__(
        self, path: Path, handle: IO[bytes], text_column: str | None, encoding: str = "utf-8"
    ) -> None:
        column = text_column or "text"
        super().__init__(path, handle, column, encoding)
        self.columns = ["line", column] if column != "line" else ["line_number", "line"]

    def records(self, start: Position | None = None) -> Iterator[Record]:
        number_column, text_column = self.columns  # type: ignore[misc]
        for number, raw in self._lines(start):
            text, problem = self.decode(raw.rstrip(b"\n").rstrip(b"\r"))
            yield Record(number, {number_column: number, text_column: text}, problem)


RAW_LINE = "raw_line"
"""The field that keeps a JSON Lines line that is not a JSON object, as it was."""


class JsonLinesReader(Reader):
    """JSON Lines: one JSON object a line; blank lines are skipped."""

    format = "jsonl"

    def records(self, start: Position | None = None) -> Iterator[Record]:
        for number, raw in self._lines(start):
            if not raw.strip():
                continue
            line, problem = self.decode(raw)
            kept = {RAW_LINE: line.rstrip("\r\n")}  # a line that is no object is kept as it was
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                yield Record(number, kept, f"invalid JSON: {exc.msg} (column {exc.colno})")
                continue
            except RecursionError:
                yield Record(number, kept, "invalid JSON: nested too deeply")
                continue
            if not isinstance(row, dict):
                yield Record(number, kept, f"expected a JSON object, got {type(row).__name__}")
                continue
            yield Record(number, row, problem)

    def scan(self) -> tuple[list[str], dict[str, set[str]]]:
        """Every field name in order of first appearance, and the kinds of value each holds
        (one pass over the file, memory for the names only)."""
        columns: dict[str, set[str]] = {}
        for record in self.records():
            for key, value in record.values.items():
                columns.setdefault(key, set()).add(_kind(value))
        self.handle.seek(0)  # type: ignore[union-attr]
        self.position = Position()
        return list(columns), columns

    def peek_columns(self, limit: int = 1000) -> list[str]:
        """The field names of the first ``limit`` objects (standard input: nothing read)."""
        if not self.handle.seekable():  # type: ignore[union-attr]
            return []
        names: dict[str, None] = {}
        for i, record in enumerate(self.records()):
            if i >= limit:
                break
            names.update(dict.fromkeys(record.values))
        self.handle.seek(0)  # type: ignore[union-attr]
        self.position = Position()
        return list(names)


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "str"
    return "json"


class _LineFeed:
    """Lines for :mod:`csv` from a binary file, counting bytes and lines, and noting the first
    line of the current record that is not UTF-8."""

    def __init__(self, handle: IO[bytes], position: Position, encoding: str = "utf-8") -> None:
        self.handle = handle
        self.encoding = encoding
        self.offset = position.offset
        self.number = position.number
        self.problem: str | None = None
        self.first = position.number + 1

    def __iter__(self) -> _LineFeed:
        return self

    def __next__(self) -> str:
        raw = self.handle.readline()
        if not raw:
            raise StopIteration
        self.offset += len(raw)
        self.number += 1
        if self.number == 1 and raw.startswith(BOM):
            raw = raw[len(BOM) :]
        if self.problem is not None:
            return raw.decode(self.encoding, "replace")
        text, self.problem = _decode(
            raw, self.encoding, "" if self.number == self.first else f"line {self.number}, "
        )
        return text


def _chain_first(first: str, feed: _LineFeed) -> Iterator[str]:
    yield first
    yield from feed


class _FieldLimit:
    """Lift the :mod:`csv` module's field size limit (128 KB by default) while reading."""

    def __enter__(self) -> None:
        self.old = csv.field_size_limit()
        limit = sys.maxsize
        while True:
            try:
                csv.field_size_limit(limit)
                return
            except OverflowError:  # a C long is 32 bits on some platforms
                limit //= 2

    def __exit__(self, *exc: object) -> None:
        csv.field_size_limit(self.old)


class CsvReader(Reader):
    """CSV or TSV with a header row; fields of any length, quoted fields may span lines. The
    delimiter of a CSV is sniffed from its header unless given (TSV: tab)."""

    format = "csv"

    def __init__(
        self,
        path: Path,
        handle: IO[bytes],
        text_column: str | None,
        fmt: str,
        encoding: str = "utf-8",
        delimiter: str | None = None,
    ) -> None:
        super().__init__(path, handle, text_column, encoding)
        self.format = fmt
        if delimiter is not None and len(delimiter) != 1:
            raise InputFileError(path, f"the delimiter must be one character, got {delimiter!r}")
        self.dialect: Any = csv.excel_tab if fmt == "tsv" else csv.excel
        self.delimiter = delimiter or ("\t" if fmt == "tsv" else None)
        feed = _LineFeed(handle, Position(), encoding)
        first = next(iter(feed), None) if self.delimiter is None else None
        if self.delimiter is None:
            self.delimiter = sniff_delimiter(first or "")
        lines = iter(feed) if first is None else _chain_first(first, feed)
        with _FieldLimit():
            try:
                header = next(
                    csv.reader(lines, self.dialect, delimiter=self.delimiter, strict=True)
                )
            except StopIteration:
                raise InputFileError(path, "the file is empty; expected a header row") from None
            except csv.Error as exc:
                raise InputFileError(path, f"malformed CSV header: {exc}", line=1) from exc
        if feed.problem is not None:
            raise InputFileError(path, f"the header is {feed.problem}", line=1)
        self._check_column(header, line=1)
        self.columns = list(header)
        self.header_end = Position(feed.offset, feed.number)
        self.position = self.header_end
        self._feed = feed

    def records(self, start: Position | None = None) -> Iterator[Record]:
        start = start if start is not None and start.offset else self.header_end
        if self.handle.seekable():  # type: ignore[union-attr]
            self.handle.seek(start.offset)  # type: ignore[union-attr]
        elif start != Position(self._feed.offset, self._feed.number):
            raise InputFileError(self.path, "standard input can be read only once")
        feed = _LineFeed(self.handle, start, self.encoding)  # type: ignore[arg-type]
        reader = csv.reader(feed, self.dialect, delimiter=self.delimiter or ",", strict=True)
        header = self.columns or []
        with _FieldLimit():
            while True:
                first = feed.first = feed.number + 1
                feed.problem = None
                try:
                    values = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:
                    self.position = Position(feed.offset, feed.number)
                    yield Record(first, {}, f"malformed CSV: {exc}")
                    continue
                self.position = Position(feed.offset, feed.number)
                if not values:
                    continue
                problem = feed.problem
                if len(values) != len(header) and problem is None:
                    fields = f"{len(values)} field" + ("" if len(values) == 1 else "s")
                    problem = f"{fields} but the header has {len(header)}"
                    if len(values) > len(header):
                        extra = ", ".join(repr(v) for v in values[len(header) :])
                        problem += f" (extra: {extra[:200]})"
                row = dict(zip(header, values))
                for name in header[len(values) :]:
                    row[name] = ""
                yield Record(first, row, problem)


class ParquetReader(Reader):
    """Parquet, read row group by row group."""

    format = "parquet"
    unit = "row"

    def __init__(
        self, path: Path, handle: IO[bytes], text_column: str | None, batch_rows: int
    ) -> None:
        super().__init__(path, handle, text_column)
        pq = require_pyarrow()
        try:
            self.file = pq.ParquetFile(handle)
        except Exception as exc:  # pyarrow raises its own error types
            raise InputFileError(path, f"not a readable Parquet file: {exc}") from exc
        self.schema = self.file.schema_arrow
        self.columns = list(self.schema.names)
        self.batch_rows = batch_rows
        self._check_column(self.columns)

    @property
    def total(self) -> int | None:
        return int(self.file.metadata.num_rows)

    def records(self, start: Position | None = None) -> Iterator[Record]:
        skip = 0 if start is None else start.offset
        done = 0
        for group in range(self.file.num_row_groups):
            rows = self.file.metadata.row_group(group).num_rows
            if done + rows <= skip:
                done += rows
                continue
            for batch in self.file.iter_batches(batch_size=self.batch_rows, row_groups=[group]):
                for row in batch.to_pylist():
                    done += 1
                    if done <= skip:
                        continue
                    self.position = Position(done, done)
                    yield Record(done, row)


def open_reader(
    source: str | os.PathLike[str],
    fmt: str | None = None,
    text_column: str | None = "text",
    batch_rows: int = 10_000,
    *,
    delimiter: str | None = None,
    encoding: str | None = None,
    sheet: str | int | None = None,
    seekable: bool = False,
) -> Reader:
    """Open an input file (or ``"-"`` for standard input) for streaming.

    Args:
        source: The file, or ``"-"``: CSV, TSV, JSON Lines and text stream from standard
            input; Parquet and Excel (which need seeking) are copied to a temporary file first.
            Without ``fmt`` the format of standard input is told from its first bytes.
        fmt: The format, if not the one the extension names.
        text_column: The column that must be there (``None``: no check).
        batch_rows: Rows per Parquet batch.
        delimiter: CSV only: the delimiter (default: sniffed from the header).
        encoding: Text formats: the encoding (default: detected; see :mod:`stance.io.sources`).
        sheet: Excel only: a sheet name or number (from 1; default: the first sheet).
        seekable: Copy standard input to a temporary file whatever the format.

    Raises:
        InputFileError: the file is missing or a directory, has an unknown extension, no
            header or no text column, or is not a file of its format.
    """
    path = Path(source)
    fmt = detect_format(path, fmt)
    temporary: list[Path] = []
    sniffed = False
    if str(source) == STDIN:
        stream = stdin()
        if fmt == "auto":
            fmt, sniffed = sniff_format(stream.peek()), True
        if fmt in SEEKING_FORMATS or seekable:
            temporary.append(spool(stream))  # type: ignore[arg-type]
            handle: IO[bytes] = temporary[-1].open("rb")
        else:
            handle = stream  # type: ignore[assignment]
        path = Path("<stdin>")
    else:
        if path.is_dir():
            raise InputFileError(path, "is a directory; give a file")
        if not path.is_file():
            raise InputFileError(path, "file not found")
        try:
            handle = path.open("rb")
        except OSError as exc:
            raise InputFileError(path, f"cannot be opened: {exc.strerror}") from exc
    try:
        reader = _reader(path, handle, fmt, text_column, batch_rows, delimiter, encoding, sheet)
    except BaseException as exc:
        handle.close()
        for copy in temporary:
            copy.unlink(missing_ok=True)
        if sniffed and isinstance(exc, InputFileError):
            raise InputFileError(
                exc.path,
                f"{exc.problem} (standard input was read as {fmt}, told from its first bytes; "
                "name its format with --format)",
                exc.line,
                exc.column,
            ) from exc
        raise
    reader.temporary.extend(temporary)
    return reader


def _reader(
    path: Path,
    handle: IO[bytes],
    fmt: str,
    text_column: str | None,
    batch_rows: int,
    delimiter: str | None,
    encoding: str | None,
    sheet: str | int | None,
) -> Reader:
    if fmt == "parquet":
        return ParquetReader(path, handle, text_column, batch_rows)
    if fmt == "xlsx":
        return _plugin("xlsx", "reader")(path, handle, text_column, sheet)
    seekable = handle.seekable()
    note = None
    if encoding is None and fmt == "jsonl":  # JSON Lines is UTF-8 by definition
        encoding = "utf-8"
    elif encoding is None:
        encoding, note = detect_encoding(handle, seekable)
    else:
        encoding = check_encoding(encoding, path)
    temporary = []
    if not ascii_compatible(encoding):  # UTF-16: read a UTF-8 copy
        temporary.append(transcode(handle, encoding))
        handle.close()
        handle, encoding = temporary[-1].open("rb"), "utf-8"
    try:
        if fmt == "jsonl":
            reader: Reader = JsonLinesReader(path, handle, text_column, encoding)
        elif fmt == "txt":
            reader = TextReader(path, handle, text_column, encoding)
        else:
            reader = CsvReader(path, handle, text_column, fmt, encoding, delimiter)
    except BaseException:
        for copy in temporary:
            copy.unlink(missing_ok=True)
        raise
    reader.temporary.extend(temporary)
    if note:
        reader.notes.append(f"{path}: {note}")
    return reader


# Writing -----------------------------------------------------------------------------------


@dataclass
class OutputSchema:
    """The columns of an output file, and for Parquet the type of each input column
    (``"string"``, ``"int64"``, ``"float64"``, ``"bool"``, ``"json"`` for text holding JSON,
    or an Arrow type taken from a Parquet input)."""

    columns: list[str]
    stance_columns: tuple[str, ...]
    types: dict[str, Any] = field(default_factory=dict)


def jsonl_types(kinds: dict[str, set[str]]) -> dict[str, str]:
    """Parquet column types for JSON Lines fields from the kinds of value each holds: one kind
    keeps its type, integers and floats become floats, anything mixed or nested becomes text
    (strings as they are, other values as JSON)."""
    types = {}
    for name, seen in kinds.items():
        seen = seen - {"null"}
        if seen <= {"str"}:
            types[name] = "string"
        elif seen == {"int"}:
            types[name] = "int64"
        elif seen <= {"int", "float"}:
            types[name] = "float64"
        elif seen == {"bool"}:
            types[name] = "bool"
        else:
            types[name] = "json"
    return types


class Writer:
    """Writes rows in chunks; :meth:`commit` makes what was written durable and returns the
    position to resume from; :meth:`finish` produces the final file."""

    def write(self, rows: list[dict[str, Any]]) -> None:
        raise NotImplementedError

    def commit(self) -> int:
        raise NotImplementedError

    def finish(self, target: Path | None) -> None:
        raise NotImplementedError

    def discard(self) -> None:
        raise NotImplementedError


def _cell(value: Any) -> Any:
    """A CSV cell: nested values and booleans as JSON, everything else as :mod:`csv` writes
    it (``None`` as an empty cell)."""
    if isinstance(value, (dict, list, tuple, bool)):
        return json.dumps(value, ensure_ascii=False, default=str)
    return value


class TextWriter(Writer):
    """CSV, TSV or JSON Lines into one file (or a stream), appended chunk by chunk. A CSV is
    written with ``delimiter`` (``,`` by default) and, with ``bom``, a UTF-8 byte order mark:
    ``delimiter=";", bom=True`` is how Danish Excel opens a CSV as columns."""

    def __init__(
        self,
        fmt: str,
        schema: OutputSchema,
        out: Path | IO[bytes],
        resume_at: int = 0,
        *,
        delimiter: str | None = None,
        bom: bool = False,
    ) -> None:
        self.format = fmt
        self.columns = schema.columns
        self.delimiter = delimiter or ("\t" if fmt == "tsv" else ",")
        self.path = out if isinstance(out, Path) else None
        if isinstance(out, Path):
            out.parent.mkdir(parents=True, exist_ok=True)
            mode = "r+b" if resume_at else "wb"
            self.handle: IO[bytes] = out.open(mode)
            if resume_at:
                self.handle.truncate(resume_at)
                self.handle.seek(resume_at)
        else:
            self.handle = out
        if not resume_at and fmt != "jsonl":
            if bom:
                self.handle.write(BOM)
            self.handle.write(self._csv([dict(zip(self.columns, self.columns))]))

    def _csv(self, rows: list[dict[str, Any]]) -> bytes:
        buffer = io.StringIO()
        dialect: Any = csv.excel_tab if self.format == "tsv" else csv.excel
        cells = [[_cell(row.get(c, "")) for c in self.columns] for row in rows]
        if not any(isinstance(v, str) and "\r" in v for row in cells for v in row):
            writer = csv.writer(buffer, dialect, delimiter=self.delimiter, lineterminator="\n")
            writer.writerows(cells)
            return buffer.getvalue().encode("utf-8", "replace")
        # a carriage return is quoted only when it is part of the line terminator
        writer = csv.writer(buffer, dialect, delimiter=self.delimiter, lineterminator="\r\n")
        lines = []
        for row in cells:
            writer.writerow(row)
            lines.append(buffer.getvalue()[:-2] + "\n")
            buffer.seek(0)
            buffer.truncate()
        return "".join(lines).encode("utf-8", "replace")

    def write(self, rows: list[dict[str, Any]]) -> None:
        if self.format != "jsonl":
            self.handle.write(self._csv(rows))
            return
        lines = []
        for row in rows:
            line = json.dumps(row, ensure_ascii=False, default=str)
            try:
                lines.append(line.encode("utf-8"))
            except UnicodeEncodeError:  # a lone surrogate from a JSON escape: keep it escaped
                lines.append(json.dumps(row, default=str).encode("ascii"))
        self.handle.write(b"\n".join(lines) + b"\n" if lines else b"")

    def commit(self) -> int:
        self.handle.flush()
        if self.path is None:
            return 0
        os.fsync(self.handle.fileno())
        return self.handle.tell()

    def finish(self, target: Path | None) -> None:
        self.handle.flush()
        if self.path is None:
            return
        self.handle.close()
        if target is not None:
            os.replace(self.path, target)

    def discard(self) -> None:
        if self.path is not None:
            self.handle.close()
            self.path.unlink(missing_ok=True)


STANCE_TYPES = {
    "stance_label": "string",
    "stance_score": "float64",
    "stance_status": "string",
    "error": "string",
}


class ParquetWriter(Writer):
    """Parquet: each chunk is written as a complete part file in a folder (so an interrupted
    run keeps every finished chunk), and :meth:`finish` joins the parts, a row group each."""

    def __init__(self, schema: OutputSchema, folder: Path, resume_at: int = 0) -> None:
        self.pq = require_pyarrow()
        import pyarrow as pa

        self.pa = pa
        self.folder = folder
        self.parts = resume_at
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.iterdir():  # parts written after the last commit
            number = stale.name.split(".")[0]
            if not (stale.suffix == ".parquet" and number.isdigit() and int(number) < resume_at):
                stale.unlink()
        fields = []
        for name in schema.columns:
            if name in schema.stance_columns:
                kind = STANCE_TYPES.get(name, "float64")
            else:
                kind = schema.types.get(name, "string")
            if isinstance(kind, str):
                kind = {
                    "string": pa.string(),
                    "json": pa.string(),
                    "int64": pa.int64(),
                    "float64": pa.float64(),
                    "bool": pa.bool_(),
                }[kind]
            fields.append(pa.field(name, kind))
        self.schema = pa.schema(fields)
        self.kinds = {name: schema.types.get(name) for name in schema.columns}
        self.stance_columns = schema.stance_columns

    def _column(self, name: str, rows: list[dict[str, Any]], arrow: Any) -> Any:
        values = [row.get(name) for row in rows]
        if name in self.stance_columns and arrow == self.pa.float64():
            values = [None if v == "" else v for v in values]
        elif self.kinds.get(name) == "json":
            values = [
                v if v is None or isinstance(v, str) else json.dumps(v, ensure_ascii=False)
                for v in values
            ]
        return self.pa.array(values, type=arrow)

    def write(self, rows: list[dict[str, Any]]) -> None:
        arrays = [self._column(f.name, rows, f.type) for f in self.schema]
        table = self.pa.Table.from_arrays(arrays, schema=self.schema)
        part = self.folder / f"{self.parts:07d}.parquet"
        temporary = part.with_suffix(".tmp")
        self.pq.write_table(table, temporary)
        os.replace(temporary, part)
        self.parts += 1

    def commit(self) -> int:
        return self.parts

    def finish(self, target: Path | None) -> None:
        if target is None:
            raise OutputFileError(STDIN, "a Parquet output needs a file")
        temporary = target.with_name(f".{target.name}.joining")
        with self.pq.ParquetWriter(temporary, self.schema) as writer:
            for i in range(self.parts):
                writer.write_table(self.pq.read_table(self.folder / f"{i:07d}.parquet"))
        os.replace(temporary, target)
        shutil.rmtree(self.folder, ignore_errors=True)

    def discard(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def open_writer(
    fmt: str,
    schema: OutputSchema,
    out: Path | IO[bytes],
    resume_at: int = 0,
    *,
    delimiter: str | None = None,
    bom: bool = False,
) -> Writer:
    """A writer for ``fmt`` into ``out`` (a file, a stream, or for Parquet a folder of parts),
    resuming at ``resume_at`` (bytes, or finished Parquet parts). ``delimiter`` and ``bom``
    apply to CSV (see :class:`TextWriter`)."""
    if fmt in SEEKING_FORMATS and not isinstance(out, Path):
        raise OutputFileError(STDIN, f"{fmt} output cannot go to standard output; name a file")
    if fmt == "parquet":
        return ParquetWriter(schema, out, resume_at)  # type: ignore[arg-type]
    if fmt == "xlsx":
        return _plugin("xlsx", "writer")(schema, out, resume_at)
    return TextWriter(fmt, schema, out, resume_at, delimiter=delimiter, bom=bom)


def excel_csv(fmt: str, reader: Reader | None = None, excel: bool = False) -> tuple[str, bool]:
    """The delimiter and byte-order-mark choice of a CSV output: Danish Excel's (``;`` and a
    BOM) with ``excel`` or when the input was a CSV that looked like one Danish Excel saved
    (``;``-separated or not UTF-8), else ``,`` without a BOM."""
    if fmt != "csv":
        return ("\t" if fmt == "tsv" else ","), False
    looks_excel = (
        isinstance(reader, CsvReader)
        and reader.format == "csv"
        and (reader.delimiter == EXCEL_DELIMITER or reader.encoding not in ("utf-8", "utf_8"))
    )
    if excel or looks_excel:
        return EXCEL_DELIMITER, True
    return ",", False
