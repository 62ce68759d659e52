"""Excel ``.xlsx`` files, read and written with openpyxl (``pip install "stance[excel]"``).

Reading streams the sheet (openpyxl's read-only mode), so a big sheet is not held in memory.
The first row is the header; an empty header cell is named by its column letter (``"C"``);
rows with no value at all are skipped; dates and times become ISO 8601 text; formulas give the
value Excel last calculated. Rows are numbered as Excel numbers them (the header is row 1).

Writing goes through a JSON Lines part file (so an interrupted run resumes like any other) that
is turned into a sheet at the end.

Control characters: an ``.xlsx`` cell cannot hold U+0000–U+0008, U+000B, U+000C and
U+000E–U+001F, and a carriage return in a cell reads back as a line feed. Both are written the
way Excel itself writes them, as the escape ``_xHHHH_`` (NUL is ``_x0000_``, a carriage return
``_x000D_``), and a text that happens to contain such an escape gets its ``_`` escaped
(``_x005F_``); reading undoes this, as Excel does. So every text goes through an ``.xlsx`` file
unchanged, except that an empty cell reads back as ``""`` (as in CSV). A text that starts with
``=`` is written as text, never as a formula. Excel shows at most
32,767 characters of a cell; longer texts are written whole.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from stance.errors import InputFileError
from stance.extras import require
from stance.io.formats import OutputSchema, Reader, TextWriter
from stance.io.rows import Position, Record

_TO_ESCAPE = re.compile(r"_x[0-9A-Fa-f]{4}_|[\x00-\x08\x0b-\x0d\x0e-\x1f]")
_ESCAPED = re.compile(r"_x([0-9A-Fa-f]{4})_")


def _escape(match: re.Match[str]) -> str:
    found = match.group()
    return "_x005F" + found if len(found) > 1 else f"_x{ord(found):04X}_"


def escape(text: str) -> str:
    r"""``text`` as an ``.xlsx`` cell holds it (see the module docstring).

    >>> escape("a\x00b\rc"), escape("_x0041_")
    ('a_x0000_b_x000D_c', '_x005F_x0041_')
    """
    return _TO_ESCAPE.sub(_escape, text)


def unescape(text: str) -> str:
    r"""The text an ``.xlsx`` cell stands for: the escapes ``_xHHHH_`` decoded.

    >>> unescape("a_x0000_b_x000D_c"), unescape("_x005F_x0041_")
    ('a\x00b\rc', '_x0041_')
    """
    return _ESCAPED.sub(lambda m: chr(int(m.group(1), 16)), text) if "_x" in text else text


def require_openpyxl() -> Any:
    """Import openpyxl or say how to install it."""
    require(["openpyxl"], "excel", "Excel files (.xlsx)")
    import openpyxl

    return openpyxl


def excel_value(value: Any) -> Any:
    r"""A value as an ``.xlsx`` cell holds it: nested values as JSON text, text escaped.

    >>> excel_value("a\x00b\tc"), excel_value([1, 2]), excel_value(3)
    ('a_x0000_b\tc', '[1, 2]', 3)
    """
    if isinstance(value, (dict, list, tuple)):
        value = json.dumps(value, ensure_ascii=False, default=str)
    if isinstance(value, str):
        return escape(value)
    return value


def _cells(sheet: Any, values: list[Any]) -> list[Any]:
    """A row for a write-only sheet: text that starts with ``=`` as text, never a formula."""
    from openpyxl.cell import WriteOnlyCell

    out = []
    for value in values:
        value = excel_value(value)
        if isinstance(value, str) and value.startswith("="):
            cell = WriteOnlyCell(sheet, value=value)
            cell.data_type = "s"
            value = cell
        out.append(value)
    return out


def _plain(value: Any) -> Any:
    """A cell's value as stance passes it on: text unescaped, an empty cell as ``""``, dates
    and times as ISO 8601 text."""
    if value is None:
        return ""
    if isinstance(value, str):
        return unescape(value)
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return str(value)
    return value


class XlsxReader(Reader):
    """The rows of one sheet of an ``.xlsx`` file."""

    format = "xlsx"
    unit = "row"

    def __init__(
        self, path: Path, handle: IO[bytes], text_column: str | None, sheet: str | int | None
    ) -> None:
        super().__init__(path, handle, text_column)
        openpyxl = require_openpyxl()
        try:
            self.book = openpyxl.load_workbook(handle, read_only=True, data_only=True)
        except Exception as exc:  # zipfile and openpyxl raise their own error types
            raise InputFileError(path, f"not a readable .xlsx file: {exc}") from exc
        self.sheet = self._sheet(sheet)
        header = next(self.sheet.iter_rows(max_row=1, values_only=True), None)
        if header is None:
            raise InputFileError(path, "the sheet is empty; expected a header row")
        header = list(header)
        while header and header[-1] in (None, ""):
            header.pop()
        from openpyxl.utils import get_column_letter

        self.columns = [
            get_column_letter(i + 1) if value in (None, "") else str(_plain(value))
            for i, value in enumerate(header)
        ]
        self._check_column(self.columns, line=None)

    def _sheet(self, sheet: str | int | None) -> Any:
        names = self.book.sheetnames
        if sheet is None:
            return self.book.worksheets[0]
        if isinstance(sheet, int) or str(sheet).isdigit():
            number = int(sheet)
            if 1 <= number <= len(names):
                return self.book.worksheets[number - 1]
        elif sheet in names:
            return self.book[sheet]
        raise InputFileError(self.path, f"no sheet {sheet!r}; the sheets are {names}")

    @property
    def total(self) -> int | None:
        rows = self.sheet.max_row
        return None if rows is None else max(0, int(rows) - 1)

    def records(self, start: Position | None = None) -> Iterator[Record]:
        skip = 0 if start is None else start.offset
        width = len(self.columns or [])
        done = skip
        for number, values in enumerate(
            self.sheet.iter_rows(min_row=2 + skip, values_only=True), 2 + skip
        ):
            done += 1
            self.position = Position(done, number)
            if all(v is None or v == "" for v in values):
                continue
            cells = [_plain(v) for v in values]
            row = dict(zip(self.columns or [], cells))
            for name in (self.columns or [])[len(cells) :]:
                row[name] = ""
            extra = [v for v in cells[width:] if v not in (None, "")]
            problem = None
            if extra:
                listed = ", ".join(repr(v) for v in extra)
                problem = f"values beyond the header's {width} columns ({listed[:200]})"
            yield Record(number, row, problem)

    def close(self) -> None:
        self.book.close()
        super().close()


class XlsxWriter(TextWriter):
    """An ``.xlsx`` file with one sheet, built at :meth:`finish` from a JSON Lines part file."""

    def __init__(self, schema: OutputSchema, out: Path, resume_at: int = 0) -> None:
        self.openpyxl = require_openpyxl()
        super().__init__("jsonl", schema, out, resume_at)

    def finish(self, target: Path | None) -> None:
        self.handle.flush()
        self.handle.close()
        if target is None or self.path is None:
            raise InputFileError("-", "an .xlsx output needs a file")
        book = self.openpyxl.Workbook(write_only=True)
        sheet = book.create_sheet("stance")
        sheet.append(self.columns)
        with self.path.open("rb") as part:
            for line in part:
                row = json.loads(line)
                sheet.append(_cells(sheet, [row.get(c) for c in self.columns]))
        temporary = target.with_name(f".{target.name}.saving")
        try:
            book.save(temporary)
            os.replace(temporary, target)
        finally:
            temporary.unlink(missing_ok=True)
        self.path.unlink(missing_ok=True)
