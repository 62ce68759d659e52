"""Batch files at any size: streaming in chunks, no lost rows, --strict, standard input,
--resume after a kill, and --jobs giving the same file as one process."""

from __future__ import annotations

import csv
import io
import json
import signal
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stance.cli import main
from stance.io.formats import OutputSchema, Position, open_reader, open_writer

REPO = Path(__file__).resolve().parents[1]
STANCE = (  # issue 22 added stance_status
    "stance_label",
    "stance_score",
    "p_against",
    "p_for",
    "p_neutral",
    "stance_status",
    "error",
)


def _texts(n: int) -> list[str]:
    rows = [json.loads(line) for line in (REPO / "labelled" / "authored.jsonl").open()]
    return [rows[i % len(rows)]["text"] for i in range(n)]


def _write_csv(path: Path, rows: list[list[str]], header=("id", "text")) -> Path:
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _csv_rows(path: Path, delimiter: str = ",") -> list[dict]:
    old = csv.field_size_limit(2**31 - 1)
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            return list(csv.DictReader(handle, delimiter=delimiter))
    finally:
        csv.field_size_limit(old)


def _run(*args: str) -> int:
    return main(["classify", *args, "--quiet"])


@pytest.fixture(scope="module")
def big_csv(tmp_path_factory) -> Path:
    """2,000 texts with a few bad rows among them."""
    rows = [[str(i), t] for i, t in enumerate(_texts(2000))]
    rows[7][1] = ""
    rows[500][1] = "   "
    return _write_csv(tmp_path_factory.mktemp("big") / "in.csv", rows)


@pytest.fixture(scope="module")
def big_whole(big_csv) -> Path:
    """The output of one uninterrupted run on ``big_csv`` (the bytes do not depend on the
    chunk size)."""
    out = big_csv.with_name("whole.csv")
    assert _run("--input", str(big_csv), "--output", str(out)) == 1
    return out


# Every bad row comes back, in its place, with an error naming the line -----------------------


def test_every_bad_csv_row_is_kept_with_an_error(tmp_path, capsys):
    long_text = "Jobcentret " + "x" * 300_000  # over the csv module's 128 KB field limit
    source = tmp_path / "in.csv"
    source.write_bytes(
        b"id,text\n"
        b"1,Luk jobcentrene\n"
        b"2,hej,ekstra\n"  # too many fields
        b"3\n"  # too few fields
        + f'4,"{long_text}"\n'.encode()
        + b'5,"Jobcentret\xe6r godt"\n'  # invalid UTF-8
        b'6,"quote"x,y\n'  # malformed CSV
        b'7,"Tak til jobcentret,\nmin sagsbehandler var god"\n'  # quoted field over two lines
        b"8,\n"
        b'9,"uafsluttet citat\n'  # unterminated quote at the end of the file
    )
    out = tmp_path / "out.csv"
    # all ASCII but one byte: detection would read it as cp1252; UTF-8 named keeps it an error
    assert main(["classify", "--input", str(source), "--output", str(out),
                 "--encoding", "utf-8"]) == 1  # fmt: skip
    assert "classified 3 of 9 rows" in capsys.readouterr().err
    rows = _csv_rows(out)
    assert len(rows) == 9
    by_id = {r["id"]: r for r in rows if r["id"]}
    assert by_id["1"]["stance_label"] and not by_id["1"]["error"]
    assert by_id["2"]["error"].startswith("line 3: 3 fields but the header has 2")
    assert "'ekstra'" in by_id["2"]["error"] and by_id["2"]["text"] == "hej"
    assert by_id["3"]["error"].startswith("line 4: 1 field but the header has 2")
    assert by_id["4"]["stance_label"] and by_id["4"]["text"] == long_text
    assert by_id["5"]["error"].startswith("line 6: not valid UTF-8 (byte 0xe6")
    assert by_id["5"]["stance_label"] == "" and by_id["5"]["text"] == "Jobcentret\ufffdr godt"
    assert rows[5]["error"].startswith("line 7: malformed CSV") and rows[5]["id"] == ""
    assert by_id["7"]["stance_label"] and "\n" in by_id["7"]["text"]
    assert by_id["8"]["error"].startswith("line 10: field 'text' is empty")
    assert rows[8]["error"].startswith("line 11: malformed CSV")
    assert [r["id"] for r in rows] == ["1", "2", "3", "4", "5", "", "7", "8", ""]


def test_every_bad_jsonl_row_is_kept_with_an_error(tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_bytes(
        b'{"text": "Luk jobcentrene", "n": 1}\n'
        b'{"text": \n'
        b"\n"  # blank lines are not rows
        b"[1, 2]\n"
        b'{"text": "M\xe6det er flyttet", "n": 5}\n'
        b'{"text": 42, "n": 6}\n'
        b'{"n": 7}\n'
        b'{"text": "Tak til jobcentret", "n": 8, "tags": ["a"]}\n'
    )
    out = tmp_path / "out.jsonl"
    assert _run("--input", str(source), "--output", str(out)) == 1
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    errors = [r["error"] for r in rows]
    assert len(rows) == 7
    assert errors[0] == "" and errors[-1] == "" and rows[-1]["tags"] == ["a"]
    assert errors[1].startswith("line 2: invalid JSON")
    assert errors[2] == "line 4: expected a JSON object, got list"
    assert errors[3].startswith("line 5: not valid UTF-8") and rows[3]["n"] == 5
    assert errors[4] == "line 6: field 'text' must be str, got int"
    assert errors[5] == "line 7: no field 'text' in this row"
    assert all(r["stance_label"] == "" for r in rows[1:-1])


def test_jsonl_to_csv_keeps_every_field_of_every_row(tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text(
        '{"text": "Luk jobcentrene", "a": 1}\n{"text": "Tak", "b": {"x": true}}\n',
        encoding="utf-8",
    )
    out = tmp_path / "out.csv"
    assert _run("--input", str(source), "--output", str(out)) == 0
    rows = _csv_rows(out)
    assert list(rows[0])[:3] == ["text", "a", "b"]
    assert rows[0]["a"] == "1" and rows[1]["b"] == '{"x": true}'


def test_txt_tsv_and_blank_lines(tmp_path):
    source = tmp_path / "in.txt"
    source.write_bytes(b"Luk jobcentrene\r\n\nTak til jobcentret\nbad \xff\n")
    out = tmp_path / "out.tsv"
    # named UTF-8: detection alone would read this all-ASCII-but-one-byte file as cp1252
    assert _run("--input", str(source), "--output", str(out), "--encoding", "utf-8") == 1
    rows = _csv_rows(out, "\t")
    assert [r["line"] for r in rows] == ["1", "2", "3", "4"]
    assert rows[0]["text"] == "Luk jobcentrene" and rows[0]["stance_label"]
    assert "empty" in rows[1]["error"] and "UTF-8" in rows[3]["error"]
    tsv = tmp_path / "in.tsv"
    tsv.write_text("id\ttext\n1\tLuk jobcentrene\n2\tTak, jobcentret\n", encoding="utf-8")
    assert _run("--input", str(tsv), "--output", str(tmp_path / "o.tsv")) == 0
    assert [r["text"] for r in _csv_rows(tmp_path / "o.tsv", "\t")] == [
        "Luk jobcentrene",
        "Tak, jobcentret",
    ]


def test_parquet_in_and_out_keeps_types_and_row_groups(tmp_path):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    texts = ["Luk jobcentrene", None, "", "Tak til jobcentret", "Mødet er flyttet"] * 3
    table = pa.table({"id": list(range(15)), "text": texts, "score": [0.5] * 15})
    source = tmp_path / "in.parquet"
    pq.write_table(table, source, row_group_size=4)
    out = tmp_path / "out.parquet"
    assert _run("--input", str(source), "--output", str(out), "--chunk-size", "5") == 1
    result = pq.read_table(out)
    assert result.schema.field("id").type == pa.int64()
    assert result.schema.names == ["id", "text", "score", *STANCE]
    rows = result.to_pylist()
    assert [r["id"] for r in rows] == list(range(15))
    assert rows[1]["error"] == "row 2: field 'text' must be str, got NoneType (a missing value)"
    assert rows[1]["stance_score"] is None and rows[0]["stance_label"]
    assert pq.ParquetFile(out).num_row_groups == 3
    csv_out = tmp_path / "out.csv"
    assert _run("--input", str(source), "--output", str(csv_out)) == 1
    assert [r["id"] for r in _csv_rows(csv_out)] == [str(i) for i in range(15)]


def test_strict_stops_at_the_first_bad_row_and_writes_nothing(tmp_path, capsys):
    source = tmp_path / "in.jsonl"
    source.write_text('{"text": "Luk jobcentrene"}\n{"text": "Tak"}\n{"text": \n', "utf-8")
    out = tmp_path / "out.jsonl"
    assert _run("--input", str(source), "--output", str(out), "--strict") == 2
    err = capsys.readouterr().err
    assert f"{source}, line 3: invalid JSON" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl"]
    source.write_text('{"text": "Luk jobcentrene"}\n{"text": ""}\n', "utf-8")
    assert _run("--input", str(source), "--strict") == 2  # to stdout: nothing printed either
    captured = capsys.readouterr()
    assert captured.out == "" and "line 2: field 'text' is empty" in captured.err


def test_stdin_and_stdout(tmp_path, monkeypatch, capsys):
    def run(data: bytes, *args: str) -> int:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
        return _run("--input", "-", *args)

    assert run(b"id,text\n1,Luk jobcentrene\n2,\n", "--format", "csv") == 1
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [r["id"] for r in rows] == ["1", "2"] and rows[0]["stance_label"]
    data = b'{"text": "Tak", "a": 1}\n{"text": "Nej", "b": 2}\n'
    assert run(data, "--format", "jsonl", "--output", str(tmp_path / "o.csv")) == 0
    assert list(_csv_rows(tmp_path / "o.csv")[0])[:3] == ["text", "a", "b"]
    assert run(data, "--format", "jsonl") == 0
    lines = capsys.readouterr().out.splitlines()
    assert [json.loads(line).get("a") for line in lines] == [1, None]
    assert run(b"Luk jobcentrene\n") == 2
    assert "--format" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        run(b"text\nhej\n", "--format", "csv", "--resume")


# Streaming: memory does not grow with the file ------------------------------------------------


def test_reading_and_writing_stream_in_constant_memory(tmp_path):
    """Reading and writing 20,000 rows holds no more than a chunk: peak traced memory stays
    within a few MB and is about the same as for 2,000 rows."""
    texts = _texts(20_000)

    def peak(n: int) -> int:
        source = _write_csv(tmp_path / f"in{n}.csv", [[str(i), t] for i, t in enumerate(texts[:n])])
        reader = open_reader(source)
        schema = OutputSchema(["id", "text", *STANCE], STANCE)
        writer = open_writer("csv", schema, tmp_path / f"out{n}.csv")
        tracemalloc.start()
        chunk = []
        for record in reader.records():
            chunk.append(record.values)
            if len(chunk) == 1000:
                writer.write(chunk)
                writer.commit()
                chunk = []
        writer.write(chunk)
        writer.finish(None)
        reader.close()
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return top

    small, large = peak(2_000), peak(20_000)
    assert large < 4 * 2**20, large
    assert large < 1.5 * small + 2**20, (small, large)


cell = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=30
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=st.lists(st.tuples(cell, cell), max_size=20))
def test_csv_rows_round_trip_through_the_streaming_reader(tmp_path, rows):
    """Any field content (quotes, separators, newlines) comes back as it was, in order."""
    source = _write_csv(tmp_path / "p.csv", [list(r) for r in rows], header=("a", "text"))
    reader = open_reader(source)
    records = list(reader.records())
    reader.close()
    assert [(r.values["a"], r.values["text"]) for r in records] == rows
    assert all(r.problem is None for r in records)


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(lines=st.lists(st.binary(max_size=40).filter(lambda b: b"\n" not in b), max_size=12))
def test_any_bytes_give_one_record_per_line_and_never_raise(tmp_path, lines):
    """Arbitrary bytes as JSON Lines or text: every non-blank line is a record (with a
    problem where it is not a JSON object or not UTF-8); reading never raises."""
    data = b"".join(line + b"\n" for line in lines)
    unmarked = [ln.removeprefix(b"\xef\xbb\xbf") if i == 0 else ln for i, ln in enumerate(lines)]
    blank_skipped = [ln for ln in unmarked if ln.strip()]
    for suffix, expected in ((".jsonl", blank_skipped), (".txt", lines)):
        source = tmp_path / f"any{suffix}"
        source.write_bytes(data)
        reader = open_reader(source)
        records = list(reader.records())
        reader.close()
        assert len(records) == len(expected)
        assert reader.position.offset == len(data)


def test_resume_positions_restart_reading_exactly(tmp_path):
    source = _write_csv(tmp_path / "in.csv", [[str(i), f"tekst\n{i}"] for i in range(50)])
    reader = open_reader(source)
    records = reader.records()
    first = [next(records) for _ in range(20)]
    position = reader.position
    reader.close()
    again = open_reader(source)
    rest = list(again.records(Position(position.offset, position.number)))
    again.close()
    assert [r.values["id"] for r in first + rest] == [str(i) for i in range(50)]
    assert rest[0].number == first[-1].number + 2


# --resume after a kill ----------------------------------------------------------------------


def _children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (Linux /proc; empty elsewhere)."""
    found = []
    for entry in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(entry.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.parent.name))
        except (OSError, IndexError, ValueError):
            continue
    return found


def test_a_killed_run_resumes_to_the_same_file(tmp_path, big_csv, big_whole):
    """Kill a run with two worker processes (SIGKILL, as a machine restart would) after some
    chunks: its workers end too, and --resume (here with one process) finishes the file,
    which equals an uninterrupted run's."""
    out = tmp_path / "out.csv"
    state = tmp_path / ".out.csv.part.json"
    args = ["--input", str(big_csv), "--output", str(out), "--chunk-size", "20"]
    command = [sys.executable, "-m", "stance", "classify", *args, "--quiet", "--jobs", "2"]
    process = subprocess.Popen(command, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 180
    rows = 0
    while time.monotonic() < deadline and process.poll() is None:
        try:
            rows = json.loads(state.read_text())["rows"]
        except (OSError, ValueError, KeyError):
            rows = 0
        if rows >= 300:
            break
        time.sleep(0.002)
    workers = _children(process.pid)
    assert workers or sys.platform != "linux"
    process.send_signal(signal.SIGKILL)
    process.wait()
    if not 0 < rows < 2000:
        pytest.fail(f"the run was not caught midway (rows={rows}); use a bigger input")
    assert not out.exists() and state.exists()
    assert _run(*args, "--resume") == 1
    assert out.read_bytes() == big_whole.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]
    deadline = time.monotonic() + 15
    while any(Path(f"/proc/{pid}").exists() for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in workers if Path(f"/proc/{pid}").exists()], "orphaned workers"


@pytest.mark.parametrize("suffix", [".jsonl", ".parquet"])
def test_an_interrupted_run_resumes_to_the_same_file(tmp_path, monkeypatch, big_csv, suffix):
    if suffix == ".parquet":
        pytest.importorskip("pyarrow")
    from stance.io import formats

    whole = tmp_path / f"whole{suffix}"
    args = ["--input", str(big_csv), "--chunk-size", "300"]
    assert _run(*args, "--output", str(whole)) == 1
    out = tmp_path / f"out{suffix}"
    writer_class = formats.ParquetWriter if suffix == ".parquet" else formats.TextWriter
    real_write = writer_class.write
    calls = []

    def write_then_stop(self, rows):
        calls.append(len(rows))
        if len(calls) == 4:
            real_write(self, rows[:100])  # a half-written chunk, then the interruption
            raise KeyboardInterrupt
        real_write(self, rows)

    monkeypatch.setattr(writer_class, "write", write_then_stop)
    assert main(["classify", *args, "--output", str(out)]) == 130
    monkeypatch.setattr(writer_class, "write", real_write)
    assert not out.exists()
    assert _run(*args, "--output", str(out), "--resume") == 1
    assert out.read_bytes() == whole.read_bytes()


def test_resume_refuses_a_changed_input(tmp_path, monkeypatch, big_csv, capsys):
    from stance.io import formats

    source = tmp_path / "in.csv"
    source.write_bytes(big_csv.read_bytes())
    out = tmp_path / "out.csv"
    real_commit = formats.TextWriter.commit
    calls = []

    def commit_then_stop(self):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real_commit(self)

    monkeypatch.setattr(formats.TextWriter, "commit", commit_then_stop)
    assert _run("--input", str(source), "--output", str(out), "--chunk-size", "500") == 130
    monkeypatch.setattr(formats.TextWriter, "commit", real_commit)
    source.write_bytes(big_csv.read_bytes() + b"9999,Endnu en tekst\n")
    assert _run("--input", str(source), "--output", str(out), "--chunk-size", "500",
                "--resume") == 2  # fmt: skip
    assert "input changed since the interrupted run" in capsys.readouterr().err
    # issue 22: the partial run is not thrown away unasked; --overwrite starts over
    assert _run("--input", str(source), "--output", str(out), "--chunk-size", "500") == 2
    assert "--overwrite" in capsys.readouterr().err
    assert _run("--input", str(source), "--output", str(out), "--chunk-size", "500",
                "--overwrite") == 1  # fmt: skip
    assert len(_csv_rows(out)) == 2001


# --jobs -------------------------------------------------------------------------------------


def test_jobs_give_the_same_file_and_predictions_as_one_process(tmp_path, big_csv, big_whole):
    from stance import classify_many

    two = tmp_path / "two.csv"
    assert _run("--input", str(big_csv), "--chunk-size", "256", "--output", str(two),
                "--jobs", "2") == 1  # fmt: skip
    assert two.read_bytes() == big_whole.read_bytes()
    texts = _texts(1500)
    assert classify_many(texts, n_jobs=2, batch_size=100) == classify_many(texts, batch_size=100)
    with pytest.raises(ValueError, match="n_jobs"):
        classify_many(texts, n_jobs=0)


def test_errors_cross_process_boundaries():
    """Errors raised in a worker process reach the caller whole (they are pickled)."""
    import pickle

    from stance.errors import CorpusError, InputFileError, ModelError

    for error in (
        ModelError("/m", "model.skops is truncated", "Rebuild it"),
        InputFileError("in.csv", "3 fields but the header has 2", line=4, column="text"),
        CorpusError("stance.jsonl", 2, "unknown label", "label"),
    ):
        copy = pickle.loads(pickle.dumps(error))
        assert type(copy) is type(error) and str(copy) == str(error)
