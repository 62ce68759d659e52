"""Validate the corrected shares (``stance shares``) on real labelled text the model never saw.

The real pool (``--real-train PATH``, see its README) is split by page into three disjoint
parts, deterministically from ``--seed``:

1. **train** (half the pages): the baseline recipe (``BaselineConfig()`` defaults, the shipped
   hyperparameters) is trained on the project's labelled texts plus these units;
2. **confusion** (a quarter): the trained model's confusion and mean probabilities are measured
   here, as the shipped model's ``real_text_confusion`` is;
3. **test** (a quarter): the artificial-prevalence protocol draws ``--samples`` samples, each
   with label shares drawn uniformly from the simplex and a size drawn uniformly from
   ``--min-size``..``--max-size`` (units drawn with replacement within each label), and every
   method estimates the shares of each sample, with its bootstrap interval.

Reported per method: the mean absolute error of the shares (over samples and labels), its
standard error, the share of (sample, label) pairs whose true share lies in the 95 % interval,
and the mean interval width. Three correction sources are tested: the stored-numbers path (what
``real_text_confusion`` gives, the default for users without a labelled sample) with the mean
squared probabilities stored, the same with counts and mean probabilities only, and a labelled
sample (``--gold-size`` units drawn at random from each test sample's own population).
ACC, PACC and EM are cross-checked against QuaPy's implementations on the same inputs (needs
``pip install quapy``; skipped with ``--no-quapy``).

No text is written anywhere: the output holds ids' counts, numbers and hashes only.

    OMP_NUM_THREADS=1 python benchmarks/shares_validation.py --real-train PATH \\
        --output benchmarks/shares_validation.json
"""

from __future__ import annotations

import os

for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import argparse  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from collections.abc import Sequence  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from stance import quantification as qf  # noqa: E402
from stance.labels import LABEL2ID, LABELS  # noqa: E402

SPLITS = ("train", "confusion", "test")


def read_pool(path: Path) -> list[dict]:
    rows = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                row = json.loads(line)
                rows.append(
                    {
                        "id": row["id"],
                        "text": row["text"],
                        "label": row["label"],
                        "kind": row.get("kind"),
                        "page": row["source_url"],
                    }
                )
    return rows


def split_pages(rows: list[dict], seed: int) -> dict[str, str]:
    """Page -> split: pages ordered by a seeded hash, half train, a quarter each other."""
    pages = sorted({r["page"] for r in rows})
    pages.sort(key=lambda p: hashlib.sha256(f"{seed}:{p}".encode()).hexdigest())
    n = len(pages)
    cut1, cut2 = n // 2, n // 2 + n // 4
    return {
        p: ("train" if i < cut1 else "confusion" if i < cut2 else "test")
        for i, p in enumerate(pages)
    }


def train_model(pool_train: list[dict], seed: int) -> object:
    from stance.text import prepare_text
    from stance.training.baseline import BaselineConfig, train_baseline
    from stance.training.recipes import training_data

    project = training_data(seed=seed)
    texts = project.texts + [prepare_text(r["text"]) for r in pool_train]
    labels = project.labels + [r["label"] for r in pool_train]
    return train_baseline(texts, labels, BaselineConfig(), seed=seed)


def app_samples(
    labels: np.ndarray, n_samples: int, min_size: int, max_size: int, rng: np.random.Generator
) -> list[np.ndarray]:
    """Index arrays of the artificial-prevalence protocol: shares uniform on the simplex."""
    k = len(LABELS)
    by_label = [np.flatnonzero(labels == i) for i in range(k)]
    samples = []
    for _ in range(n_samples):
        prevalence = rng.dirichlet(np.ones(k))
        size = int(rng.integers(min_size, max_size + 1))
        counts = rng.multinomial(size, prevalence)
        idx = np.concatenate(
            [rng.choice(by_label[i], size=c, replace=True) for i, c in enumerate(counts) if c]
        )
        samples.append(idx)
    return samples


def quapy_estimates(method: str, probs: np.ndarray, conf: qf.Confusion) -> tuple[np.ndarray, bool]:
    """QuaPy's estimate on the same inputs, and whether it converged (EM stops after 1,000
    iterations, which can leave it short of a maximum on the edge of the simplex)."""
    import warnings

    from quapy.method.aggregative import ACC, EMQ

    if method == "acc":
        q = qf.classify_and_count(probs)
        return ACC.solve_adjustment(conf.rates.T, q, method="inversion", solver="minimize"), True
    if method == "pacc":
        q = qf.probabilistic_classify_and_count(probs)
        return ACC.solve_adjustment(
            conf.mean_probabilities.T, q, method="inversion", solver="minimize"
        ), True
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        shares = EMQ.EM(conf.prior, probs, epsilon=1e-10)[0]
    return shares, not any("maximum number of iterations" in str(w.message) for w in caught)


def log_likelihood(shares: np.ndarray, probs: np.ndarray, prior: np.ndarray) -> float:
    """EM's objective: the log-likelihood of label shares under prior shift."""
    return float(np.log((probs * (shares / prior)).sum(axis=1)).sum())


def evaluate(
    probs: np.ndarray,
    labels: np.ndarray,
    samples: list[np.ndarray],
    confusion_for: object,
    methods: Sequence[str],
    n_boot: int,
    seed: int,
    quapy: bool,
) -> dict:
    """Errors, coverage and widths of each method over the samples; ``confusion_for(i, idx)``
    gives the confusion for sample ``i`` (fixed, or a labelled sample of that population)."""
    k = len(LABELS)
    rng = np.random.default_rng(seed)
    err = {m: [] for m in methods}
    cover = {m: [] for m in methods}
    width = {m: [] for m in methods}
    quapy_diff = {m: 0.0 for m in ("acc", "pacc", "em")}
    quapy_short = 0  # samples where QuaPy's EM stopped unconverged
    quapy_worse = 0  # ... and of those, where its shares have a lower likelihood than ours
    seconds = {m: 0.0 for m in methods}
    for s, idx in enumerate(samples):
        truth = np.bincount(labels[idx], minlength=k) / len(idx)
        part = probs[idx]
        conf = confusion_for(s, idx)
        replicates = conf.replicates(rng, n_boot)
        for m in methods:
            started = time.perf_counter()
            point = qf.estimate(m, part, conf)
            boot = qf.bootstrap(m, part, conf, replicates, rng, n_boot)
            low, high = qf.percentile_interval(boot)
            low, high = np.minimum(low, point), np.maximum(high, point)
            seconds[m] += time.perf_counter() - started
            err[m].append(np.abs(point - truth))
            cover[m].append((low - 1e-12 <= truth) & (truth <= high + 1e-12))
            width[m].append(high - low)
            if quapy and m in quapy_diff:
                other, converged = quapy_estimates(m, part, conf)
                if converged:
                    quapy_diff[m] = max(quapy_diff[m], float(np.abs(other - point).max()))
                else:
                    quapy_short += 1
                    ours = log_likelihood(point, part, conf.prior)
                    quapy_worse += log_likelihood(other, part, conf.prior) < ours
        if (s + 1) % 50 == 0:
            print(f"  {s + 1}/{len(samples)} samples", file=sys.stderr)
    out = {}
    for m in methods:
        e = np.array(err[m])
        per_sample = e.mean(axis=1)
        out[m] = {
            "mae": round(float(e.mean()), 4),
            "mae_se": round(float(per_sample.std(ddof=1) / np.sqrt(len(per_sample))), 4),
            "mae_per_label": {lab: round(float(v), 4) for lab, v in zip(LABELS, e.mean(axis=0))},
            "coverage": round(float(np.mean(cover[m])), 3),
            "coverage_per_label": {
                lab: round(float(v), 3) for lab, v in zip(LABELS, np.mean(cover[m], axis=0))
            },
            "mean_width": round(float(np.mean(width[m])), 4),
            "seconds": round(seconds[m], 1),
        }
        if quapy and m in quapy_diff:
            out[m]["max_abs_diff_vs_quapy"] = float(f"{quapy_diff[m]:.2e}")
            if m == "em":
                out[m]["quapy_unconverged_samples"] = quapy_short
                out[m]["quapy_unconverged_with_lower_likelihood"] = quapy_worse
    return out


def em_reference_priors(
    probs: np.ndarray, labels: np.ndarray, samples: list[np.ndarray], measured: qf.Confusion
) -> dict:
    """MAE of EM's point estimates with three reference priors taken from the confusion texts:
    their mean probability (what stored numbers allow; the library's choice for them), the
    prior solved for from their texts (the library's choice for a labelled sample), and their
    true label shares."""
    k = len(LABELS)
    priors = {
        "mean_probability": measured.summary().prior,
        "solved": measured.prior,
        "true_shares": measured.counts.sum(axis=1) / measured.counts.sum(),
    }
    out = {}
    for name, prior in priors.items():
        errors = [
            np.abs(
                qf.expectation_maximization(probs[idx], prior)
                - np.bincount(labels[idx], minlength=k) / len(idx)
            ).mean()
            for idx in samples
        ]
        out[name] = {"mae": round(float(np.mean(errors)), 4), "prior": np.round(prior, 4).tolist()}
    return out


def table(results: dict, title: str) -> str:
    lines = [
        f"**{title}**",
        "",
        "| method | MAE of shares (± s.e.) | MAE against / for / neutral | 95 % coverage | "
        "mean interval width |",
        "|---|---|---|---|---|",
    ]
    for m, r in results.items():
        per = " / ".join(f"{r['mae_per_label'][lab]:.3f}" for lab in LABELS)
        lines.append(
            f"| {m} | {r['mae']:.3f} ± {r['mae_se']:.3f} | {per} | {r['coverage'] * 100:.1f} % | "
            f"{r['mean_width']:.3f} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--real-train", type=Path, required=True, help="the real pool (JSONL)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--samples", type=int, default=500)
    parser.add_argument("--min-size", type=int, default=100)
    parser.add_argument("--max-size", type=int, default=500)
    parser.add_argument("--bootstrap", type=int, default=1000, help="replicates per interval")
    parser.add_argument("--gold-size", type=int, default=200, help="labelled sample size")
    parser.add_argument("--gold-samples", type=int, default=200, help="samples for gold path")
    parser.add_argument("--no-quapy", action="store_true", help="skip the QuaPy cross-check")
    parser.add_argument("--output", type=Path, default=None, help="JSON results")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    rows = read_pool(args.real_train)
    split = split_pages(rows, args.seed)
    parts = {name: [r for r in rows if split[r["page"]] == name] for name in SPLITS}
    summary = {
        name: {
            "pages": len({r["page"] for r in part}),
            "units": len(part),
            "labels": dict(Counter(r["label"] for r in part)),
        }
        for name, part in parts.items()
    }
    print(json.dumps(summary), file=sys.stderr)
    model = train_model(parts["train"], args.seed)
    print(f"trained in {time.perf_counter() - started:.0f} s", file=sys.stderr)

    def predict(part: list[dict]) -> tuple[np.ndarray, np.ndarray]:
        probs = model.predict_proba([r["text"] for r in part])  # type: ignore[attr-defined]
        return probs, np.array([LABEL2ID[r["label"]] for r in part])

    conf_probs, conf_labels = predict(parts["confusion"])
    test_probs, test_labels = predict(parts["test"])
    measured = qf.Confusion.from_predictions(conf_labels, conf_probs)
    stored = measured.summary()  # counts, mean and mean squared probabilities
    means_only = qf.Confusion.from_summary(measured.counts, measured.mean_probabilities)

    rng = np.random.default_rng(args.seed)
    samples = app_samples(test_labels, args.samples, args.min_size, args.max_size, rng)
    quapy = not args.no_quapy
    results = {
        "stored_confusion": evaluate(
            test_probs,
            test_labels,
            samples,
            lambda s, idx: stored,
            qf.METHODS,
            args.bootstrap,
            args.seed,
            quapy,
        )
    }
    print(table(results["stored_confusion"], "stored confusion"), file=sys.stderr)
    results["stored_counts_and_means"] = evaluate(
        test_probs,
        test_labels,
        samples,
        lambda s, idx: means_only,
        ("acc", "pacc", "em"),
        args.bootstrap,
        args.seed,
        False,
    )
    print(table(results["stored_counts_and_means"], "counts and means only"), file=sys.stderr)
    results["em_reference_priors"] = em_reference_priors(test_probs, test_labels, samples, measured)
    print(json.dumps(results["em_reference_priors"]), file=sys.stderr)

    # a labelled random sample of each sample's own population (drawn apart from the sample)
    gold_rng = np.random.default_rng(args.seed + 1)
    gold_samples = samples[: args.gold_samples]
    gold_sets: list[np.ndarray] = []
    for idx in gold_samples:
        shares = np.bincount(test_labels[idx], minlength=len(LABELS)) / len(idx)
        by_label = [np.flatnonzero(test_labels == i) for i in range(len(LABELS))]
        counts = gold_rng.multinomial(args.gold_size, shares)
        gold_sets.append(
            np.concatenate(
                [
                    gold_rng.choice(by_label[i], size=c, replace=True)
                    for i, c in enumerate(counts)
                    if c
                ]
            )
        )

    def gold_confusion(s: int, idx: np.ndarray) -> qf.Confusion:
        g = gold_sets[s]
        return qf.Confusion.from_predictions(test_labels[g], test_probs[g])

    results["gold_sample"] = evaluate(
        test_probs,
        test_labels,
        gold_samples,
        gold_confusion,
        qf.METHODS,
        args.bootstrap,
        args.seed,
        False,
    )
    print(table(results["gold_sample"], f"labelled sample of {args.gold_size}"), file=sys.stderr)
    report = {
        "command": "python benchmarks/shares_validation.py --real-train PATH "
        + " ".join(
            a
            for a in (argv if argv is not None else sys.argv[1:])
            if not a.startswith(str(args.real_train)) and a != "--real-train"
        ),
        "seed": args.seed,
        "samples": args.samples,
        "sizes": [args.min_size, args.max_size],
        "bootstrap": args.bootstrap,
        "gold_size": args.gold_size,
        "gold_samples": len(gold_samples),
        "pool_sha256": hashlib.sha256(args.real_train.read_bytes()).hexdigest(),
        "splits": summary,
        "confusion": {
            "labels": list(LABELS),
            "counts": measured.counts.astype(int).tolist(),
            "mean_probabilities": np.round(measured.mean_probabilities, 4).tolist(),
            "mean_squared_probabilities": np.round(
                qf.row_rates(measured.squares, measured.counts.sum(axis=1)), 4
            ).tolist(),
        },
        "results": results,
        "seconds": round(time.perf_counter() - started, 1),
    }
    if args.output is not None:
        args.output.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in report.items() if k != "results"}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
