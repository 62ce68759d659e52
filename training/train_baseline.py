"""Train the baseline (with scikit-learn) and write a model directory.

Usage: python training/train_baseline.py [--output models/baseline] [--seed 0]
       [--config FILE] [--without-authored] [--authored-fraction F]
       [--real-train PATH [--real-weight W] [--authored-weight W]]

Trains on the corpus train + dev units plus the authored texts with the shipped recipe: the
defaults of stance.training.baseline.BaselineConfig (chosen on a real dev set, see
tune_baseline.py and reports/baseline-tuning.md). --config FILE overrides hyperparameters from a
JSON object; a missing or unreadable file is an error. Fits a temperature on grouped out-of-fold
predictions when the config asks for it (see tune_calibration.py), and writes
model.safetensors + metadata.json (model format 2: the fitted pipeline's arrays, which run on
numpy alone).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from stance.training.baseline import BaselineConfig, read_baseline_config
from stance.training.recipes import train_and_save_baseline
from stance.training.trainset import add_mix_arguments

REPO = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=REPO / "models" / "baseline")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--config", type=Path, default=None, help="JSON hyperparameters (default: shipped recipe)"
    )
    parser.add_argument("--corpus", type=Path, default=None, help="stance.jsonl to train on")
    parser.add_argument("--authored", type=Path, default=None, help="authored.jsonl to train on")
    parser.add_argument("--without-authored", action="store_true", help="ignore authored texts")
    parser.add_argument("--authored-fraction", type=float, default=1.0)
    add_mix_arguments(parser)
    args = parser.parse_args(argv)

    config = BaselineConfig() if args.config is None else read_baseline_config(args.config)
    classifier = train_and_save_baseline(
        args.output,
        config,
        seed=args.seed,
        corpus_path=args.corpus,
        authored_path=args.authored,
        use_authored=not args.without_authored,
        authored_fraction=args.authored_fraction,
        real_train=args.real_train,
        real_weight=args.real_weight,
        authored_weight=args.authored_weight,
    )
    data = classifier.metadata["training_data"]
    pool = data.get("real_train")
    print(
        f"trained on {data['n_corpus']} corpus units + {data['n_authored']} authored texts"
        + (f" + {pool['n_units']} real pool units (weight {pool['weight']:g})" if pool else "")
        + " in "
        f"{classifier.metadata['training_seconds']} s; temperature {classifier.temperature:.3f}; "
        f"wrote {args.output}"
    )


if __name__ == "__main__":
    main()
