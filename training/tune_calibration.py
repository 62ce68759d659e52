"""Choose how the baseline fits its temperature, by leave-one-document-out CV on train + dev.

Usage: python training/tune_calibration.py [--seed 0]

Compares no calibration with a temperature fitted on the out-of-fold logits of all training
texts or of the corpus units only, by the expected calibration error (ECE) of the pooled
LODO predictions over the corpus train + dev units. Writes the best method into
training/baseline_config.json (``calibration_data``; ``calibrate`` false if none helps) and
the table to reports/baseline-calibration.md. The test split is never read.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict, replace
from pathlib import Path

from stance.data.corpus import repo_root
from stance.data.trainset import load_examples
from stance.evaluation.report import markdown_table
from stance.training.baseline import BaselineConfig
from stance.training.tuning import calibration_comparison


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--config", type=Path, default=repo_root() / "training" / "baseline_config.json"
    )
    parser.add_argument(
        "--report", type=Path, default=repo_root() / "reports" / "baseline-calibration.md"
    )
    args = parser.parse_args(argv)

    config = BaselineConfig.from_dict(json.loads(args.config.read_text(encoding="utf-8")))
    corpus, authored, _ = load_examples()
    train_dev = [e for e in corpus if e.split in ("train", "dev")]
    results = calibration_comparison(config, train_dev, authored, seed=args.seed)
    best = min(results, key=lambda m: results[m]["ece"])
    if best == "none":
        chosen = replace(config, calibrate=False)
    else:
        chosen = replace(config, calibrate=True, calibration_data=best)
    args.config.write_text(json.dumps(asdict(chosen), indent=2) + "\n", encoding="utf-8")

    described = {
        "none": "no calibration (T = 1)",
        "all": "T fitted on all training texts",
        "corpus": "T fitted on the corpus units only",
    }
    rows = [
        [described[m], f"{r['ece']:.3f}", f"{r['nll']:.3f}", f"{r['mean_temperature']:.3f}"]
        for m, r in results.items()
    ]
    command = "python training/tune_calibration.py" + (f" --seed {args.seed}" if args.seed else "")
    table = markdown_table(["method", "LODO ECE", "LODO NLL", "mean T"], rows)
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text(
        "# Baseline calibration\n\n"
        f"Made by `{command}`. Pooled leave-one-document-out predictions over the "
        f"{len(train_dev)} corpus train + dev units, with {len(authored)} authored texts in "
        "training in every fold; in each fold the temperature is fitted on grouped out-of-fold "
        "logits of that fold's training data. The test split is not used. Lowest ECE wins: "
        f"**{described[best]}**.\n\n{table}\n",
        encoding="utf-8",
    )
    print(table)
    print(f"chosen: {described[best]} -> {args.config}")


if __name__ == "__main__":
    main()
