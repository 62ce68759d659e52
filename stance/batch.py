"""Batch files for the CLI: read CSV, JSON Lines or plain text; classify every row; write the
rows back, in order, with their columns and the stance columns, atomically.

A row whose text is missing, empty or not a string keeps its place in the output with an empty
label and a message in ``error``. A file that cannot be parsed (bad encoding, malformed CSV or
JSON) raises :class:`stance.errors.InputFileError` naming the line.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stance.errors import InputFileError, StanceError
from stance.labels import LABELS
from stance.prediction import Prediction

FORMATS = ("csv", "jsonl", "txt")
OUTPUT_COLUMNS = ("stance_label", "stance_score", *(f"p_{label}" for label in LABELS), "error")


@dataclass
class Table:
    """Rows of a batch file, with the column order to write them back in."""

    rows: list[dict[str, Any]]
    columns: list[str]
    format: str
    text_column: str
    line_numbers: list[int] = field(default_factory=list)


def detect_format(path: Path, explicit: str | None = None) -> str:
    """``csv``, ``jsonl`` or ``txt`` from ``explicit`` or the file extension."""
    if explicit:
        if explicit not in FORMATS:
            raise InputFileError(path, f"unknown format {explicit!r}; use one of {FORMATS}")
        return explicit
    suffix = path.suffix.lower().lstrip(".")
    if suffix in ("csv", "tsv"):
        return "csv"
    if suffix in ("jsonl", "ndjson", "json"):
        return "jsonl"
    if suffix in ("txt", "text", ""):
        return "txt"
    raise InputFileError(
        path, f"cannot tell the format from {path.suffix!r}; pass --format {{csv,jsonl,txt}}"
    )


def _decode(path: Path, data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputFileError(
            path,
            f"not valid UTF-8 (byte {data[exc.start]:#04x}); re-save the file as UTF-8",
            line=line,
        ) from exc


def read_table(path: str | Path, text_column: str = "text", fmt: str | None = None) -> Table:
    """Read a batch file.

    Raises:
        InputFileError: the file is missing, not UTF-8, malformed, or (CSV) lacks the column.
    """
    path = Path(path)
    if not path.is_file():
        raise InputFileError(path, "file not found")
    fmt = detect_format(path, fmt)
    text = _decode(path, path.read_bytes())
    if fmt == "txt":
        lines = text.splitlines()
        return Table(
            [{"line": i, "text": t} for i, t in enumerate(lines, 1)],
            ["line", "text"],
            fmt,
            "text",
            list(range(1, len(lines) + 1)),
        )
    if fmt == "jsonl":
        return _read_jsonl(path, text, text_column)
    return _read_csv(path, text, text_column)


def _read_jsonl(path: Path, text: str, text_column: str) -> Table:
    rows, numbers, columns = [], [], []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputFileError(
                path, f"invalid JSON: {exc.msg} (column {exc.colno})", line=number
            ) from exc
        if not isinstance(row, dict):
            raise InputFileError(
                path, f"expected a JSON object, got {type(row).__name__}", line=number
            )
        rows.append(row)
        numbers.append(number)
        columns.extend(k for k in row if k not in columns)
    return Table(rows, columns, "jsonl", text_column, numbers)


def _read_csv(path: Path, text: str, text_column: str) -> Table:
    dialect: Any = csv.excel_tab if path.suffix.lower() == ".tsv" else csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect, strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise InputFileError(path, "the file is empty; expected a header row") from None
    except csv.Error as exc:
        raise InputFileError(path, f"malformed CSV: {exc}", line=1) from exc
    if text_column not in header:
        raise InputFileError(
            path,
            f"no column {text_column!r}; columns are {header}. Pass --text-column NAME",
            line=1,
            column=text_column,
        )
    rows, numbers = [], []
    try:
        for values in reader:
            line = reader.line_num
            if not values:
                continue
            if len(values) > len(header):
                raise InputFileError(
                    path, f"{len(values)} fields but the header has {len(header)}", line=line
                )
            rows.append(dict(zip(header, values + [""] * (len(header) - len(values)))))
            numbers.append(line)
    except csv.Error as exc:
        raise InputFileError(path, f"malformed CSV: {exc}", line=reader.line_num) from exc
    return Table(rows, list(header), "csv", text_column, numbers)


def classify_table(
    table: Table,
    predict: Callable[[list[str]], list[Prediction]],
    *,
    batch_size: int = 256,
    min_score: float | None = None,
    progress: Callable[[int], None] | None = None,
) -> tuple[int, int]:
    """Add the stance columns to every row in place; return (classified, failed) counts."""
    from stance.text import prepare_text

    pending: list[tuple[int, str]] = []
    failed = 0
    for i, row in enumerate(table.rows):
        row.update(dict.fromkeys(OUTPUT_COLUMNS, ""))
        if table.text_column not in row:
            row["error"] = f"no field {table.text_column!r} in this row"
            failed += 1
            continue
        try:
            pending.append((i, prepare_text(row[table.text_column])))
        except (TypeError, ValueError) as exc:
            row["error"] = str(exc).replace("text ", f"field {table.text_column!r} ", 1)
            failed += 1
    for start in range(0, len(pending), batch_size):
        chunk = pending[start : start + batch_size]
        try:
            predictions: Sequence[Prediction | Exception] = predict([t for _, t in chunk])
        except StanceError:
            raise
        except Exception:
            predictions = []
            for _, text in chunk:
                try:
                    predictions.append(predict([text])[0])  # type: ignore[union-attr]
                except Exception as exc:
                    predictions.append(exc)  # type: ignore[union-attr]
        for (i, _), prediction in zip(chunk, predictions):
            row = table.rows[i]
            if isinstance(prediction, Exception):
                row["error"] = f"classification failed: {type(prediction).__name__}: {prediction}"
                failed += 1
                continue
            keep = min_score is None or prediction.score >= min_score
            row["stance_label"] = prediction.label if keep else ""
            row["stance_score"] = round(prediction.score, 6)
            for label in LABELS:
                row[f"p_{label}"] = round(prediction.probabilities[label], 6)
            if not keep:
                row["error"] = f"score {prediction.score:.3f} below --min-score {min_score}"
        if progress is not None:
            progress(len(chunk))
    return len(table.rows) - failed, failed


def _render(table: Table, fmt: str) -> str:
    columns = table.columns + [c for c in OUTPUT_COLUMNS if c not in table.columns]
    if fmt == "jsonl":
        return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in table.rows)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(table.rows)
    return buffer.getvalue()


def output_format(path: Path | None, table: Table) -> str:
    if path is not None and path.suffix.lower() in (".csv", ".jsonl", ".ndjson", ".json"):
        return "csv" if path.suffix.lower() == ".csv" else "jsonl"
    return "csv" if table.format in ("csv", "txt") else "jsonl"


def write_table(table: Table, path: str | Path | None, fmt: str | None = None) -> str:
    """Write ``table`` to ``path`` atomically (temporary file + rename), or return it as text
    when ``path`` is None."""
    target = None if path is None else Path(path)
    body = _render(table, fmt or output_format(target, table))
    if target is None:
        return body
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=".part", dir=target.parent
    )
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            out.write(body)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return body
