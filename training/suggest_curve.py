"""How much do texts picked by `stance suggest` teach, against texts picked at random?

Usage: python training/suggest_curve.py [--sizes 25 50 100 200] [--seeds 0 1 ... 9]
       [--update-readme]

A simulated labelling loop on the project's own data. The *pool* of unlabelled texts is the
1,975 authored texts (their labels are revealed only when a text is picked); the *held-out*
texts are the corpus units of the train and dev splits (real reader comments and paragraphs of
debate pieces, never in the pool). The corpus test split is not used at all.

For each seed: the same 25 texts are drawn at random as a start; then each strategy grows its
labelled set to every size in ``--sizes``, training the baseline (the shipped model's
hyperparameters, on the labelled texts alone) after each step and picking the next texts with
that model:

- ``suggest``: :func:`stance.own_data.suggest.select` (margin + near-duplicate filter), as
  `stance suggest` does;
- ``margin only``: the same without the diversity step;
- ``random``: uniformly at random.

Macro-F1 is measured on the held-out texts after each step. Writes reports/suggest_curve.json,
.md and suggest_curve.png.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

import numpy as np

from stance.data.corpus import repo_root
from stance.data.datacard import update_pages
from stance.data.trainset import load_examples
from stance.evaluation.metrics import macro_f1
from stance.evaluation.report import markdown_table
from stance.labels import LABELS
from stance.modeldir import read_metadata, shipped_model_dir
from stance.own_data.adapt import single_threaded_blas
from stance.own_data.suggest import MAX_SIMILARITY, cosine, ngram_profile, select
from stance.training.baseline import BaselineConfig, train_baseline

STRATEGIES = ("suggest", "margin only", "random")


def run(
    pool: list, held: list, sizes: list[int], seeds: list[int], config: BaselineConfig, log=print
) -> list[dict]:
    """One record per (seed, strategy, size): the held-out macro-F1 after that many labels."""
    texts = [e.text for e in pool]
    labels = [e.label for e in pool]
    held_texts, held_labels = [e.text for e in held], [e.label for e in held]
    records = []
    for seed in seeds:
        rng = np.random.default_rng(seed)
        start = [int(i) for i in rng.choice(len(pool), sizes[0], replace=False)]
        for strategy in STRATEGIES:
            chosen = list(start)
            model = None
            pick_rng = np.random.default_rng([seed, STRATEGIES.index(strategy)])
            for size in sizes:
                if len(chosen) < size:
                    rest = sorted(set(range(len(pool))) - set(chosen))
                    need = size - len(chosen)
                    if strategy == "random":
                        chosen += [int(i) for i in pick_rng.choice(rest, need, replace=False)]
                    else:
                        probs = model.predict_proba([texts[i] for i in rest])
                        picked, _ = select(
                            [texts[i] for i in rest],
                            probs,
                            need,
                            max_similarity=MAX_SIMILARITY if strategy == "suggest" else None,
                            seed=seed,
                        )
                        chosen += [rest[j] for j in picked]
                train_labels = [labels[i] for i in chosen]
                if len(set(train_labels)) < len(LABELS):
                    raise SystemExit(f"seed {seed}: the first {size} texts lack a label; use more")
                model = train_baseline([texts[i] for i in chosen], train_labels, config, seed=seed)
                predicted = [LABELS[i] for i in model.predict_proba(held_texts).argmax(axis=1)]
                f1 = macro_f1(held_labels, predicted)
                records.append({"seed": seed, "strategy": strategy, "size": size, "macro_f1": f1})
                log(f"seed {seed}  {strategy:11}  {size:4} labelled  held-out macro-F1 {f1:.3f}")
    return records


def summarise(records: list[dict]) -> dict[tuple[str, int], tuple[float, float, int]]:
    out = {}
    for key in sorted({(r["strategy"], r["size"]) for r in records}):
        values = [r["macro_f1"] for r in records if (r["strategy"], r["size"]) == key]
        sd = statistics.stdev(values) if len(values) > 1 else 0.0
        out[key] = (statistics.mean(values), sd, len(values))
    return out


def nearest_neighbour_similarity(texts: list[str], sample: int = 400) -> list[float]:
    """Percentiles (50, 90, 99, max) of each text's highest similarity to another, on a
    sample: what the near-duplicate threshold is measured against."""
    profiles = [ngram_profile(t) for t in texts[:sample]]
    best = [
        max(cosine(p, q) for j, q in enumerate(profiles) if j != i) for i, p in enumerate(profiles)
    ]
    return [float(v) for v in np.percentile(best, [50, 90, 99, 100])]


def table(summary: dict, sizes: list[int]) -> str:
    header = ["labelled texts", *STRATEGIES, "suggest − random"]
    rows = []
    for size in sizes:
        cells = [str(size)]
        for strategy in STRATEGIES:
            mean, sd, _ = summary[(strategy, size)]
            cells.append(f"{mean:.3f} ± {sd:.3f}")
        cells.append(f"{summary[('suggest', size)][0] - summary[('random', size)][0]:+.3f}")
        rows.append(cells)
    return markdown_table(header, rows)


def plot(summary: dict, sizes: list[int], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.4, 3.9))
    for strategy in STRATEGIES:
        ys = [summary[(strategy, s)][0] for s in sizes]
        sds = [summary[(strategy, s)][1] for s in sizes]
        ax.errorbar(sizes, ys, yerr=sds, marker="o", capsize=3, label=strategy)
    ax.set_xscale("log")
    ax.set_xticks(sizes, [str(s) for s in sizes])
    ax.set_xlabel("labelled texts (pool: authored texts)")
    ax.set_ylabel("held-out macro-F1 (mean ± sd)")
    ax.set_title("Texts picked by stance suggest vs at random", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", type=int, default=[25, 50, 100, 200])
    parser.add_argument("--seeds", nargs="+", type=int, default=list(range(10)))
    parser.add_argument("--corpus", type=Path, default=None, help="stance.jsonl")
    parser.add_argument("--authored", type=Path, default=None, help="authored.jsonl (the pool)")
    parser.add_argument("--output", type=Path, default=repo_root() / "reports")
    parser.add_argument("--update-readme", action="store_true")
    args = parser.parse_args(argv)
    sizes = sorted(args.sizes)

    corpus, authored, _ = load_examples(args.corpus, args.authored)
    held = [e for e in corpus if e.split in ("train", "dev")]  # never the test split
    config = BaselineConfig.from_dict(
        read_metadata(shipped_model_dir("baseline"))["hyperparameters"]
    )
    with single_threaded_blas():  # many small fits: see stance.own_data.adapt
        records = run(authored, held, sizes, args.seeds, config)
    summary = summarise(records)
    percentiles = nearest_neighbour_similarity([e.text for e in authored])

    args.output.mkdir(parents=True, exist_ok=True)
    command = "python training/suggest_curve.py" + (
        "" if argv is None else " " + " ".join(a for a in argv if a != "--update-readme")
    )
    seeds = ", ".join(map(str, args.seeds))
    body = "\n".join(
        [
            f"Made by `{command.strip()}` (seeds {seeds}; mean ± sd over seeds). Pool: the "
            f"{len(authored)} authored texts, labels revealed when picked; held-out: the "
            f"{len(held)} corpus units of the train and dev splits (the test split is not used). "
            f"Every strategy starts from the same {sizes[0]} random texts per seed, then picks "
            "the next texts with the baseline trained on the texts labelled so far (shipped "
            "hyperparameters, the labelled texts alone).",
            "",
            table(summary, sizes),
            "",
            "`margin only` is `suggest` without the near-duplicate filter. In this pool (texts "
            "written to be distinct), each text's nearest neighbour has a character n-gram "
            f"similarity of {percentiles[0]:.2f} (median), {percentiles[2]:.2f} (99th "
            f"percentile) and {percentiles[3]:.2f} at most (first 400 texts), below the "
            f"filter's {MAX_SIMILARITY}, so the filter rarely fires here; it is there for real "
            "comment sections, where pasted and templated texts are common. Plot: "
            "`reports/suggest_curve.png`.",
        ]
    )
    (args.output / "suggest_curve.json").write_text(
        json.dumps(
            {"command": command.strip(), "records": records, "similarity_percentiles": percentiles},
            indent=1,
        )
        + "\n",
        encoding="utf-8",
    )
    (args.output / "suggest_curve.md").write_text(
        "# Labelling curve: suggest vs random\n\n" + body + "\n", encoding="utf-8"
    )
    plot(summary, sizes, args.output / "suggest_curve.png")
    print(body)
    if args.update_readme:
        for page in update_pages(repo_root(), {"suggest": body}):
            print(f"updated {page.relative_to(repo_root())}")


if __name__ == "__main__":
    main()
