"""Measure a model's real-text confusion on the real pool's held-out calibration part and store
it in the model's metadata.json (numbers only; no text), without retraining.

Usage: python training/real_confusion.py --real-train PATH [--model models/baseline]

The calibration part (pages never trained on or chosen on; see stance.data.realpool) is scored
with the model as shipped (its own temperature), and ``real_text_confusion`` is rewritten:
counts, mean probabilities and mean squared probabilities per true label, overall and per kind.
``stance shares`` corrects with these numbers. ``train_baseline.py --real-train`` writes the
same block when it trains; this script refreshes it for a model already trained.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from stance.data.realpool import pool_fingerprint, pool_part, read_real_pool
from stance.loading import load_classifier
from stance.training.poolcalibration import real_text_confusion

REPO = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--real-train", type=Path, required=True, help="the real pool (JSONL)")
    parser.add_argument("--model", type=Path, default=REPO / "models" / "baseline")
    args = parser.parse_args(argv)

    units = read_real_pool(args.real_train)
    held_out = pool_part(units, "calibration")
    classifier = load_classifier(args.model)
    probs = classifier.predict_proba([u.text for u in held_out])
    block = real_text_confusion(held_out, probs, pool_fingerprint(units))
    path = args.model / "metadata.json"
    metadata = json.loads(path.read_text(encoding="utf-8"))
    metadata["real_text_confusion"] = block
    path.write_text(json.dumps(metadata, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"real_text_confusion on {block['n']} held-out texts: {block['counts']}; wrote {path}")


if __name__ == "__main__":
    main()
