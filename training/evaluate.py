"""Evaluate a model on the held-out test split, by leave-one-document-out CV and, optionally, on
a real dev set and by leave-one-writer-out CV over the authored texts.

Usage: python training/evaluate.py [--model baseline] [--no-cv] [--seed 0] [--output reports]
       [--real-dev PATH] [--writers [--writer-folds K]] [--update-readme]

--real-dev PATH reads real texts with gold labels (JSON Lines with id, text, label, kind; see
stance/evaluation/realdev.py). They are only scored: never trained on, never copied.

Writes reports/<model>.md, <model>.json, <model>-confusion.png and <model>-reliability.png.
With --update-readme, rewrites the results table in README.md from every reports/*.json.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

from stance.data.datacard import update_pages
from stance.evaluation.harness import evaluate_model
from stance.evaluation.report import (
    RESULTS_HEADER,
    YARDSTICK_HEADER,
    calibration_summary,
    markdown_table,
    results_rows,
    write_report,
    yardstick_rows,
)

REPO = Path(__file__).resolve().parents[1]

MODEL_ORDER = ("baseline", "bert")


def update_readme(report_dir: Path, repo: Path) -> None:
    """Rewrite the results and calibration blocks of the README and the docs pages from every
    reports/*.json."""
    reports = [
        json.loads((report_dir / f"{name}.json").read_text(encoding="utf-8"))
        for name in MODEL_ORDER
        if (report_dir / f"{name}.json").is_file()
    ]
    if not reports:
        return
    commands = " and ".join(f"`{c}`" for c in sorted({r["command"] for r in reports}))
    results = "\n".join(
        [
            markdown_table(RESULTS_HEADER, results_rows(reports)),
            "",
            f"Made by {commands} (bootstrap over texts, 1,000 resamples, seed 0).",
        ]
    )
    yardsticks = "\n".join(
        [
            markdown_table(YARDSTICK_HEADER, yardstick_rows(reports)),
            "",
            f"Macro-F1, from the reports made by {commands}.",
        ]
    )
    sections = {
        "results": results,
        "yardsticks": yardsticks,
        "calibration": calibration_summary(reports) + f"\n\nFrom the reports made by {commands}.",
    }
    for page in update_pages(repo, sections):
        print(f"updated {page.relative_to(repo)}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="baseline", help="'baseline', 'bert' or a directory")
    parser.add_argument("--no-cv", action="store_true", help="skip leave-one-document-out CV")
    parser.add_argument("--seed", type=int, default=0, help="bootstrap seed")
    parser.add_argument("--output", type=Path, default=REPO / "reports")
    parser.add_argument("--real-dev", type=Path, default=None, help="real dev set (JSON Lines)")
    parser.add_argument(
        "--writers", action="store_true", help="also leave-one-writer-out CV (authored texts)"
    )
    parser.add_argument(
        "--writer-folds", type=int, default=None, help="group the writers into K folds"
    )
    parser.add_argument("--update-readme", action="store_true")
    parser.add_argument(
        "--update-model-card",
        action="store_true",
        help="write the scores into the model directory's README.md (and BERT's metrics.json)",
    )
    args = parser.parse_args(argv)

    report = evaluate_model(
        args.model,
        cv=not args.no_cv,
        seed=args.seed,
        progress=True,
        real_dev=args.real_dev,
        writers=args.writers,
        writer_folds=args.writer_folds,
    )
    command = "python training/evaluate.py " + shlex.join(
        a
        for a in (argv if argv is not None else sys.argv[1:])
        if a not in ("--update-readme", "--update-model-card")
    )
    report["command"] = command.strip()
    for path in write_report(report, args.output, report["command"]):
        print(f"wrote {path}")
    if args.update_model_card:
        from stance.api import load_classifier
        from stance.evaluation.modelcard import write_baseline_card, write_bert_card

        classifier = load_classifier(args.model)
        write = write_bert_card if report["backend"] == "bert" else write_baseline_card
        write(classifier.path, classifier.metadata, report)
        print(f"updated the model card in {classifier.path}")
    if args.update_readme:
        update_readme(args.output, REPO)


if __name__ == "__main__":
    main()
