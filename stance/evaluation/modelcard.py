"""Model cards (``README.md``) of model directories, and ``metrics.json`` of BERT ones."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from stance.evaluation.report import RESULTS_HEADER, markdown_table, results_rows


def _training_command(metadata: dict[str, Any]) -> str:
    hyper = metadata.get("hyperparameters", {})
    parts = [
        "python training/train_bert.py",
        f"--base-model {metadata.get('base_model')}",
        f"--epochs {hyper.get('epochs')}",
        f"--lr {hyper.get('lr')}",
        f"--batch-size {hyper.get('batch_size')}",
        f"--max-length {hyper.get('max_length')}",
        f"--seed {metadata.get('seed')}",
    ]
    if not metadata.get("training_data", {}).get("n_authored"):
        parts.append("--without-authored")
    if metadata.get("epoch_choice") == "last":
        parts.append("--keep-last-epoch")
    return " ".join(parts)


def _epoch_sentence(metadata: dict[str, Any]) -> str:
    if metadata.get("epoch_choice") == "last":
        return (
            f"The last epoch ({metadata.get('best_epoch')}) was kept: the epoch count was chosen "
            "on the real dev set (`reports/bert-tuning.md`)."
        )
    return (
        f"The epoch was chosen by macro-F1 on the {metadata.get('dev_size', 'dev')} dev units: "
        f"epoch {metadata.get('best_epoch')}."
    )


def _behaviour(metadata: dict[str, Any]) -> str:
    from stance.data.corpus import repo_root
    from stance.evaluation.realcard import behaviour_section

    return behaviour_section(metadata, repo_root() / "reports")


def write_bert_card(
    path: Path, metadata: dict[str, Any], report: dict[str, Any] | None = None
) -> None:
    """Write ``README.md`` and ``metrics.json`` into a BERT model directory.

    ``report`` is an evaluation-harness result (:func:`stance.evaluation.evaluate_model`); without
    it the card shows the training history only and says how to add the scores.
    """
    data = metadata.get("training_data", {})
    history = metadata.get("history", [])
    history_rows = [
        [
            str(h["epoch"]),
            f"{h['train_loss']:.4f}",
            f"{h.get('dev_macro_f1', float('nan')):.3f}",
            str(h["seconds"]),
        ]
        for h in history
    ]
    if report is not None:
        scores = markdown_table(RESULTS_HEADER, results_rows([report])) + (
            f"\n\nMade by `{report.get('command', 'python training/evaluate.py --model bert')}`. "
            "Test = held-out reader comments; LODO = leave-one-document-out cross-validation "
            "over all corpus units."
        )
    else:
        scores = (
            "Not evaluated yet: run `python training/evaluate.py --model DIR --update-model-card`."
        )
    card = f"""---
language: da
license: mit
library_name: transformers
pipeline_tag: text-classification
tags: [stance, danish, jobcentre]
base_model: {metadata.get("base_model")}
---

# stance: BERT classifier of stance toward Danish jobcentres

Labels: `against`, `for`, `neutral` (the stance a Danish text expresses toward Danish
jobcentres, their staff and ways of working; see `labelled/GUIDELINES.md`).

## Use

```python
from stance import classify

classify("Jobcentret hjalp mig i job.", model="bert")
# or, without stance:
from transformers import pipeline

pipeline("text-classification", model="models/bert")("Jobcentret hjalp mig i job.")
```

Through `stance`, texts longer than {metadata.get("hyperparameters", {}).get("max_length")} tokens
are split into overlapping windows whose probabilities are averaged, and probabilities are
calibrated with a temperature of {metadata.get("calibration", {}).get("temperature", 1.0):.3f}
({metadata.get("calibration", {}).get("method")}). `transformers.pipeline` truncates and does
not calibrate.

## Training

- Base model: `{metadata.get("base_model")}`.
- Data: {data.get("n_corpus")} corpus units (split {data.get("corpus_splits")}) and
  {data.get("n_authored")} authored texts (data SHA-256 `{str(data.get("sha256"))[:16]}…`).
  {_epoch_sentence(metadata)}
- Command: `{_training_command(metadata)}`, on {metadata.get("device")},
  {metadata.get("training_seconds")} s.
- Hyperparameters: `{json.dumps(metadata.get("hyperparameters"))}`.

{markdown_table(["epoch", "train loss", "dev macro-F1", "seconds"], history_rows)}

## Evaluation

{scores}
{_behaviour(metadata)}
## Intended use and limitations

For researchers, journalists and analysts who measure stance toward Danish jobcentres in
Danish text: aggregate counts over many texts, with the scores used to filter uncertain
predictions. Not for judging individual people. The base model is small and was pretrained on
little, mostly technical Danish; the labelled data come from five debate pieces, their reader
comments and texts written for the project, so texts on other topics, other dialects of the
debate and very long documents are out of its experience. Check the baseline
(`models/baseline`), which scores better on real text, before choosing this model.
"""
    (path / "README.md").write_text(card, encoding="utf-8")
    metrics = {
        "history": history,
        "best_epoch": metadata.get("best_epoch"),
        "calibration": metadata.get("calibration"),
    }
    if report is not None:
        metrics["evaluation"] = {name: row for name, row in report["rows"].items()}
        metrics["evaluation_command"] = report.get("command")
    (path / "metrics.json").write_text(json.dumps(metrics, indent=1) + "\n", encoding="utf-8")


AFINN_NOTICE = (
    "Contains information from AFINN-da (Finn Årup Nielsen), which is made available under "
    "the Open Database License (ODbL) v1.0: https://opendatacommons.org/licenses/odbl/1-0/"
)


def write_baseline_card(
    path: Path, metadata: dict[str, Any], report: dict[str, Any] | None = None
) -> None:
    """Write ``README.md`` into a baseline model directory: what it is, how it was trained,
    its scores (from an evaluation-harness ``report``) and the AFINN-da notice."""
    data = metadata.get("training_data", {})
    hyper = metadata.get("hyperparameters", {})
    if report is not None:
        scores = markdown_table(RESULTS_HEADER, results_rows([report])) + (
            f"\n\nMade by `{report.get('command')}`. Real dev = real Danish comments and news "
            "paragraphs about jobcentres (not distributed; see the project README); LODO = "
            "leave-one-document-out cross-validation over all corpus units; test = the held-out "
            "reader comments."
        )
    else:
        scores = "Not evaluated yet: run `python training/evaluate.py --update-model-card`."
    from stance.data.corpus import repo_root
    from stance.evaluation.realcard import real_training_section

    real = real_training_section(metadata, repo_root() / "reports")
    if real:
        scores += (
            "\n\nThese rows are the shipped model itself; LODO retrains the recipe on the "
            "corpus and authored texts only (without the pool). The real dev set served as the "
            "second opinion when the recipe was chosen (see below).\n\n" + real
        )
    blocks = [f"word 1–{hyper.get('word_ngram_max')}-grams"]
    blocks.append(f"character {hyper.get('char_ngram_min')}–{hyper.get('char_ngram_max')}-grams")
    if hyper.get("domain_weight"):
        blocks.append(f"the domain knowledge block (weight {hyper.get('domain_weight')})")
    if hyper.get("lexicon") and hyper.get("lexicon_weight"):
        blocks.append(f"AFINN-da lexicon scores (weight {hyper.get('lexicon_weight')})")
    card = f"""# stance: baseline classifier of stance toward Danish jobcentres

Labels: `against`, `for`, `neutral` (the stance a Danish text expresses toward Danish
jobcentres, their staff and ways of working; see `labelled/GUIDELINES.md`). The default model
of `stance`: `classify(text)` uses it.

## What it is

Hashed TF-IDF features — {", ".join(blocks)} — feeding a logistic regression (C =
{hyper.get("C")}, class weights {hyper.get("class_weight")}). Model format
{metadata.get("format_version")}: the arrays in `model.safetensors`, the featuriser settings in
`metadata.json`; nothing in this directory is executable or unpickled.

## Training

- Data: {data.get("n_corpus")} corpus units (split {data.get("corpus_splits")}) and
  {data.get("n_authored")} authored texts (data SHA-256 `{str(data.get("sha256"))[:16]}…`).
- Command: `python training/train_baseline.py` (seed {metadata.get("seed")}); the
  hyperparameters are `BaselineConfig`'s defaults, chosen on the real dev set by
  `python training/tune_baseline.py` (`reports/baseline-tuning.md`).
- Hyperparameters: `{json.dumps(hyper)}`.

## Evaluation

{scores}

## Intended use and limitations

For researchers, journalists and analysts who measure stance toward Danish jobcentres in
Danish text: aggregate counts over many texts, with the scores used to filter uncertain
predictions. Not for judging individual people. Its scores on real text are in the table
above; check it on a sample of your own labelled texts (`stance evaluate --input`).

## Licence

The model: MIT. {AFINN_NOTICE}. The domain knowledge block reads the AFINN-da word list
installed by the `afinn` package; the project's own stance lexicon
(`stance/features/domain_lexicon.tsv`) is MIT.
"""
    (path / "README.md").write_text(card, encoding="utf-8")
