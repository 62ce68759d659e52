"""Assign the fixed train/dev/test split of labelled/stance.jsonl (run once, after adjudication).

Usage: python training/assign_splits.py [--corpus labelled/stance.jsonl] [--seed 13]

test = every other reader comment after sorting by (source, label, seeded shuffle): about half
of the unique comments, stratified by source document and label. dev = every seventh of the
remaining units after sorting by (label, source, seeded shuffle): about 15 %. train = the rest.
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

from stance.data.corpus import default_corpus_path, read_corpus


def assign(rows: list[dict], seed: int) -> None:
    rng = random.Random(seed)
    keys = {row["id"]: rng.random() for row in rows}
    comments = sorted(
        (r for r in rows if r["kind"] == "comment"),
        key=lambda r: (r["source"], r["label"], keys[r["id"]]),
    )
    for i, row in enumerate(comments):
        row["split"] = "test" if i % 2 == 0 else "train"
    rest = sorted(
        (r for r in rows if r["split"] != "test" or r["kind"] != "comment"),
        key=lambda r: (r["label"], r["source"], keys[r["id"]]),
    )
    rest = [r for r in rest if not (r["kind"] == "comment" and r["split"] == "test")]
    for i, row in enumerate(rest):
        row["split"] = "dev" if i % 7 == 3 else "train"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=default_corpus_path())
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args(argv)
    rows = read_corpus(args.corpus)
    assign(rows, args.seed)
    with args.corpus.open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["split"]] = counts.get(row["split"], 0) + 1
    print(counts)


if __name__ == "__main__":
    main()
