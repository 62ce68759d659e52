"""Compare two cross-validated e5 variants (or one with the baseline) on the same folds.

Usage: python training/compare_e5_cv.py --real-train PATH --work W FIRST SECOND
       [--bootstrap 1000] [--seed 0] [--folds 5]

FIRST and SECOND name out-of-fold predictions that training/cv_e5.py kept in W: ``baseline``
(W/baseline-oof-<folds>-<seed>.npz), an e5 file (``W/e5-oof-....npz``), or ``fuse:FILE`` (that
e5 variant's probabilities averaged 50/50 with the baseline's, as ``cv_e5.py --fuse``). Prints
FIRST − SECOND in macro-F1 per kind and for the mean over kinds, with a paired bootstrap over
pages (95 % interval) and the differences on two page-disjoint halves, as JSON.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from stance.labels import LABELS


def _probabilities(name: str, work: Path, folds: int, seed: int) -> np.ndarray:
    base = np.load(work / f"baseline-oof-{folds}-{seed}.npz")["proba"]
    if name == "baseline":
        return base
    fused = name.startswith("fuse:")
    logits = np.load(Path(name.removeprefix("fuse:")))["logits"]
    z = np.exp(logits - logits.max(1, keepdims=True))
    probs = z / z.sum(1, keepdims=True)
    return 0.5 * probs + 0.5 * base if fused else probs


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--real-train", type=Path, required=True)
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("first")
    parser.add_argument("second")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--bootstrap", type=int, default=1000)
    args = parser.parse_args(argv)

    from stance.data.realpool import page_part
    from stance.evaluation.poolcv import page_bootstrap, page_halves
    from stance.training import e5 as e5train

    train = [i for i in e5train.read_pool(args.real_train) if page_part(i.group) == "train"]
    gold = [i.label for i in train]
    pages = [i.group for i in train]
    kinds = [i.kind for i in train]
    first, second = (
        [LABELS[k] for k in _probabilities(n, args.work, args.folds, args.seed).argmax(1)]
        for n in (args.first, args.second)
    )
    if len(first) != len(gold):
        raise SystemExit("the predictions were made from another pool file")
    boot = page_bootstrap(
        gold, first, second, pages, kinds, n_resamples=args.bootstrap, seed=args.seed
    )
    half = page_halves(pages, args.seed)
    report = {"first": args.first, "second": args.second}
    for scope, row in boot.items():
        report[scope] = {
            "difference": round(row["difference"], 4),
            "ci95": [round(v, 4) for v in row["ci95"]],
        }
    report["kind_mean"]["halves"] = [
        round(_kind_mean(gold, first, kinds, h) - _kind_mean(gold, second, kinds, h), 4)
        for h in (half, ~half)
    ]
    print(json.dumps(report))


def _kind_mean(gold: list[str], pred: list[str], kinds: list[str], keep: np.ndarray) -> float:
    from stance.evaluation.metrics import macro_f1

    scores = []
    for kind in ("comment", "article_paragraph"):
        idx = [i for i in np.flatnonzero(keep) if kinds[i] == kind]
        scores.append(macro_f1([gold[i] for i in idx], [pred[i] for i in idx]))
    return float(np.mean(scores))


if __name__ == "__main__":
    main()
