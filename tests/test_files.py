"""Files the way users have them (issue 22): Danish Excel CSVs, .xlsx, encodings, pipes, output
checks before work, honest summaries, and the one file layer under every command."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from stance.cli import main

REPO = Path(__file__).resolve().parents[1]
TEXTS = [
    "Luk jobcentrene de skaber ingen job",
    "Tak til min sagsbehandler på jobcentret",
    "Mødet på jobcentret er flyttet til tirsdag",
    "Jobcentret er en skændsel for velfærdsstaten",
    "Jeg fik hjælp til at skrive min ansøgning",
]


def _rows(path: Path, delimiter: str = ",", encoding: str = "utf-8") -> list[dict]:
    with path.open(encoding=encoding, newline="") as handle:
        return list(csv.DictReader(handle, delimiter=delimiter))


def _danish_excel_csv(path: Path, n: int = 60) -> Path:
    """A CSV as Danish Excel saves it: cp1252, ';', CRLF, æøå in the texts."""
    lines = ["id;tekst;kilde"] + [f"{i};{TEXTS[i % len(TEXTS)]} ({i});æøå" for i in range(n)]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))
    return path


def _stdin(monkeypatch, data: bytes) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))


def _xlsx(path: Path, rows: list[list], sheet: str = "Ark1", extra_sheet: bool = False) -> Path:
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    if extra_sheet:
        book.active.title = "Forside"
        book.active.append(["nothing here"])
        ws = book.create_sheet(sheet)
    else:
        ws = book.active
        ws.title = sheet
    for row in rows:
        ws.append(row)
    book.save(path)
    return path


# Done when: the three inputs classify with every row back ----------------------------------


def test_a_cp1252_semicolon_csv_from_danish_excel_classifies_every_row(tmp_path, capsys):
    source = _danish_excel_csv(tmp_path / "eksport.csv")
    out = tmp_path / "out.csv"
    args = ["classify", "--input", str(source), "--output", str(out), "--text-column", "tekst"]
    assert main(args) == 0
    err = capsys.readouterr().err
    assert "cp1252" in err and "classified 60 of 60 rows" in err
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # written as Danish Excel opens it: BOM and ';'
    rows = _rows(out, ";", "utf-8-sig")
    assert len(rows) == 60 and all(r["stance_label"] for r in rows)
    assert rows[0]["kilde"] == "æøå" and rows[7]["id"] == "7"
    assert list(rows[0])[:3] == ["id", "tekst", "kilde"]


def test_an_xlsx_file_classifies_every_row_and_writes_xlsx(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    rows = [["id", "text", "note"]] + [[i, t, None] for i, t in enumerate(TEXTS)]
    source = _xlsx(tmp_path / "in.xlsx", rows, sheet="Kommentarer", extra_sheet=True)
    out = tmp_path / "out.xlsx"
    args = ["classify", "--input", str(source), "--output", str(out), "--quiet"]
    assert main([*args, "--sheet", "Kommentarer"]) == 0
    sheet = openpyxl.load_workbook(out, read_only=True).worksheets[0]
    got = list(sheet.iter_rows(values_only=True))
    assert got[0][:3] == ("id", "text", "note") and "stance_status" in got[0]
    assert [r[0] for r in got[1:]] == list(range(len(TEXTS)))
    assert [r[1] for r in got[1:]] == TEXTS
    assert all(r[got[0].index("stance_label")] for r in got[1:])
    assert main([*args, "--sheet", "2", "--overwrite"]) == 0  # by number
    assert main([*args, "--sheet", "Nope"]) == 2


def test_xlsx_rows_are_numbered_as_excel_numbers_them(tmp_path):
    rows = [["id", "text"], [1, "Luk jobcentrene"], [2, None], [3, "Tak"]]
    source = _xlsx(tmp_path / "in.xlsx", rows)
    out = tmp_path / "out.csv"
    assert main(["classify", "--input", str(source), "--output", str(out), "--quiet"]) == 1
    got = _rows(out)
    assert got[1]["error"].startswith("row 3: field 'text' is empty")  # header is row 1


def test_a_csv_piped_through_stdin_classifies_every_row(tmp_path):
    data = "id,text\n" + "".join(f"{i},{TEXTS[i % 5]}\n" for i in range(40))
    out = tmp_path / "out.csv"
    command = f"cat | {sys.executable} -m stance classify --input - --output {out} --quiet"
    done = subprocess.run(
        ["bash", "-c", command], input=data.encode(), capture_output=True, cwd=REPO
    )
    assert done.returncode == 0, done.stderr.decode()
    rows = _rows(out)
    assert [r["id"] for r in rows] == [str(i) for i in range(40)]
    assert all(r["stance_label"] for r in rows)


@pytest.mark.parametrize("kind", ["tsv", "jsonl", "txt", "parquet", "xlsx"])
def test_every_format_comes_through_a_pipe(tmp_path, monkeypatch, capsysbinary, kind):
    from stance.io import write_rows

    rows = [{"id": str(i), "text": t} for i, t in enumerate(TEXTS)]
    if kind == "txt":
        data = "".join(t + "\n" for t in TEXTS).encode()
    else:
        if kind == "parquet":
            pytest.importorskip("pyarrow")
        if kind == "xlsx":
            pytest.importorskip("openpyxl")
        path = write_rows(rows, ["id", "text"], tmp_path / f"in.{kind}")
        data = path.read_bytes()
    _stdin(monkeypatch, data)
    out = tmp_path / "out.jsonl"
    args = ["classify", "--input", "-", "--output", str(out), "--quiet"]
    assert main(args + (["--format", "txt"] if kind == "txt" else [])) == 0
    got = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [g["text"] for g in got] == TEXTS and all(g["stance_label"] for g in got)


def test_nothing_is_written_before_the_input_is_known_readable(tmp_path, monkeypatch, capsys):
    _stdin(monkeypatch, b"id,tekst\n1,Luk jobcentrene\n")  # no column 'text'
    assert main(["classify", "--input", "-", "--format", "csv"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "no column 'text'" in captured.err
    _stdin(monkeypatch, b"PAR1 not really parquet")
    out = tmp_path / "out.csv"
    assert main(["classify", "--input", "-", "--format", "parquet", "--output", str(out)]) == 2
    assert list(tmp_path.iterdir()) == []


# Excel-grade input -------------------------------------------------------------------------


def test_delimiters_are_sniffed_and_can_be_named(tmp_path):
    from stance.io import read_columns, read_table

    for delimiter in (",", ";", "\t", "|"):
        path = tmp_path / "x.csv"
        path.write_text(f'id{delimiter}text\n1{delimiter}"Tak, og farvel"\n', encoding="utf-8")
        assert read_columns(path) == ["id", "text"]
        assert read_table(path).rows == [{"id": "1", "text": "Tak, og farvel"}]
    path.write_text("id;text\n1;a\n", encoding="utf-8")
    assert read_columns(path, delimiter=",") == ["id;text"]


def test_encodings_are_detected_named_and_overridden(tmp_path, capsys):
    from stance.io import open_reader, read_table

    text = "Mødet på jobcentret"
    for encoding, expected in [("utf-8", "utf-8"), ("utf-8-sig", "utf-8"), ("cp1252", "cp1252")]:
        path = tmp_path / "x.csv"
        path.write_bytes(f"text\n{text}\n".encode(encoding))
        reader = open_reader(path)
        assert reader.encoding == expected
        reader.close()
        assert read_table(path).rows == [{"text": text}]
    path.write_bytes(f"text\n{text}\n".encode("utf-16"))  # Excel's "Unicode text"
    assert read_table(path).rows == [{"text": text}]
    path.write_bytes(f"text\n{text}\n".encode("latin-1"))
    assert read_table(path, encoding="latin-1").rows == [{"text": text}]
    # the message names the encoding used and the line of the first byte that is not UTF-8
    path.write_bytes(b"text\nTak\nM\xf8det\n")
    out = tmp_path / "o.csv"
    assert main(["classify", "--input", str(path), "--output", str(out)]) == 0
    assert "read as cp1252: it is not UTF-8 (byte 0xf8 on line 3)" in capsys.readouterr().err
    assert main(["classify", "--input", str(path), "--output", str(out), "--encoding", "nope"]) == 2


def test_excel_flag_writes_csv_as_danish_excel_opens_it(tmp_path):
    source = tmp_path / "in.csv"
    source.write_text("id,text\n1,Tak til jobcentret\n", encoding="utf-8")
    plain, excel = tmp_path / "plain.csv", tmp_path / "excel.csv"
    assert main(["classify", "--input", str(source), "--output", str(plain), "--quiet"]) == 0
    assert not plain.read_bytes().startswith(b"\xef\xbb\xbf") and b";" not in plain.read_bytes()
    args = ["classify", "--input", str(source), "--output", str(excel), "--quiet", "--excel"]
    assert main(args) == 0
    assert excel.read_bytes().startswith(b"\xef\xbb\xbfid;text;stance_label")
    (row,) = _rows(excel, ";", "utf-8-sig")
    assert row["text"] == "Tak til jobcentret" and row["stance_status"] == "ok"


# Output checked before work ----------------------------------------------------------------


def _no_reading(monkeypatch):
    import stance.batch

    def refuse(*args, **kwargs):
        raise AssertionError("the input was opened before the output was checked")

    monkeypatch.setattr(stance.batch, "open_reader", refuse)


@pytest.mark.parametrize("case", ["directory", "unwritable", "unknown", "none", "txt", "in-file"])
def test_bad_outputs_fail_fast_with_exit_2_and_no_leftovers(tmp_path, monkeypatch, capsys, case):
    source = tmp_path / "in.csv"
    source.write_text("text\nTak\n", encoding="utf-8")
    target = {
        "directory": tmp_path,
        "unwritable": Path("/proc/stance-out.csv"),
        "unknown": tmp_path / "out.xls",
        "none": tmp_path / "out",
        "txt": tmp_path / "out.txt",
        "in-file": source / "out.csv",
    }[case]
    _no_reading(monkeypatch)
    assert main(["classify", "--input", str(source), "--output", str(target)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "stance: error:" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]


def test_an_unknown_extension_is_fine_with_a_named_output_format(tmp_path):
    source = tmp_path / "in.csv"
    source.write_text("text\nTak\n", encoding="utf-8")
    out = tmp_path / "new" / "folder" / "out.data"  # a missing folder is made
    args = ["classify", "--input", str(source), "--output", str(out), "--quiet"]
    assert main([*args, "--output-format", "jsonl"]) == 0
    assert json.loads(out.read_text(encoding="utf-8"))["stance_status"] == "ok"


def test_a_directory_as_input_is_named_as_such(tmp_path, capsys):
    assert main(["classify", "--input", str(tmp_path)]) == 2
    assert "is a directory" in capsys.readouterr().err


def test_a_partial_run_is_never_discarded_silently(tmp_path, capsys):
    source = tmp_path / "in.csv"
    source.write_text("text\nTak\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    (tmp_path / ".out.csv.part").write_text("text,stance_label\n", encoding="utf-8")
    args = ["classify", "--input", str(source), "--output", str(out), "--quiet"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "--resume" in err and "--overwrite" in err and not out.exists()
    assert main([*args, "--overwrite"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv", "out.csv"]


# Honest summaries --------------------------------------------------------------------------


def test_withheld_rows_have_their_own_status_and_count(tmp_path, capsys):
    source = tmp_path / "in.csv"
    source.write_text("text\n" + "".join(t + "\n" for t in TEXTS) + '\n""\n', encoding="utf-8")
    out = tmp_path / "out.csv"
    args = ["classify", "--input", str(source), "--output", str(out), "--min-score", "0.999"]
    assert main([*args, "--json"]) == 1  # one empty row failed; withheld rows are no failure
    captured = capsys.readouterr()
    summary = json.loads(captured.out)
    assert summary["rows"] == 6 and summary["failed"] == 1
    assert summary["withheld"] == 5 and summary["classified"] == 0
    assert "5 withheld below --min-score 0.999" in captured.err
    rows = _rows(out)
    assert [r["stance_status"] for r in rows] == ["withheld"] * 5 + ["error"]
    assert all(r["error"] == "" and r["stance_label"] == "" and r["p_for"] for r in rows[:5])


def test_json_with_input_needs_an_output(tmp_path, capsys):
    source = tmp_path / "in.csv"
    source.write_text("text\nTak\n", encoding="utf-8")
    with pytest.raises(SystemExit) as exit_:
        main(["classify", "--input", str(source), "--json"])
    assert exit_.value.code == 2 and "--output-format jsonl" in capsys.readouterr().err


# The one file layer under every command -------------------------------------------------------


def _labelled_tab(path: Path) -> Path:
    labels = ["against", "for", "neutral", "against", "for"]
    body = "".join(f"{t}\t{lab}\n" for t, lab in zip(TEXTS * 2, labels * 2))
    path.write_text("text\tlabel\n" + body, encoding="utf-8")
    return path


def test_tab_files_work_in_evaluate(tmp_path, capsys):
    pytest.importorskip("sklearn")
    source = _labelled_tab(tmp_path / "gold.tab")
    assert main(["evaluate", "--input", str(source), "--json", "--quiet"]) == 0
    assert json.loads(capsys.readouterr().out)["rows"]["rows_used"] == 10


def test_tab_files_and_negative_label_maps_work_in_train(tmp_path, monkeypatch, capsys):
    import stance.own_data.adapt as adapt

    seen = {}

    def fake_train(texts, labels, **options):
        seen.update(texts=texts, labels=labels)
        return {"cv": {}, "trained": "user_only", "user_weight": 1.0, "user_weight_chosen_by": ""}

    monkeypatch.setattr(adapt, "train", fake_train)
    source = tmp_path / "gold.tab"
    source.write_text("tekst\tkode\nLuk dem\t-1\nTak\t1\nMødet\t0\n", encoding="utf-8")
    args = ["train", "--input", str(source), "--output", str(tmp_path / "m"), "--json"]
    args += ["--text-column", "tekst", "--label-column", "kode"]
    assert main([*args, "--label-map", "-1=against,0=neutral,1=for"]) == 0
    assert seen == {"texts": ["Luk dem", "Tak", "Mødet"], "labels": ["against", "for", "neutral"]}


def test_tab_and_txt_files_work_in_suggest(tmp_path):
    source = _labelled_tab(tmp_path / "pool.tab")
    source.write_text(source.read_text(encoding="utf-8").replace("\tagainst", "\t"), "utf-8")
    out = tmp_path / "picks.tab"
    assert main(["suggest", "--input", str(source), "--output", str(out), "--n", "2",
                 "--quiet"]) == 0  # fmt: skip
    assert len(_rows(out, "\t")) == 2
    lines = tmp_path / "pool.txt"
    lines.write_text("".join(t + "\n" for t in TEXTS), encoding="utf-8")
    out = tmp_path / "picks.xlsx"
    pytest.importorskip("openpyxl")
    assert main(["suggest", "--input", str(lines), "--output", str(out), "--n", "3",
                 "--text-column", "body", "--quiet"]) == 0  # fmt: skip
    from stance.io import read_table

    picked = read_table(out, "body")
    assert picked.columns == ["line", "body", "label"] and len(picked.rows) == 3


def test_txt_with_a_text_column_classifies_every_line(tmp_path):
    source = tmp_path / "in.txt"
    source.write_text("Luk jobcentrene\nTak til jobcentret\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    args = ["classify", "--input", str(source), "--output", str(out), "--quiet"]
    assert main([*args, "--text-column", "body"]) == 0
    rows = _rows(out)
    assert [r["body"] for r in rows] == ["Luk jobcentrene", "Tak til jobcentret"]
    assert all(r["stance_label"] for r in rows)


def test_read_columns_for_a_page_that_lets_a_user_pick_the_text_column(tmp_path):
    from stance.io import detect_format, read_columns

    assert read_columns(_danish_excel_csv(tmp_path / "a.csv")) == ["id", "tekst", "kilde"]
    jsonl = tmp_path / "a.jsonl"
    jsonl.write_text('{"id": 1, "body": "x"}\n{"id": 2, "meta": {}}\n', encoding="utf-8")
    assert read_columns(jsonl) == ["id", "body", "meta"]
    xlsx = _xlsx(tmp_path / "a.xlsx", [["id", None, "tekst"], [1, 2, "x"]])
    assert read_columns(xlsx) == ["id", "B", "tekst"]
    assert detect_format(xlsx) == "xlsx" and detect_format("a.tab") == "tsv"


# The smaller items -------------------------------------------------------------------------


def test_invalid_json_lines_keep_their_raw_content(tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text('{"text": "Tak"}\n{"text": "brudt\n[1, 2]\n', encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert main(["classify", "--input", str(source), "--output", str(out), "--quiet"]) == 1
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert rows[1]["raw_line"] == '{"text": "brudt' and rows[1]["stance_status"] == "error"
    assert rows[2]["raw_line"] == "[1, 2]"


def test_nul_bytes_are_reported_not_replaced(tmp_path):
    source = tmp_path / "in.csv"
    source.write_bytes(b"id,text\n1,Luk\x00 jobcentrene\n2,Tak\n")
    out = tmp_path / "out.jsonl"
    assert main(["classify", "--input", str(source), "--output", str(out), "--quiet"]) == 1
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert rows[0]["text"] == "Luk\x00 jobcentrene"  # kept as it was
    assert "NUL character (U+0000) at character 4" in rows[0]["error"]
    assert rows[1]["stance_status"] == "ok"


def test_earlier_stance_columns_are_not_overwritten_silently(tmp_path, capsys):
    source = tmp_path / "in.csv"
    source.write_text("text\nTak\n", encoding="utf-8")
    once, twice = tmp_path / "once.csv", tmp_path / "twice.csv"
    assert main(["classify", "--input", str(source), "--output", str(once), "--quiet"]) == 0
    args = ["classify", "--input", str(once), "--output", str(twice), "--quiet"]
    assert main(args) == 2
    assert "--replace-columns" in capsys.readouterr().err and not twice.exists()
    assert main([*args, "--replace-columns"]) == 0
    assert list(_rows(twice)[0]) == list(_rows(once)[0])


def test_texts_with_line_breaks_stay_on_one_tab_separated_line(capsys):
    assert main(["classify", "Luk\njobcentrene\tnu", "Tak"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and lines[0].split("\t")[2] == "Luk\\njobcentrene\\tnu"


def test_a_closed_pipe_ends_quietly(monkeypatch, capsys):
    class Closed(io.StringIO):
        def write(self, text):
            raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(sys, "stdout", Closed())
    assert main(["explain", "--json", "Luk jobcentrene"]) == 141
    assert "Traceback" not in capsys.readouterr().err


def test_a_closed_pipe_in_a_real_shell_gives_no_traceback(tmp_path):
    source = tmp_path / "in.txt"
    source.write_text("".join(f"{TEXTS[i % 5]} {i}\n" for i in range(20_000)), encoding="utf-8")
    command = f"{sys.executable} -m stance classify --input {source} --quiet | head -n 2"
    done = subprocess.run(["bash", "-c", command], capture_output=True, cwd=REPO, timeout=300)
    assert len(done.stdout.decode().splitlines()) == 2
    assert b"Traceback" not in done.stderr and b"BrokenPipe" not in done.stderr


def test_evaluate_without_input_writes_no_reports_folder_unasked(tmp_path, monkeypatch, capsys):
    import stance.evaluation.harness as harness
    import stance.evaluation.report as report

    monkeypatch.setattr(harness, "evaluate_model", lambda *a, **k: {"fake": True})

    def write_report(result, folder, command):
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "baseline.md").write_text("# the report\n", encoding="utf-8")
        return [folder / "baseline.md"]

    monkeypatch.setattr(report, "write_report", write_report)
    monkeypatch.chdir(tmp_path)
    assert main(["evaluate", "--no-cv"]) == 0
    assert "# the report" in capsys.readouterr().out
    assert list(tmp_path.iterdir()) == []
    assert main(["evaluate", "--no-cv", "--output", "mine"]) == 0
    assert (tmp_path / "mine" / "baseline.md").is_file()


def test_adapted_model_directories_are_not_private(tmp_path):
    from stance.own_data.adapt import staging_dir

    umask = os.umask(0o022)
    try:
        folder = staging_dir(tmp_path / "models" / "mine")
    finally:
        os.umask(umask)
    assert folder.stat().st_mode & 0o777 == 0o755


def test_help_texts_give_an_example_and_the_defaults(capsys):
    for command, needles in [
        ("classify", ["examples:", "--excel", "default: text"]),
        ("suggest", ["examples:", "default: 100", "default: text"]),
        ("evaluate", ["examples:", "default: label"]),
        ("train", ["examples:", "default: 5"]),
    ]:
        with pytest.raises(SystemExit):
            main([command, "--help"])
        out = " ".join(capsys.readouterr().out.split())
        assert all(n in out for n in needles), (command, needles)


def test_the_cluster_recipes_use_the_venv_python_and_separate_folders():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    docs = [p.read_text(encoding="utf-8") for p in (REPO / "docs").glob("*.md")]
    text = "\n".join([readme, *docs])
    assert 'os.environ.setdefault("PYSPARK_PYTHON", sys.executable)' in text
    assert 'labelled.to_parquet("labelled-dask/")' in text
    assert '.write.parquet("labelled-spark/")' in text


def test_json_lines_from_a_pipe_to_csv_keeps_the_bytes_peeked_at(tmp_path, monkeypatch):
    data = "".join(json.dumps({"id": i, "text": TEXTS[i % 5]}) + "\n" for i in range(3000))
    assert len(data) > 1 << 16  # longer than the sample read to tell the format
    _stdin(monkeypatch, data.encode())
    out = tmp_path / "out.csv"
    assert main(["classify", "--input", "-", "--output", str(out), "--quiet"]) == 0
    assert [r["id"] for r in _rows(out)] == [str(i) for i in range(3000)]


def test_labelled_files_are_read_in_every_format_with_the_reading_options(tmp_path):
    from stance.own_data.labelled import read_labelled

    rows = [["tekst", "kode"], ["Luk dem", -1], ["Tak", 1], [None, 0]]
    xlsx = _xlsx(tmp_path / "gold.xlsx", rows, sheet="Koder", extra_sheet=True)
    data = read_labelled(
        xlsx, text_column="tekst", label_column="kode", label_map="-1=against,1=for,0=neutral",
        sheet="Koder",
    )  # fmt: skip
    assert (data.texts, data.labels) == (["Luk dem", "Tak"], ["against", "for"])
    assert data.skipped == [{"where": "row 4", "reason": "empty text"}]
    pipe = tmp_path / "gold.csv"
    pipe.write_bytes("tekst|kode\nMødet|neutral\n".encode("cp1252"))
    data = read_labelled(pipe, text_column="tekst", label_column="kode", encoding="cp1252")
    assert (data.texts, data.labels) == (["Mødet"], ["neutral"])
