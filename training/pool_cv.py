"""Page-grouped cross-validation over the real pool's training part: the declared variants.

Usage: python training/pool_cv.py --real-train PATH [--real-dev PATH] [--folds 5] [--seed 0]
       [--variants a,b,...] [--compare new:old,...] [--output reports/pool-cv.json]

Each variant (declared in docs/real-training.md before it was run) is trained in each fold on its
project texts plus the other folds' pool units and predicts the held-out fold's pool units; the
report holds the pooled out-of-fold macro-F1 overall and per kind, paired page bootstraps of the
declared comparisons, the two page-disjoint halves, and (with --real-dev) each variant trained on
the whole training part and scored on the dev set. Out-of-fold probabilities are cached per
variant under reports/pool-cv/ (ids and numbers only), keyed by the pool's fingerprint.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from stance.data.realpool import pool_fingerprint, pool_part, read_real_pool
from stance.evaluation.poolcv import (
    cross_validate,
    declared_variants,
    half_differences,
    kind_report,
    page_bootstrap,
    page_folds,
    predicted_labels,
)
from stance.training.trainset import build_training_set

REPO = Path(__file__).resolve().parents[1]


COMPARISONS: list[tuple[str, str]] = [
    ("b", "a"),
    ("c", "b"),
    ("d", "b"),
    ("g", "b"),
    ("e", "b"),
    ("f", "b"),
]
"""(new, old) pairs in the declared order of decisions."""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--real-train", type=Path, required=True)
    parser.add_argument("--real-dev", type=Path, default=None)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--variants", default="a,b,c,d,e,f,g")
    parser.add_argument(
        "--compare",
        default="",
        help="more new:old pairs to compare, e.g. f:e (when a decision makes another variant "
        "the one to compare against)",
    )
    parser.add_argument("--output", type=Path, default=REPO / "reports" / "pool-cv.json")
    parser.add_argument("--cache", type=Path, default=REPO / "reports" / "pool-cv")
    args = parser.parse_args(argv)

    everything = read_real_pool(args.real_train)
    fingerprint = pool_fingerprint(everything)
    units = pool_part(everything, "train")
    folds = page_folds(units, args.folds, args.seed)
    project = build_training_set(seed=args.seed)
    gold = [u.label for u in units]
    kinds = [u.kind for u in units]
    pages = [u.source_url for u in units]
    variants = declared_variants()
    chosen = [v.strip() for v in args.variants.split(",") if v.strip()]
    dev = None
    if args.real_dev is not None:
        from stance.evaluation.realdev import kind_scores, read_real_dev

        dev = read_real_dev(args.real_dev)
    args.cache.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {
        "pool_fingerprint": fingerprint,
        "n_units": len(units),
        "n_pages": len(set(pages)),
        "folds": args.folds,
        "seed": args.seed,
        "variants": {},
        "comparisons": [],
    }
    predictions: dict[str, list[str]] = {}
    for name in chosen:
        variant = variants[name]
        cache = args.cache / f"{name}.json"
        record: dict[str, Any] | None = None
        if cache.is_file():
            record = json.loads(cache.read_text("utf-8"))
            if record.get("pool_fingerprint") != fingerprint or record.get("seed") != args.seed:
                record = None
        if record is None:
            started = time.perf_counter()
            probs = cross_validate(variant, project, units, folds, seed=args.seed, log=print)
            record = {
                "pool_fingerprint": fingerprint,
                "seed": args.seed,
                "folds": args.folds,
                "ids": [u.id for u in units],
                "probabilities": np.round(probs, 5).tolist(),
                "seconds": round(time.perf_counter() - started, 1),
            }
            if dev is not None:
                model = variant.fit(variant.training_set(project, units), args.seed)
                dev_probs = model.predict_proba([e.text for e in dev])
                record["dev_ids"] = [e.id for e in dev]
                record["dev_probabilities"] = np.round(dev_probs, 5).tolist()
            cache.write_text(json.dumps(record), "utf-8")
        probs = np.array(record["probabilities"])
        predictions[name] = predicted_labels(probs)
        entry: dict[str, Any] = {
            "description": variant.description,
            "oof_macro_f1": kind_report(gold, predictions[name], kinds),
            "seconds": record["seconds"],
        }
        if dev is not None and "dev_probabilities" in record:
            dev_probs = np.array(record["dev_probabilities"])
            scores = kind_scores(dev, predicted_labels(dev_probs), dev_probs, seed=args.seed)
            entry["dev"] = {
                "all": scores["all"]["macro_f1"],
                "all_ci95": scores["all"].get("macro_f1_ci95"),
                **{k: s["macro_f1"] for k, s in scores["by_kind"].items()},
            }
        report["variants"][name] = entry
        print(name, variant.description, json.dumps(entry["oof_macro_f1"]), entry.get("dev"))
    extra = [tuple(pair.split(":")) for pair in args.compare.split(",") if pair.strip()]
    for new, old in COMPARISONS + extra:
        if new in predictions and old in predictions:
            boot = page_bootstrap(
                gold, predictions[new], predictions[old], pages, kinds, seed=args.seed
            )
            halves = half_differences(gold, predictions[new], predictions[old], pages, args.seed)
            report["comparisons"].append(
                {"new": new, "old": old, "bootstrap": boot, "halves": list(halves)}
            )
            ci = boot["all"]["ci95"]
            print(
                f"{new} - {old}: {boot['all']['difference']:+.3f} [{ci[0]:+.3f}, {ci[1]:+.3f}] "
                f"comment {boot['comment']['difference']:+.3f} "
                f"{boot['comment']['ci95']} halves {halves[0]:+.3f} / {halves[1]:+.3f}"
            )
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n", "utf-8")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
