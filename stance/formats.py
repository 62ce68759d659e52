"""Batch file formats, streamed: read rows from and write rows to CSV, TSV, JSON Lines, plain
text (one text a line) and Parquet, a record at a time, with resumable positions.

Readers never stop at a bad row: a row that cannot be read (malformed JSON or CSV, a wrong
number of fields, invalid UTF-8) comes back as a :class:`Record` with a ``problem`` and the
reader goes on with the next row. Only a file that cannot be read at all (missing, no header,
no text column) raises :class:`stance.errors.InputFileError`. Parquet needs ``pyarrow``
(``pip install "stance[parquet]"``), imported only when a Parquet file is used.
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

from stance.errors import ConfigError, InputFileError

FORMATS = ("csv", "tsv", "jsonl", "txt", "parquet")
TEXT_FORMATS = ("csv", "tsv", "jsonl", "txt")
STDIN = "-"
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
}
OUTPUT_SUFFIXES = {
    "csv": "csv",
    "tsv": "tsv",
    "tab": "tsv",
    "jsonl": "jsonl",
    "ndjson": "jsonl",
    "json": "jsonl",
    "parquet": "parquet",
    "pq": "parquet",
}
BOM = b"\xef\xbb\xbf"


@dataclass
class Record:
    """One row of an input file.

    Attributes:
        number: Its line number (text formats; the first line of a multi-line CSV record) or
            row number (Parquet), from 1.
        values: Its fields; empty when the row could not be read at all.
        problem: Why the row could not be read, or ``None``.
    """

    number: int
    values: dict[str, Any]
    problem: str | None = None


@dataclass(frozen=True)
class Position:
    """Where a reader stands: ``offset`` bytes (text formats) or rows (Parquet) consumed, and
    the number of the last line or row read. Reading can restart from here."""

    offset: int = 0
    number: int = 0


def require_pyarrow() -> Any:
    """Import ``pyarrow.parquet`` or say how to install it."""
    from stance.extras import import_extra

    return import_extra("pyarrow.parquet", "parquet", "Parquet files")


def detect_format(path: str | Path, explicit: str | None = None) -> str:
    """The input format from ``explicit`` or the file extension.

    >>> detect_format("comments.tsv"), detect_format("posts.ndjson"), detect_format("x", "csv")
    ('tsv', 'jsonl', 'csv')
    """
    path = Path(path)
    if explicit:
        if explicit not in FORMATS:
            raise InputFileError(path, f"unknown format {explicit!r}; use one of {FORMATS}")
        return explicit
    if str(path) == STDIN:
        raise InputFileError(
            path, "standard input has no file extension; pass --format {csv,tsv,jsonl,txt,parquet}"
        )
    suffix = path.suffix.lower().lstrip(".")
    if suffix not in SUFFIXES:
        raise InputFileError(
            path,
            f"cannot tell the format from {path.suffix!r}; "
            "pass --format {csv,tsv,jsonl,txt,parquet}",
        )
    return SUFFIXES[suffix]


def output_format(path: str | Path | None, input_format: str) -> str:
    """The output format: from the output file's extension, else one that fits the input
    (CSV for CSV and text, TSV for TSV, JSON Lines for JSON Lines; Parquet for Parquet, or
    JSON Lines on standard output)."""
    if path is not None:
        suffix = Path(path).suffix.lower().lstrip(".")
        if suffix in OUTPUT_SUFFIXES:
            return OUTPUT_SUFFIXES[suffix]
    if input_format == "txt":
        return "csv"
    if input_format == "parquet" and path is None:
        return "jsonl"
    return input_format


# Reading -----------------------------------------------------------------------------------


class Reader:
    """Streams the records of one input file. Subclasses implement :meth:`records`."""

    format: str = ""
    unit = "line"

    def __init__(self, path: Path, handle: IO[bytes] | None, text_column: str) -> None:
        self.path = path
        self.handle = handle
        self.text_column = text_column
        self.columns: list[str] | None = None
        self.position = Position()

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
        if self.handle is not None and self.handle is not _stdin():
            self.handle.close()


def _stdin() -> IO[bytes]:
    return sys.stdin.buffer


def _decode(raw: bytes, where: str = "") -> tuple[str, str | None]:
    """Decode one line; a line that is not UTF-8 is decoded with U+FFFD for the bad bytes and
    comes back with a problem naming the first bad byte (``where`` says which line, if
    that is not the row's own first line)."""
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        return raw.decode("utf-8", "replace"), (
            f"not valid UTF-8 (byte {raw[exc.start]:#04x} at {where}column {exc.start + 1}); "
            "re-save the file as UTF-8"
        )


class TextReader(Reader):
    """Plain text: every line is a row with the columns ``line`` and ``text``."""

    format = "txt"

    def __init__(self, path: Path, handle: IO[bytes], text_column: str) -> None:
        super().__init__(path, handle, "text")
        self.columns = ["line", "text"]

    def records(self, start: Position | None = None) -> Iterator[Record]:
        for number, raw in self._lines(start):
            text, problem = _decode(raw.rstrip(b"\n").rstrip(b"\r"))
            yield Record(number, {"line": number, "text": text}, problem)


class JsonLinesReader(Reader):
    """JSON Lines: one JSON object a line; blank lines are skipped."""

    format = "jsonl"

    def records(self, start: Position | None = None) -> Iterator[Record]:
        for number, raw in self._lines(start):
            if not raw.strip():
                continue
            line, problem = _decode(raw)
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                yield Record(number, {}, f"invalid JSON: {exc.msg} (column {exc.colno})")
                continue
            except RecursionError:
                yield Record(number, {}, "invalid JSON: nested too deeply")
                continue
            if not isinstance(row, dict):
                yield Record(number, {}, f"expected a JSON object, got {type(row).__name__}")
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

    def __init__(self, handle: IO[bytes], position: Position) -> None:
        self.handle = handle
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
            return raw.decode("utf-8", "replace")
        text, self.problem = _decode(
            raw, "" if self.number == self.first else f"line {self.number}, "
        )
        return text


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
    """CSV (comma-separated) or TSV (tab-separated) with a header row; fields of any length,
    quoted fields may span lines."""

    format = "csv"

    def __init__(self, path: Path, handle: IO[bytes], text_column: str, fmt: str) -> None:
        super().__init__(path, handle, text_column)
        self.format = fmt
        self.dialect: Any = csv.excel_tab if fmt == "tsv" else csv.excel
        feed = _LineFeed(handle, Position())
        with _FieldLimit():
            try:
                header = next(csv.reader(feed, self.dialect, strict=True))
            except StopIteration:
                raise InputFileError(path, "the file is empty; expected a header row") from None
            except csv.Error as exc:
                raise InputFileError(path, f"malformed CSV header: {exc}", line=1) from exc
        if feed.problem is not None:
            raise InputFileError(path, f"the header is {feed.problem}", line=1)
        if text_column not in header:
            raise InputFileError(
                path,
                f"no column {text_column!r}; columns are {header}. Pass --text-column NAME",
                line=1,
                column=text_column,
            )
        self.columns = list(header)
        self.header_end = Position(feed.offset, feed.number)
        self.position = self.header_end

    def records(self, start: Position | None = None) -> Iterator[Record]:
        start = start if start is not None and start.offset else self.header_end
        self.handle.seek(start.offset)  # type: ignore[union-attr]
        feed = _LineFeed(self.handle, start)  # type: ignore[arg-type]
        reader = csv.reader(feed, self.dialect, strict=True)
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

    def __init__(self, path: Path, handle: IO[bytes], text_column: str, batch_rows: int) -> None:
        super().__init__(path, handle, text_column)
        pq = require_pyarrow()
        try:
            self.file = pq.ParquetFile(handle)
        except Exception as exc:  # pyarrow raises its own error types
            raise InputFileError(path, f"not a readable Parquet file: {exc}") from exc
        self.schema = self.file.schema_arrow
        self.columns = list(self.schema.names)
        self.batch_rows = batch_rows
        if text_column not in self.columns:
            raise InputFileError(
                path,
                f"no column {text_column!r}; columns are {self.columns}. Pass --text-column NAME",
                column=text_column,
            )

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
    source: str | Path, fmt: str | None = None, text_column: str = "text", batch_rows: int = 10_000
) -> Reader:
    """Open a batch file (or ``"-"`` for standard input, which needs ``fmt``) for streaming.

    Raises:
        InputFileError: the file is missing, has an unknown extension, no header or no text
            column, or (Parquet) is not a Parquet file.
    """
    path = Path(source)
    fmt = detect_format(path, fmt)
    if str(source) == STDIN:
        handle: IO[bytes] = _stdin()
    else:
        if not path.is_file():
            raise InputFileError(path, "file not found")
        handle = path.open("rb")
    try:
        if fmt == "parquet":
            return ParquetReader(path, handle, text_column, batch_rows)
        if fmt == "jsonl":
            return JsonLinesReader(path, handle, text_column)
        if fmt == "txt":
            return TextReader(path, handle, text_column)
        return CsvReader(path, handle, text_column, fmt)
    except BaseException:
        if handle is not _stdin():
            handle.close()
        raise


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
    """CSV, TSV or JSON Lines into one file (or a stream), appended chunk by chunk."""

    def __init__(
        self, fmt: str, schema: OutputSchema, out: Path | IO[bytes], resume_at: int = 0
    ) -> None:
        self.format = fmt
        self.columns = schema.columns
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
            self.handle.write(self._csv([dict(zip(self.columns, self.columns))]))

    def _csv(self, rows: list[dict[str, Any]]) -> bytes:
        buffer = io.StringIO()
        dialect: Any = csv.excel_tab if self.format == "tsv" else csv.excel
        writer = csv.writer(buffer, dialect, lineterminator="\n")
        columns = self.columns
        writer.writerows([_cell(row.get(c, "")) for c in columns] for row in rows)
        return buffer.getvalue().encode("utf-8", "replace")

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


STANCE_TYPES = {"stance_label": "string", "stance_score": "float64", "error": "string"}


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
            raise ConfigError("a Parquet output needs a target file")
        temporary = target.with_name(f".{target.name}.joining")
        with self.pq.ParquetWriter(temporary, self.schema) as writer:
            for i in range(self.parts):
                writer.write_table(self.pq.read_table(self.folder / f"{i:07d}.parquet"))
        os.replace(temporary, target)
        shutil.rmtree(self.folder, ignore_errors=True)

    def discard(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def open_writer(
    fmt: str, schema: OutputSchema, out: Path | IO[bytes], resume_at: int = 0
) -> Writer:
    """A writer for ``fmt`` into ``out`` (a file, a stream, or for Parquet a folder of parts),
    resuming at ``resume_at`` (bytes, or finished Parquet parts)."""
    if fmt == "parquet":
        if not isinstance(out, Path):
            raise InputFileError(STDIN, "Parquet output needs --output FILE")
        return ParquetWriter(schema, out, resume_at)
    return TextWriter(fmt, schema, out, resume_at)
