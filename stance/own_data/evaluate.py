"""Evaluating a model on a user's own labelled file: ``stance evaluate --input gold.csv``.

Reports what the project's own evaluation reports (:func:`stance.evaluation.metrics.score`):
accuracy, macro-F1 with a bootstrap 95 % interval, per-class precision, recall, F1 and support,
F_avg, the confusion matrix, ECE and reliability bins; and the two reference rows on the same
texts.

How the reference rows are fitted (``references=``):

- ``"cv"`` (the default): by stratified k-fold cross-validation on the file itself. Each fold's
  majority class and AFINN thresholds are fitted on the other folds and predict the held-out
  fold; the predictions are pooled. This is what the references would score if fitted on your
  kind of text, without ever seeing the texts they are scored on.
- ``"project"``: fitted once on the project's own labelled corpus (train + dev units, never the
  test split), as the shipped model's data, and applied to the file unchanged.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from stance.errors import ConfigError, InputFileError
from stance.extras import TRAIN_MODULES, require
from stance.labels import LABEL2ID, LABELS
from stance.own_data.labelled import LabelledData, read_labelled

REFERENCE_FITS = ("cv", "project")
CV_FOLDS = 5


def _reference_models() -> list[Any]:
    from stance.evaluation.reference import MajorityClassifier, SentimentAsStance

    return [MajorityClassifier(), SentimentAsStance()]


def _fold_ids(labels: list[str], folds: int, seed: int) -> np.ndarray:
    """A stratified fold number per example (labels with fewer examples than folds spread as
    far as they go)."""
    rng = np.random.default_rng(seed)
    ids = np.zeros(len(labels), dtype=int)
    offset = 0
    for label in LABELS:
        idx = np.flatnonzero(np.asarray(labels) == label)
        rng.shuffle(idx)
        ids[idx] = (np.arange(len(idx)) + offset) % folds
        offset += len(idx)
    return ids


def reference_probabilities(
    data: LabelledData, how: str = "cv", seed: int = 0
) -> tuple[dict[str, np.ndarray], str]:
    """One-hot predictions of each reference on ``data``, and a sentence saying how they were
    fitted."""
    if how not in REFERENCE_FITS:
        raise ConfigError(f"references must be one of {REFERENCE_FITS}, got {how!r}")
    texts, labels = data.texts, data.labels
    folds = min(CV_FOLDS, len(texts))
    if how == "cv" and folds < 2:
        how = "project"
    out: dict[str, np.ndarray] = {}
    if how == "project":
        from stance.data.trainset import load_examples

        corpus, _, _ = load_examples(use_authored=False)
        train = [e for e in corpus if e.split in ("train", "dev")]
        for model in _reference_models():
            fitted = model.fit([e.text for e in train], [e.label for e in train])
            out[model.name] = fitted.predict_proba(texts)
        return out, (
            f"fitted on the project's labelled corpus ({len(train)} train + dev units, not the "
            "test split) and applied to this file unchanged"
        )
    ids = _fold_ids(labels, folds, seed)
    for model in _reference_models():
        probs = np.zeros((len(texts), len(LABELS)))
        for fold in range(folds):
            held = ids == fold
            if not held.any():
                continue
            fitted = type(model)().fit(
                [t for t, h in zip(texts, held) if not h],
                [y for y, h in zip(labels, held) if not h],
            )
            probs[held] = fitted.predict_proba([t for t, h in zip(texts, held) if h])
        out[model.name] = probs
    return out, (
        f"fitted by stratified {folds}-fold cross-validation on this file (each fold's majority "
        f"class and AFINN thresholds come from the other folds; seed {seed})"
    )


def evaluate_labelled(
    data: LabelledData,
    *,
    model: Any = None,
    references: str = "cv",
    seed: int = 0,
    batch_size: int = 256,
    progress: bool = False,
) -> dict[str, Any]:
    """:func:`evaluate_file` on already-read examples."""
    require(TRAIN_MODULES, "train", "stance evaluate")
    from stance.api import load_classifier
    from stance.backends.base import softmax
    from stance.evaluation.calibration import reliability_bins
    from stance.evaluation.metrics import score

    if not data.texts:
        raise InputFileError(
            data.path or Path("-"),
            f"no row has both a text ({data.text_column!r}) and a label ({data.label_column!r})"
            + (f"; {data.skipped_sentence()}" if data.skipped else ""),
        )
    classifier = model if hasattr(model, "predict_proba") else load_classifier(model)
    metadata = classifier.metadata
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(data.texts), unit="text", desc="classify", leave=False)
    chunks = []
    for start in range(0, len(data.texts), batch_size):
        batch = data.texts[start : start + batch_size]
        chunks.append(classifier.logits(batch))
        if bar is not None:
            bar.update(len(batch))
    if bar is not None:
        bar.close()
    logits = np.vstack(chunks)
    temperature = float(getattr(classifier, "temperature", 1.0))
    probs = softmax(logits / temperature)
    uncalibrated = softmax(logits) if temperature != 1.0 else None
    y_pred = [LABELS[i] for i in probs.argmax(axis=1)]
    metrics = score(data.labels, y_pred, probs, uncalibrated, seed=seed)
    y = [LABEL2ID[label] for label in data.labels]
    reliability = [
        {"lower": lower, "confidence": conf, "accuracy": acc, "count": count}
        for lower, conf, acc, count in reliability_bins(probs, y)
    ]
    reference_probs, fitted_how = reference_probabilities(data, references, seed)
    reference_rows = {
        name: score(data.labels, [LABELS[i] for i in p.argmax(axis=1)], p, seed=seed)
        for name, p in reference_probs.items()
    }
    name = str(metadata.get("name") or (classifier.path.name if classifier.path else "model"))
    return {
        "file": None if data.path is None else str(data.path),
        "model": name,
        "model_path": None if classifier.path is None else str(classifier.path),
        "backend": metadata.get("backend"),
        "rows": data.summary(),
        "metrics": metrics,
        "temperature": temperature,
        "reliability": reliability,
        "references": reference_rows,
        "references_fitted": fitted_how,
        "seed": seed,
        "predictions": {
            "where": data.positions,
            "y_true": data.labels,
            "y_pred": y_pred,
            "probs": probs.round(6).tolist(),
        },
    }


def evaluate_file(
    path: str | os.PathLike[str],
    *,
    text_column: str = "text",
    label_column: str = "label",
    label_map: str | Mapping[str, str] | None = None,
    model: Any = None,
    output: str | os.PathLike[str] | None = None,
    references: str = "cv",
    seed: int = 0,
    progress: bool = False,
    delimiter: str | None = None,
    encoding: str | None = None,
    sheet: str | int | None = None,
) -> dict[str, Any]:
    """Evaluate a model on your own labelled file (CSV, TSV, JSON Lines, Parquet or Excel).

    Args:
        path: The file, with a text column and a label column.
        text_column: Column (or JSON field) holding the text.
        label_column: Column holding the gold label.
        label_map: Your label values → ``against``/``for``/``neutral``, as
            ``"imod=against,for=for,neutral=neutral"`` or a dict.
        model: ``None``/``"baseline"``, ``"bert"``, a model directory or a loaded classifier.
        output: If given, a folder to write ``<model>-<file>.md``, ``.json``,
            ``-confusion.png`` and ``-reliability.png`` into.
        references: ``"cv"`` (fit the reference rows by 5-fold cross-validation on the file)
            or ``"project"`` (fit them on the project's corpus); see the module docstring.
        seed: Seed of the bootstrap interval and the reference folds.
        progress: Show a progress bar on stderr.
        delimiter, encoding, sheet: How to read the file (by default detected; see
            :func:`stance.io.open_reader`).

    Returns:
        A JSON-ready dict: ``rows`` (read, used, skipped with line and reason, label counts),
        ``metrics`` (``accuracy``, ``macro_f1``, ``macro_f1_ci95``, ``per_class``, ``f_avg``,
        ``confusion``, ``ece``), ``reliability``, ``references`` (the same metrics per
        reference), ``references_fitted`` (how), ``predictions`` and, with ``output``, ``files``.

    Raises:
        InputFileError: unreadable file, missing column, unknown labels (listed), no usable row.
        MissingDependencyError: scikit-learn, scipy or matplotlib are missing.

    >>> import pathlib, tempfile
    >>> gold = pathlib.Path(tempfile.mkdtemp()) / "gold.csv"
    >>> _ = gold.write_text("text,label\\nLuk jobcentrene!,against\\nTak til jobcentret,for\\n")
    >>> result = evaluate_file(gold)
    >>> result["rows"]["rows_used"], sorted(result["metrics"])[:3]
    (2, ['accuracy', 'confusion', 'ece'])
    """
    data = read_labelled(
        path,
        text_column=text_column,
        label_column=label_column,
        label_map=label_map,
        delimiter=delimiter,
        encoding=encoding,
        sheet=sheet,
    )
    result = evaluate_labelled(
        data, model=model, references=references, seed=seed, progress=progress
    )
    if output is not None:
        result["files"] = [str(p) for p in write_file_report(result, Path(output))]
    return result


# ---- reports -----------------------------------------------------------------------------


def _f(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def summary_rows(result: dict[str, Any]) -> list[list[str]]:
    """The model's row and the reference rows of the summary table."""
    rows = []
    named = [(f"**{result['model']}**", result["metrics"]), *result["references"].items()]
    for name, m in named:
        low, high = m["macro_f1_ci95"]
        rows.append(
            [
                name,
                f"{m['macro_f1']:.3f} [{low:.3f}, {high:.3f}]",
                _f(m["accuracy"]),
                _f(m["f_avg"]),
                *(_f(m["per_class"][label]["f1"]) for label in LABELS),
                _f(m.get("ece")),
            ]
        )
    return rows


SUMMARY_HEADER = [
    "model",
    "macro-F1 [95% CI]",
    "accuracy",
    "F_avg",
    *(f"F1 {label}" for label in LABELS),
    "ECE",
]


def render_file_report(result: dict[str, Any], command: str | None = None) -> str:
    """The Markdown report of an evaluation on a user's file."""
    from stance.evaluation.report import _confusion_table, _per_class_table, markdown_table

    rows = result["rows"]
    metrics = result["metrics"]
    counts = ", ".join(f"{label} {n}" for label, n in rows["label_counts"].items())
    parts = [
        f"# Evaluation of `{result['model']}` on `{Path(str(result['file'])).name}`",
        "",
        (f"Made by `{command}`. " if command else "")
        + f"Bootstrap 95 % intervals over texts (1,000 resamples, seed {result['seed']}).",
        "",
        f"Rows: {rows['rows_read']} read, {rows['rows_used']} evaluated ({counts}); "
        f"{rows['rows_skipped']} left out ({rows['missing_text']} without a text, "
        f"{rows['missing_label']} without a label).",
    ]
    if rows["label_map"]:
        mapped = ", ".join(f"`{k}` → `{v}`" for k, v in rows["label_map"].items())
        parts += ["", f"Labels mapped: {mapped}."]
    parts += [
        "",
        "## Summary",
        "",
        markdown_table(SUMMARY_HEADER, summary_rows(result)),
        "",
        "Macro-F1 averages the labels that occur in the file's gold labels; F_avg (the "
        "SemEval-2016 stance score, mean F1 of `for` and `against`) is n/a when either is "
        f"absent. Reference rows: {result['references_fitted']}.",
        "",
        f"## `{result['model']}` per class (n = {metrics['n']})",
        "",
        _per_class_table(metrics),
        "",
        _confusion_table(metrics),
        "",
        f"Expected calibration error (10 bins): {_f(metrics.get('ece'))}"
        + (
            f" (before temperature scaling: {_f(metrics['ece_uncalibrated'])}, "
            f"T = {result['temperature']:.3f})"
            if "ece_uncalibrated" in metrics
            else ""
        )
        + ".",
    ]
    bins = result["reliability"]
    if bins:
        parts += [
            "",
            markdown_table(
                ["score band", "mean score", "accuracy", "texts"],
                [
                    [
                        f"{b['lower']:.1f}–{b['lower'] + 0.1:.1f}",
                        _f(b["confidence"]),
                        _f(b["accuracy"]),
                        str(b["count"]),
                    ]
                    for b in bins
                ],
            ),
        ]
    if rows["skipped"]:
        listed = "; ".join(f"{s['where']}: {s['reason']}" for s in rows["skipped"])
        more = rows["rows_skipped"] - len(rows["skipped"])
        parts += ["", "## Rows left out", "", listed + (f"; and {more} more." if more else ".")]
    parts.append("")
    return "\n".join(parts)


def plot_file_confusion(result: dict[str, Any], path: Path) -> None:
    """A confusion-matrix PNG of the model on the file."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from stance.evaluation.report import draw_confusion

    fig, ax = plt.subplots(figsize=(4.4, 3.9))
    title = f"{result['model']} on {Path(str(result['file'])).name}"
    draw_confusion(ax, result["metrics"]["confusion"], title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_file_reliability(result: dict[str, Any], path: Path) -> None:
    """A reliability diagram of the model's scores on the file."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    bins = result["reliability"]
    fig, ax = plt.subplots(figsize=(4.5, 4.2))
    ax.plot([0, 1], [0, 1], ls="--", color="grey", lw=1)
    ax.plot([b["confidence"] for b in bins], [b["accuracy"] for b in bins], marker="o")
    for b in bins:
        ax.annotate(
            str(b["count"]),
            (b["confidence"], b["accuracy"]),
            fontsize=7,
            xytext=(3, 3),
            textcoords="offset points",
        )
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("confidence (score of the predicted label)")
    ax.set_ylabel("accuracy")
    ax.set_title(f"{result['model']}: reliability, ECE {result['metrics']['ece']:.3f}", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def write_file_report(
    result: dict[str, Any], out_dir: Path, command: str | None = None
) -> list[Path]:
    """Write ``<model>-<file>.md``, ``.json``, ``-confusion.png``, ``-reliability.png``."""
    require(["matplotlib"], "train", "the evaluation's plots")
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"{result['model']}-{Path(str(result['file'])).stem}"
    paths = [
        out_dir / f"{stem}.md",
        out_dir / f"{stem}.json",
        out_dir / f"{stem}-confusion.png",
        out_dir / f"{stem}-reliability.png",
    ]
    paths[0].write_text(render_file_report(result, command), encoding="utf-8")
    body = {**result, **({"command": command} if command else {})}
    body["files"] = [str(p) for p in paths]
    paths[1].write_text(json.dumps(body, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    plot_file_confusion(result, paths[2])
    plot_file_reliability(result, paths[3])
    return paths
