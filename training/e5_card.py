"""Rewrite an e5 model directory's card (README.md) from its metadata.json.

Usage: python training/e5_card.py --model models/e5 [--speed benchmarks/e5_results.json]
       [--behaviour reports/behaviour.json]

The card's numbers come from the metadata training/export_e5.py wrote and from the benchmark
results file (python benchmarks/e5.py), so rerunning the benchmark and then this script keeps
the card current without re-exporting.
"""

from __future__ import annotations

import argparse
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--speed", type=Path, default=REPO / "benchmarks" / "e5_results.json")
    parser.add_argument("--behaviour", type=Path, default=REPO / "reports" / "behaviour.json")
    args = parser.parse_args(argv)

    from stance.evaluation.e5card import write_e5_card
    from stance.modeldir import read_metadata

    write_e5_card(args.model, read_metadata(args.model), args.speed, args.behaviour)
    print(f"wrote {args.model / 'README.md'}")


if __name__ == "__main__":
    main()
