"""Opening an input: a file or standard input, its encoding and (CSV) its delimiter.

Encodings: a UTF-8 byte order mark means UTF-8; a UTF-16 mark means UTF-16 (Excel's "Unicode
text"), which is converted to UTF-8 in a temporary file first; otherwise a file that decodes as
UTF-8 is UTF-8, and one that does not is read as cp1252 (Windows Western European, as Danish
Excel saves CSV), with a note naming the line of the first byte that is not UTF-8. ``encoding=``
(``--encoding``) overrides all of this.
"""

from __future__ import annotations

import codecs
import csv
import io
import shutil
import sys
import tempfile
from pathlib import Path
from typing import IO

from stance.errors import InputFileError

STDIN = "-"
BOM = b"\xef\xbb\xbf"
UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
FALLBACK_ENCODING = "cp1252"
DELIMITERS = (",", ";", "\t", "|")
SAMPLE_BYTES = 1 << 16
SCAN_BLOCK = 1 << 20


class PeekableStream(io.RawIOBase):
    """A forward-only byte stream (a pipe) whose first bytes can be looked at before reading."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream
        self.head = b""

    def peek(self, size: int = SAMPLE_BYTES) -> bytes:
        while len(self.head) < size:
            more = self.stream.read(size - len(self.head))
            if not more:
                break
            self.head += more
        return self.head[:size]

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
        if self.head:
            n = min(len(buffer), len(self.head))
            buffer[:n] = self.head[:n]
            self.head = self.head[n:]
            return n
        data = self.stream.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def readline(self, size: int | None = -1) -> bytes:
        if self.head:
            cut = self.head.find(b"\n")
            if cut >= 0:
                line, self.head = self.head[: cut + 1], self.head[cut + 1 :]
                return line
            line, self.head = self.head, b""
            return line + self.stream.readline()
        return self.stream.readline()

    def __iter__(self) -> PeekableStream:
        return self

    def __next__(self) -> bytes:
        line = self.readline()
        if not line:
            raise StopIteration
        return line

    def close(self) -> None:  # standard input is not ours to close
        self.head = b""


def stdin() -> PeekableStream:
    """Standard input as a peekable byte stream."""
    return PeekableStream(sys.stdin.buffer)


def spool(stream: IO[bytes], suffix: str = "") -> Path:
    """Copy a stream to a temporary file (for formats that need seeking); the caller deletes
    it."""
    with tempfile.NamedTemporaryFile(prefix="stance-stdin-", suffix=suffix, delete=False) as copy:
        shutil.copyfileobj(stream, copy, 1 << 20)
    return Path(copy.name)


def sniff_format(head: bytes) -> str:
    """The format of a stream from its first bytes: Parquet, Excel, JSON Lines, else CSV.

    >>> sniff_format(b"PAR1..."), sniff_format(b'  {"text": 1}'), sniff_format(b"id;text")
    ('parquet', 'jsonl', 'csv')
    """
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if head.startswith(BOM):
        head = head[len(BOM) :]
    return "jsonl" if head.lstrip().startswith(b"{") else "csv"


def check_encoding(name: str, where: Path | str) -> str:
    """``name`` as a known codec name, or an :class:`InputFileError` saying so."""
    try:
        return codecs.lookup(name).name
    except LookupError:
        raise InputFileError(
            where, f"unknown encoding {name!r}; use e.g. utf-8, cp1252, latin-1 or utf-16"
        ) from None


def ascii_compatible(encoding: str) -> bool:
    """Whether lines can be split on the byte ``\\n`` in this encoding (not UTF-16/32)."""
    return "\n,;\t|".encode(encoding, "replace") == b"\n,;\t|"


def detect_encoding(handle: IO[bytes], seekable: bool) -> tuple[str, str | None]:
    """The encoding of a text input and, when it is not plain UTF-8, a sentence saying why
    it was chosen. A file is scanned to its end (standard input: its first 64 KiB); the
    handle is left where it was."""
    head = handle.peek(SAMPLE_BYTES) if not seekable else handle.read(SAMPLE_BYTES)  # type: ignore[attr-defined]
    if head.startswith(UTF16_BOMS):
        if seekable:
            handle.seek(0)
        return "utf-16", "read as UTF-16 (it starts with a UTF-16 byte order mark)"
    encoding = "utf-8"  # with or without a byte order mark (stripped when reading)
    line, block, bad, multibyte = 1, head, None, False
    decoder = codecs.getincrementaldecoder("utf-8")()
    while block:
        try:
            decoder.decode(block, final=False)
        except UnicodeDecodeError as exc:
            bad = (block[exc.start], line + block[: exc.start].count(b"\n"))
            multibyte = multibyte or any(b >= 0x80 for b in block[: exc.start])
            break
        multibyte = multibyte or not block.isascii()
        line += block.count(b"\n")
        block = handle.read(SCAN_BLOCK) if seekable else b""
    if seekable:
        handle.seek(0)
    if bad is None:
        return encoding, None
    if multibyte:  # UTF-8 letters before the bad byte: a damaged UTF-8 file, not a cp1252 one
        return encoding, (
            f"line {bad[1]} is not valid UTF-8 (byte {bad[0]:#04x}), though the file is "
            "UTF-8 before it; such rows are reported (or name the encoding with --encoding)"
        )
    return FALLBACK_ENCODING, (
        f"read as {FALLBACK_ENCODING}: it is not UTF-8 (byte {bad[0]:#04x} on line {bad[1]}); "
        f"{FALLBACK_ENCODING} is "
        "how Windows and Danish Excel save CSV. Name another encoding with --encoding"
    )


def transcode(handle: IO[bytes], encoding: str) -> Path:
    """Copy a text input in an encoding that is not ASCII-compatible (UTF-16) to a temporary
    UTF-8 file; the caller deletes it."""
    reader = codecs.getreader(encoding)(handle, "replace")
    with tempfile.NamedTemporaryFile(prefix="stance-utf8-", delete=False) as copy:
        first = True
        while True:
            chunk = reader.read(SCAN_BLOCK)
            if not chunk:
                break
            if first:  # the byte order mark
                chunk, first = chunk.removeprefix("\ufeff"), False
            copy.write(chunk.encode("utf-8", "surrogatepass"))
    return Path(copy.name)


def sniff_delimiter(header: str) -> str:
    """The delimiter of a CSV header line: whichever of ``,`` ``;`` tab ``|`` splits it into
    most fields outside quotes (``,`` when none does).

    >>> sniff_delimiter("id;text;kilde"), sniff_delimiter('"a,b";c'), sniff_delimiter("text")
    (';', ';', ',')
    """
    best, most = ",", 1
    for delimiter in DELIMITERS:
        try:
            fields = next(csv.reader([header], delimiter=delimiter))
        except (csv.Error, StopIteration):
            continue
        if len(fields) > most:
            best, most = delimiter, len(fields)
    return best
