"""Batch jobs: classify every row of a file, streaming in chunks, and write the rows back in
order with all their columns and the stance columns.

:func:`classify_file` reads, classifies and writes a chunk of rows at a time, so memory does
not grow with the file. No row is lost: a row that cannot be read or classified is written in
its place with an empty label and an ``error`` naming the line and the problem (unless
``strict``). Output goes to a hidden partial file beside the target that is renamed at the end;
after each chunk a small state file records how far reading and writing got, so a run that was
killed continues from the last finished chunk with ``resume=True`` and gives the same file.

:func:`read_table`, :func:`classify_table` and :func:`write_table` do the same for a whole
(small) file held in memory.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import IO, Any

from stance.errors import InputFileError, StanceError
from stance.formats import (
    FORMATS,
    STDIN,
    JsonLinesReader,
    OutputSchema,
    Position,
    Reader,
    Record,
    detect_format,
    jsonl_types,
    open_reader,
    open_writer,
)
from stance.labels import LABELS
from stance.prediction import Prediction
from stance.text import prepare_text

__all__ = [
    "CHUNK_ROWS",
    "FORMATS",
    "OUTPUT_COLUMNS",
    "BatchResult",
    "Table",
    "classify_file",
    "classify_table",
    "detect_format",
    "read_table",
    "write_table",
]

OUTPUT_COLUMNS = ("stance_label", "stance_score", *(f"p_{label}" for label in LABELS), "error")
CHUNK_ROWS = 10_000
STATE_VERSION = 1
FINGERPRINT_BYTES = 1 << 20


def text_problem(value: object, column: str) -> tuple[str | None, str | None]:
    """``(text, None)`` for a usable text (NFC-normalised), else ``(None, why)``.

    >>> text_problem("  ", "body")
    (None, "field 'body' is empty or only whitespace; nothing to classify")
    >>> text_problem(None, "body")[1]
    "field 'body' must be str, got NoneType (a missing value)"
    """
    try:
        return prepare_text(value), None
    except (TypeError, ValueError) as exc:
        if isinstance(value, float) and value != value:
            return None, f"field {column!r} is a missing value (NaN), not a str"
        if type(value).__name__ in ("NAType", "NaTType"):
            return None, f"field {column!r} is a missing value ({value}), not a str"
        message = str(exc).replace("text ", f"field {column!r} ", 1)
        return None, message + (" (a missing value)" if value is None else "")


@dataclass
class BatchResult:
    """What a batch job did: rows written, how many were classified and how many failed (no
    label, with an ``error``), and how many rows an interrupted run had already done."""

    rows: int = 0
    classified: int = 0
    failed: int = 0
    resumed: int = 0
    output: Path | None = None


@dataclass
class _Chunk:
    records: list[Record]
    position: Position
    texts: list[str] = field(default_factory=list)
    slots: list[int] = field(default_factory=list)
    problems: dict[int, str] = field(default_factory=dict)


def _prepare(records: list[Record], position: Position, text_column: str) -> _Chunk:
    chunk = _Chunk(records, position)
    for i, record in enumerate(records):
        if record.problem is not None:
            chunk.problems[i] = record.problem
        elif text_column not in record.values:
            chunk.problems[i] = f"no field {text_column!r} in this row"
        else:
            text, problem = text_problem(record.values[text_column], text_column)
            if problem is not None:
                chunk.problems[i] = problem
            else:
                chunk.texts.append(text)  # type: ignore[arg-type]
                chunk.slots.append(i)
    return chunk


def _assemble(
    chunk: _Chunk, probabilities: Any, failures: dict[int, str], unit: str, min_score: float | None
) -> tuple[list[dict[str, Any]], dict[int, str]]:
    """The output rows of a chunk, and ``{index: problem}`` for those that failed."""
    problems = dict(chunk.problems)
    for j, message in failures.items():
        problems[chunk.slots[j]] = message
    rows = []
    for record in chunk.records:
        row = record.values
        row.update(dict.fromkeys(OUTPUT_COLUMNS, ""))
        rows.append(row)
    for i, message in problems.items():
        rows[i]["error"] = f"{unit} {chunk.records[i].number}: {message}"
    for j, i in enumerate(chunk.slots):
        if j in failures:
            continue
        prediction = Prediction.from_probabilities(probabilities[j])
        row = rows[i]
        keep = min_score is None or prediction.score >= min_score
        row["stance_label"] = prediction.label if keep else ""
        row["stance_score"] = round(prediction.score, 6)
        for label in LABELS:
            row[f"p_{label}"] = round(prediction.probabilities[label], 6)
        if not keep:
            row["error"] = f"score {prediction.score:.3f} below --min-score {min_score}"
    return rows, problems


class _Checkpoint:
    """The hidden partial output beside ``target`` and the state file that says how far it
    got: ``.NAME.part`` (a folder of parts for Parquet) and ``.NAME.part.json``."""

    def __init__(self, target: Path, fmt: str) -> None:
        self.target = target
        suffix = ".parts" if fmt == "parquet" else ".part"
        self.part = target.with_name(f".{target.name}{suffix}")
        self.state = target.with_name(f".{target.name}.part.json")

    def exists(self) -> bool:
        leftovers = (self.state, self.part, self.state.with_name(self.state.name + ".tmp"))
        return any(p.exists() for p in leftovers)

    def load(self) -> dict[str, Any] | None:
        try:
            state = json.loads(self.state.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(state, dict) or state.get("version") != STATE_VERSION:
            return None
        return state

    def save(self, state: dict[str, Any]) -> None:
        temporary = self.state.with_name(self.state.name + ".tmp")
        with temporary.open("w", encoding="utf-8") as out:
            json.dump(state, out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, self.state)

    def clear(self) -> None:
        if self.part.is_dir():
            shutil.rmtree(self.part, ignore_errors=True)
        else:
            self.part.unlink(missing_ok=True)
        self.state.unlink(missing_ok=True)
        self.state.with_name(self.state.name + ".tmp").unlink(missing_ok=True)


def _fingerprint(path: Path) -> dict[str, Any]:
    """Size and a hash of the first and last MiB: enough to notice a different file."""
    size = path.stat().st_size
    digest = hashlib.sha256(str(size).encode())
    with path.open("rb") as handle:
        digest.update(handle.read(FINGERPRINT_BYTES))
        if size > FINGERPRINT_BYTES:
            handle.seek(max(FINGERPRINT_BYTES, size - FINGERPRINT_BYTES))
            digest.update(handle.read())
    return {"path": str(path.resolve()), "size": size, "sha256": digest.hexdigest()}


def _model_identity(model: Any) -> tuple[Path, dict[str, Any]]:
    from stance.modeldir import METADATA_FILE, read_metadata, resolve_model_dir

    path = resolve_model_dir(model).resolve()
    read_metadata(path)  # a clear error here, before any work starts
    digest = hashlib.sha256((path / METADATA_FILE).read_bytes()).hexdigest()
    return path, {"path": str(path), "metadata_sha256": digest}


def _open_source(
    source: str | os.PathLike[str],
    fmt: str | None,
    target: Path | None,
    text_column: str,
    chunk_size: int,
    stack: contextlib.ExitStack,
) -> tuple[Reader, str]:
    """The reader and the output format. Standard input is copied to a temporary file first
    where the formats need two passes (JSON Lines to a table: the columns) or seeking
    (Parquet)."""
    from stance.formats import output_format

    reader = open_reader(Path(source), fmt, text_column, batch_rows=chunk_size)
    stack.callback(reader.close)
    out_fmt = output_format(target, reader.format)
    if str(source) == STDIN:
        if reader.format == "parquet" or (reader.format == "jsonl" and out_fmt != "jsonl"):
            with tempfile.NamedTemporaryFile(prefix="stance-stdin-", delete=False) as copy:
                stack.callback(Path(copy.name).unlink, missing_ok=True)
                shutil.copyfileobj(reader.handle, copy, 1 << 20)  # type: ignore[arg-type]
            reader = open_reader(copy.name, reader.format, text_column, batch_rows=chunk_size)
            stack.callback(reader.close)
        reader.path = Path("<stdin>")
    return reader, out_fmt


def _restart(
    checkpoint: _Checkpoint | None,
    job: dict[str, Any],
    resume: bool,
    say: Callable[[str], None],
    source: Path,
) -> tuple[Position, int, BatchResult]:
    """Where to start reading and writing, and the counts so far: from the checkpoint of an
    interrupted run of the same job with ``resume``, else from the beginning."""
    fresh = (Position(), 0, BatchResult(output=None if checkpoint is None else checkpoint.target))
    if checkpoint is None:
        return fresh
    state = checkpoint.load() if resume else None
    if state is not None and state.get("job") == job:
        result = BatchResult(
            state["rows"], state["classified"], state["failed"], state["rows"], checkpoint.target
        )
        say(f"resuming an interrupted run after {result.rows:,} rows")
        return Position(*state["read"]), state["written"], result
    if state is not None:
        changed = [k for k in job if state.get("job", {}).get(k) != job[k]]
        raise InputFileError(
            source,
            f"cannot resume into {checkpoint.target}: {', '.join(changed)} changed since the "
            "interrupted run; run without --resume to start over",
        )
    if checkpoint.exists():
        checkpoint.clear()
        say(
            "discarded the partial output of an earlier interrupted run"
            + ("" if resume else " (pass --resume to continue such a run)")
        )
    elif resume:
        say("no interrupted run to resume; starting from the beginning")
    return fresh


def _schema(reader: Reader, out_fmt: str) -> OutputSchema:
    if isinstance(reader, JsonLinesReader):
        if out_fmt == "jsonl":
            return OutputSchema(list(OUTPUT_COLUMNS), OUTPUT_COLUMNS)
        names, kinds = reader.scan()
        columns = names
        types: dict[str, Any] = dict(jsonl_types(kinds))
    else:
        columns = list(reader.columns or [])
        if reader.format == "txt":
            types = {"line": "int64", "text": "string"}
        elif reader.format == "parquet":
            types = {f.name: f.type for f in reader.schema}  # type: ignore[attr-defined]
        else:
            types = {}
    return OutputSchema(
        columns + [c for c in OUTPUT_COLUMNS if c not in columns], OUTPUT_COLUMNS, types
    )


class _Progress:
    def __init__(self, enabled: bool, reader: Reader, start: Position, rows: int) -> None:
        self.bar = None
        self.rows = rows
        if not enabled:
            return
        from tqdm.auto import tqdm

        total = reader.total
        self.by_bytes = reader.unit == "line" and total is not None
        self.bar = tqdm(
            total=total,
            initial=start.offset if self.by_bytes else rows,
            unit="B" if self.by_bytes else "row",
            unit_scale=True,
            unit_divisor=1024 if self.by_bytes else 1000,
            desc="classify",
            file=sys.stderr,
        )
        self.at = start.offset if self.by_bytes else rows

    def update(self, position: Position, rows: int) -> None:
        self.rows = rows
        if self.bar is None:
            return
        now = position.offset if self.by_bytes else rows
        self.bar.update(now - self.at)
        self.at = now
        if self.by_bytes:
            self.bar.set_postfix_str(f"{rows:,} rows", refresh=False)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def classify_file(
    source: str | os.PathLike[str],
    output: str | os.PathLike[str] | None = None,
    *,
    text_column: str = "text",
    fmt: str | None = None,
    model: Any = None,
    min_score: float | None = None,
    batch_size: int = 256,
    chunk_size: int = CHUNK_ROWS,
    n_jobs: int = 1,
    strict: bool = False,
    resume: bool = False,
    progress: bool = False,
    notice: Callable[[str], None] | None = None,
    stdout: IO[bytes] | None = None,
) -> BatchResult:
    """Classify every row of a batch file, streaming, into ``output`` (or standard output).

    Args:
        source: A ``.csv``, ``.tsv``, ``.jsonl``, ``.txt`` or ``.parquet`` file, or ``"-"``
            for standard input (then ``fmt`` is required).
        output: The output file; its extension picks the format (else one that fits the
            input). ``None`` writes to ``stdout`` (standard output by default).
        text_column: The column or field holding the text (``.txt``: each line).
        fmt: The input format, if not given by the extension.
        model: As in :func:`stance.classify`.
        min_score: Leave the label empty where the score is below this.
        batch_size: Texts per model call.
        chunk_size: Rows read, classified, written and checkpointed together.
        n_jobs: Worker processes (``-1``: every core); the output is the same for any number.
        strict: Stop at the first row that cannot be read or classified (raise, write nothing).
        resume: Continue an interrupted run into the same ``output`` from its last finished
            chunk (a fresh start when there is nothing to continue).
        progress: Show a progress bar on stderr.
        notice: Called with a sentence for the person running the job (e.g. "resumed ...").
        stdout: Where output goes without ``output`` (bytes; ``sys.stdout.buffer`` by default).

    Raises:
        InputFileError: the file cannot be read at all (missing, no header, no text column,
            a different file on resume), or with ``strict`` a row cannot be read or classified.
        ModelError: the model cannot be loaded.
    """
    from stance.arguments import check_at_least_one, check_min_score
    from stance.workers import predictor, resolve_jobs

    check_at_least_one("batch_size", batch_size)
    check_at_least_one("chunk_size", chunk_size)
    check_min_score(min_score)
    resolve_jobs(n_jobs)
    say = notice or (lambda _: None)
    from_stdin = str(source) == STDIN
    if from_stdin and resume:
        raise InputFileError("<stdin>", "cannot resume from standard input; pass --input FILE")
    model_path, model_id = _model_identity(model)
    target = None if output is None else Path(output)
    out = stdout or sys.stdout.buffer
    with contextlib.ExitStack() as stack:
        reader, out_fmt = _open_source(source, fmt, target, text_column, chunk_size, stack)
        schema = _schema(reader, out_fmt)
        job = {
            "input": None if from_stdin else _fingerprint(Path(source)),
            "format": reader.format,
            "output_format": out_fmt,
            "text_column": text_column,
            "model": model_id,
            "min_score": min_score,
            "batch_size": batch_size,
            "chunk_size": chunk_size,
            "strict": strict,
        }
        checkpoint = None if target is None else _Checkpoint(target, out_fmt)
        start, written, result = _restart(checkpoint, job, resume, say, reader.path)
        if checkpoint is not None:
            sink: Path | IO[bytes] = checkpoint.part
        elif strict:  # write nothing unless every row is fine: hold the output back
            sink = stack.enter_context(tempfile.TemporaryFile())
        else:
            sink = out
        writer = open_writer(out_fmt, schema, sink, written)
        bar = _Progress(progress, reader, start, result.rows)
        stack.callback(bar.close)
        try:
            jobs = _prepared(reader, start, chunk_size, text_column, strict)
            with predictor(model_path, batch_size, n_jobs) as pool:
                for chunk, (probabilities, failures) in pool.map(jobs):
                    rows, problems = _assemble(
                        chunk, probabilities, failures, reader.unit, min_score
                    )
                    if strict and problems:
                        i = min(problems)
                        _raise_row(reader, chunk.records[i].number, problems[i])
                    writer.write(rows)
                    result.rows += len(rows)
                    result.failed += len(problems)
                    result.classified += len(rows) - len(problems)
                    committed = writer.commit()
                    if checkpoint is not None:
                        checkpoint.save(
                            {
                                "version": STATE_VERSION,
                                "job": job,
                                "read": [chunk.position.offset, chunk.position.number],
                                "written": committed,
                                "rows": result.rows,
                                "classified": result.classified,
                                "failed": result.failed,
                            }
                        )
                    bar.update(chunk.position, result.rows)
            bar.close()
            writer.finish(target)
            if checkpoint is not None:
                checkpoint.clear()
            elif strict:
                sink.seek(0)  # type: ignore[union-attr]
                shutil.copyfileobj(sink, out)  # type: ignore[arg-type]
                out.flush()
        except StanceError:
            writer.discard()
            if checkpoint is not None:
                checkpoint.clear()
            raise
        # Any other exit (interrupted, killed, disk full) keeps the partial output for --resume.
    return result


def _raise_row(reader: Reader, number: int, problem: str) -> None:
    if reader.unit == "line":
        raise InputFileError(reader.path, problem, line=number)
    raise InputFileError(reader.path, f"row {number}: {problem}")


def _prepared(
    reader: Reader, start: Position, size: int, text_column: str, strict: bool
) -> Iterator[tuple[_Chunk, list[str]]]:
    """Chunks with their usable texts; with ``strict``, stop at the first unreadable or
    unusable row before anything is classified."""
    records = reader.records(start)
    while True:
        batch = list(islice(records, size))
        if not batch:
            return
        chunk = _prepare(batch, reader.position, text_column)
        if strict and chunk.problems:
            i = min(chunk.problems)
            _raise_row(reader, chunk.records[i].number, chunk.problems[i])
        yield chunk, chunk.texts


# Whole tables in memory (small files) ------------------------------------------------------


@dataclass
class Table:
    """Rows of a batch file, with the column order to write them back in."""

    rows: list[dict[str, Any]]
    columns: list[str]
    format: str
    text_column: str
    line_numbers: list[int] = field(default_factory=list)


def read_table(path: str | Path, text_column: str = "text", fmt: str | None = None) -> Table:
    """Read a whole batch file into memory, refusing it at the first unreadable row.

    Raises:
        InputFileError: the file is missing, not UTF-8, malformed, or lacks the text column.
    """
    reader = open_reader(path, fmt, text_column)
    try:
        rows, numbers, columns = [], [], list(reader.columns or [])
        for record in reader.records():
            if record.problem is not None:
                _raise_row(reader, record.number, record.problem)
            rows.append(record.values)
            numbers.append(record.number)
            if reader.columns is None:
                columns.extend(k for k in record.values if k not in columns)
        return Table(rows, columns, reader.format, reader.text_column, numbers)
    finally:
        reader.close()


def classify_table(
    table: Table,
    predict: Callable[[list[str]], list[Prediction]],
    *,
    batch_size: int = 256,
    min_score: float | None = None,
    progress: Callable[[int], None] | None = None,
) -> tuple[int, int]:
    """Add the stance columns to every row in place; return (classified, failed) counts."""
    import numpy as np

    records = [
        Record(n, row)
        for n, row in zip(table.line_numbers or range(1, len(table.rows) + 1), table.rows)
    ]
    chunk = _prepare(records, Position(), table.text_column)
    probabilities = np.full((len(chunk.texts), len(LABELS)), np.nan)
    failures: dict[int, str] = {}
    for start in range(0, len(chunk.texts), batch_size):
        batch = chunk.texts[start : start + batch_size]
        for i, prediction in enumerate(_predict_isolated(predict, batch), start):
            if isinstance(prediction, Exception):
                failures[i] = f"classification failed: {type(prediction).__name__}: {prediction}"
            else:
                probabilities[i] = [prediction.probabilities[label] for label in LABELS]
        if progress is not None:
            progress(len(batch))
    unit = "row" if table.format == "parquet" else "line"
    _, problems = _assemble(chunk, probabilities, failures, unit, min_score)
    return len(table.rows) - len(problems), len(problems)


def _predict_isolated(
    predict: Callable[[list[str]], list[Prediction]], texts: list[str]
) -> Sequence[Prediction | Exception]:
    try:
        return predict(texts)
    except StanceError:
        raise
    except Exception:
        out: list[Prediction | Exception] = []
        for text in texts:
            try:
                out.append(predict([text])[0])
            except StanceError:
                raise
            except Exception as exc:
                out.append(exc)
        return out


def write_table(table: Table, path: str | Path | None, fmt: str | None = None) -> str:
    """Write ``table`` to ``path`` atomically (temporary file + rename), or return it as text
    when ``path`` is None (text formats)."""
    import io

    from stance.formats import output_format

    target = None if path is None else Path(path)
    out_fmt = fmt or output_format(target, table.format)
    columns = table.columns + [c for c in OUTPUT_COLUMNS if c not in table.columns]
    schema = OutputSchema(
        columns, OUTPUT_COLUMNS, {"line": "int64"} if table.format == "txt" else {}
    )
    if target is None:
        buffer = io.BytesIO()
        writer = open_writer(out_fmt, schema, buffer)
        writer.write(table.rows)
        writer.finish(None)
        return buffer.getvalue().decode("utf-8")
    checkpoint = _Checkpoint(target, out_fmt)
    writer = open_writer(out_fmt, schema, checkpoint.part)
    try:
        writer.write(table.rows)
        writer.finish(target)
    except BaseException:
        with contextlib.suppress(OSError):
            writer.discard()
        raise
    return "" if out_fmt == "parquet" else target.read_text(encoding="utf-8")
