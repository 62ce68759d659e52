"""Merge a batch of authored texts into labelled/authored.jsonl.

Usage: python training/merge_authored.py BATCH.jsonl --writer w15 [--blind FILE] [--authored FILE]

The batch holds one JSON object a line with text, label, register, speaker, topic, rationale
(see labelled/briefs/README.md). Texts that share a six-word run with the corpus, with the
authored texts already merged, or with an earlier text of the batch are dropped and listed.
With --blind FILE (the blind second pass, ids wNN-001 … in line order), texts whose two labels
disagree are dropped too. New texts get the next ids (a-00001 …), the writer id and origin
"authored".
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from stance.data.batches import BATCH_SCHEMA, read_batch
from stance.data.corpus import read_authored, read_corpus, read_jsonl
from stance.data.originality import shared_runs

REPO = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("batch", type=Path)
    parser.add_argument("--writer", required=True, help="batch id, e.g. w15")
    parser.add_argument("--blind", type=Path, default=None, help="blind second labels")
    parser.add_argument("--authored", type=Path, default=REPO / "labelled" / "authored.jsonl")
    args = parser.parse_args(argv)

    batch = read_jsonl(args.batch, BATCH_SCHEMA)
    disagreed: set[int] = set()
    if args.blind is not None:
        second = read_batch(args.batch, args.blind, args.writer)
        disagreed = {i for i, b in enumerate(second.ids) if second.blind[b] != batch[i]["label"]}
    existing = read_authored(args.authored) if args.authored.is_file() else []
    if any(row["writer"] == args.writer for row in existing):
        print(f"writer {args.writer} is already merged into {args.authored}", file=sys.stderr)
        return 1
    reference = [row["text"] for row in read_corpus()] + [row["text"] for row in existing]
    clashes = {
        i: (other, run) for i, other, run in shared_runs([r["text"] for r in batch], reference)
    }
    next_id = 1 + max((int(row["id"][2:]) for row in existing), default=0)
    added = 0
    with args.authored.open("a", encoding="utf-8") as out:
        for i, row in enumerate(batch):
            if i in disagreed:
                print(f"dropped batch line {i + 1}: the blind label differs", file=sys.stderr)
                continue
            if i in clashes:
                other, run = clashes[i]
                print(f"dropped batch line {i + 1}: shares {run!r} with {other}", file=sys.stderr)
                continue
            record = {
                "id": f"a-{next_id:05d}",
                **{k: row[k] for k in ("text", "label", "register", "speaker", "topic")},
                "writer": args.writer,
                "rationale": row["rationale"],
                "origin": "authored",
            }
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            next_id += 1
            added += 1
    read_authored(args.authored)  # validate the merged file
    print(f"merged {added} of {len(batch)} texts from {args.batch} as {args.writer}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
