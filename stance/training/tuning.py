"""Choosing baseline hyperparameters by cross-validation on train + dev (never test).

The score of a configuration is the macro-F1 of pooled leave-one-document-out predictions over
the corpus ``train`` and ``dev`` units, with the authored texts in training in every fold. The
search is coordinate-wise: starting from the defaults, each hyperparameter in turn takes the
value that scores best while the others stay fixed, for ``rounds`` passes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import asdict, replace
from typing import Any

from stance.data.trainset import Example, TrainingSet
from stance.evaluation.harness import leave_one_document_out
from stance.evaluation.metrics import macro_f1
from stance.training.baseline import BaselineConfig, train_baseline

logger = logging.getLogger(__name__)

SEARCH_SPACE: dict[str, Sequence[Any]] = {
    "C": (1.0, 3.0, 10.0, 30.0, 100.0),
    "char_ngram_min": (1, 2, 3),
    "char_ngram_max": (4, 5, 6),
    "word_ngram_max": (1, 2, 3),
    "lexicon_weight": (0.0, 0.25, 0.5, 1.0, 2.0),
    "class_weight": ("balanced", None),
}


def cv_score(
    config: BaselineConfig, corpus: Sequence[Example], authored: Sequence[Example], seed: int = 0
) -> float:
    """Pooled LODO macro-F1 of ``config`` on ``corpus`` (no calibration: it cannot change F1)."""
    config = replace(config, calibrate=False)

    def fit(training: TrainingSet) -> Any:
        return train_baseline(training.texts, training.labels, config, seed=seed)

    predictions = leave_one_document_out(fit, corpus, authored)
    return macro_f1(predictions.y_true, predictions.y_pred)


def coordinate_search(
    corpus: Sequence[Example],
    authored: Sequence[Example],
    *,
    start: BaselineConfig | None = None,
    space: dict[str, Sequence[Any]] | None = None,
    rounds: int = 2,
    seed: int = 0,
    log: Callable[[str], None] = print,
) -> tuple[BaselineConfig, list[dict[str, Any]]]:
    """Coordinate-wise search; returns the best config and every evaluated trial."""
    space = SEARCH_SPACE if space is None else space
    best = start or BaselineConfig()
    cache: dict[tuple, float] = {}
    trials: list[dict[str, Any]] = []

    def evaluate(config: BaselineConfig) -> float:
        key = tuple(sorted(asdict(config).items()))
        if key not in cache:
            cache[key] = cv_score(config, corpus, authored, seed)
            trials.append({**asdict(config), "cv_macro_f1": cache[key]})
            log(f"cv macro-F1 {cache[key]:.4f}  {asdict(config)}")
        return cache[key]

    best_score = evaluate(best)
    for _ in range(rounds):
        improved = False
        for name, values in space.items():
            for value in values:
                try:
                    candidate = replace(best, **{name: value})
                except ValueError:
                    continue  # e.g. char_ngram_min > char_ngram_max
                candidate_score = evaluate(candidate)
                if candidate_score > best_score + 1e-9:
                    best, best_score, improved = candidate, candidate_score, True
        if not improved:
            break
    return best, trials


def bert_epoch_curve(
    base_model: str,
    config: Any,
    corpus: Sequence[Example],
    authored: Sequence[Example],
    *,
    seed: int = 0,
    log: Callable[[str], None] = print,
) -> list[float]:
    """Pooled leave-one-document-out macro-F1 after each fine-tuning epoch (1 … epochs).

    One fine-tuning run per held-out document; after every epoch the held-out document is
    predicted, so a single pass gives the whole epoch curve.
    """
    from stance.labels import LABELS
    from stance.training.bert import fine_tune

    epochs = range(1, config.epochs + 1)
    predicted: dict[int, dict[str, str]] = {epoch: {} for epoch in epochs}
    for document in sorted({e.group for e in corpus}):
        train = [e for e in corpus if e.group != document] + list(authored)
        held = [e for e in corpus if e.group == document]

        def record(epoch: int, classifier: Any, held: list[Example] = held) -> None:
            logits = classifier._logits([e.text for e in held])
            for example, row in zip(held, logits):
                predicted[epoch][example.id] = LABELS[int(row.argmax())]

        fine_tune(
            base_model,
            [e.text for e in train],
            [e.label for e in train],
            config,
            seed=seed,
            progress=False,
            log=lambda _: None,
            on_epoch=record,
        )
        log(f"  {base_model}: fold {document} done")
    gold = {e.id: e.label for e in corpus}
    ids = sorted(gold)
    return [macro_f1([gold[i] for i in ids], [predicted[e][i] for i in ids]) for e in epochs]


def calibration_comparison(
    config: BaselineConfig, corpus: Sequence[Example], authored: Sequence[Example], seed: int = 0
) -> dict[str, dict[str, float]]:
    """Calibration of pooled LODO predictions on ``corpus`` under each way of fitting the
    temperature: ``none`` (T = 1) and each of :data:`CALIBRATION_DATA`.

    In every fold the temperature is fitted on grouped out-of-fold logits of that fold's
    training data only. Returns per method the expected calibration error, the negative
    log-likelihood and the mean temperature over folds.
    """
    import numpy as np

    from stance.backends.base import softmax
    from stance.evaluation.calibration import expected_calibration_error, fit_temperature
    from stance.labels import LABEL2ID
    from stance.training.baseline import (
        CALIBRATION_DATA,
        calibration_rows,
        fit_pipeline,
        out_of_fold_logits,
    )

    raw = replace(config, calibrate=False)
    held_logits, held_y = [], []
    temperatures: dict[str, list[float]] = {"none": []} | {m: [] for m in CALIBRATION_DATA}
    for document in sorted({e.group for e in corpus}):
        train = TrainingSet([e for e in corpus if e.group != document] + list(authored))
        held = [e for e in corpus if e.group == document]
        pipeline = fit_pipeline(train.texts, train.labels, raw, seed)
        fold_logits = pipeline.decision_function([e.text for e in held])
        oof = out_of_fold_logits(train.texts, train.labels, train.groups, raw, seed)
        y = np.array([LABEL2ID[label] for label in train.labels])
        for method in temperatures:
            if method == "none":
                temperatures[method].append(1.0)
                continue
            rows = calibration_rows(replace(raw, calibration_data=method), train.origins, len(y))
            temperatures[method].append(fit_temperature(oof[rows], y[rows]))
        held_logits.append((fold_logits, len(temperatures["none"]) - 1))
        held_y.extend(LABEL2ID[e.label] for e in held)
        fold_ts = {m: t[-1] for m, t in temperatures.items()}
        logger.info("calibration fold %s: temperatures %s", document, fold_ts)
    y_all = np.array(held_y)
    results = {}
    for method, ts in temperatures.items():
        probs = np.vstack([softmax(logits / ts[i]) for logits, i in held_logits])
        results[method] = {
            "ece": expected_calibration_error(probs, y_all),
            "nll": float(-np.log(probs[np.arange(len(y_all)), y_all] + 1e-12).mean()),
            "mean_temperature": float(np.mean(ts)),
        }
    return results
