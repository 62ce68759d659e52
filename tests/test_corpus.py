"""Invariants of the labelled corpus and the errors of its loader."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from stance.data import load_corpus, read_corpus
from stance.errors import CorpusError
from stance.labels import LABELS

REPO = Path(__file__).resolve().parents[1]
SOURCES = REPO / "labelled" / "sources"
COMMENTS_PER_SOURCE = {"000": 5, "001": 5, "002": 0, "003": 10, "004": 12}


def _flat(text: str) -> str:
    return " ".join(text.split())


def _source_text(source: str) -> str:
    (path,) = SOURCES.glob(f"{source}_*.txt")
    return _flat(path.read_text(encoding="utf-8"))


def test_size_and_fields(corpus_rows):
    assert len(corpus_rows) >= 120
    assert {r["label"] for r in corpus_rows} == set(LABELS)


def test_every_unit_is_verbatim_from_its_source_in_order(corpus_rows):
    for source in COMMENTS_PER_SOURCE:
        text = _source_text(source)
        position = 0
        for row in sorted(
            (r for r in corpus_rows if r["source"] == source), key=lambda r: r["position"]
        ):
            found = text.find(_flat(row["text"]), position)
            assert found >= 0, f"{row['id']} is not verbatim (in order) in source {source}"
            position = found + 1


def test_every_reader_comment_is_one_unit(corpus_rows):
    counts = Counter(r["source"] for r in corpus_rows if r["kind"] == "comment")
    assert {s: counts.get(s, 0) for s in COMMENTS_PER_SOURCE} == COMMENTS_PER_SOURCE
    for row in (r for r in corpus_rows if r["kind"] == "comment"):
        occurrences = _source_text(row["source"]).count(_flat(row["text"]))
        assert row["copies"] == occurrences, row["id"]
    assert any(r["copies"] == 3 for r in corpus_rows)


def test_ids_and_texts_unique_and_stable(corpus_rows):
    assert len({r["id"] for r in corpus_rows}) == len(corpus_rows)
    assert len({_flat(r["text"]).casefold() for r in corpus_rows}) == len(corpus_rows)
    for row in corpus_rows:
        prefix = "c" if row["kind"] == "comment" else "p"
        assert re.fullmatch(rf"d{row['source']}-{prefix}\d\d", row["id"])


def test_splits(corpus_rows):
    comments = [r for r in corpus_rows if r["kind"] == "comment"]
    test = [r for r in corpus_rows if r["split"] == "test"]
    assert all(r["kind"] == "comment" for r in test)
    assert len(test) >= 0.35 * len(comments)
    rest = [r for r in corpus_rows if r["split"] != "test"]
    dev_share = sum(r["split"] == "dev" for r in rest) / len(rest)
    assert 0.10 <= dev_share <= 0.20
    # stratified: every source with comments has some in test
    assert {r["source"] for r in test} == {s for s, n in COMMENTS_PER_SOURCE.items() if n}


def test_adjudicated_labels_are_in_the_corpus(corpus_rows):
    final = {r["id"]: r["label"] for r in corpus_rows}
    annotations = REPO / "labelled" / "annotations"
    first = {
        json.loads(line)["id"]: json.loads(line)["label"]
        for line in (annotations / "corpus_pass1.jsonl").open()
    }
    second = {
        json.loads(line)["id"]: json.loads(line)["label"]
        for line in (annotations / "corpus_pass2.jsonl").open()
    }
    decided = {
        json.loads(line)["id"]: json.loads(line)["final"]
        for line in (annotations / "adjudication.jsonl").open()
    }
    assert set(first) == set(second) == set(final)
    for unit, label in final.items():
        expected = decided[unit] if first[unit] != second[unit] else first[unit]
        assert label == expected, unit


def test_load_corpus_returns_three_splits():
    corpus = load_corpus()
    assert set(corpus) == {"train", "dev", "test"}
    assert corpus["train"].features["label"].names == list(LABELS)
    assert sum(len(split) for split in corpus.values()) == len(read_corpus())


def test_stance_data_does_not_import_torch():
    import subprocess
    import sys

    code = "import sys, stance.data; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


GOOD = {
    "id": "d000-p01",
    "source": "000",
    "kind": "headline",
    "position": 1,
    "text": "Jobcentre virker",
    "label": "for",
    "target_mentioned": True,
    "confidence": 3,
    "rationale": "Praise.",
    "split": "train",
    "copies": 1,
}


def _write(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("second_line", "field", "message"),
    [
        ("{not json", None, "invalid JSON"),
        (
            json.dumps(
                {k: v for k, v in GOOD.items() if k != "label"} | {"id": "d000-p02", "text": "x"}
            ),
            "label",
            "missing field",
        ),
        (
            json.dumps(GOOD | {"id": "d000-p02", "text": "y", "label": "pro"}),
            "label",
            "'pro' is not one of",
        ),
        (
            json.dumps(GOOD | {"id": "d000-p02", "text": "y", "split": "val"}),
            "split",
            "'val' is not one of",
        ),
        (json.dumps(GOOD | {"text": "other"}), "id", "duplicate id"),
        (
            json.dumps(GOOD | {"id": "d000-p02", "text": "Jobcentre  VIRKER"}),
            "text",
            "duplicate text",
        ),
        (
            json.dumps(GOOD | {"id": "d000-p02", "text": "z", "confidence": "3"}),
            "confidence",
            "expected int",
        ),
        (
            json.dumps(GOOD | {"id": "d000-p02", "text": "z", "extra": 1}),
            "extra",
            "unexpected field",
        ),
    ],
)
def test_loader_errors_name_file_line_and_field(tmp_path, second_line, field, message):
    path = _write(tmp_path, [json.dumps(GOOD), second_line])
    with pytest.raises(CorpusError) as caught:
        load_corpus(path)
    error = caught.value
    assert error.line == 2 and error.field == field and error.path == path
    assert message in str(error) and str(path) in str(error) and "line 2" in str(error)


def test_loader_rejects_bad_encoding_and_missing_file(tmp_path):
    path = tmp_path / "latin1.jsonl"
    path.write_bytes(
        json.dumps(GOOD, ensure_ascii=False).replace("virker", "v\u00e6rker").encode("latin-1")
    )
    with pytest.raises(CorpusError, match="UTF-8"):
        read_corpus(path)
    with pytest.raises(CorpusError, match="not found"):
        read_corpus(tmp_path / "missing.jsonl")
