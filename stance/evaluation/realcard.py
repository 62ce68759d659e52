"""The model-card sections about real text: the pool the model trained on, the page-grouped
cross-validation that chose its recipe, calibration on the pool's held-out part, and the
behavioural checks. Built from the model's metadata and the committed reports
(``reports/pool-cv.json``, ``reports/behaviour.json``); a missing report leaves its part out.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from stance.labels import LABELS


def _load(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text("utf-8"))
    except (OSError, json.JSONDecodeError):
        return None


def _ci(row: dict[str, Any]) -> str:
    low, high = row["ci95"]
    return f"{row['difference']:+.3f} [{low:+.3f}, {high:+.3f}]"


def pool_cv_table(report: dict[str, Any]) -> str:
    """Every variant's pooled out-of-fold macro-F1 (overall, per kind) and dev scores, then the
    declared comparisons with their page-bootstrap intervals and the two halves."""
    lines = [
        "| variant | pool OOF macro-F1 | comments | paragraphs | dev macro-F1 [95% CI] "
        "| dev comments | dev paragraphs |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, v in report["variants"].items():
        oof = v["oof_macro_f1"]
        dev = v.get("dev") or {}
        dev_all = "–"
        if dev:
            low, high = dev.get("all_ci95") or (float("nan"), float("nan"))
            dev_all = f"{dev['all']:.3f} [{low:.3f}, {high:.3f}]"
        lines.append(
            f"| {name}: {v['description']} | {oof['all']:.3f} | {oof.get('comment', 0):.3f} "
            f"| {oof.get('article_paragraph', 0):.3f} | {dev_all} "
            f"| {dev.get('comment', float('nan')):.3f} "
            f"| {dev.get('article_paragraph', float('nan')):.3f} |"
        )
    lines += [
        "",
        "| change | Δ overall [95% CI] | Δ comments [95% CI] | Δ paragraphs [95% CI] "
        "| P(new wins) | Δ on half 1 / half 2 |",
        "|---|---|---|---|---|---|",
    ]
    for c in report["comparisons"]:
        b = c["bootstrap"]
        lines.append(
            f"| {c['new']} vs {c['old']} | {_ci(b['all'])} | {_ci(b['comment'])} "
            f"| {_ci(b['article_paragraph'])} | {b['all']['p_first_wins']:.2f} "
            f"| {c['halves'][0]:+.3f} / {c['halves'][1]:+.3f} |"
        )
    return "\n".join(lines)


def _confusion_table(block: dict[str, Any]) -> str:
    lines = ["| true \\ predicted | " + " | ".join(LABELS) + " |", "|---" * 4 + "|"]
    for label, counts in zip(LABELS, block["counts"]):
        lines.append(f"| {label} | " + " | ".join(str(c) for c in counts) + " |")
    return "\n".join(lines)


def macro_f1_from_counts(counts: list[list[int]]) -> float:
    """Macro-F1 over the labels with gold examples, from a confusion matrix (rows true).

    >>> round(macro_f1_from_counts([[2, 0, 0], [0, 0, 0], [1, 0, 1]]), 3)
    0.733
    """
    scores = []
    for i in range(len(counts)):
        gold = sum(counts[i])
        if not gold:
            continue
        predicted = sum(row[i] for row in counts)
        scores.append(2 * counts[i][i] / (gold + predicted))
    return sum(scores) / len(scores) if scores else 0.0


def real_training_section(metadata: dict[str, Any], reports: Path) -> str:
    """The Markdown section (empty when the model did not train on a real pool)."""
    pool = (metadata.get("training_data") or {}).get("real_train")
    if not pool:
        return ""
    data = metadata["training_data"]
    parts = [
        "## Real training pool",
        "",
        f"Trained on the corpus units, {data.get('n_authored')} authored texts (weight "
        f"{data.get('authored_weight', 1.0):g}) and the **training part** of a real training "
        f"pool: {pool['n_units']} real units from {pool['n_pages']} pages (weight "
        f"{pool['weight']:g}; by label "
        + ", ".join(f"{k} {v}" for k, v in pool["by_label"].items())
        + "; by kind "
        + ", ".join(f"{k} {v}" for k, v in pool["by_kind"].items())
        + "; pool "
        f"fingerprint `{pool['fingerprint'][:16]}…`). The pool's texts are not distributed: "
        "`labelled/realtrain-manifest.csv` lists ids, pages, labels, parts and text hashes. "
        "Retrain with `python training/train_baseline.py --real-train PATH "
        f"--real-weight {pool['weight']:g} "
        f"--authored-weight {data.get('authored_weight', 1.0):g}`.",
    ]
    cv = _load(reports / "pool-cv.json")
    if cv and cv.get("pool_fingerprint") == pool["fingerprint"]:
        parts += [
            "",
            "### How the recipe was chosen: page-grouped cross-validation over the pool",
            "",
            f"{cv['folds']}-fold cross-validation over the pool's training part "
            f"({cv['n_units']} units, {cv['n_pages']} pages), folds by page (seed {cv['seed']});"
            " every pool unit predicted once by a model that never saw its page. Intervals: "
            "paired bootstrap over pages (1,000 resamples). The dev columns: the variant trained"
            " on the whole training part, scored on the 244-text real dev set (a second opinion"
            ", not used to choose). Made by `python training/pool_cv.py --real-train PATH "
            "--real-dev PATH --compare f:e,e:a`; the rule and the decision are in "
            "`docs/real-training.md`.",
            "",
            pool_cv_table(cv),
        ]
    calibration = metadata.get("calibration") or {}
    confusion = metadata.get("real_text_confusion")
    if "before" in calibration and confusion:
        parts += [
            "",
            "### Calibration on the held-out calibration part",
            "",
            f"Temperature {calibration['temperature']:.3f}, fitted on the {calibration['n']} "
            "units of the pool's calibration part (pages held out by a hash of their URL, never "
            "trained on, never used to choose). On that part: ECE "
            f"{calibration['before']['ece']:.3f} before and {calibration['after']['ece']:.3f} "
            f"after scaling (NLL {calibration['before']['nll']:.3f} → "
            f"{calibration['after']['nll']:.3f}; the 'after' numbers are on the data the "
            "temperature was fitted on).",
            "",
            "Reliability after scaling (top-label confidence bins):",
            "",
            "| bin from | mean confidence | accuracy | texts |",
            "|---|---|---|---|",
            *[
                f"| {lo:.1f} | {conf:.3f} | {acc:.3f} | {n} |"
                for lo, conf, acc, n in calibration["after"]["reliability"]
            ],
            "",
            f"Real-text confusion on the calibration part (n = {confusion['n']}; stored as "
            "`real_text_confusion` in `metadata.json` for the shares estimator, with mean "
            "calibrated probabilities and a block per kind):",
            "",
            _confusion_table(confusion),
            "",
            "Macro-F1 on the calibration part (held out by page, never trained on, never used"
            " to choose; the temperature does not change labels): "
            f"{macro_f1_from_counts(confusion['counts']):.3f}"
            + "".join(
                f", {kind} {macro_f1_from_counts(block['counts']):.3f} (n = {block['n']})"
                for kind, block in confusion["per_kind"].items()
            )
            + ". Comments there have no `for` unit, so their macro-F1 averages two labels.",
        ]
    parts.append(behaviour_section(metadata, reports))
    return "\n".join(parts) + "\n"


def behaviour_section(metadata: dict[str, Any], reports: Path) -> str:
    """The behavioural checks of the model named in ``metadata`` (empty without a report)."""
    behaviour = _load(reports / "behaviour.json")
    name = metadata.get("name", "baseline")
    if not behaviour or name not in behaviour:
        return ""
    from stance.evaluation.behaviour import behaviour_table

    return "\n".join(
        [
            "",
            "## Behavioural checks",
            "",
            "A small templated Danish suite in the spirit of CheckList (Ribeiro et al. 2020), "
            "written for the project (constructed text): minimum functionality (MFT), "
            "invariance (INV) and direction (DIR) checks. It diagnoses; it did not choose the "
            "model. Made by `python training/behaviour.py --model models/baseline --model "
            "models/bert` (`reports/behaviour.json`).",
            "",
            behaviour_table(behaviour[name]),
            "",
        ]
    )
