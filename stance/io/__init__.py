"""One file layer: a reader and a writer per format, shared by every command (``classify``,
``evaluate``, ``train``, ``suggest``) and by anything built on stance (a web server, a share
command).

Formats: CSV (delimiter ``,`` ``;`` tab or ``|``, sniffed), TSV (``.tsv``, ``.tab``), JSON
Lines, plain text (one text a line), Parquet (``stance[parquet]``) and Excel ``.xlsx``
(``stance[excel]``). Text encodings are detected (UTF-8 with or without a byte order mark,
UTF-16 with one, else cp1252). See ``docs/files.md``.

>>> import pathlib, tempfile
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> _ = (folder / "in.csv").write_bytes("id;tekst\\n1;Tak for hjælpen\\n".encode("cp1252"))
>>> detect_format(folder / "in.csv"), read_columns(folder / "in.csv")
('csv', ['id', 'tekst'])
>>> table = read_table(folder / "in.csv", "tekst")
>>> write_rows(table.rows, table.columns, folder / "out.jsonl").read_text(encoding="utf-8")
'{"id": "1", "tekst": "Tak for hjælpen"}\\n'
"""

from __future__ import annotations

from stance.io.formats import (
    FORMATS,
    OUTPUT_FORMATS,
    Reader,
    Writer,
    detect_format,
    open_reader,
    open_writer,
    output_format,
)
from stance.io.rows import Position, Record, text_problem
from stance.io.sources import STDIN
from stance.io.tables import Table, check_output, read_columns, read_table, write_rows

__all__ = [
    "FORMATS",
    "OUTPUT_FORMATS",
    "STDIN",
    "Position",
    "Reader",
    "Record",
    "Table",
    "Writer",
    "check_output",
    "classify_file",
    "detect_format",
    "open_reader",
    "open_writer",
    "output_format",
    "read_columns",
    "read_table",
    "text_problem",
    "write_rows",
]


def __getattr__(name: str) -> object:
    """``classify_file`` (the streaming batch engine, :mod:`stance.batch`) on first use."""
    if name == "classify_file":
        from stance.batch import classify_file

        return classify_file
    raise AttributeError(f"module 'stance.io' has no attribute {name!r}")
