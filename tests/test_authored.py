"""The authored training texts: size, balance, writers, originality, briefs."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from stance.data.originality import shared_runs

REPO = Path(__file__).resolve().parents[1]


def test_size_and_label_balance(authored_rows):
    assert len(authored_rows) >= 1500
    shares = Counter(r["label"] for r in authored_rows)
    for label, count in shares.items():
        assert 0.30 <= count / len(authored_rows) <= 0.37, label


def test_many_writers_each_with_a_brief(authored_rows):
    writers = {r["writer"] for r in authored_rows}
    assert len(writers) >= 10
    for writer in writers:
        assert (REPO / "labelled" / "briefs" / f"{writer}.md").is_file(), writer


def test_ids_are_stable_and_increasing(authored_rows):
    numbers = [int(r["id"][2:]) for r in authored_rows]
    assert numbers == sorted(set(numbers))


def test_no_six_word_run_shared_with_each_other_or_the_corpus(authored_rows, corpus_rows):
    clashes = shared_runs([r["text"] for r in authored_rows], [r["text"] for r in corpus_rows])
    assert clashes == [], clashes[:5]


def test_shared_runs_finds_a_copy():
    assert shared_runs(["en to tre fire fem seks syv"], ["nul en to tre fire fem seks"]) == [
        (0, "reference 0", "en to tre fire fem seks")
    ]
    assert shared_runs(["a b c d e f", "x a b c d e f"]) == [(1, "text 0", "a b c d e f")]
