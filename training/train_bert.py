"""Fine-tune a BERT-family encoder on the stance corpus (GPU with mixed precision, or CPU).

Usage: python training/train_bert.py [--base-model Maltehb/danish-bert-botxo] [--output models/bert]
       [--device auto] [--epochs 10] [--lr 1e-4] [--batch-size 32] [--max-length 128]
       [--seed 0] [--without-authored] [--authored-fraction F]
       [--real-train PATH [--real-weight W] [--authored-weight W]] [--keep-last-epoch]

Offline, pass a local directory, e.g. --base-model models/danish-mini-bert (made by
training/pretrain_mlm.py). Trains on the corpus train split plus the authored texts, keeps the
epoch with the best dev macro-F1 (or the last, with --keep-last-epoch, when tune_bert.py chose
the epoch count on a real dev set), fits a temperature on dev, and writes a Hugging Face model
directory with metadata.json, README.md and metrics.json.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from stance.training.bert import FineTuneConfig
from stance.training.recipes import train_and_save_bert
from stance.training.trainset import add_mix_arguments

REPO = Path(__file__).resolve().parents[1]

DEFAULT_BASE = "Maltehb/danish-bert-botxo"


def main(argv: list[str] | None = None) -> None:
    defaults = FineTuneConfig()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-model", default=DEFAULT_BASE, help="hub id or local directory")
    parser.add_argument("--output", type=Path, default=REPO / "models" / "bert")
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda")
    parser.add_argument("--epochs", type=int, default=defaults.epochs)
    parser.add_argument("--lr", type=float, default=defaults.lr)
    parser.add_argument("--batch-size", type=int, default=defaults.batch_size)
    parser.add_argument("--max-length", type=int, default=defaults.max_length)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--corpus", type=Path, default=None)
    parser.add_argument("--authored", type=Path, default=None)
    parser.add_argument("--without-authored", action="store_true")
    parser.add_argument("--authored-fraction", type=float, default=1.0)
    add_mix_arguments(parser)
    parser.add_argument("--no-progress", action="store_true")
    parser.add_argument(
        "--keep-last-epoch",
        action="store_true",
        help="keep the last epoch instead of the best on dev (when --epochs was chosen by "
        "tune_bert.py on a real dev set); dev still fits the temperature",
    )
    args = parser.parse_args(argv)

    config = FineTuneConfig(
        epochs=args.epochs,
        lr=args.lr,
        batch_size=args.batch_size,
        max_length=args.max_length,
        stride=min(defaults.stride, args.max_length // 4),
    )
    classifier = train_and_save_bert(
        args.output,
        args.base_model,
        config,
        seed=args.seed,
        device=args.device,
        corpus_path=args.corpus,
        authored_path=args.authored,
        use_authored=not args.without_authored,
        authored_fraction=args.authored_fraction,
        real_train=args.real_train,
        real_weight=args.real_weight,
        authored_weight=args.authored_weight,
        progress=not args.no_progress,
        keep_last_epoch=args.keep_last_epoch,
    )
    meta = classifier.metadata
    print(
        f"best epoch {meta['best_epoch']}; temperature {classifier.temperature:.3f}; "
        f"{meta['training_seconds']} s on {meta['device']}; wrote {args.output}"
    )


if __name__ == "__main__":
    main()
