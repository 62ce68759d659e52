"""Choosing hyperparameters: on a real dev set, by cross-validation on train + dev, never test.

Two scores for a baseline configuration:

- ``real_dev_score``: the model trained on every training text (corpus train + dev units and
  the authored texts) predicts a real dev set (:mod:`stance.evaluation.realdev`); the score is
  the mean over kinds (comments, article paragraphs) of the macro-F1. This is the one that
  chooses: the project's own yardsticks were shown to rank variants against real text.
- ``cv_score``: the macro-F1 of pooled leave-one-document-out predictions over the corpus
  ``train`` and ``dev`` units, with the authored texts in training in every fold (the secondary
  check, and the only score without a real dev set).

The search is coordinate-wise: starting from the defaults, each hyperparameter in turn takes
the value that scores best while the others stay fixed, for ``rounds`` passes.
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
    "domain_weight": (0.0, 0.25, 0.5, 1.0, 2.0),
    "lexicon_weight": (0.0, 0.25, 0.5, 1.0, 2.0),
    "C": (1.0, 3.0, 10.0, 30.0, 100.0),
    "char_ngram_min": (1, 2, 3),
    "char_ngram_max": (4, 5, 6),
    "word_ngram_max": (1, 2, 3),
    "class_weight": ("balanced", None),
}
"""Searched in this order: the feature blocks first (they change the model most), then the
regularisation and the n-gram ranges."""

ScoreFn = Callable[[BaselineConfig], float]


def real_dev_predictions(
    config: BaselineConfig,
    training: Sequence[Example],
    real: Sequence[Example],
    seed: int = 0,
) -> list[str]:
    """Labels of ``real`` from ``config`` trained on ``training`` (calibration off)."""
    from stance.training.baseline import fit_pipeline

    pipeline = fit_pipeline(
        [e.text for e in training],
        [e.label for e in training],
        replace(config, calibrate=False),
        seed,
    )
    return [str(label) for label in pipeline.predict([e.text for e in real])]


def real_dev_score(
    config: BaselineConfig,
    training: Sequence[Example],
    real: Sequence[Example],
    seed: int = 0,
) -> float:
    """Mean over kinds of the real dev macro-F1 of ``config`` trained on ``training``."""
    from stance.evaluation.realdev import kind_mean_macro_f1

    return kind_mean_macro_f1(real, real_dev_predictions(config, training, real, seed))


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
    score: ScoreFn,
    *,
    start: BaselineConfig | None = None,
    space: dict[str, Sequence[Any]] | None = None,
    rounds: int = 2,
    log: Callable[[str], None] = print,
    secondary: dict[str, ScoreFn] | None = None,
) -> tuple[BaselineConfig, list[dict[str, Any]]]:
    """Coordinate-wise search maximising ``score``; returns the best config and every trial.

    Each trial records ``score`` (and every function in ``secondary``, which never decides).
    """
    space = SEARCH_SPACE if space is None else space
    best = start or BaselineConfig()
    cache: dict[tuple, float] = {}
    trials: list[dict[str, Any]] = []

    def evaluate(config: BaselineConfig) -> float:
        key = tuple(sorted(asdict(config).items()))
        if key not in cache:
            cache[key] = score(config)
            extra = {name: fn(config) for name, fn in (secondary or {}).items()}
            trials.append({**asdict(config), "score": cache[key], **extra})
            shown = "".join(f"  {n} {v:.4f}" for n, v in extra.items())
            log(f"score {cache[key]:.4f}{shown}  {asdict(config)}")
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
    held_logits: list[tuple[np.ndarray, int]] = []
    held_y: list[int] = []
    temperatures: dict[str, list[float]] = {"none": [], **{m: [] for m in CALIBRATION_DATA}}
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


def real_dev_calibration(
    config: BaselineConfig, training: TrainingSet, real: Sequence[Example], seed: int = 0
) -> dict[str, dict[str, float]]:
    """Calibration on a real dev set of ``config`` trained on ``training``, for each way of
    fitting the temperature (``none`` and each of :data:`CALIBRATION_DATA`, fitted on grouped
    out-of-fold logits of the training texts, as :func:`train_baseline` does)."""
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
    pipeline = fit_pipeline(training.texts, training.labels, raw, seed)
    logits = pipeline.decision_function([e.text for e in real])
    y_real = np.array([LABEL2ID[e.label] for e in real])
    oof = out_of_fold_logits(training.texts, training.labels, training.groups, raw, seed)
    y = np.array([LABEL2ID[label] for label in training.labels])
    results = {}
    for method in ("none", *CALIBRATION_DATA):
        if method == "none":
            temperature = 1.0
        else:
            rows = calibration_rows(replace(raw, calibration_data=method), training.origins, len(y))
            temperature = fit_temperature(oof[rows], y[rows])
        probs = softmax(logits / temperature)
        results[method] = {
            "ece": expected_calibration_error(probs, y_real),
            "nll": float(-np.log(probs[np.arange(len(y_real)), y_real] + 1e-12).mean()),
            "mean_temperature": float(temperature),
        }
    return results


def bert_real_dev_curve(
    base_model: str,
    config: Any,
    training: Sequence[Example],
    real: Sequence[Example],
    *,
    seed: int = 0,
    log: Callable[[str], None] = print,
) -> list[dict[str, float]]:
    """Real dev scores after each fine-tuning epoch of one run on ``training``: per epoch the
    mean over kinds of the macro-F1 (``kind_mean``) and each kind's macro-F1."""
    from stance.evaluation.realdev import REAL_KINDS, kind_mean_macro_f1
    from stance.labels import LABELS
    from stance.training.bert import fine_tune

    curve: list[dict[str, float]] = []

    def record(epoch: int, classifier: Any) -> None:
        logits = classifier._logits([e.text for e in real])
        predicted = [LABELS[int(i)] for i in logits.argmax(axis=1)]
        row = {"epoch": epoch, "kind_mean": kind_mean_macro_f1(real, predicted)}
        for kind in REAL_KINDS:
            idx = [i for i, e in enumerate(real) if e.group == kind]
            row[kind] = macro_f1([real[i].label for i in idx], [predicted[i] for i in idx])
        curve.append(row)
        log(f"  {base_model} lr {config.lr}: epoch {epoch} real dev {row['kind_mean']:.3f}")

    fine_tune(
        base_model,
        [e.text for e in training],
        [e.label for e in training],
        config,
        seed=seed,
        progress=False,
        log=lambda _: None,
        on_epoch=record,
    )
    return curve
