"""Build-time data tools: the labelled corpus and authored texts, training sets, originality
checks, annotator agreement and the dataset card.

``stance.data.load_corpus()`` returns the corpus as a ``datasets.DatasetDict``. The runtime core
(``classify`` and friends) never imports this package.
"""

from __future__ import annotations

from stance.data.corpus import (
    AUTHORED_SCHEMA,
    CORPUS_SCHEMA,
    KINDS,
    REGISTERS,
    SPEAKERS,
    SPLITS,
    TOPICS,
    default_authored_path,
    default_corpus_path,
    file_sha256,
    load_corpus,
    read_authored,
    read_corpus,
    read_jsonl,
    repo_root,
)

__all__ = [
    "AUTHORED_SCHEMA",
    "CORPUS_SCHEMA",
    "KINDS",
    "REGISTERS",
    "SPEAKERS",
    "SPLITS",
    "TOPICS",
    "default_authored_path",
    "default_corpus_path",
    "file_sha256",
    "load_corpus",
    "read_authored",
    "read_corpus",
    "read_jsonl",
    "repo_root",
]
