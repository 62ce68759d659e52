"""Does a batch of new authored texts help on real text? With and without each batch.

Usage: python training/authored_batches.py --real-dev PATH [--batches w15 w16 ...]
       [--domain-weight W] [--lexicon-weight W] [--with-lodo] [--seed 0]

For each batch in labelled/batches/ (with its blind second pass in labelled/annotations/), the
texts whose two labels agree and that share no six-word run with the corpus or the authored
texts are added to the training data (the authored texts without any batch being measured, so
batches already merged are measured the same way) of the shipped recipe (BaselineConfig's
defaults, with the given block weights) and of the same recipe without knowledge features; each
variant is
scored on the real dev set and paired against the same recipe without new batches. Writes
reports/authored-batches.md with the agreement (Cohen's kappa) of every batch.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from dataclasses import replace
from pathlib import Path

from stance.data.batches import read_batch
from stance.data.datacard import update_pages
from stance.data.originality import shared_runs
from stance.data.trainset import load_examples
from stance.evaluation.realdev import read_real_dev
from stance.evaluation.report import markdown_table
from stance.training.baseline import BaselineConfig, fit_pipeline
from stance.training.experiments import (
    Recipe,
    add_experiment_arguments,
    compare,
    comparison_table,
    config_from_arguments,
)

REPO = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--real-dev", type=Path, required=True, help="real dev set (JSON Lines)")
    parser.add_argument("--batches", nargs="+", default=None, help="writer ids (default: all)")
    add_experiment_arguments(parser)
    parser.add_argument("--report", type=Path, default=REPO / "reports" / "authored-batches.md")
    args = parser.parse_args(argv)

    config = config_from_arguments(args)
    plain = replace(config, lexicon_weight=0.0, domain_weight=0.0)
    corpus, authored, _ = load_examples(args.corpus, args.authored)
    real = read_real_dev(args.real_dev)
    writers = args.batches or sorted(
        p.stem for p in (REPO / "labelled" / "batches").glob("w*.jsonl")
    )
    # batches already merged into authored.jsonl are measured as if they were not
    authored = [e for e in authored if e.group not in writers]
    reference = [e.text for e in corpus] + [e.text for e in authored]
    batches, counts = {}, []
    for writer in writers:
        batch = read_batch(
            REPO / "labelled" / "batches" / f"{writer}.jsonl",
            REPO / "labelled" / "annotations" / f"{writer}_blind.jsonl",
        )
        agreed = batch.examples()
        clashes = {i for i, _, _ in shared_runs([e.text for e in agreed], reference)}
        kept = [e for i, e in enumerate(agreed) if i not in clashes]
        batches[writer] = kept
        counts.append(
            [
                writer,
                str(len(batch.rows)),
                f"{batch.kappa:.3f}",
                f"{batch.agreement:.1%}",
                str(len(agreed)),
                str(len(agreed) - len(kept)),
                str(len(kept)),
            ]
        )
    everything = [e for kept in batches.values() for e in kept]

    def fit_with(cfg: BaselineConfig):
        return lambda x, y: fit_pipeline(x, y, replace(cfg, calibrate=False), args.seed)

    sections = []
    results = {}
    for name, cfg in (("with knowledge features", config), ("n-grams only", plain)):
        recipes = [Recipe("no new batch", fit_with(cfg), authored)]
        recipes += [
            Recipe(f"+ {w} ({len(k)})", fit_with(cfg), [*authored, *k]) for w, k in batches.items()
        ]
        if len(batches) > 1:
            recipes.append(
                Recipe(f"+ all ({len(everything)})", fit_with(cfg), [*authored, *everything])
            )
        rows = compare(recipes, corpus, real, with_lodo=args.with_lodo, seed=args.seed)
        results[name] = rows
        header, table = comparison_table(rows, "no new batch")
        sections += [f"## {name.capitalize()} (`{cfg}`)", markdown_table(header, table)]
    argv = sys.argv[1:] if argv is None else argv
    command = "python training/authored_batches.py " + shlex.join(
        a for a in argv if a != "--update-readme"
    )
    agreement = markdown_table(
        ["batch", "texts", "Cohen's κ", "agreement", "agreed", "dropped (six-word run)", "used"],
        counts,
    )
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text(
        "# New authored batches, with and without\n\n"
        f"Made by `{command}`. Each batch was written by a new writer from a brief in "
        "labelled/briefs/ and labelled blind by a second annotator who saw only the guidelines "
        "and the texts; texts whose labels disagree are dropped. Every variant is trained on the "
        f"corpus train + dev units, the {len(authored)} authored texts and the batches named, "
        f"and scored on the real dev set ({len(real)} texts); Δ is the paired bootstrap "
        "difference of the mean of kinds against the same recipe without new batches (1,000 "
        f"resamples within each kind, seed {args.seed}). The test split is not used.\n\n"
        + agreement
        + "\n\n"
        + "\n\n".join(sections)
        + "\n",
        encoding="utf-8",
    )
    args.report.with_suffix(".json").write_text(
        json.dumps({"command": command, "results": results}, indent=1) + "\n", encoding="utf-8"
    )
    print(f"wrote {args.report}")
    if args.update_readme:
        header, table = comparison_table(results["with knowledge features"], "no new batch")
        block = (
            agreement
            + "\n\n"
            + markdown_table(header, table)
            + f"\n\nMade by `{command}` (seed {args.seed}); the same without knowledge features "
            "in `reports/authored-batches.md`."
        )
        for page in update_pages(REPO, {"batches": block}):
            print(f"updated {page.relative_to(REPO)}")


if __name__ == "__main__":
    main()
