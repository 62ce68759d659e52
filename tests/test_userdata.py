"""Reading a user's own files: formats, label maps, missing values and clear errors."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from stance.errors import ConfigError, InputFileError, LabelError
from stance.own_data.labelled import (
    check_enough_examples,
    check_labels,
    parse_label_map,
    read_labelled,
    read_user_table,
)

ROWS = [
    {"id": 1, "tekst": "Luk jobcentrene, de skaber ingen job.", "kode": "imod"},
    {"id": 2, "tekst": "Tak til min sagsbehandler, hun hjalp mig.", "kode": "for"},
    {"id": 3, "tekst": "Mødet er flyttet til tirsdag.", "kode": "neutral"},
    {"id": 4, "tekst": "", "kode": "imod"},
    {"id": 5, "tekst": "Jobcentret ringede i dag.", "kode": ""},
]


def _write(path: Path, rows: list[dict]) -> Path:
    if path.suffix == ".jsonl":
        path.write_text(
            "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8"
        )
    elif path.suffix == ".parquet":
        pa = pytest.importorskip("pyarrow")
        import pyarrow.parquet as pq

        pq.write_table(pa.Table.from_pylist(rows), path)
    else:
        with path.open("w", encoding="utf-8", newline="") as out:
            writer = csv.DictWriter(
                out, list(rows[0]), dialect=csv.excel_tab if path.suffix == ".tsv" else csv.excel
            )
            writer.writeheader()
            writer.writerows(rows)
    return path


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".jsonl", ".parquet"])
def test_every_format_reads_the_same_examples(tmp_path, suffix):
    path = _write(tmp_path / f"gold{suffix}", ROWS)
    data = read_labelled(path, text_column="tekst", label_column="kode", label_map="imod=against")
    assert data.labels == ["against", "for", "neutral"]
    assert data.texts[0] == "Luk jobcentrene, de skaber ingen job."
    summary = data.summary()
    assert (summary["rows_read"], summary["rows_used"], summary["rows_skipped"]) == (5, 3, 2)
    assert (summary["missing_text"], summary["missing_label"]) == (1, 1)
    unit = "row" if suffix == ".parquet" else "line"
    first = 5 if suffix in (".csv", ".tsv") else 4  # line 5 under a header; else 4
    assert summary["skipped"][0] == {"where": f"{unit} {first}", "reason": "empty text"}
    assert summary["skipped"][1]["reason"] == "no label"


def test_unknown_labels_are_refused_with_what_was_found(tmp_path):
    path = _write(tmp_path / "gold.csv", ROWS)
    with pytest.raises(InputFileError) as caught:
        read_labelled(path, text_column="tekst", label_column="kode")
    message = str(caught.value)
    assert str(path) in message and "'kode'" in message
    assert "'imod' (1 rows, first at line 2)" in message
    assert '--label-map "imod=?"' in message


def test_a_label_map_must_cover_every_value(tmp_path):
    rows = [*ROWS, {"id": 6, "tekst": "Hmm", "kode": "positiv"}]
    path = _write(tmp_path / "gold.jsonl", rows)
    with pytest.raises(InputFileError, match=r"'positiv'.*not in --label-map"):
        read_labelled(path, text_column="tekst", label_column="kode", label_map="imod=against")


def test_numeric_codes_map_too(tmp_path):
    rows = [
        {"text": "Luk lortet", "label": -1},
        {"text": "Fint jobcenter", "label": 1},
        {"text": "Åbent til 15", "label": 0},
    ]
    path = _write(tmp_path / "coded.jsonl", rows)
    data = read_labelled(path, label_map={"-1": "against", "0": "neutral", "1": "for"})
    assert data.labels == ["against", "for", "neutral"]


def test_case_is_not_guessed_but_suggested(tmp_path):
    path = _write(tmp_path / "gold.csv", [{"text": "Hej", "label": "Against"}])
    with pytest.raises(InputFileError, match='"Against=against"'):
        read_labelled(path)


@pytest.mark.parametrize(
    ("spec", "match"),
    [
        ("imod", "has no '='"),
        ("imod=nej", "maps to 'nej'"),
        ("=for", "empty value"),
        ("a=for,a=against", "mapped twice"),
        (",", "empty"),
    ],
)
def test_bad_label_maps(spec, match):
    with pytest.raises(ConfigError, match=match):
        parse_label_map(spec)


def test_missing_columns_name_the_columns(tmp_path):
    path = _write(tmp_path / "gold.csv", ROWS)
    with pytest.raises(InputFileError, match=r"no column 'text'.*--text-column"):
        read_labelled(path)
    with pytest.raises(InputFileError, match=r"no column 'label'.*'kode'.*--label-column"):
        read_labelled(path, text_column="tekst")
    jsonl = _write(tmp_path / "gold.jsonl", ROWS)
    with pytest.raises(InputFileError, match="no column 'body'"):
        read_user_table(jsonl, "body")


def test_unknown_format_and_missing_file(tmp_path):
    with pytest.raises(InputFileError, match="file not found"):
        read_user_table(tmp_path / "nope.csv")
    odd = tmp_path / "gold.xls"  # .xlsx is read since issue 22; the old .xls format is not
    odd.write_bytes(b"PK")
    with pytest.raises(InputFileError, match="cannot tell the format"):
        read_user_table(odd)


def test_text_files_are_one_text_a_line(tmp_path):
    path = tmp_path / "lines.txt"
    path.write_text("Første tekst\nAnden tekst\n", encoding="utf-8")
    table = read_user_table(path, "body")
    assert [r["body"] for r in table.rows] == ["Første tekst", "Anden tekst"]
    assert table.where(1) == "line 2"


def test_too_few_examples_and_unknown_labels_in_python():
    with pytest.raises(LabelError, match=r"found against 5, for 3, neutral 5.*'for'"):
        check_enough_examples(["against"] * 5 + ["for"] * 3 + ["neutral"] * 5)
    with pytest.raises(LabelError, match=r"'Imod' \(1 time, first at position 0\)"):
        check_labels(["Imod", "for"])


@pytest.fixture
def hide_module(monkeypatch):
    """Make ``stance.extras.require`` believe a module is not installed."""
    import importlib.util

    real = importlib.util.find_spec
    hidden: set[str] = set()

    def find_spec(name, *args, **kwargs):
        return None if name in hidden else real(name, *args, **kwargs)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    return hidden.add


def test_missing_extras_name_the_install_command(tmp_path, hide_module):
    from stance.errors import MissingDependencyError
    from stance.own_data.evaluate import evaluate_file

    hide_module("pyarrow")
    parquet = tmp_path / "gold.parquet"
    parquet.write_bytes(b"PAR1")
    with pytest.raises(MissingDependencyError, match=r'pip install "stance\[parquet\]"'):
        read_user_table(parquet)
    hide_module("sklearn")
    gold = _write(tmp_path / "gold.csv", [{"text": "Luk det", "label": "against"}])
    with pytest.raises(MissingDependencyError, match=r'pip install "stance\[train\]"'):
        evaluate_file(gold)
    import stance

    with pytest.raises(MissingDependencyError, match=r"stance train needs sklearn"):
        stance.train(["a"] * 15, ["for", "against", "neutral"] * 5, output=tmp_path / "m")
