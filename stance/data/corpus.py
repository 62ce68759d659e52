"""Loading and validating the labelled corpus and the authored texts.

The corpus (``labelled/stance.jsonl``) holds units of five Danish source documents with a fixed
``train``/``dev``/``test`` split; the authored texts (``labelled/authored.jsonl``) are training
data only. Both are JSON Lines files; every problem is reported with file, line and field.
This module imports neither torch nor transformers.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stance.errors import CorpusError
from stance.labels import LABELS

if TYPE_CHECKING:
    import datasets

SPLITS: tuple[str, ...] = ("train", "dev", "test")
KINDS: tuple[str, ...] = ("headline", "lead", "paragraph", "comment")
REGISTERS: tuple[str, ...] = (
    "comment",
    "post",
    "tweet",
    "letter",
    "statement",
    "news",
    "headline",
    "question",
)
SPEAKERS: tuple[str, ...] = (
    "unemployed",
    "sick-listed",
    "caseworker",
    "jobcentre-manager",
    "employer",
    "union",
    "politician",
    "researcher",
    "journalist",
    "relative",
    "citizen",
    "a-kasse",
    "ngo",
    "municipality",
    "young-person",
    "immigrant",
    "disabled",
    "senior",
)
TOPICS: tuple[str, ...] = (
    "sanctions",
    "joblog",
    "meetings",
    "cv-courses",
    "praktik",
    "loentilskud",
    "ressourceforloeb",
    "sygedagpenge",
    "fleksjob",
    "job-matches",
    "employer-collaboration",
    "digital-self-service",
    "waiting-times",
    "closing-jobcentres",
    "a-kasser-takeover",
    "reforms-savings",
    "integration",
    "staff-conditions",
    "general",
)


@dataclass(frozen=True)
class _Field:
    kind: type | tuple[type, ...]
    check: Callable[[Any], object] | None = None  # a truthy result passes
    allowed: str = ""


def _enum(values: tuple[str, ...]) -> _Field:
    return _Field(str, lambda v: v in values, f"one of {', '.join(values)}")


def _text() -> _Field:
    return _Field(str, lambda v: bool(v.strip()), "a non-empty string")


CORPUS_SCHEMA: dict[str, _Field] = {
    "id": _Field(str, re.compile(r"d\d{3}-[pc]\d{2}").fullmatch, "like 'd003-c07'"),
    "source": _Field(str, re.compile(r"\d{3}").fullmatch, "a three-digit source id"),
    "kind": _enum(KINDS),
    "position": _Field(int, lambda v: v >= 1, "an integer >= 1"),
    "text": _text(),
    "label": _enum(LABELS),
    "target_mentioned": _Field(bool),
    "confidence": _Field(int, lambda v: 1 <= v <= 3, "1, 2 or 3"),
    "rationale": _text(),
    "split": _enum(SPLITS),
    "copies": _Field(int, lambda v: v >= 1, "an integer >= 1"),
}

AUTHORED_SCHEMA: dict[str, _Field] = {
    "id": _Field(str, re.compile(r"a-\d{5}").fullmatch, "like 'a-00001'"),
    "text": _text(),
    "label": _enum(LABELS),
    "register": _enum(REGISTERS),
    "speaker": _enum(SPEAKERS),
    "topic": _enum(TOPICS),
    "writer": _Field(str, re.compile(r"w\d{2}").fullmatch, "like 'w07'"),
    "rationale": _text(),
    "origin": _Field(str, lambda v: v == "authored", "'authored'"),
}


def repo_root() -> Path:
    """The source checkout this package lives in (or would live in)."""
    return Path(__file__).resolve().parents[2]


def _packaged_or_repo(name: str) -> Path:
    repo_file = repo_root() / "labelled" / name
    if repo_file.is_file():
        return repo_file
    return Path(__file__).resolve().parents[1] / "_data" / name


def default_corpus_path() -> Path:
    """``labelled/stance.jsonl`` of the checkout, else the copy shipped in the wheel."""
    return _packaged_or_repo("stance.jsonl")


def default_authored_path() -> Path:
    """``labelled/authored.jsonl`` of the checkout, else the copy shipped in the wheel."""
    return _packaged_or_repo("authored.jsonl")


def _is_type(value: Any, kind: type | tuple[type, ...]) -> bool:
    # bool is an int subclass: never accept True for an integer field, or 1 for a bool field
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, kind)


def json_objects(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """The JSON objects of a JSON Lines file with their line numbers (blank lines skipped).

    Raises:
        CorpusError: the file is not UTF-8, or a line is not valid JSON or not an object.
    """
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise CorpusError(path, None, f"not valid UTF-8 ({exc})") from exc
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise CorpusError(
                path, number, f"invalid JSON: {exc.msg} at column {exc.colno}"
            ) from exc
        if not isinstance(row, dict):
            raise CorpusError(path, number, f"expected a JSON object, got {type(row).__name__}")
        yield number, row


def real_rows(
    path: Path, required: Sequence[str], kinds: Sequence[str], not_found: str
) -> Iterator[tuple[int, dict[str, Any]]]:
    """The checked rows of a real labelled file (the dev set, the training pool) with their
    line numbers: every ``required`` field a non-empty string, a known label and kind, no
    repeated id.

    Raises:
        CorpusError: the file is missing (``not_found`` says which), holds no records, or a
            row fails a check (the message names file, line and field).
    """
    from stance.labels import LABELS

    if not path.is_file():
        raise CorpusError(path, None, not_found)
    seen: dict[str, int] = {}
    for number, row in json_objects(path):
        for name in required:
            if not isinstance(row.get(name), str) or not row[name].strip():
                raise CorpusError(path, number, "missing or empty (must be a string)", name)
        if row["label"] not in LABELS:
            raise CorpusError(path, number, f"{row['label']!r} is not one of {LABELS}", "label")
        if row["kind"] not in kinds:
            raise CorpusError(path, number, f"{row['kind']!r} is not one of {tuple(kinds)}", "kind")
        if row["id"] in seen:
            raise CorpusError(path, number, f"duplicate id (line {seen[row['id']]})", "id")
        seen[row["id"]] = number
        yield number, row
    if not seen:
        raise CorpusError(path, None, "file holds no records")


def read_jsonl(path: str | Path, schema: dict[str, _Field]) -> list[dict[str, Any]]:
    """Read and validate a JSON Lines file against ``schema``.

    Raises:
        CorpusError: a line is not a JSON object, a field is missing, unexpected, of the wrong
            type or value, or an ``id`` or ``text`` occurs twice. The message names file, line
            and field.
    """
    path = Path(path)
    if not path.is_file():
        raise CorpusError(path, None, "file not found")
    rows: list[dict[str, Any]] = []
    first_line: dict[tuple[str, str], int] = {}
    for number, row in json_objects(path):
        for name, spec in schema.items():
            if name not in row:
                raise CorpusError(path, number, "missing field", name)
            value = row[name]
            if not _is_type(value, spec.kind):
                expected = spec.kind.__name__ if isinstance(spec.kind, type) else spec.kind
                raise CorpusError(
                    path, number, f"expected {expected}, got {type(value).__name__}", name
                )
            if spec.check is not None and not spec.check(value):
                raise CorpusError(path, number, f"{value!r} is not {spec.allowed}", name)
        extra = sorted(set(row) - set(schema))
        if extra:
            raise CorpusError(
                path, number, f"unexpected field(s) {extra}; allowed: {sorted(schema)}", extra[0]
            )
        for name in ("id", "text"):
            if name not in schema:
                continue
            key = (name, " ".join(row[name].split()).casefold() if name == "text" else row[name])
            if key in first_line:
                raise CorpusError(
                    path, number, f"duplicate {name} (first seen on line {first_line[key]})", name
                )
            first_line[key] = number
        rows.append(row)
    if not rows:
        raise CorpusError(path, None, "file holds no records")
    return rows


def read_corpus(path: str | Path | None = None) -> list[dict[str, Any]]:
    """Read and validate the labelled corpus (default: the shipped ``stance.jsonl``)."""
    return read_jsonl(default_corpus_path() if path is None else path, CORPUS_SCHEMA)


def read_authored(path: str | Path | None = None) -> list[dict[str, Any]]:
    """Read and validate the authored training texts (default: ``authored.jsonl``)."""
    return read_jsonl(default_authored_path() if path is None else path, AUTHORED_SCHEMA)


def load_corpus(path: str | Path | None = None) -> datasets.DatasetDict:
    """Load the labelled corpus as a ``datasets.DatasetDict`` with ``train``, ``dev``, ``test``.

    Args:
        path: A ``stance.jsonl`` file; ``None`` means the corpus shipped with stance.

    Raises:
        CorpusError: the file fails validation (the message names file, line and field).
        MissingDependencyError: ``datasets`` is not installed (``pip install "stance[train]"``).

    >>> corpus = load_corpus()
    >>> sorted(corpus)
    ['dev', 'test', 'train']
    """
    from stance.extras import require

    require(["datasets"], "train", "stance.data.load_corpus")
    import datasets

    rows = read_corpus(path)
    features = datasets.Features(
        {
            "id": datasets.Value("string"),
            "source": datasets.Value("string"),
            "kind": datasets.Value("string"),
            "position": datasets.Value("int32"),
            "text": datasets.Value("string"),
            "label": datasets.ClassLabel(names=list(LABELS)),
            "target_mentioned": datasets.Value("bool"),
            "confidence": datasets.Value("int8"),
            "rationale": datasets.Value("string"),
            "split": datasets.Value("string"),
            "copies": datasets.Value("int32"),
        }
    )
    return datasets.DatasetDict(
        {
            split: datasets.Dataset.from_list(
                [row for row in rows if row["split"] == split], features=features
            )
            for split in SPLITS
        }
    )


def file_sha256(*paths: str | Path) -> str:
    """A SHA-256 over the bytes of the given files, in order (a training-data fingerprint)."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(Path(path).read_bytes())
    return digest.hexdigest()
