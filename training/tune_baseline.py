"""Choose the baseline's hyperparameters by leave-one-document-out CV on train + dev.

Usage: python training/tune_baseline.py [--seed 0] [--rounds 2] [--without-authored]

Writes training/baseline_config.json (read by train_baseline.py) and reports/baseline-tuning.md.
The test split is never read.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from pathlib import Path

from stance.data.corpus import repo_root
from stance.data.trainset import load_examples
from stance.evaluation.report import markdown_table
from stance.training.tuning import coordinate_search


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--without-authored", action="store_true")
    parser.add_argument(
        "--output", type=Path, default=repo_root() / "training" / "baseline_config.json"
    )
    parser.add_argument(
        "--report", type=Path, default=repo_root() / "reports" / "baseline-tuning.md"
    )
    args = parser.parse_args(argv)

    corpus, authored, _ = load_examples(use_authored=not args.without_authored)
    train_dev = [e for e in corpus if e.split in ("train", "dev")]
    best, trials = coordinate_search(train_dev, authored, rounds=args.rounds, seed=args.seed)
    args.output.write_text(json.dumps(asdict(best), indent=2) + "\n", encoding="utf-8")

    names = list(asdict(best))
    rows = [
        [f"{t['cv_macro_f1']:.4f}", *(str(t[n]) for n in names)]
        for t in sorted(trials, key=lambda t: -t["cv_macro_f1"])
    ]
    command = "python training/tune_baseline.py" + (f" --seed {args.seed}" if args.seed else "")
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text(
        "# Baseline hyperparameter search\n\n"
        f"Made by `{command}`. Score: macro-F1 of pooled leave-one-document-out predictions over "
        f"the {len(train_dev)} corpus train + dev units, with {len(authored)} authored texts in "
        "training in every fold. The test split is not used. Coordinate-wise search from the "
        "defaults; best first.\n\n" + markdown_table(["CV macro-F1", *names], rows) + "\n",
        encoding="utf-8",
    )
    print(f"best: {asdict(best)}  -> {args.output}")


if __name__ == "__main__":
    main()
