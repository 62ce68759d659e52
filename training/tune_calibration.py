"""Choose how the baseline fits its temperature: on a real dev set, or by LODO CV on train + dev.

Usage: python training/tune_calibration.py [--real-dev PATH] [--seed 0] [--config FILE]

Compares no calibration with a temperature fitted on the out-of-fold logits of all training
texts or of the corpus units only, by expected calibration error (ECE): of the pooled LODO
predictions over the corpus train + dev units (always), and of the real dev set's predictions
from the model trained on every training text (with --real-dev; then that decides). Writes
reports/baseline-calibration.md; put the choice into BaselineConfig's defaults (``calibrate``,
``calibration_data``). The test split is never read.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from dataclasses import replace
from pathlib import Path

from stance.data.trainset import TrainingSet, load_examples
from stance.evaluation.report import markdown_table
from stance.training.baseline import BaselineConfig, read_baseline_config
from stance.training.tuning import calibration_comparison, real_dev_calibration

REPO = Path(__file__).resolve().parents[1]
DESCRIBED = {
    "none": "no calibration (T = 1)",
    "all": "T fitted on all training texts",
    "corpus": "T fitted on the corpus units only",
}


def _table(results: dict[str, dict[str, float]], what: str) -> str:
    rows = [
        [DESCRIBED[m], f"{r['ece']:.3f}", f"{r['nll']:.3f}", f"{r['mean_temperature']:.3f}"]
        for m, r in results.items()
    ]
    return markdown_table(["method", f"{what} ECE", f"{what} NLL", "mean T"], rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--real-dev", type=Path, default=None, help="real dev set (JSON Lines)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--config", type=Path, default=None, help="JSON hyperparameters")
    parser.add_argument("--report", type=Path, default=REPO / "reports" / "baseline-calibration.md")
    args = parser.parse_args(argv)

    config = BaselineConfig() if args.config is None else read_baseline_config(args.config)
    corpus, authored, _ = load_examples()
    train_dev = [e for e in corpus if e.split in ("train", "dev")]
    lodo = calibration_comparison(config, train_dev, authored, seed=args.seed)
    deciding, sections = (
        lodo,
        [
            f"Pooled leave-one-document-out predictions over the {len(train_dev)} corpus train + "
            f"dev units, with {len(authored)} authored texts in training in every fold; in each "
            "fold the temperature is fitted on grouped out-of-fold logits of that fold's "
            "training data.",
            _table(lodo, "LODO"),
        ],
    )
    if args.real_dev is not None:
        from stance.evaluation.realdev import read_real_dev

        real = read_real_dev(args.real_dev)
        deciding = real_dev_calibration(
            config, TrainingSet(train_dev + list(authored)), real, seed=args.seed
        )
        sections += [
            f"The real dev set ({len(real)} texts), predicted by the model trained on every "
            "training text; the temperature is fitted on grouped out-of-fold logits of the "
            "training texts. This table decides.",
            _table(deciding, "real dev"),
        ]
    best = min(deciding, key=lambda m: deciding[m]["ece"])
    chosen = (
        replace(config, calibrate=False)
        if best == "none"
        else replace(config, calibrate=True, calibration_data=best)
    )
    argv = sys.argv[1:] if argv is None else argv
    command = ("python training/tune_calibration.py " + shlex.join(argv)).strip()
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text(
        "# Baseline calibration\n\n"
        f"Made by `{command}`. The test split is not used. Lowest ECE wins: "
        f"**{DESCRIBED[best]}** (`calibrate={chosen.calibrate}`, "
        f"`calibration_data={chosen.calibration_data!r}`).\n\n" + "\n\n".join(sections) + "\n",
        encoding="utf-8",
    )
    print("\n\n".join(sections))
    print(f"chosen: {DESCRIBED[best]}")
    if (chosen.calibrate, chosen.calibration_data) != (config.calibrate, config.calibration_data):
        print("set calibrate / calibration_data in BaselineConfig's defaults, then retrain")


if __name__ == "__main__":
    main()
