"""Regenerate the count and agreement tables of labelled/README.md from the data.

Usage: python training/dataset_card.py [--check]

With --check, exit 1 if the card is out of date instead of rewriting it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from stance.data.corpus import read_authored, read_corpus
from stance.data.datacard import card_sections, fill_markers

REPO = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    labelled = REPO / "labelled"
    card = labelled / "README.md"
    authored_file = labelled / "authored.jsonl"
    sections = card_sections(
        read_corpus(labelled / "stance.jsonl"),
        read_authored(authored_file) if authored_file.is_file() else [],
        labelled / "annotations",
    )
    old = card.read_text(encoding="utf-8")
    new = fill_markers(old, sections)
    if args.check:
        if new != old:
            print(f"{card} is out of date: run python training/dataset_card.py", file=sys.stderr)
            return 1
        return 0
    card.write_text(new, encoding="utf-8")
    print(f"updated {card}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
