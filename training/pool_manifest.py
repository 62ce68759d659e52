"""Write the manifest of a real training pool (ids, pages, labels, parts, text hashes; no texts).

Usage: python training/pool_manifest.py --real-train PATH [--output labelled/realtrain-manifest.csv]

Prints the pool's fingerprint and the size of its training and calibration parts (split by
page, see stance.data.realpool).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from stance.data.realpool import describe_pool, read_real_pool, write_manifest

REPO = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--real-train", type=Path, required=True, help="the pool's JSON Lines file")
    parser.add_argument("--output", type=Path, default=REPO / "labelled" / "realtrain-manifest.csv")
    args = parser.parse_args(argv)
    units = read_real_pool(args.real_train)
    write_manifest(units, args.output)
    summary = {part: describe_pool(units, part) for part in ("all", "train", "calibration")}
    print(json.dumps(summary, indent=2))
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
