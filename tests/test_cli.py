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
    # issue 22: a withheld row has its own status and no error (it was classified)
    assert row["stance_label"] == "" and row["stance_status"] == "withheld" and row["p_against"]
    assert row["error"] == ""


@pytest.mark.parametrize(
    ("name", "content", "match"),
    [
        # UTF-8 before the bad byte: a damaged UTF-8 file (all ASCII before it would be cp1252)
        ("bad.csv", b'text\n"Godt for \xc3\xa6ldre"\n"Jobcentret\xe6r godt"\n', "line 3.*UTF-8"),
        ("bad.jsonl", b'{"text": "ok"}\n{"text": \n', "line 2.*invalid JSON"),
        ("bad.csv", b'id,text\n1,"uafsluttet citat\n', "line 2.*malformed CSV"),
        ("bad.csv", b"id,text\n1,hej,ekstra\n", "line 2.*3 fields"),
    ],
)
def test_malformed_rows_are_kept_with_an_error_or_stop_a_strict_run(
    tmp_path, capsys, name, content, match
):
    """Changed on purpose (issue 14): a malformed row no longer stops the run; it is written
    in its place with an error (exit 1). --strict keeps the old behaviour: exit 2, the
    message names file and line, and nothing is written."""
    source = tmp_path / name
    source.write_bytes(content)
    out = tmp_path / "out.csv"
    assert main(["classify", "--input", str(source), "--output", str(out), "--quiet"]) == 1
    bad = [r for r in _csv_rows(out) if r["error"]]
    assert len(bad) == 1 and bad[0]["stance_label"] == ""
    assert __import__("re").search(match, bad[0]["error"]), bad[0]["error"]
    out.unlink()
    args = ["classify", "--input", str(source), "--output", str(out), "--quiet", "--strict"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert str(source) in err
    assert __import__("re").search(match, err), err
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]


def test_a_file_without_the_text_column_is_refused(tmp_path, capsys):
    source = tmp_path / "bad.csv"
    source.write_bytes(b"id,tekst\n1,hej\n")
    out = tmp_path / "out.csv"
    assert main(["classify", "--input", str(source), "--output", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert f"{source}, line 1, column 'text': no column 'text'" in err
    assert not out.exists()


def test_output_is_written_atomically(tmp_path, monkeypatch):
    """An interrupted run never leaves a half-written output: the old file stays as it was
    (the partial output is hidden beside it, for --resume, which finishes the job)."""
    from stance import batch

    source = tmp_path / "in.txt"
    source.write_text("Luk jobcentrene\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    out.write_text("old,content\n", encoding="utf-8")
    real_replace = batch.os.replace

    def interrupted(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr(batch.os, "replace", interrupted)
    assert main(["classify", "--input", str(source), "--output", str(out), "--quiet"]) == 130
    assert out.read_text(encoding="utf-8") == "old,content\n"
    assert {p.name for p in tmp_path.iterdir() if not p.name.startswith(".")} == {
        "in.txt",
        "out.csv",
    }
    monkeypatch.setattr(batch.os, "replace", real_replace)
    args = ["classify", "--input", str(source), "--output", str(out), "--quiet", "--resume"]
    assert main(args) == 0
    assert _csv_rows(out)[0]["stance_label"]
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
