"""Assembling training and evaluation sets from the corpus and the authored texts.

Corpus units are grouped by source document (``d000`` … ``d004``), authored texts by writer
(``w01`` …); groups drive the calibration folds and leave-one-document-out cross-validation.
Authored texts are training data only: never dev, never test.
"""

from __future__ import annotations

import os
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stance.data.corpus import (
    default_authored_path,
    default_corpus_path,
    file_sha256,
    read_authored,
    read_corpus,
)
from stance.errors import ConfigError


@dataclass(frozen=True)
class Example:
    """One labelled text with where it came from."""

    id: str
    text: str
    label: str
    group: str
    origin: str  # "corpus", "authored" or "real"
    split: str | None = None
    source: str | None = None  # the page a real text comes from


@dataclass(frozen=True)
class TrainingSet:
    """Examples plus the description stored in a model's metadata."""

    examples: list[Example]
    description: dict[str, Any] = field(default_factory=dict)

    @property
    def texts(self) -> list[str]:
        return [e.text for e in self.examples]

    @property
    def labels(self) -> list[str]:
        return [e.label for e in self.examples]

    @property
    def groups(self) -> list[str]:
        return [e.group for e in self.examples]

    @property
    def origins(self) -> list[str]:
        return [e.origin for e in self.examples]

    def __len__(self) -> int:
        return len(self.examples)


def corpus_examples(rows: Iterable[dict[str, Any]]) -> list[Example]:
    """Corpus rows as examples grouped by source document."""
    return [
        Example(r["id"], r["text"], r["label"], f"d{r['source']}", "corpus", r["split"])
        for r in rows
    ]


def authored_examples(
    rows: Sequence[dict[str, Any]], fraction: float = 1.0, seed: int = 0
) -> list[Example]:
    """Authored rows as examples grouped by writer; ``fraction`` < 1 keeps a seeded random,
    label-stratified subset."""
    if not 0.0 <= fraction <= 1.0:
        raise ConfigError(f"authored fraction must be between 0 and 1, got {fraction}")
    chosen: list[dict[str, Any]] = []
    rng = random.Random(seed)
    for label in sorted({r["label"] for r in rows}):
        of_label = [r for r in rows if r["label"] == label]
        rng.shuffle(of_label)
        chosen.extend(of_label[: round(fraction * len(of_label))])
    chosen.sort(key=lambda r: r["id"])
    return [Example(r["id"], r["text"], r["label"], r["writer"], "authored") for r in chosen]


def load_examples(
    corpus_path: str | os.PathLike[str] | None = None,
    authored_path: str | os.PathLike[str] | None = None,
    *,
    use_authored: bool = True,
) -> tuple[list[Example], list[Example], list[Path]]:
    """All corpus examples, all authored examples (empty if absent or unused), files read."""
    corpus_file = Path(corpus_path) if corpus_path is not None else default_corpus_path()
    corpus = corpus_examples(read_corpus(corpus_file))
    files = [corpus_file]
    authored: list[Example] = []
    authored_file = Path(authored_path) if authored_path is not None else default_authored_path()
    if use_authored and authored_file.is_file():
        authored = authored_examples(read_authored(authored_file))
        files.append(authored_file)
    elif use_authored and authored_path is not None:
        raise ConfigError(f"authored file not found: {authored_file}")
    return corpus, authored, files


def build_training_set(
    corpus: Sequence[Example],
    authored: Sequence[Example],
    *,
    splits: Sequence[str] = ("train",),
    authored_fraction: float = 1.0,
    seed: int = 0,
    files: Sequence[Path] = (),
) -> TrainingSet:
    """Corpus examples of ``splits`` plus a fraction of the authored examples."""
    chosen_authored = authored
    if authored_fraction < 1.0:
        by_id = {e.id: e for e in authored}
        rows = [{"id": e.id, "label": e.label} for e in authored]
        keep = {
            e.id
            for e in authored_examples(
                [{**r, "text": by_id[r["id"]].text, "writer": by_id[r["id"]].group} for r in rows],
                authored_fraction,
                seed,
            )
        }
        chosen_authored = [e for e in authored if e.id in keep]
    examples = [e for e in corpus if e.split in splits] + list(chosen_authored)
    description = {
        "corpus_splits": list(splits),
        "n_corpus": sum(e.origin == "corpus" for e in examples),
        "n_authored": len(chosen_authored),
        "authored_fraction": authored_fraction if authored else 0.0,
        "files": [p.name for p in files],
        "sha256": file_sha256(*files) if files else None,
    }
    return TrainingSet(examples, description)
