"""Writing evaluation results: a Markdown report, a JSON file and PNG plots per model."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from stance.labels import LABEL2ID, LABELS


def _f(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _ci(scores: dict[str, Any]) -> str:
    low, high = scores["macro_f1_ci95"]
    return f"{scores['macro_f1']:.3f} [{low:.3f}, {high:.3f}]"


def _real(row: dict[str, Any], kind: str | None = None) -> dict[str, Any] | None:
    real = row.get("real_dev")
    if not real:
        return None
    return real["all"] if kind is None else real["by_kind"].get(kind)


def results_rows(reports: Sequence[dict[str, Any]]) -> list[list[str]]:
    """One table row per model and reference (references once, from the first report)."""
    rows: list[list[str]] = []
    seen: set[str] = set()
    for report in reports:
        for name, row in report["rows"].items():
            if name in seen:
                continue
            seen.add(name)
            test, lodo = row["test"], row.get("lodo")
            real = _real(row)
            comments, paragraphs = _real(row, "comment"), _real(row, "article_paragraph")
            rows.append(
                [
                    name if name != report["model"] else f"**{name}**",
                    _ci(real) if real else "not run",
                    _f(comments["macro_f1"]) if comments else "n/a",
                    _f(paragraphs["macro_f1"]) if paragraphs else "n/a",
                    _ci(lodo) if lodo else "not run",
                    _f(lodo["f_avg"]) if lodo else "n/a",
                    _ci(test),
                    _f(test["accuracy"]),
                ]
            )
    return rows


RESULTS_HEADER = [
    "model",
    "real dev macro-F1 [95% CI]",
    "real comments",
    "real paragraphs",
    "LODO macro-F1 [95% CI]",
    "LODO F_avg",
    "test macro-F1 [95% CI]",
    "test acc.",
]

YARDSTICK_HEADER = [
    "model",
    "test (16 real comments)",
    "LODO (145 corpus units)",
    "leave-one-writer-out (authored texts)",
    "real dev, all",
    "real dev, mean of kinds",
]


def yardstick_rows(reports: Sequence[dict[str, Any]]) -> list[list[str]]:
    """Macro-F1 of each model on every yardstick, side by side."""
    rows = []
    for report in reports:
        row = report["rows"][report["model"]]
        real = row.get("real_dev")
        rows.append(
            [
                report["model"],
                _f(row["test"]["macro_f1"]),
                _f(row["lodo"]["macro_f1"]) if row.get("lodo") else "not run",
                _f(row["writers"]["macro_f1"]) if row.get("writers") else "not run",
                _f(real["all"]["macro_f1"]) if real else "not run",
                _f(real["kind_mean_macro_f1"]) if real else "not run",
            ]
        )
    return rows


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _per_class_table(scores: dict[str, Any]) -> str:
    rows = [
        [label, _f(s["precision"]), _f(s["recall"]), _f(s["f1"]), str(s["support"])]
        for label, s in scores["per_class"].items()
    ]
    return markdown_table(["label", "precision", "recall", "F1", "support"], rows)


def _confusion_table(scores: dict[str, Any]) -> str:
    rows = [[f"gold {label}", *map(str, row)] for label, row in zip(LABELS, scores["confusion"])]
    return markdown_table(["", *(f"pred {label}" for label in LABELS)], rows)


def render_markdown(report: dict[str, Any], command: str) -> str:
    """The Markdown report of one model."""
    name = report["model"]
    row = report["rows"][name]
    parts = [
        f"# Evaluation of `{name}`",
        "",
        f"Made by `{command}` (bootstrap seed {report['seed']}).",
        "",
        f"Backend: {report['backend']}. Training data: `{json.dumps(report['training_data'])}`.",
        "",
        "## Summary",
        "",
        markdown_table(RESULTS_HEADER, results_rows([report])),
        "",
        "Real dev = real Danish texts about jobcentres from web pages the project's data "
        "does not use, labelled by the guidelines' definitions; read from a path given at "
        "evaluation time and not distributed with the project (the texts belong to their "
        "authors). Test = the held-out reader comments (no `for` gold labels, so F_avg is "
        "not defined there and macro-F1 averages `against` and `neutral`). LODO = "
        "leave-one-document-out cross-validation over all corpus units, predictions pooled.",
    ]
    sections = [("test", "Test split"), ("lodo", "Leave-one-document-out CV")]
    if row.get("writers"):
        row = {**row, "writers_scores": row["writers"]}
        sections.append(("writers_scores", "Leave-one-writer-out CV over the authored texts"))
    real = row.get("real_dev")
    if real:
        row = {
            **row,
            "real_all": real["all"],
            **{f"real_{k}": v for k, v in real["by_kind"].items()},
        }
        sections += [("real_all", "Real dev set")] + [
            (f"real_{kind}", f"Real dev set, {kind.replace('_', ' ')}s") for kind in real["by_kind"]
        ]
    for split, title in sections:
        scores = row.get(split)
        if not scores:
            continue
        parts += [
            "",
            f"## {title} (n = {scores['n']})",
            "",
            _per_class_table(scores),
            "",
            _confusion_table(scores),
        ]
        if "ece" in scores:
            parts += [
                "",
                f"Expected calibration error (10 bins): {_f(scores.get('ece_uncalibrated'))} "
                f"before calibration, {_f(scores['ece'])} after.",
            ]
    parts += ["", f"Plots: `{name}-confusion.png`, `{name}-reliability.png`.", ""]
    return "\n".join(parts)


def draw_confusion(ax: Any, matrix: Sequence[Sequence[int]], title: str, **title_kw: Any) -> None:
    """Draw a confusion matrix (gold rows, predicted columns) with its counts on ``ax``."""
    ax.imshow(matrix, cmap="Blues")
    for i, values in enumerate(matrix):
        for j, value in enumerate(values):
            ax.text(j, i, str(value), ha="center", va="center")
    ax.set_xticks(range(len(LABELS)), LABELS)
    ax.set_yticks(range(len(LABELS)), LABELS)
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    ax.set_title(title, **title_kw)


def plot_confusion(report: dict[str, Any], path: Path) -> None:
    """A confusion-matrix PNG: the real dev set (where run), test split and LODO side by side."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    row = report["rows"][report["model"]]
    panels = []
    if row.get("real_dev"):
        panels.append((row["real_dev"]["all"]["confusion"], "real dev"))
    panels += [
        (row[split]["confusion"], title)
        for split, title in (("test", "test split"), ("lodo", "LODO CV"))
        if row.get(split)
    ]
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.8), squeeze=False)
    for ax, (matrix, title) in zip(axes[0], panels):
        draw_confusion(ax, matrix, f"{report['model']}: {title}")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_reliability(report: dict[str, Any], path: Path) -> bool:
    """A reliability diagram of the LODO predictions, before and after calibration."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from stance.evaluation.calibration import reliability_bins

    lodo = report.get("lodo_predictions")
    if not lodo:
        return False
    y = [LABEL2ID[label] for label in lodo["y_true"]]
    fig, ax = plt.subplots(figsize=(4.5, 4.2))
    ax.plot([0, 1], [0, 1], ls="--", color="grey", lw=1)
    curves = [("after calibration", lodo["probs"])]
    if lodo.get("uncalibrated") is not None:
        curves.insert(0, ("before calibration", lodo["uncalibrated"]))
    for label, probs in curves:
        bins = reliability_bins(np.asarray(probs), y)
        ax.plot([b[1] for b in bins], [b[2] for b in bins], marker="o", label=label)
    ax.set_xlabel("confidence (score of the predicted label)")
    ax.set_ylabel("accuracy")
    ax.set_title(f"{report['model']}: reliability, LODO CV")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return True


def write_report(report: dict[str, Any], out_dir: Path, command: str) -> list[Path]:
    """Write ``<model>.md``, ``<model>.json`` and the PNGs to ``out_dir``; return the paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    name = report["model"]
    written = [out_dir / f"{name}.md", out_dir / f"{name}.json", out_dir / f"{name}-confusion.png"]
    written[0].write_text(render_markdown(report, command), encoding="utf-8")
    written[1].write_text(
        json.dumps({**report, "command": command}, ensure_ascii=False, indent=1) + "\n",
        encoding="utf-8",
    )
    plot_confusion(report, written[2])
    if plot_reliability(report, out_dir / f"{name}-reliability.png"):
        written.append(out_dir / f"{name}-reliability.png")
    return written


def calibration_summary(reports: Sequence[dict[str, Any]]) -> str:
    """What a score means: accuracy of the LODO predictions by score band, per model."""
    import numpy as np

    from stance.evaluation.calibration import expected_calibration_error

    bands = [(0.0, 0.5), (0.5, 0.6), (0.6, 0.7), (0.7, 0.8), (0.8, 0.9), (0.9, 1.01)]
    header = ["model", "ECE before", "ECE after"] + [
        f"score {lo:.1f}–{min(hi, 1.0):.1f}" for lo, hi in bands
    ]
    rows, sentences = [], []
    for report in reports:
        lodo = report.get("lodo_predictions")
        if not lodo:
            continue
        probs = np.asarray(lodo["probs"])
        y = np.array([LABEL2ID[label] for label in lodo["y_true"]])
        confidence, correct = probs.max(axis=1), probs.argmax(axis=1) == y
        cells = []
        for lo, hi in bands:
            chosen = (confidence >= lo) & (confidence < hi)
            cells.append(f"{correct[chosen].mean():.0%} of {chosen.sum()}" if chosen.any() else "–")
        raw = lodo.get("uncalibrated")
        before = expected_calibration_error(np.asarray(raw), y) if raw is not None else None
        rows.append([report["model"], _f(before), _f(expected_calibration_error(probs, y)), *cells])
        high = confidence >= 0.8
        if high.any():
            sentences.append(
                f"For `{report['model']}`, {high.mean():.0%} of the cross-validated predictions "
                f"had a score of 0.8 or more, and {correct[high].mean():.0%} of those were right "
                f"(overall accuracy {correct.mean():.0%})."
            )
    table = markdown_table(header, rows)
    text = (
        'Accuracy of the leave-one-document-out predictions by score band ("84% of 50" = 50 '
        "predictions in the band, 84 % of them correct):\n\n" + table + "\n\n" + " ".join(sentences)
    )
    real = [
        [r["model"], _f(row["ece"]), _f(row["accuracy"]), str(row["n"])]
        for r in reports
        if (row := (_real(r["rows"][r["model"]]) or {})).get("ece") is not None
    ]
    if real:
        text += "\n\nOn the real dev set (the shipped models, calibrated as shipped):\n\n"
        text += markdown_table(["model", "real dev ECE", "real dev accuracy", "texts"], real)
    return text
