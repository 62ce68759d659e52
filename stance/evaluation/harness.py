"""The evaluation harness: the held-out test split and leave-one-document-out cross-validation.

Every model is judged the same way:

1. **test**: the model as saved, on the held-out reader comments (``split == "test"``);
2. **LODO CV**: the model's own training recipe (backend and hyperparameters from its
   metadata) re-run five times, each time on four source documents (all their units) plus the
   authored texts the model was trained with, predicting the fifth; predictions are pooled.

Reference rows (majority class, sentiment as stance) are fitted on the corpus ``train`` split
for the test row and on the four training documents in each CV fold.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from stance.data.trainset import Example, TrainingSet
from stance.evaluation.metrics import score
from stance.labels import LABELS

logger = logging.getLogger(__name__)


class ProbabilisticModel(Protocol):
    def predict_proba(self, texts: Sequence[str]) -> np.ndarray: ...


FitFn = Callable[[TrainingSet], Any]


@dataclass
class Predictions:
    """Gold labels and predicted probabilities for a set of examples."""

    examples: list[Example]
    probs: np.ndarray
    uncalibrated: np.ndarray | None = None

    @property
    def y_true(self) -> list[str]:
        return [e.label for e in self.examples]

    @property
    def y_pred(self) -> list[str]:
        return [LABELS[i] for i in self.probs.argmax(axis=1)]

    def score(self, seed: int = 0) -> dict[str, Any]:
        return score(self.y_true, self.y_pred, self.probs, self.uncalibrated, seed=seed)


def _probabilities(model: Any, texts: list[str]) -> tuple[np.ndarray, np.ndarray | None]:
    if hasattr(model, "temperature"):
        return model.predict_proba(texts), model.predict_proba(texts, calibrated=False)
    return model.predict_proba(texts), None


def predict_examples(model: Any, examples: Sequence[Example]) -> Predictions:
    """Run ``model`` on ``examples`` (calibrated and, where it applies, uncalibrated)."""
    probs, raw = _probabilities(model, [e.text for e in examples])
    return Predictions(list(examples), probs, raw)


def leave_one_document_out(
    fit: FitFn,
    corpus: Sequence[Example],
    authored: Sequence[Example],
    *,
    progress: bool = False,
) -> Predictions:
    """Train on four source documents (all splits) plus ``authored``, predict the fifth; pool."""
    documents = sorted({e.group for e in corpus})
    order: list[Example] = []
    probs: list[np.ndarray] = []
    raws: list[np.ndarray | None] = []
    for document in documents:
        train = [e for e in corpus if e.group != document] + list(authored)
        held = [e for e in corpus if e.group == document]
        logger.info("LODO fold %s: %d training texts, %d held out", document, len(train), len(held))
        if progress:
            import sys

            print(f"  fold {document}: training on {len(train)} texts", file=sys.stderr)
        model = fit(TrainingSet(train))
        predictions = predict_examples(model, held)
        order.extend(held)
        probs.append(predictions.probs)
        raws.append(predictions.uncalibrated)
    uncalibrated = None if any(r is None for r in raws) else np.vstack(raws)  # type: ignore[arg-type]
    return Predictions(order, np.vstack(probs), uncalibrated)


def leave_writers_out(
    fit: FitFn,
    corpus: Sequence[Example],
    authored: Sequence[Example],
    *,
    n_folds: int | None = None,
    progress: bool = False,
) -> Predictions:
    """Train on all ``corpus`` units plus the authored texts of the other writers, predict the
    held-out writers' texts; pool. ``n_folds=None`` holds out one writer at a time; a number
    groups the writers into that many folds (in order of their ids)."""
    writers = sorted({e.group for e in authored})
    folds = (
        [[w] for w in writers]
        if n_folds is None
        else [writers[i::n_folds] for i in range(min(n_folds, len(writers)))]
    )
    order: list[Example] = []
    probs: list[np.ndarray] = []
    for held_writers in folds:
        train = list(corpus) + [e for e in authored if e.group not in held_writers]
        held = [e for e in authored if e.group in held_writers]
        if progress:
            import sys

            print(f"  writers {held_writers}: training on {len(train)} texts", file=sys.stderr)
        predictions = predict_examples(fit(TrainingSet(train)), held)
        order.extend(held)
        probs.append(predictions.probs)
    return Predictions(order, np.vstack(probs))


def reference_models() -> list[Any]:
    """Fresh instances of the reference classifiers."""
    from stance.evaluation.reference import MajorityClassifier, SentimentAsStance

    return [MajorityClassifier(), SentimentAsStance()]


def fit_reference(model: Any) -> FitFn:
    """A fit function for a reference model: corpus examples only (authored are ignored)."""

    def fit(training: TrainingSet) -> Any:
        examples = [e for e in training.examples if e.origin == "corpus"]
        return type(model)().fit([e.text for e in examples], [e.label for e in examples])

    return fit


def training_fit_function(metadata: dict[str, Any]) -> FitFn:
    """The training recipe of a saved model (backend, hyperparameters, seed) as a fit function."""
    from stance.training.registry import trainer_for

    return trainer_for(metadata.get("backend")).refit(metadata)


def authored_for(metadata: dict[str, Any], authored: Sequence[Example]) -> list[Example]:
    """The authored examples a model was trained with, per its metadata."""
    from stance.data.trainset import build_training_set

    data = metadata.get("training_data", {})
    if not data.get("n_authored"):
        return []
    fraction = float(data.get("authored_fraction", 1.0))
    chosen = build_training_set(
        [], authored, authored_fraction=fraction, seed=int(metadata.get("seed", 0))
    )
    return chosen.examples


def evaluate_model(
    model: Any = None,
    *,
    cv: bool = True,
    seed: int = 0,
    progress: bool = False,
    real_dev: str | Path | None = None,
    writers: bool = False,
    writer_folds: int | None = None,
) -> dict[str, Any]:
    """Evaluate a model (name, path or loaded classifier) on the test split, by LODO CV, and
    optionally on a real dev set (``real_dev``, see :mod:`stance.evaluation.realdev`) and by
    leave-one-writer-out CV over the authored texts (``writers``; ``writer_folds`` groups the
    writers into that many folds, for slow backends).

    Returns a JSON-ready dictionary with the model's rows and the reference rows. Real dev
    texts are never stored in it: only scores.
    """
    from stance.api import load_classifier
    from stance.data.trainset import load_examples

    classifier = model if hasattr(model, "predict_proba") else load_classifier(model)
    metadata = classifier.metadata
    corpus, authored, _ = load_examples()
    used_authored = authored_for(metadata, authored)
    test = [e for e in corpus if e.split == "test"]
    train = [e for e in corpus if e.split == "train"]

    rows: dict[str, dict[str, Any]] = {}
    name = str(metadata.get("name", metadata.get("backend")))
    rows[name] = {"test": predict_examples(classifier, test).score(seed)}
    references = [
        reference.fit([e.text for e in train], [e.label for e in train])
        for reference in reference_models()
    ]
    for fitted in references:
        rows[fitted.name] = {"test": predict_examples(fitted, test).score(seed)}
    if real_dev is not None:
        from stance.evaluation.realdev import kind_scores, read_real_dev

        real = read_real_dev(real_dev)
        predicted = predict_examples(classifier, real)
        rows[name]["real_dev"] = kind_scores(real, predicted.y_pred, predicted.probs, seed)
        for fitted in references:
            ref = predict_examples(fitted, real)
            rows[fitted.name]["real_dev"] = kind_scores(real, ref.y_pred, None, seed)
    if writers and used_authored:
        train_dev = [e for e in corpus if e.split in ("train", "dev")]
        lowo = leave_writers_out(
            training_fit_function(metadata),
            train_dev,
            used_authored,
            n_folds=writer_folds,
            progress=progress,
        )
        rows[name]["writers"] = {**lowo.score(seed), "folds": writer_folds or "one per writer"}
    lodo_predictions = None
    if cv:
        lodo_predictions = leave_one_document_out(
            training_fit_function(metadata), corpus, used_authored, progress=progress
        )
        rows[name]["lodo"] = lodo_predictions.score(seed)
        for reference in reference_models():
            rows[reference.name]["lodo"] = leave_one_document_out(
                fit_reference(reference), corpus, []
            ).score(seed)
    return {
        "model": name,
        "path": str(classifier.path) if classifier.path else None,
        "real_dev": None if real_dev is None else Path(real_dev).name,
        "backend": metadata.get("backend"),
        "training_data": metadata.get("training_data"),
        "seed": seed,
        "rows": rows,
        "lodo_predictions": None
        if lodo_predictions is None
        else {
            "ids": [e.id for e in lodo_predictions.examples],
            "y_true": lodo_predictions.y_true,
            "probs": lodo_predictions.probs.round(6).tolist(),
            "uncalibrated": None
            if lodo_predictions.uncalibrated is None
            else lodo_predictions.uncalibrated.round(6).tolist(),
        },
    }
