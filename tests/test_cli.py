"""The command line: texts, files in three formats, lossless batch output, clear errors."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from stance.cli import main


def _csv_rows(path: Path) -> list[dict]:
    return list(csv.DictReader(path.open(encoding="utf-8")))


def test_classify_texts(capsys):
    assert main(["classify", "Luk jobcentrene!", "Tak til jobcentret."]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2
    label, score, text = lines[0].split("\t")
    assert label in ("against", "for", "neutral") and 0 <= float(score) <= 1
    assert text == "Luk jobcentrene!"


def test_classify_json(capsys):
    assert main(["classify", "--json", "Jobcentret er elendigt"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert set(row) == {"text", "label", "score", "probabilities"}


def test_csv_keeps_every_row_in_order_with_its_columns(tmp_path, capsys):
    source = tmp_path / "in.csv"
    source.write_text(
        'id,text,kilde\n1,Luk jobcentrene,fb\n2,,fb\n3,"Tak, jobcentret hjalp mig",twitter\n',
        encoding="utf-8",
    )
    out = tmp_path / "out.csv"
    code = main(["classify", "--input", str(source), "--output", str(out)])
    assert code == 1  # one row could not be classified
    rows = _csv_rows(out)
    assert [r["id"] for r in rows] == ["1", "2", "3"]
    assert list(rows[0])[:3] == ["id", "text", "kilde"]
    for column in ("stance_label", "stance_score", "p_against", "p_for", "p_neutral", "error"):
        assert column in rows[0]
    assert rows[0]["stance_label"] and not rows[0]["error"]
    assert rows[1]["stance_label"] == "" and "empty" in rows[1]["error"]
    assert "classified 2 of 3 rows" in capsys.readouterr().err


def test_all_rows_classified_exits_zero(tmp_path):
    source = tmp_path / "in.txt"
    source.write_text("Luk jobcentrene\nJobcentret hjalp mig\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    assert main(["classify", "--input", str(source), "--output", str(out), "--quiet"]) == 0
    rows = _csv_rows(out)
    assert [r["line"] for r in rows] == ["1", "2"]


def test_jsonl_with_custom_column_and_bad_rows(tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text(
        "\n".join(
            json.dumps(r, ensure_ascii=False)
            for r in [
                {"body": "Jobcentret er en skændsel", "n": 1},
                {"body": None, "n": 2},
                {"n": 3},
                {"body": 42, "n": 4},
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    out = tmp_path / "out.jsonl"
    assert (
        main(
            [
                "classify",
                "--input",
                str(source),
                "--text-column",
                "body",
                "--output",
                str(out),
                "--quiet",
            ]
        )
        == 1
    )
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["n"] for r in rows] == [1, 2, 3, 4]
    assert rows[0]["stance_label"] and rows[0]["error"] == ""
    assert (
        "NoneType" in rows[1]["error"]
        and "no field 'body'" in rows[2]["error"]
        and "int" in rows[3]["error"]
    )


def test_min_score_leaves_uncertain_labels_empty(tmp_path):
    source = tmp_path / "in.txt"
    source.write_text("Jobcentret er en skændsel\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    assert (
        main(
            [
                "classify",
                "--input",
                str(source),
                "--output",
                str(out),
                "--min-score",
                "1.0",
                "--quiet",
            ]
        )
        == 0
    )
    (row,) = _csv_rows(out)
    assert row["stance_label"] == "" and "below --min-score" in row["error"] and row["p_against"]


@pytest.mark.parametrize(
    ("name", "content", "match"),
    [
        ("bad.csv", b'text\n"Jobcentret\xe6r godt"\n', "line 2.*UTF-8"),
        ("bad.jsonl", b'{"text": "ok"}\n{"text": \n', "line 2.*invalid JSON"),
        ("bad.csv", b'id,text\n1,"uafsluttet citat\n', "malformed CSV|fields"),
        ("bad.csv", b"id,tekst\n1,hej\n", "no column 'text'"),
        ("bad.csv", b"id,text\n1,hej,ekstra\n", "line 2.*3 fields"),
    ],
)
def test_malformed_files_name_the_line_and_write_nothing(tmp_path, capsys, name, content, match):
    source = tmp_path / name
    source.write_bytes(content)
    out = tmp_path / "out.csv"
    assert main(["classify", "--input", str(source), "--output", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert str(source) in err
    assert __import__("re").search(match, err), err
    assert not out.exists()


def test_output_is_written_atomically(tmp_path, monkeypatch):
    """An interrupted run leaves neither a half-written output nor a temporary file."""
    from stance import batch

    source = tmp_path / "in.txt"
    source.write_text("Luk jobcentrene\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    out.write_text("old,content\n", encoding="utf-8")

    def interrupted(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr(batch.os, "replace", interrupted)
    assert main(["classify", "--input", str(source), "--output", str(out), "--quiet"]) == 130
    assert out.read_text(encoding="utf-8") == "old,content\n"
    assert {p.name for p in tmp_path.iterdir()} == {"in.txt", "out.csv"}


def test_usage_errors(capsys):
    with pytest.raises(SystemExit) as caught:
        main(["classify"])
    assert caught.value.code == 2
    assert main(["classify", "--model", "/no/such/model", "hej"]) == 2
    assert "model directory not found" in capsys.readouterr().err


def test_python_dash_m_and_stdout_output(tmp_path):
    source = tmp_path / "in.csv"
    source.write_text("text\nJobcentret hjalp mig\n", encoding="utf-8")
    out = subprocess.run(
        [sys.executable, "-m", "stance", "classify", "--input", str(source), "--quiet"],
        capture_output=True,
        text=True,
        check=True,
    )
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    assert rows[0]["stance_label"] in ("against", "for", "neutral")


def test_explain_cli(capsys):
    assert main(["explain", "Jobcentret er en skændsel", "--color", "never"]) == 0
    out = capsys.readouterr().out
    assert "[[" in out and "toward against" in out
    assert main(["explain", "Jobcentret er en skændsel", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["method"] == "linear" and set(data["spans"]) == {"against", "for", "neutral"}
