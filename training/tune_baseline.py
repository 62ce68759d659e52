"""Choose the baseline's hyperparameters on a real dev set (or, without one, by LODO CV).

Usage: python training/tune_baseline.py [--real-dev PATH] [--with-lodo] [--rounds 2] [--seed 0]
       [--only NAME ...] [--without-authored] [--corpus FILE] [--authored FILE]
       [--update-readme] [--readme-only]

With --real-dev, each configuration is trained on every training text (corpus train + dev units
and the authored texts) and scored by the mean over kinds (comments, article paragraphs) of its
macro-F1 on the real dev set; --with-lodo also records each configuration's leave-one-document-out
macro-F1 (which never decides) and their rank correlation. Without --real-dev the LODO score
decides. The search starts from BaselineConfig()'s defaults (the shipped recipe). Writes
reports/baseline-tuning.md and .json; put the chosen values into BaselineConfig's defaults
(stance/training/baseline.py), then retrain. --update-readme writes the search's summary into
README.md; --readme-only does only that, from the last reports/baseline-tuning.json. The test
split is never read.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from dataclasses import asdict
from pathlib import Path

from stance.data.trainset import load_examples
from stance.evaluation.report import markdown_table
from stance.training.baseline import BaselineConfig
from stance.training.tuning import (
    SEARCH_SPACE,
    coordinate_search,
    cv_score,
    real_dev_predictions,
)

REPO = Path(__file__).resolve().parents[1]


def spearman(x: list[float], y: list[float]) -> float | None:
    """Spearman's rank correlation (average ranks for ties)."""
    import numpy as np
    from scipy.stats import spearmanr

    if len(x) < 3 or np.std(x) == 0 or np.std(y) == 0:
        return None
    return float(spearmanr(x, y).statistic)


def update_readme(summary: dict) -> None:
    """Write the search's notes (command, score, checks, choice) into README.md."""
    from stance.data.datacard import update_pages

    notes = summary.get("notes") or [f"Made by `{summary['command']}`."]
    block = "\n\n".join(notes) + " Every configuration: `reports/baseline-tuning.md`."
    for page in update_pages(REPO, {"tuning": block}):
        print(f"updated {page.relative_to(REPO)}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--real-dev", type=Path, default=None, help="real dev set (JSON Lines)")
    parser.add_argument("--with-lodo", action="store_true", help="also record LODO per trial")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--only", nargs="+", default=None, help="search only these names")
    parser.add_argument("--without-authored", action="store_true")
    parser.add_argument("--corpus", type=Path, default=None, help="stance.jsonl to train on")
    parser.add_argument("--authored", type=Path, default=None, help="authored.jsonl to train on")
    parser.add_argument("--report", type=Path, default=REPO / "reports" / "baseline-tuning.md")
    parser.add_argument("--update-readme", action="store_true")
    parser.add_argument("--readme-only", action="store_true")
    args = parser.parse_args(argv)
    if args.readme_only:
        summary = json.loads(args.report.with_suffix(".json").read_text(encoding="utf-8"))
        if "notes" not in summary:  # a report written before notes were saved: its paragraphs
            text = args.report.read_text(encoding="utf-8").split("\n\n")
            summary["notes"] = [p for p in text[1:] if not p.startswith("|")]
        update_readme(summary)
        return

    corpus, authored, _ = load_examples(
        args.corpus, args.authored, use_authored=not args.without_authored
    )
    space = SEARCH_SPACE
    if args.only:
        unknown = sorted(set(args.only) - set(SEARCH_SPACE))
        if unknown:
            parser.error(f"--only: unknown {unknown}; searchable: {sorted(SEARCH_SPACE)}")
        space = {name: SEARCH_SPACE[name] for name in args.only}
    train_dev = [e for e in corpus if e.split in ("train", "dev")]
    training = train_dev + list(authored)

    def lodo(config: BaselineConfig) -> float:
        return cv_score(config, train_dev, authored, args.seed)

    if args.real_dev is not None:
        from stance.evaluation.realdev import kind_mean_macro_f1, read_real_dev, split_half_check

        real = read_real_dev(args.real_dev)

        def score(config: BaselineConfig) -> float:
            return kind_mean_macro_f1(real, real_dev_predictions(config, training, real, args.seed))

        secondary = {"lodo": lodo} if args.with_lodo else {}
        what = (
            f"mean over kinds of the macro-F1 on the real dev set ({len(real)} texts), the model "
            f"trained on the {len(train_dev)} corpus train + dev units and {len(authored)} "
            "authored texts"
        )
    else:
        score, secondary, what = (
            lodo,
            {},
            (
                "macro-F1 of pooled leave-one-document-out predictions over the "
                f"{len(train_dev)} corpus train + dev units, with {len(authored)} authored "
                "texts in training in every fold"
            ),
        )
    start = BaselineConfig()
    best, trials = coordinate_search(
        score, start=start, space=space, rounds=args.rounds, secondary=secondary
    )

    names = list(asdict(best))
    extra = list(secondary)
    rows = [
        [f"{t['score']:.4f}", *(f"{t[n]:.4f}" for n in extra), *(str(t[n]) for n in names)]
        for t in sorted(trials, key=lambda t: -t["score"])
    ]
    argv = sys.argv[1:] if argv is None else argv
    command = "python training/tune_baseline.py " + shlex.join(
        a for a in argv if a != "--update-readme"
    )
    notes = [
        f"Made by `{command.strip()}`. Score: {what}. The test split is not used. "
        "Coordinate-wise search from the code defaults (the recipe shipped before this "
        "search); best first."
    ]
    summary: dict[str, object] = {"command": command.strip(), "best": asdict(best)}
    if args.real_dev is not None:
        chosen = real_dev_predictions(best, training, real, args.seed)
        before = real_dev_predictions(start, training, real, args.seed)
        halves = split_half_check(real, chosen, before, seed=args.seed)
        both = sum(a > 0 and b > 0 for a, b in halves)
        notes.append(
            f"Split-half check (10 random splits of the dev set's source pages into two halves, "
            f"seed {args.seed}): the chosen configuration beats the starting one on both halves "
            f"in {both} of 10 splits; mean gain {sum(a + b for a, b in halves) / 20:+.3f}."
        )
        summary["split_half"] = halves
        if extra:
            rho = spearman([t["score"] for t in trials], [t["lodo"] for t in trials])
            summary["spearman_real_dev_lodo"] = rho
            notes.append(
                f"Rank correlation (Spearman) between the real dev score and the LODO score over "
                f"the {len(trials)} configurations: "
                + ("n/a" if rho is None else f"{rho:+.2f}")
                + "."
            )
    changed = {k: v for k, v in asdict(best).items() if asdict(start)[k] != v}
    notes.append(
        "Chosen: " + (", ".join(f"`{k}={v!r}`" for k, v in changed.items()) or "the defaults") + "."
    )
    header = ["score", *extra, *names]
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text(
        "# Baseline hyperparameter search\n\n"
        + "\n\n".join(notes)
        + "\n\n"
        + markdown_table(header, rows)
        + "\n",
        encoding="utf-8",
    )
    summary["notes"] = notes
    summary["trials"] = trials
    args.report.with_suffix(".json").write_text(
        json.dumps(summary, indent=1) + "\n", encoding="utf-8"
    )
    if args.update_readme:
        update_readme(summary)
    print(f"best: {asdict(best)}")
    if changed:
        print(f"set these as BaselineConfig's defaults, then retrain: {changed}")


if __name__ == "__main__":
    main()
