"""Comparing training recipes on a real dev set: one row per variant, paired against a reference.

Used by the knowledge-feature ablation and the authored-batch experiment (scripts in
``training/``). Each variant is fitted once on its training texts and predicts the real dev set;
its row holds macro-F1 overall, per kind and their mean, and the paired bootstrap difference of
the per-kind mean against the reference variant. Optionally, LODO macro-F1 over the corpus train
+ dev units (authored texts in every fold's training) as the secondary yardstick.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from stance.data.trainset import Example, TrainingSet
from stance.evaluation.metrics import macro_f1
from stance.evaluation.realdev import REAL_KINDS, kind_mean_macro_f1, paired_difference
from stance.training.baseline import BaselineConfig

Fit = Callable[[list[str], list[str]], Any]
"""Texts and labels in, a fitted model with ``predict(texts)`` out."""


@dataclass(frozen=True)
class Recipe:
    """A named way of training: a fit function and the authored texts it trains with."""

    name: str
    fit: Fit
    authored: Sequence[Example]


def _predict(model: Any, texts: list[str]) -> list[str]:
    return [str(label) for label in model.predict(texts)]


def compare(
    recipes: Sequence[Recipe],
    corpus: Sequence[Example],
    real: Sequence[Example],
    *,
    reference: str | None = None,
    with_lodo: bool = False,
    seed: int = 0,
    log: Callable[[str], None] = print,
) -> list[dict[str, Any]]:
    """One row per recipe (see the module docstring); ``reference`` names the recipe the others
    are paired against (default: the first)."""
    from stance.evaluation.harness import leave_one_document_out

    train_dev = [e for e in corpus if e.split in ("train", "dev")]
    texts = [e.text for e in real]
    predictions: dict[str, list[str]] = {}
    rows = []
    for recipe in recipes:
        training = train_dev + list(recipe.authored)
        model = recipe.fit([e.text for e in training], [e.label for e in training])
        predicted = _predict(model, texts)
        predictions[recipe.name] = predicted
        row: dict[str, Any] = {
            "name": recipe.name,
            "n_training": len(training),
            "real_dev": macro_f1([e.label for e in real], predicted),
            "kind_mean": kind_mean_macro_f1(real, predicted),
        }
        for kind in REAL_KINDS:
            idx = [i for i, e in enumerate(real) if e.group == kind]
            row[kind] = macro_f1([real[i].label for i in idx], [predicted[i] for i in idx])
        if with_lodo:

            class _Wrapped:
                def __init__(self, fitted: Any) -> None:
                    self.fitted = fitted

                def predict_proba(self, batch: Sequence[str]) -> Any:
                    import numpy as np

                    from stance.labels import LABELS

                    labels = _predict(self.fitted, list(batch))
                    probs = np.zeros((len(labels), len(LABELS)))
                    probs[np.arange(len(labels)), [LABELS.index(x) for x in labels]] = 1.0
                    return probs

            def fold_fit(training_set: TrainingSet, fit: Fit = recipe.fit) -> Any:
                return _Wrapped(fit(training_set.texts, training_set.labels))

            lodo = leave_one_document_out(fold_fit, train_dev, list(recipe.authored))
            row["lodo"] = macro_f1(lodo.y_true, lodo.y_pred)
        rows.append(row)
        shown = "  ".join(f"{k} {v:.3f}" for k, v in row.items() if isinstance(v, float))
        log(f"{recipe.name}: {shown}")
    anchor = reference or recipes[0].name
    for row in rows:
        if row["name"] != anchor:
            row["vs_reference"] = paired_difference(
                real, predictions[row["name"]], predictions[anchor], seed=seed
            )
    return rows


def comparison_table(rows: Sequence[dict[str, Any]], reference: str) -> tuple[list[str], list]:
    """Header and Markdown rows for :func:`compare`'s output."""
    with_lodo = any("lodo" in r for r in rows)
    header = [
        "variant",
        "training texts",
        "real dev macro-F1",
        "real comments",
        "real paragraphs",
        "mean of kinds",
        f"Δ mean vs {reference} [95% CI]",
        "P(better)",
    ] + (["LODO macro-F1"] if with_lodo else [])
    table = []
    for r in rows:
        diff = r.get("vs_reference")
        table.append(
            [
                r["name"],
                str(r["n_training"]),
                f"{r['real_dev']:.3f}",
                f"{r['comment']:.3f}",
                f"{r['article_paragraph']:.3f}",
                f"{r['kind_mean']:.3f}",
                "–"
                if diff is None
                else f"{diff['difference']:+.3f} [{diff['ci95'][0]:+.3f}, {diff['ci95'][1]:+.3f}]",
                "–" if diff is None else f"{diff['p_first_wins']:.2f}",
            ]
            + ([f"{r['lodo']:.3f}"] if with_lodo else [])
        )
    return header, table


def add_experiment_arguments(parser: argparse.ArgumentParser) -> None:
    """The options every real-dev experiment script shares: block weights, LODO, training
    files, seed and README update."""
    parser.add_argument("--domain-weight", type=float, default=None)
    parser.add_argument("--lexicon-weight", type=float, default=None)
    parser.add_argument("--with-lodo", action="store_true")
    parser.add_argument("--corpus", type=Path, default=None, help="stance.jsonl to train on")
    parser.add_argument("--authored", type=Path, default=None, help="authored.jsonl to train on")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--update-readme", action="store_true", help="rewrite README's table")


def config_from_arguments(args: argparse.Namespace) -> BaselineConfig:
    """The shipped recipe with the block weights the options override."""
    config = BaselineConfig()
    if args.domain_weight is not None:
        config = replace(config, domain_weight=args.domain_weight)
    if args.lexicon_weight is not None:
        config = replace(config, lexicon_weight=args.lexicon_weight)
    return config
