"""Learning curves on real text: out-of-fold macro-F1 on held-out pool pages against the number
of pool units trained on, with and without the authored texts.

Usage: python training/learning_curve.py --real-train PATH [--real-dev PATH] [--variant b]
       [--sizes 0,250,500,1000,all] [--folds 5] [--seed 0]
       [--output reports/learning-curve.json] [--plot docs/img/learning-curve.png]

For each size n and each fold of the page-grouped cross-validation over the pool's training part
(the same folds as training/pool_cv.py), the recipe of --variant is trained on the corpus units
(train + dev), the authored texts or not, and a seeded random n of the other folds' pool units,
and predicts the held-out fold's units. With --real-dev, the same recipe trained on n units of the
whole training part is scored on the dev set beside it. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from stance.data.realpool import PoolUnit, pool_fingerprint, pool_part, read_real_pool
from stance.evaluation.poolcv import (
    cross_validate,
    declared_variants,
    kind_report,
    page_folds,
    predicted_labels,
)
from stance.training.trainset import build_training_set

REPO = Path(__file__).resolve().parents[1]


def subsample(units: list[PoolUnit], n: int | None, seed: int) -> list[PoolUnit]:
    """A seeded random ``n`` of ``units`` (all of them for ``None``), in their order."""
    if n is None or n >= len(units):
        return list(units)
    keep = np.sort(np.random.default_rng(seed).choice(len(units), n, replace=False))
    return [units[i] for i in keep]


def plot(rows: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
    for ax, source in zip(axes, ("pool", "dev")):
        for authored, style in ((True, "-"), (False, "--")):
            chosen = [r for r in rows if r["authored"] == authored and source in r]
            xs = [r["n_pool_mean"] for r in chosen]
            for scope, colour in (("all", "C0"), ("comment", "C1"), ("article_paragraph", "C2")):
                ax.plot(
                    xs,
                    [r[source][scope] for r in chosen],
                    style,
                    marker="o",
                    color=colour,
                    label=f"{scope}, {'with' if authored else 'without'} authored",
                )
        ax.set_xlabel("pool units trained on")
        ax.set_title(
            "out-of-fold on held-out pool pages" if source == "pool" else "real dev set (244)"
        )
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("macro-F1")
    axes[1].legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--real-train", type=Path, required=True)
    parser.add_argument("--real-dev", type=Path, default=None)
    parser.add_argument("--variant", default="b", help="recipe from docs/real-training.md")
    parser.add_argument("--sizes", default="0,250,500,1000,all")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", type=Path, default=REPO / "reports" / "learning-curve.json")
    parser.add_argument("--plot", type=Path, default=REPO / "docs" / "img" / "learning-curve.png")
    args = parser.parse_args(argv)

    everything = read_real_pool(args.real_train)
    units = pool_part(everything, "train")
    folds = page_folds(units, args.folds, args.seed)
    project = build_training_set(seed=args.seed)
    base = declared_variants()[args.variant]
    gold = [u.label for u in units]
    kinds = [u.kind for u in units]
    dev = None
    if args.real_dev is not None:
        from stance.evaluation.realdev import kind_scores, read_real_dev

        dev = read_real_dev(args.real_dev)
    sizes = [None if s.strip() == "all" else int(s) for s in args.sizes.split(",")]
    rows: list[dict[str, Any]] = []
    for authored in (True, False):
        for n in sizes:
            variant = replace(base, use_authored=authored, use_pool=n != 0)
            used: list[int] = []

            def shrink(
                train_units: list[PoolUnit], k: int, n: int | None = n, used: list[int] = used
            ) -> list[PoolUnit]:
                chosen = subsample(train_units, n, args.seed + 1000 * (k + 1))
                used.append(len(chosen))
                return chosen

            probs = cross_validate(variant, project, units, folds, seed=args.seed, subsample=shrink)
            row: dict[str, Any] = {
                "authored": authored,
                "n_pool": "all" if n is None else n,
                "n_pool_mean": float(np.mean(used)) if used else 0.0,
                "pool": kind_report(gold, predicted_labels(probs), kinds),
            }
            if dev is not None:
                dev_units = subsample(units, n, args.seed) if n != 0 else []
                model = variant.fit(variant.training_set(project, dev_units), args.seed)
                dev_probs = model.predict_proba([e.text for e in dev])
                scores = kind_scores(dev, predicted_labels(dev_probs), None, seed=args.seed)
                row["dev"] = {
                    "all": scores["all"]["macro_f1"],
                    **{k: s["macro_f1"] for k, s in scores["by_kind"].items()},
                }
                row["n_pool_dev"] = len(dev_units)
            rows.append(row)
            print(json.dumps(row), flush=True)
    report = {
        "pool_fingerprint": pool_fingerprint(everything),
        "variant": args.variant,
        "folds": args.folds,
        "seed": args.seed,
        "rows": rows,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n", "utf-8")
    plot(rows, args.plot)
    print()
    print(
        "| authored texts | pool units (per fold) | pool OOF all | comments | paragraphs "
        "| dev all | dev comments | dev paragraphs |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        d = r.get("dev", {})
        print(
            f"| {'with' if r['authored'] else 'without'} | {r['n_pool']} ({r['n_pool_mean']:.0f}) "
            f"| {r['pool']['all']:.3f} | {r['pool']['comment']:.3f} "
            f"| {r['pool']['article_paragraph']:.3f} | {d.get('all', float('nan')):.3f} "
            f"| {d.get('comment', float('nan')):.3f} "
            f"| {d.get('article_paragraph', float('nan')):.3f} |"
        )
    print(f"wrote {args.output} and {args.plot}")


if __name__ == "__main__":
    main()
