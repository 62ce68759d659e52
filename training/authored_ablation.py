"""Ablation of the authored training texts: with/without, and a learning curve.

Usage: python training/authored_ablation.py [--backends baseline bert] [--seeds 0 1 2]
       [--fractions 0 0.25 0.5 1] [--real-dev PATH] [--no-lodo BACKEND ...]
       [--update-readme] [--resume]

--real-dev PATH also scores each model (trained on train + dev) on a real dev set (mean over
kinds of the macro-F1); --no-lodo skips the cross-validation for the named backends (BERT's
takes five fine-tunes per cell).

Saves each record as soon as it is made, so an interrupted run loses at most one; --resume
carries on from the records in reports/authored_ablation.json.

Uses each shipped model's hyperparameters (models/baseline, models/bert). Writes
reports/authored_ablation.md, .json and authored_learning_curve.png.
"""

from __future__ import annotations

import argparse
import json
import shlex
import statistics
import sys
from pathlib import Path

from stance.data.datacard import update_pages
from stance.data.trainset import load_examples
from stance.evaluation.report import markdown_table
from stance.modeldir import read_metadata, shipped_model_dir
from stance.training.ablation import run, still_valid

REPO = Path(__file__).resolve().parents[1]
METRICS = ("real_dev_macro_f1", "lodo_macro_f1", "test_macro_f1")
TITLES = {
    "real_dev_macro_f1": "real dev (mean of kinds)",
    "lodo_macro_f1": "LODO CV",
    "test_macro_f1": "test split",
}


def summarise(records: list[dict]) -> dict[tuple[str, float], dict[str, float]]:
    out = {}
    for key in sorted({(r["backend"], r["fraction"]) for r in records}):
        rows = [r for r in records if (r["backend"], r["fraction"]) == key]
        summary = {"n_authored": rows[0]["n_authored"], "runs": len(rows)}
        for metric in METRICS:
            values = [r[metric] for r in rows if r.get(metric) is not None]
            if not values:
                continue
            summary[metric] = statistics.mean(values)
            summary[metric + "_sd"] = statistics.stdev(values) if len(values) > 1 else 0.0
        out[key] = summary
    return out


def plot(summary: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metrics = [m for m in METRICS if any(m in s for s in summary.values())]
    fig, axes = plt.subplots(1, len(metrics), figsize=(4.5 * len(metrics), 3.8), sharey=True)
    for ax, metric in zip(axes, metrics):
        title = TITLES[metric]
        for backend in sorted({b for b, _ in summary}):
            points = sorted((f, s) for (b, f), s in summary.items() if b == backend and metric in s)
            xs = [s["n_authored"] for _, s in points]
            ys = [s[metric] for _, s in points]
            sds = [s[metric + "_sd"] for _, s in points]
            ax.errorbar(xs, ys, yerr=sds, marker="o", capsize=3, label=backend)
        ax.set_xlabel("authored texts in training")
        ax.set_title(title)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("macro-F1 (mean ± sd over seeds)")
    axes[0].legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", nargs="+", default=["baseline", "bert"])
    parser.add_argument("--fractions", nargs="+", type=float, default=[0.0, 0.25, 0.5, 1.0])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--output", type=Path, default=REPO / "reports")
    parser.add_argument("--real-dev", type=Path, default=None, help="real dev set (JSON Lines)")
    parser.add_argument("--no-lodo", nargs="+", default=[], help="backends without LODO CV")
    parser.add_argument("--update-readme", action="store_true")
    parser.add_argument(
        "--resume",
        action="store_true",
        help="keep the records already in the JSON file and run only the missing ones",
    )
    args = parser.parse_args(argv)

    corpus, authored, _ = load_examples()
    real = None
    if args.real_dev is not None:
        from stance.evaluation.realdev import read_real_dev

        real = read_real_dev(args.real_dev)
    argv = sys.argv[1:] if argv is None else argv
    command = "python training/authored_ablation.py " + shlex.join(
        a for a in argv if a not in ("--update-readme", "--resume")
    )
    args.output.mkdir(parents=True, exist_ok=True)
    records_file = args.output / "authored_ablation.json"
    previous = json.loads(records_file.read_text())["records"] if records_file.is_file() else []
    metadata = {b: read_metadata(shipped_model_dir(b)) for b in {r["backend"] for r in previous}}
    stale = [r for r in previous if not still_valid(r, metadata[r["backend"]], corpus, authored)]
    if stale:
        print(f"dropping {len(stale)} saved records made with another recipe or training data")
    records = [
        r for r in previous if r not in stale and (args.resume or r["backend"] not in args.backends)
    ]

    def save(record: dict) -> None:
        records.append(record)
        records_file.write_text(
            json.dumps({"command": command, "records": records}, indent=1) + "\n"
        )

    for backend in args.backends:
        metadata = read_metadata(shipped_model_dir(backend))
        done = {(r["fraction"], r["seed"]) for r in records if r["backend"] == backend}
        run(
            backend,
            metadata,
            corpus,
            authored,
            args.fractions,
            args.seeds,
            skip=done,
            on_record=save,
            real=real,
            lodo=backend not in args.no_lodo,
        )
    summary = summarise(records)
    backends = sorted({r["backend"] for r in records})

    def cell(backend: str, fraction: float, metric: str) -> str:
        s = summary.get((backend, fraction))
        return "–" if s is None or metric not in s else f"{s[metric]:.3f} ± {s[metric + '_sd']:.3f}"

    shown = [m for m in METRICS if any(m in s for s in summary.values())]
    names = [TITLES[m].replace("real dev (mean of kinds)", "real dev") + " macro-F1" for m in shown]
    with_without = markdown_table(
        ["model", "authored texts", *names],
        [
            [b, label, *(cell(b, f, m) for m in shown)]
            for b in backends
            for label, f in (("without", 0.0), ("with all", 1.0))
        ],
    )
    fractions = sorted({r["fraction"] for r in records})
    curve = markdown_table(
        ["model", "fraction", "authored texts", "seeds", *names],
        [
            [
                b,
                f"{f:.0%}",
                str(summary[(b, f)]["n_authored"]),
                str(summary[(b, f)]["runs"]),
                *(cell(b, f, m) for m in shown),
            ]
            for b in backends
            for f in fractions
            if (b, f) in summary
        ],
    )
    seeds = sorted({r["seed"] for r in records})
    text = (
        f"Made by `{command}` (seeds {', '.join(map(str, seeds))}; mean ± sd over the seeds that "
        "ran for each cell, counted in the learning-curve table; the seed picks the "
        "label-stratified subset of authored texts and seeds training). Authored texts "
        "are only ever training data; in LODO they stay in training in every fold."
        + (
            " Real dev: the model trained on the corpus train + dev units and the chosen "
            "authored texts, scored on a real dev set (mean over kinds of the macro-F1; the set "
            "is not distributed with the project). A `–` marks a yardstick not run for a model."
            if "real_dev_macro_f1" in shown
            else ""
        )
        + "\n\n"
        f"With and without the authored texts:\n\n{with_without}\n\n"
        f"Learning curve (also `reports/authored_learning_curve.png`):\n\n{curve}\n"
    )
    (args.output / "authored_ablation.md").write_text("# Authored training texts\n\n" + text)
    plot(summary, args.output / "authored_learning_curve.png")
    print(text)
    if args.update_readme:
        for page in update_pages(REPO, {"ablation": text}):
            print(f"updated {page.relative_to(REPO)}")


if __name__ == "__main__":
    main()
