"""File jobs: an uploaded file is kept in its own folder, classified by the streaming batch
engine (:func:`stance.batch.classify_file`) in a separate process, and deleted once the
labelled file has been sent (or when the job is cancelled, fails or expires).

Everything about a job lives in its folder (``state.json``, the upload, the output), so any
server process of ``--workers N`` can report on it; the process that started it watches its
time limit. The classifying process is killed when it runs past ``file_timeout_s``; running it
apart from the server keeps the event loop and the other requests responsive meanwhile.
Nothing of a file's content is logged.
"""

from __future__ import annotations

import contextlib
import json
import logging
import multiprocessing
import os
import secrets
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stance.errors import ConfigError, InputFileError, StanceError
from stance.labels import LABELS

logger = logging.getLogger(__name__)

STATE_FILE = "state.json"
RESULT_FILE = "result.json"
CHUNK_ROWS = 2000
"""Rows per chunk of the batch engine: small enough for a progress bar that moves."""
FILE_NICENESS = 5
"""How much lower the classifying process's CPU priority is than the server's (POSIX nice)."""
_TEXT_GUESSES = ("text", "tekst", "body", "comment", "kommentar", "message", "besked", "content")
_ID = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"


# Formats -----------------------------------------------------------------------------------


def file_layer() -> Any:
    """The library's file formats module (:mod:`stance.io.formats`, the one file layer)."""
    import stance.io.formats as formats

    return formats


def engine_formats() -> tuple[str, ...]:
    """The input formats the installed batch engine reads."""
    return tuple(file_layer().FORMATS)


def upload_format(filename: str) -> str:
    """The format of an upload from its file name.

    Raises:
        InputFileError: an extension the engine cannot read (Excel: a clear note when the
            engine of this version has no Excel reader).
    """
    suffix = Path(filename).suffix.lower().lstrip(".")
    if suffix in ("xlsx", "xlsm") and "xlsx" not in engine_formats():
        raise InputFileError(
            filename,
            "Excel files (.xlsx) are not supported by this installation's batch engine; "
            "save the sheet as CSV (UTF-8) and upload that",
        )
    fmt = {"xlsx": "xlsx", "xlsm": "xlsx"}.get(suffix) or file_layer().SUFFIXES.get(suffix)
    if fmt is None or not suffix or fmt not in engine_formats():
        raise InputFileError(
            filename,
            f"cannot tell the format from {Path(filename).suffix or 'a name without extension'!r};"
            " upload a .csv, .tsv, .jsonl, .txt, .parquet"
            + (" or .xlsx" if "xlsx" in engine_formats() else "")
            + " file",
        )
    return fmt


def output_suffix(fmt: str) -> str:
    """The output's extension: the upload's format, CSV for plain text (which has no columns)."""
    if fmt in ("xlsx", "parquet"):
        return fmt
    return file_layer().output_format(None, fmt)


def read_columns(path: Path, fmt: str) -> list[str]:
    """The column names of a file (:func:`stance.io.read_columns`).

    Raises:
        InputFileError: the file has no readable header or columns.
    """
    from stance.io import read_columns as library_read_columns

    return list(library_read_columns(path, fmt))


def guess_text_column(columns: list[str]) -> str | None:
    """The column most likely to hold the text.

    >>> guess_text_column(["id", "Kommentar", "dato"])
    'Kommentar'
    """
    lowered = {c.lower(): c for c in columns}
    for guess in _TEXT_GUESSES:
        if guess in lowered:
            return lowered[guess]
    return columns[0] if columns else None


# The classifying process -------------------------------------------------------------------


def _summarise(output: Path, fmt: str, model: str) -> dict[str, Any]:
    """Counts and shares of each label in the labelled file, rows with errors, and the
    shares corrected for the model's errors where ``stance.shares`` exists."""
    import numpy as np

    open_reader = file_layer().open_reader
    counts = dict.fromkeys(LABELS, 0)
    uncertain = errors = 0
    probabilities: list[list[float]] = []
    reader = open_reader(output, "xlsx" if fmt == "xlsx" else None, "stance_label")
    try:
        for record in reader.records():
            row = record.values
            label = row.get("stance_label") or ""
            p = [row.get(f"p_{name}") for name in LABELS]
            scored = all(v not in (None, "") for v in p)
            status = row.get("stance_status") or ("ok" if label else "withheld" if scored else "")
            if scored:
                probabilities.append([float(v) for v in p])
            if status == "ok" and label in counts:
                counts[label] += 1
            elif status == "withheld":
                uncertain += 1
            else:
                errors += 1
    finally:
        reader.close()
    labelled = sum(counts.values())
    summary: dict[str, Any] = {
        "counts": counts,
        "shares": {k: (v / labelled if labelled else None) for k, v in counts.items()},
        "uncertain": uncertain,
        "errors": errors,
        "corrected": corrected_shares(np.asarray(probabilities), model),
    }
    return summary


def corrected_shares(probabilities: Any, model: str) -> dict[str, Any] | None:
    """Shares corrected for the model's errors, with their intervals, from ``stance.shares``:
    ``{"method", "correction", "warnings", "rows": [{"label", "n", "raw_share",
    "corrected_share", "low", "high"}]}``, ``{"error": why}`` where it cannot estimate, or
    ``None`` where this installation has no shares estimator."""
    try:
        from stance.shares import estimate_shares_from_probabilities
    except ImportError:
        return None
    if len(probabilities) == 0:
        return {"error": "no classified rows"}
    try:
        shares = estimate_shares_from_probabilities(probabilities, model=model)
    except StanceError as exc:
        return {"error": str(exc)}
    rows = getattr(shares, "rows", None)
    if rows is None and hasattr(shares, "to_frame"):
        rows = shares.to_frame().to_dict("records")
    return {
        "method": getattr(shares, "method", None),
        "correction": getattr(shares, "correction", None),
        "source": getattr(shares, "source", None),
        "level": getattr(shares, "level", None),
        "warnings": list(getattr(shares, "warnings", ()) or ()),
        "rows": _by_label([_plain(dict(r)) for r in rows or []]),
    }


def _by_label(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per label: rows that hold every label's numbers (``raw_<label>``,
    ``share_<label>``, ``low_<label>``, ``high_<label>``) are spread out."""
    out = []
    for row in rows:
        if not any(f"share_{label}" in row for label in LABELS):
            out.append(row)
            continue
        for label in LABELS:
            out.append(
                {
                    "label": label,
                    "group": row.get("group"),
                    "n": row.get("n"),
                    "raw_share": row.get(f"raw_{label}"),
                    "corrected_share": row.get(f"share_{label}"),
                    "low": row.get(f"low_{label}"),
                    "high": row.get(f"high_{label}"),
                }
            )
    return out


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    """JSON-ready values (numpy scalars as Python numbers, tuples as lists)."""
    out: dict[str, Any] = {}
    for key, value in row.items():
        if hasattr(value, "item"):
            value = value.item()
        if isinstance(value, tuple):
            value = list(value)
        out[key] = value
    return out


def _run(job_dir: str, settings: dict[str, Any]) -> None:
    """In the classifying process: classify the upload into the output and write the result."""
    folder = Path(job_dir)
    result: dict[str, Any]
    with contextlib.suppress(AttributeError, OSError):  # batch work yields to interactive calls
        os.nice(FILE_NICENESS)
    try:
        from stance.batch import classify_file

        batch = classify_file(
            folder / settings["input"],
            folder / settings["output"],
            text_column=settings["text_column"],
            fmt=settings["format"] if settings["format"] != "xlsx" else None,
            model=settings["model"],
            min_score=settings["min_score"],
            chunk_size=CHUNK_ROWS,
        )
        result = {
            "ok": True,
            "rows": batch.rows,
            "classified": batch.classified,
            "failed": batch.failed,
            "summary": _summarise(
                folder / settings["output"], settings["format"], settings["model"]
            ),
        }
    except StanceError as exc:
        result = {"ok": False, "type": type(exc).__name__, "message": _public(str(exc), folder)}
    except Exception as exc:  # reported without a trace or any content
        result = {
            "ok": False,
            "type": "InternalError",
            "message": f"the job failed ({type(exc).__name__})",
        }
    temporary = folder / (RESULT_FILE + ".tmp")
    temporary.write_text(json.dumps(result), encoding="utf-8")
    os.replace(temporary, folder / RESULT_FILE)


def _public(message: str, folder: Path) -> str:
    """A message without the server's temporary paths."""
    return message.replace(str(folder) + os.sep, "").replace(str(folder), "")


# Jobs --------------------------------------------------------------------------------------


@dataclass
class Job:
    """A job's folder and the state recorded in it."""

    id: str
    folder: Path

    @property
    def state_path(self) -> Path:
        return self.folder / STATE_FILE

    def read(self) -> dict[str, Any]:
        try:
            return json.loads(self.state_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}

    def write(self, **changes: Any) -> dict[str, Any]:
        state = {**self.read(), **changes, "updated": time.time()}
        temporary = self.folder / (STATE_FILE + f".{os.getpid()}.{threading.get_ident()}.tmp")
        temporary.write_text(json.dumps(state), encoding="utf-8")
        os.replace(temporary, self.state_path)
        return state


class JobStore:
    """The jobs of one server (shared by its processes through ``root``)."""

    def __init__(self, root: Path, *, file_jobs: int, file_timeout_s: float, ttl_s: float) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.timeout_s = file_timeout_s
        self.ttl_s = ttl_s
        self.slots = threading.BoundedSemaphore(file_jobs)
        self.processes: dict[str, Any] = {}
        self.context = multiprocessing.get_context("spawn")

    def new(self) -> Job:
        self.sweep()
        job_id = secrets.token_urlsafe(18)
        folder = self.root / job_id
        folder.mkdir(mode=0o700)
        job = Job(job_id, folder)
        job.write(state="receiving", created=time.time())
        return job

    def get(self, job_id: str) -> Job:
        """The job with this id.

        Raises:
            KeyError: no such job (never existed, finished and downloaded, or expired).
        """
        if not job_id or any(c not in _ID for c in job_id):
            raise KeyError(job_id)
        folder = self.root / job_id
        if not (folder / STATE_FILE).is_file():
            raise KeyError(job_id)
        return Job(job_id, folder)

    def remove(self, job: Job) -> None:
        process = self.processes.pop(job.id, None)
        if process is not None and process.is_alive():
            process.kill()
        shutil.rmtree(job.folder, ignore_errors=True)

    def sweep(self) -> None:
        """Delete jobs not touched for ``ttl_s`` (finished ones never downloaded)."""
        now = time.time()
        for state_path in self.root.glob(f"*/{STATE_FILE}"):
            try:
                touched = state_path.stat().st_mtime
            except OSError:
                continue
            if now - touched > max(self.ttl_s, self.timeout_s + 60):
                self.remove(Job(state_path.parent.name, state_path.parent))

    def prepare(self, job: Job, filename: str) -> dict[str, Any]:
        """After the upload is in the job's folder: its format and columns.

        Raises:
            InputFileError: a format the engine cannot read, or no columns.
        """
        fmt = upload_format(filename)
        upload = job.folder / f"upload.{Path(filename).suffix.lower().lstrip('.')}"
        try:
            columns = read_columns(upload, fmt)
        except InputFileError as exc:  # named by the upload's name, not the server's path
            raise InputFileError(Path(filename).name, exc.problem, exc.line, exc.column) from None
        rows_total = None
        if fmt == "parquet":
            pq = file_layer().require_pyarrow()
            rows_total = int(pq.ParquetFile(upload).metadata.num_rows)
        return job.write(
            rows_total=rows_total,
            state="uploaded",
            filename=Path(filename).name,
            format=fmt,
            input=upload.name,
            bytes=upload.stat().st_size,
            columns=columns,
            suggested_column=guess_text_column(columns),
        )

    def start(
        self,
        job: Job,
        text_column: str,
        model_reference: str,
        model_name: str,
        min_score: float | None,
    ) -> dict[str, Any]:
        """Queue the job; a thread of this process runs it in a classifying process.

        Raises:
            InputFileError: no such column in the file.
            ConfigError: the job was started already.
        """
        state = job.read()
        if state.get("state") != "uploaded":
            raise ConfigError(f"job {job.id} is {state.get('state')!r}; it can be started once")
        columns = state.get("columns") or []
        if state["format"] != "txt" and text_column not in columns:
            raise InputFileError(
                state["filename"],
                f"no column {text_column!r}; columns are {columns}",
                column=text_column,
            )
        output = f"labelled.{output_suffix(state['format'])}"
        state = job.write(
            state="queued",
            text_column=text_column if state["format"] != "txt" else "text",
            model=model_name,
            min_score=min_score,
            output=output,
        )
        settings = {**state, "model": model_reference}
        threading.Thread(target=self._watch, args=(job, settings), daemon=True).start()
        return state

    def _watch(self, job: Job, settings: dict[str, Any]) -> None:
        with self.slots:
            if not job.folder.is_dir():  # cancelled while waiting
                return
            job.write(state="running", started=time.time())
            process = self.context.Process(target=_run, args=(str(job.folder), settings))
            process.start()
            self.processes[job.id] = process
            process.join(self.timeout_s)
            timed_out = process.is_alive()
            if timed_out:
                process.kill()
                process.join()
            self.processes.pop(job.id, None)
        if not job.folder.is_dir():
            return
        if timed_out:
            job.write(
                state="failed",
                finished=time.time(),
                error={
                    "type": "TimeoutError",
                    "message": f"the file took longer than this server's limit of "
                    f"{self.timeout_s:g} s; split it or ask for a longer --file-timeout",
                },
            )
            return
        try:
            result = json.loads((job.folder / RESULT_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            result = {
                "ok": False,
                "type": "InternalError",
                "message": "the job ended without a result",
            }
        if result.pop("ok"):
            job.write(state="done", finished=time.time(), **result)
        else:
            job.write(state="failed", finished=time.time(), error=result)

    def progress(self, job: Job, state: dict[str, Any]) -> float | None:
        """How far a running job got (0 to 1), from the batch engine's checkpoint of its
        output; ``None`` while that is unknown."""
        if state.get("state") == "done":
            return 1.0
        if state.get("state") != "running":
            return 0.0 if state.get("state") == "queued" else None
        from stance.batch import _Checkpoint

        fmt = Path(state["output"]).suffix.lstrip(".")
        checkpoint = _Checkpoint(job.folder / state["output"], fmt).load()
        if not checkpoint:
            return 0.0
        read = checkpoint.get("read", [0, 0])[0]
        total = (
            state.get("rows_total")
            if state["format"] in ("parquet", "xlsx")
            else state.get("bytes")
        )
        if not total:
            return None
        return max(0.0, min(1.0, read / total))

    def wait(self, job: Job, poll: Callable[[], None] = lambda: time.sleep(0.05)) -> dict[str, Any]:
        """Block until the job is done or failed; return its state."""
        while True:
            state = job.read()
            if state.get("state") in ("done", "failed") or not state:
                return state
            poll()
