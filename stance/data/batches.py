"""Candidate batches of authored texts and their blind second labels.

A batch (``labelled/batches/wNN.jsonl``) is one writer's output: one JSON object a line with
``text``, ``label``, ``register``, ``speaker``, ``topic`` and ``rationale``. Its blind second pass
(``labelled/annotations/wNN_blind.jsonl``) labels the same texts by id ``wNN-001`` … (line order),
made by an annotator who saw only the guidelines and the texts. Only texts whose two labels agree
are used; the rest are dropped, not adjudicated.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stance.data.agreement import cohen_kappa, read_pass
from stance.data.corpus import AUTHORED_SCHEMA, read_jsonl
from stance.data.trainset import Example
from stance.errors import CorpusError

BATCH_FIELDS: tuple[str, ...] = ("text", "label", "register", "speaker", "topic", "rationale")
BATCH_SCHEMA = {name: AUTHORED_SCHEMA[name] for name in BATCH_FIELDS}


def batch_id(writer: str, line: int) -> str:
    """The id of a batch text: ``batch_id("w15", 7) == "w15-007"``."""
    return f"{writer}-{line:03d}"


@dataclass(frozen=True)
class Batch:
    """A writer's batch with its blind second labels."""

    writer: str
    rows: list[dict[str, Any]]
    blind: dict[str, str]

    @property
    def ids(self) -> list[str]:
        return [batch_id(self.writer, i) for i in range(1, len(self.rows) + 1)]

    @property
    def kappa(self) -> float:
        return cohen_kappa([r["label"] for r in self.rows], [self.blind[i] for i in self.ids])

    @property
    def agreement(self) -> float:
        pairs = zip(self.rows, self.ids)
        return sum(r["label"] == self.blind[i] for r, i in pairs) / len(self.rows)

    def agreed_rows(self) -> list[dict[str, Any]]:
        """The rows whose writer's and blind labels agree."""
        return [r for r, i in zip(self.rows, self.ids) if r["label"] == self.blind[i]]

    def examples(self) -> list[Example]:
        """The agreed texts as authored training examples grouped by writer."""
        return [
            Example(i, r["text"], r["label"], self.writer, "authored")
            for r, i in zip(self.rows, self.ids)
            if r["label"] == self.blind[i]
        ]


def read_batch(path: str | Path, blind_path: str | Path, writer: str | None = None) -> Batch:
    """Read a batch and its blind pass; every batch text must have exactly one blind label.

    Raises:
        CorpusError: a line fails the batch schema, or the blind pass misses or adds ids.
    """
    path, blind_path = Path(path), Path(blind_path)
    writer = writer or path.stem
    rows = read_jsonl(path, BATCH_SCHEMA)
    blind = {i: row["label"] for i, row in read_pass(blind_path).items()}
    expected = {batch_id(writer, n) for n in range(1, len(rows) + 1)}
    if set(blind) != expected:
        missing, extra = sorted(expected - set(blind)), sorted(set(blind) - expected)
        raise CorpusError(
            blind_path,
            None,
            f"blind labels do not match {path.name}: missing {missing[:5]}, unexpected {extra[:5]}",
        )
    return Batch(writer, rows, blind)
