"""Batch jobs: classify every row of a file, streaming in chunks, and write the rows back in
order with all their columns and the stance columns.

:func:`classify_file` reads, classifies and writes a chunk of rows at a time, so memory does
not grow with the file. No row is lost: a row that cannot be read or classified is written in
its place with an empty label and an ``error`` naming the line and the problem (unless
``strict``). Output goes to a hidden partial file beside the target that is renamed at the end;
after each chunk a small state file records how far reading and writing got, so a run that was
killed continues from the last finished chunk with ``resume=True`` and gives the same file.

Every row gets a ``stance_status``: ``ok`` (labelled), ``withheld`` (classified, but its score
is below ``min_score``, so its label is left empty; ``error`` stays empty) or ``error`` (it
could not be read or classified; ``error`` says where and why). Reading and writing go through
:mod:`stance.io`, which handles every format, encoding and delimiter.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
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

from stance.errors import InputFileError, OutputFileError, StanceError
from stance.io.formats import (
    FORMATS,
    JsonLinesReader,
    OutputSchema,
    Reader,
    detect_format,
    excel_csv,
    jsonl_types,
    open_reader,
    open_writer,
    output_format,
)
from stance.io.rows import Position, Record, text_problem
from stance.io.sources import STDIN, spool
from stance.io.tables import Table, check_output, raise_row, read_table
from stance.labels import LABELS
from stance.prediction import Prediction

__all__ = [
    "CHUNK_ROWS",
    "FORMATS",
    "OUTPUT_COLUMNS",
    "BatchResult",
    "Table",
    "classify_file",
    "detect_format",
    "read_table",
    "text_problem",
]

OUTPUT_COLUMNS = (
    "stance_label",
    "stance_score",
    *(f"p_{label}" for label in LABELS),
    "stance_status",
    "error",
)
STATUSES = ("ok", "withheld", "error")
CHUNK_ROWS = 10_000
STATE_VERSION = 1
FINGERPRINT_BYTES = 1 << 20


@dataclass
class BatchResult:
    """What a batch job did: rows written; how many got a label (``classified``), were
    withheld below ``min_score`` (``withheld``: scored, label left empty) or failed (no label,
    with an ``error``); and how many rows an interrupted run had already done."""

    rows: int = 0
    classified: int = 0
    failed: int = 0
    resumed: int = 0
    output: Path | None = None
    withheld: int = 0
    input_format: str = ""
    output_format: str = ""
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The counts as JSON-ready values (``--json``)."""
        return {
            "rows": self.rows,
            "classified": self.classified,
            "withheld": self.withheld,
            "failed": self.failed,
            "resumed": self.resumed,
            "output": None if self.output is None else str(self.output),
            "input_format": self.input_format,
            "output_format": self.output_format,
            "notes": list(self.notes),
        }


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
) -> tuple[list[dict[str, Any]], dict[int, str], int]:
    """The output rows of a chunk, ``{index: problem}`` for those that failed, and how many
    were withheld below ``min_score``."""
    problems = dict(chunk.problems)
    for j, message in failures.items():
        problems[chunk.slots[j]] = message
    rows = []
    for record in chunk.records:
        row = record.values
        row.update(dict.fromkeys(OUTPUT_COLUMNS, ""))
        row["stance_status"] = "ok"
        rows.append(row)
    for i, message in problems.items():
        rows[i]["error"] = f"{unit} {chunk.records[i].number}: {message}"
        rows[i]["stance_status"] = "error"
    withheld = 0
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
            row["stance_status"] = "withheld"
            withheld += 1
    return rows, problems, withheld


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


@dataclass(frozen=True)
class ReadOptions:
    """How to read the input: the CSV ``delimiter``, the text ``encoding`` and the Excel
    ``sheet`` (each ``None``: detected, or the first sheet)."""

    delimiter: str | None = None
    encoding: str | None = None
    sheet: str | int | None = None


def _open_source(
    source: str | os.PathLike[str],
    fmt: str | None,
    target: Path | None,
    out_explicit: str | None,
    text_column: str,
    chunk_size: int,
    options: ReadOptions,
    stack: contextlib.ExitStack,
) -> tuple[Reader, str]:
    """The reader and the output format. Standard input is copied to a temporary file first
    where the formats need two passes (JSON Lines to a table: the columns) or seeking
    (Parquet, Excel: done by :func:`stance.io.open_reader`)."""
    read: dict[str, Any] = {
        "delimiter": options.delimiter,
        "encoding": options.encoding,
        "sheet": options.sheet,
    }
    reader = open_reader(source, fmt, text_column, batch_rows=chunk_size, **read)
    stack.callback(reader.close)
    out_fmt = output_format(target, reader.format, out_explicit)
    if str(source) == STDIN and reader.format == "jsonl" and out_fmt != "jsonl":
        copy = spool(reader.handle)  # type: ignore[arg-type]  # with the bytes already peeked at
        stack.callback(copy.unlink, missing_ok=True)
        reader = open_reader(copy, "jsonl", text_column, batch_rows=chunk_size, **read)
        stack.callback(reader.close)
        reader.path = Path("<stdin>")
    return reader, out_fmt


def _restart(
    checkpoint: _Checkpoint | None,
    job: dict[str, Any],
    resume: bool,
    overwrite: bool,
    say: Callable[[str], None],
    source: Path,
) -> tuple[Position, int, BatchResult]:
    """Where to start reading and writing, and the counts so far: from the checkpoint of an
    interrupted run of the same job with ``resume``, else from the beginning. A partial run
    is never thrown away unasked: without ``resume`` or ``overwrite`` it is refused."""
    fresh = (Position(), 0, BatchResult(output=None if checkpoint is None else checkpoint.target))
    if checkpoint is None:
        return fresh
    state = checkpoint.load() if resume else None
    if state is not None and state.get("job") == job:
        result = BatchResult(
            state["rows"],
            state["classified"],
            state["failed"],
            state["rows"],
            checkpoint.target,
            state.get("withheld", 0),
        )
        say(f"resuming an interrupted run after {result.rows:,} rows")
        return Position(*state["read"]), state["written"], result
    if state is not None and not overwrite:
        changed = [k for k in job if state.get("job", {}).get(k) != job[k]]
        raise InputFileError(
            source,
            f"cannot resume into {checkpoint.target}: {', '.join(changed)} changed since the "
            "interrupted run; start over with overwrite (--overwrite)",
        )
    if checkpoint.exists():
        if not (overwrite or resume):
            raise OutputFileError(
                checkpoint.target,
                "an earlier run into this file was interrupted and left its partial output "
                f"({checkpoint.part.name}); continue it with resume (--resume) or start over "
                "with overwrite (--overwrite)",
            )
        checkpoint.clear()
        say(
            "discarded the partial output of an earlier interrupted run"
            + ("" if overwrite else " (it had not finished a chunk: nothing to resume)")
        )
    elif resume:
        say("no interrupted run to resume; starting from the beginning")
    return fresh


def _schema(reader: Reader, out_fmt: str) -> OutputSchema:
    types: dict[str, Any]
    if isinstance(reader, JsonLinesReader):
        if out_fmt == "jsonl":
            return OutputSchema(list(OUTPUT_COLUMNS), OUTPUT_COLUMNS)
        names, kinds = reader.scan()
        columns = names
        types = dict(jsonl_types(kinds))
    else:
        columns = list(reader.columns or [])
        if reader.format == "txt":  # the line number and the text
            types = dict(zip(columns, ("int64", "string")))
        elif reader.format == "parquet":
            types = {f.name: f.type for f in reader.schema}  # type: ignore[attr-defined]
        elif reader.format == "xlsx":  # cells hold numbers and text: text in Parquet
            types = dict.fromkeys(columns, "json")
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
    output_format: str | None = None,
    model: Any = None,
    min_score: float | None = None,
    batch_size: int = 256,
    chunk_size: int = CHUNK_ROWS,
    n_jobs: int = 1,
    strict: bool = False,
    resume: bool = False,
    overwrite: bool = False,
    delimiter: str | None = None,
    encoding: str | None = None,
    sheet: str | int | None = None,
    excel: bool = False,
    replace_columns: bool = False,
    progress: bool = False,
    notice: Callable[[str], None] | None = None,
    stdout: IO[bytes] | None = None,
) -> BatchResult:
    """Classify every row of a file, streaming, into ``output`` (or standard output).

    Args:
        source: A ``.csv``, ``.tsv``/``.tab``, ``.jsonl``, ``.txt``, ``.parquet`` or
            ``.xlsx`` file, or ``"-"`` for standard input (its format is told from its first
            bytes unless ``fmt`` names it).
        output: The output file; its extension (or ``output_format``) picks the format: CSV,
            TSV, JSON Lines, Parquet or Excel. ``None`` writes to ``stdout`` in a format that
            fits the input.
        text_column: The column or field holding the text (``.txt``: the name given to each
            line).
        fmt: The input format, if not given by the extension.
        output_format: The output format, if not given by the extension.
        model: As in :func:`stance.classify`.
        min_score: Withhold the label where the score is below this (``stance_status``
            ``withheld``).
        batch_size: Texts per model call.
        chunk_size: Rows read, classified, written and checkpointed together.
        n_jobs: Worker processes (``-1``: every core); the output is the same for any number.
        strict: Stop at the first row that cannot be read or classified (raise, write nothing).
        resume: Continue an interrupted run into the same ``output`` from its last finished
            chunk (a fresh start when there is nothing to continue).
        overwrite: Throw away the partial output of an interrupted run and start over
            (without it, or ``resume``, such a run is refused).
        delimiter: CSV input: the delimiter (default: sniffed from the header).
        encoding: Text input: its encoding (default: detected; UTF-8, else cp1252).
        sheet: Excel input: the sheet name or number (default: the first).
        excel: Write a CSV output as Danish Excel opens it (``;`` and a UTF-8 byte order mark;
            also chosen when the input was such a CSV).
        replace_columns: Replace the stance columns an earlier run left in the input (without
            it, such an input is refused rather than silently overwritten).
        progress: Show a progress bar on stderr.
        notice: Called with a sentence for the person running the job (e.g. "resumed ...").
        stdout: Where output goes without ``output`` (bytes; ``sys.stdout.buffer`` by default).

    Raises:
        InputFileError: the file cannot be read at all (missing, no header, no text column,
            a different file on resume), or with ``strict`` a row cannot be read or classified.
        OutputFileError: ``output`` is a directory, cannot be written, has an unknown
            extension, or holds an interrupted run (and neither ``resume`` nor ``overwrite``);
            checked before a row is read.
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
        raise InputFileError("<stdin>", "cannot resume from standard input; read from a file")
    target = None if output is None else Path(output)
    if target is not None:  # before any work: a bad output fails fast and leaves nothing
        check_output(target, output_format)
    elif output_format in ("parquet", "xlsx"):
        raise OutputFileError(STDIN, f"{output_format} output cannot go to standard output")
    model_path, model_id = _model_identity(model)
    out = stdout or sys.stdout.buffer
    options = ReadOptions(delimiter, encoding, sheet)
    with contextlib.ExitStack() as stack:
        reader, out_fmt = _open_source(
            source, fmt, target, output_format, text_column, chunk_size, options, stack
        )
        for note in reader.notes:
            say(note)
        _check_stance_columns(reader, reader.columns or [], replace_columns)
        schema = _schema(reader, out_fmt)
        # Danish Excel's CSV when asked, or (for a file) when the input was one
        csv_delimiter, bom = excel_csv(out_fmt, reader if target is not None else None, excel)
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
            "read": [options.delimiter, reader.encoding, options.sheet],
            "write": [csv_delimiter, bom],
        }
        checkpoint = None if target is None else _Checkpoint(target, out_fmt)
        start, written, result = _restart(checkpoint, job, resume, overwrite, say, reader.path)
        result.input_format, result.output_format = reader.format, out_fmt
        result.notes = list(reader.notes)
        jobs = _prepared(reader, start, chunk_size, text_column, strict, replace_columns)
        first = next(jobs, None)  # the input is known to be readable before anything is written
        if checkpoint is not None:
            sink: Path | IO[bytes] = checkpoint.part
        elif strict:  # write nothing unless every row is fine: hold the output back
            sink = stack.enter_context(tempfile.TemporaryFile())
        else:
            sink = out
        writer = open_writer(out_fmt, schema, sink, written, delimiter=csv_delimiter, bom=bom)
        bar = _Progress(progress, reader, start, result.rows)
        stack.callback(bar.close)
        try:
            chunks = iter(()) if first is None else itertools.chain([first], jobs)
            with predictor(model_path, batch_size, n_jobs) as pool:
                for chunk, (probabilities, failures) in pool.map(chunks):
                    rows, problems, withheld = _assemble(
                        chunk, probabilities, failures, reader.unit, min_score
                    )
                    if strict and problems:
                        i = min(problems)
                        raise_row(reader, chunk.records[i].number, problems[i])
                    writer.write(rows)
                    result.rows += len(rows)
                    result.failed += len(problems)
                    result.withheld += withheld
                    result.classified += len(rows) - len(problems) - withheld
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
                                "withheld": result.withheld,
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


def _check_stance_columns(reader: Reader, columns: Sequence[str], replace: bool) -> None:
    """Refuse an input that already holds stance columns (an earlier run's output) unless
    ``replace``: classifying it would silently overwrite them."""
    found = [c for c in OUTPUT_COLUMNS if c in columns]
    if found and not replace:
        raise InputFileError(
            reader.path,
            f"already has the stance columns {found} (the output of an earlier run?); "
            "classifying it again would overwrite them: drop them first, or replace them "
            "(--replace-columns)",
        )


def _prepared(
    reader: Reader, start: Position, size: int, text_column: str, strict: bool, replace: bool
) -> Iterator[tuple[_Chunk, list[str]]]:
    """Chunks with their usable texts; with ``strict``, stop at the first unreadable or
    unusable row before anything is classified."""
    records = reader.records(start)
    while True:
        batch = list(islice(records, size))
        if not batch:
            return
        if reader.columns is None and not replace:  # JSON Lines: fields differ by row
            for record in batch:
                if any(c in record.values for c in OUTPUT_COLUMNS):
                    _check_stance_columns(reader, list(record.values), replace)
        chunk = _prepare(batch, reader.position, text_column)
        if strict and chunk.problems:
            i = min(chunk.problems)
            raise_row(reader, chunk.records[i].number, chunk.problems[i])
        yield chunk, chunk.texts
