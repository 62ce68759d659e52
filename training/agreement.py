"""Inter-annotator agreement of the corpus and of the authored-text sample.

Usage:
  python training/agreement.py                      # print both kappas
  python training/agreement.py sample-authored      # draw the 10 % authored sample (seed 2026)

Files in labelled/annotations/: corpus_pass1.jsonl and corpus_pass2.jsonl (two independent
passes over every corpus unit), adjudication.jsonl (the decided disagreements),
authored_sample_pass1.jsonl (the writers' labels of the sampled texts, frozen when sampled) and
authored_sample_pass2.jsonl (the second annotator's labels).
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

from stance.data.agreement import agreement
from stance.data.corpus import read_authored

REPO = Path(__file__).resolve().parents[1]

ANNOTATIONS = REPO / "labelled" / "annotations"


def sample_authored(seed: int, fraction: float, texts_out: Path) -> None:
    rows = read_authored(REPO / "labelled" / "authored.jsonl")
    sample = random.Random(seed).sample(rows, k=round(len(rows) * fraction))
    with (ANNOTATIONS / "authored_sample_pass1.jsonl").open("w", encoding="utf-8") as out:
        for row in sorted(sample, key=lambda r: r["id"]):
            out.write(json.dumps({"id": row["id"], "label": row["label"]}) + "\n")
    with texts_out.open("w", encoding="utf-8") as out:  # for the second annotator: no labels
        for row in sample:
            out.write(json.dumps({"id": row["id"], "text": row["text"]}, ensure_ascii=False) + "\n")
    print(f"sampled {len(sample)} texts; texts without labels in {texts_out}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "command", nargs="?", default="report", choices=["report", "sample-authored"]
    )
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--fraction", type=float, default=0.10)
    parser.add_argument("--texts-out", type=Path, default=Path("authored_sample_texts.jsonl"))
    args = parser.parse_args(argv)
    if args.command == "sample-authored":
        sample_authored(args.seed, args.fraction, args.texts_out)
        return
    for name, first, second in (
        ("corpus", "corpus_pass1.jsonl", "corpus_pass2.jsonl"),
        ("authored sample", "authored_sample_pass1.jsonl", "authored_sample_pass2.jsonl"),
    ):
        if not (ANNOTATIONS / second).is_file():
            print(f"{name}: second pass missing")
            continue
        result = agreement(ANNOTATIONS / first, ANNOTATIONS / second)
        print(
            f"{name}: n = {result['n']}, Cohen's kappa = {result['kappa']:.3f}, "
            f"raw agreement = {result['agreement']:.3f}, "
            f"disagreements = {len(result['disagreements'])}"
        )


if __name__ == "__main__":
    main()
