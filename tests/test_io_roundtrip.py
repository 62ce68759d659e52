"""Property test: any table goes through every pair of formats (CSV, TSV, JSON Lines, Parquet,
Excel) and back with the same rows, ids and texts.

The rule for NUL (U+0000) and other control characters: they are data, kept as they are in
every format (CSV, TSV and JSON Lines write them as they are; an .xlsx cell cannot hold them,
so they are written as Excel's ``_xHHHH_`` escapes and read back). Classifying a text that holds
NUL is refused for that row (see ``stance.io.text_problem``), but the row is written back
unchanged. Lone surrogates are left out: no UTF-8 file can hold them.
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stance.io import read_table, write_rows

FORMATS = ["csv", "tsv", "jsonl", "parquet", "xlsx"]
SPECIAL = ["", '"', "'", "\n", "\r\n", "\r", "\t", ";", ",", "|", "😀", "\x00", "\x0b", "æøå",
           "_x0041_", " ", "\ufeff", "\u2028", "=1+1", "\\"]  # fmt: skip
TEXT = st.lists(
    st.one_of(st.sampled_from(SPECIAL), st.text(st.characters(exclude_categories=("Cs",)))),
    max_size=4,
).map("".join)
TABLES = st.lists(st.tuples(TEXT, TEXT), min_size=1, max_size=5)  # JSON Lines: no rows, no columns


@pytest.mark.parametrize(("first", "second"), list(itertools.product(FORMATS, FORMATS)))
@settings(
    max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(table=TABLES)
def test_tables_round_trip_through_every_pair_of_formats(tmp_path, first, second, table):
    pytest.importorskip("pyarrow")
    pytest.importorskip("openpyxl")
    columns = ["id", "text", "note"]
    rows = [{"id": str(i), "text": text, "note": note} for i, (text, note) in enumerate(table)]
    a = write_rows(rows, columns, tmp_path / f"a.{first}")
    middle = read_table(a, "text")
    b = write_rows(middle.rows, middle.columns, tmp_path / f"b.{second}")
    back = read_table(b, "text")
    assert back.columns == columns
    assert back.rows == rows


def test_excel_style_csv_round_trips(tmp_path):
    rows = [{"id": "1", "text": 'a;b"c\nd', "note": ""}]
    path = write_rows(rows, ["id", "text", "note"], tmp_path / "x.csv", excel=True)
    assert path.read_bytes().startswith(b"\xef\xbb\xbfid;text;note")
    assert read_table(path, "text").rows == rows
