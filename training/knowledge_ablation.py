"""Measure each piece of knowledge the baseline gets beyond its n-grams, on a real dev set.

Usage: python training/knowledge_ablation.py --real-dev PATH [--domain-weight W]
       [--lexicon-weight W] [--with-lodo] [--seed 0]

Variants of the shipped recipe (BaselineConfig's defaults, with the given block weights): all
knowledge features, none (n-grams only), each block alone, and the domain block without each of
its pieces (stance cues, negation handling, contrast / concession / intensity, target cues,
text shape, AFINN with negation). Each is trained on every training text (corpus train + dev
units and the authored texts) and scored on the real dev set, paired against the full variant;
--with-lodo adds leave-one-document-out macro-F1. Writes reports/knowledge-features.md.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

from stance.data.datacard import update_pages
from stance.data.trainset import load_examples
from stance.evaluation.realdev import read_real_dev
from stance.evaluation.report import markdown_table
from stance.training.experiments import (
    Recipe,
    add_experiment_arguments,
    compare,
    comparison_table,
    config_from_arguments,
)
from stance.training.knowledge import knowledge_variants

REPO = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--real-dev", type=Path, required=True, help="real dev set (JSON Lines)")
    parser.add_argument(
        "--variants", type=int, default=None, help="run only the first N variants (smoke tests)"
    )
    add_experiment_arguments(parser)
    parser.add_argument("--report", type=Path, default=REPO / "reports" / "knowledge-features.md")
    args = parser.parse_args(argv)

    full = config_from_arguments(args)
    if full.domain_weight <= 0:
        parser.error("the full variant needs the domain block: pass --domain-weight W > 0")
    corpus, authored, _ = load_examples(args.corpus, args.authored)
    real = read_real_dev(args.real_dev)
    recipes = [
        Recipe(v.name, lambda x, y, v=v: v.fit(x, y, args.seed), authored)
        for v in knowledge_variants(full)[: args.variants]
    ]
    rows = compare(recipes, corpus, real, with_lodo=args.with_lodo, seed=args.seed)
    header, table = comparison_table(rows, "all knowledge features")
    argv = sys.argv[1:] if argv is None else argv
    command = "python training/knowledge_ablation.py " + shlex.join(
        a for a in argv if a != "--update-readme"
    )
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text(
        "# Knowledge features, piece by piece\n\n"
        f"Made by `{command}`. Full variant: `{full}`. Every variant is trained on the corpus "
        f"train + dev units and {len(authored)} authored texts and scored on the real dev set "
        f"({len(real)} texts; macro-F1 overall, per kind, and the mean of the kinds, which "
        "decides). Δ: the paired bootstrap difference of the mean of kinds against the full "
        f"variant (1,000 resamples within each kind, seed {args.seed}); P(better): the share of "
        "resamples in which the variant beats the full one. The test split is not used.\n\n"
        + markdown_table(header, table)
        + "\n",
        encoding="utf-8",
    )
    args.report.with_suffix(".json").write_text(
        json.dumps({"command": command, "rows": rows}, indent=1) + "\n", encoding="utf-8"
    )
    print(f"wrote {args.report}")
    if args.update_readme:
        block = (
            markdown_table(header, table)
            + f"\n\nMade by `{command}` (seed {args.seed}); details in "
            "`reports/knowledge-features.md`."
        )
        for page in update_pages(REPO, {"knowledge": block}):
            print(f"updated {page.relative_to(REPO)}")


if __name__ == "__main__":
    main()
