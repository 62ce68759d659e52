"""Extract running Danish text from Debian's Danish documentation packages.

Usage: python training/extract_debian_text.py [--output data/debian_da.txt]

Needs the packages (Debian/Ubuntu):
  apt-get install libreoffice-help-da gimp-help-da manpages-da debian-edu-doc-da

Reads their HTML and man pages, keeps paragraphs of at least six words that are mostly letters,
drops exact duplicates, and writes one paragraph a line. This text (plus the corpus train/dev
units and the authored texts) is what training/pretrain_mlm.py pretrains on.
"""

from __future__ import annotations

import argparse
import gzip
import re
import sys
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

SOURCES = {
    "libreoffice-help-da": ("/usr/share/libreoffice/help/da", "*.html"),
    "gimp-help-da": ("/usr/share/gimp/2.0/help/da", "*.html"),
    "debian-edu-doc-da": ("/usr/share/doc/debian-edu-doc-da", "*.html"),
    "manpages-da": ("/usr/share/man/da", "*.gz"),
}
BLOCKS = {
    "p",
    "li",
    "td",
    "th",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "dd",
    "dt",
    "pre",
    "div",
    "br",
    "title",
}


class _Paragraphs(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.paragraphs: list[str] = []
        self._buffer: list[str] = []
        self._skip = 0

    def _flush(self) -> None:
        text = " ".join("".join(self._buffer).split())
        if text:
            self.paragraphs.append(text)
        self._buffer = []

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        if tag in BLOCKS:
            self._flush()

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip = max(0, self._skip - 1)
        if tag in BLOCKS:
            self._flush()

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self._buffer.append(data)


def html_paragraphs(path: Path) -> list[str]:
    parser = _Paragraphs()
    parser.feed(path.read_text(encoding="utf-8", errors="replace"))
    parser.close()
    parser._flush()
    return parser.paragraphs


def man_paragraphs(path: Path) -> list[str]:
    raw = gzip.decompress(path.read_bytes()).decode("utf-8", errors="replace")
    paragraphs, current = [], []
    for line in raw.splitlines():
        if line.startswith((".", "'")):
            if re.match(r"^\.(PP|LP|P|SH|SS|TP|IP|HP|sp|br)\b", line) and current:
                paragraphs.append(" ".join(current))
                current = []
            text = re.sub(r"^\.(B|I|BI|BR|IR|RB|RI|IB)\s+", "", line)
            if text == line:
                continue
            line = text
        line = re.sub(r"\\f[BIRPC]|\\\(..|\\[-&e]|\\s[-+]?\d|\\\*.", "", line).replace('"', "")
        if line.strip():
            current.append(line.strip())
    if current:
        paragraphs.append(" ".join(current))
    return paragraphs


def is_running_text(paragraph: str) -> bool:
    words = paragraph.split()
    if len(words) < 6:
        return False
    letters = sum(ch.isalpha() for ch in paragraph)
    return letters / max(1, len(paragraph)) > 0.7


def extract() -> Iterator[tuple[str, str]]:
    for package, (root, pattern) in SOURCES.items():
        base = Path(root)
        if not base.is_dir():
            print(f"missing {package} ({root}); install it with apt-get", file=sys.stderr)
            continue
        for path in sorted(base.rglob(pattern)):
            reader = man_paragraphs if pattern == "*.gz" else html_paragraphs
            for paragraph in reader(path):
                yield package, paragraph


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=Path("data/debian_da.txt"))
    args = parser.parse_args(argv)
    seen: set[str] = set()
    words: dict[str, int] = {}
    args.output.parent.mkdir(parents=True, exist_ok=True)
    with args.output.open("w", encoding="utf-8") as out:
        for package, paragraph in extract():
            if paragraph in seen or not is_running_text(paragraph):
                continue
            seen.add(paragraph)
            out.write(paragraph + "\n")
            words[package] = words.get(package, 0) + len(paragraph.split())
    for package, count in words.items():
        print(f"{package}: {count:,} words")
    print(f"total: {sum(words.values()):,} words in {len(seen):,} paragraphs -> {args.output}")


if __name__ == "__main__":
    main()
