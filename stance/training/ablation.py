"""How much the authored texts help: with / without, and a learning curve over fractions.

For each backend, fraction of the authored texts and seed, the backend's shipped training recipe
is run (hyperparameters from its model directory) and scored on the test split and by
leave-one-document-out CV, exactly as in :mod:`stance.evaluation`. The seed picks the authored
subset (label-stratified) and seeds training.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Container, Sequence
from typing import Any

from stance.data.trainset import Example, TrainingSet, build_training_set
from stance.evaluation.harness import leave_one_document_out, predict_examples
from stance.evaluation.metrics import macro_f1

logger = logging.getLogger(__name__)


def recipe(backend: str, metadata: dict[str, Any], seed: int) -> Callable[[TrainingSet], Any]:
    """The backend's training recipe with ``seed`` (calibration off: it cannot change F1)."""
    from stance.training.registry import trainer_for

    return trainer_for(backend).refit(metadata, seed=seed, calibrate=False)


def data_id(corpus: Sequence[Example], authored: Sequence[Example]) -> str:
    """A short fingerprint of the training data an ablation record was made on."""
    import hashlib

    digest = hashlib.sha256()
    for example in sorted([*corpus, *authored], key=lambda e: e.id):
        digest.update(f"{example.id}\t{example.label}\t{example.split}\t{example.text}\n".encode())
    return digest.hexdigest()[:16]


def recipe_id(metadata: dict[str, Any]) -> str:
    """A short fingerprint of a model's training recipe (its hyperparameters)."""
    import hashlib
    import json

    text = json.dumps(metadata.get("hyperparameters", {}), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def still_valid(
    record: dict[str, Any],
    metadata: dict[str, Any],
    corpus: Sequence[Example],
    authored: Sequence[Example],
) -> bool:
    """Whether a saved record was made with this recipe on this data (records without the
    fingerprints are from before they were kept, and count as stale)."""
    return record.get("recipe") == recipe_id(metadata) and record.get("data") == data_id(
        corpus, authored
    )


def run(
    backend: str,
    metadata: dict[str, Any],
    corpus: Sequence[Example],
    authored: Sequence[Example],
    fractions: Sequence[float],
    seeds: Sequence[int],
    log: Callable[[str], None] = print,
    *,
    skip: Container[tuple[float, int]] = (),
    on_record: Callable[[dict[str, Any]], None] | None = None,
    real: Sequence[Example] | None = None,
    lodo: bool = True,
) -> list[dict[str, Any]]:
    """One record per (fraction, seed): test and LODO macro-F1, and with ``real`` (a real dev
    set) its per-kind-mean macro-F1 from the model trained on train + dev; ``lodo=False`` skips
    the cross-validation (``lodo_macro_f1`` is then None).

    Seed-major order (every fraction for the first seed, then the next seed), so a run cut
    short still holds whole learning curves. ``(fraction, seed)`` pairs in ``skip`` are not
    run; ``on_record`` sees each record as soon as it is made (to save progress).
    """
    train_splits = ("train", "dev")
    test = [e for e in corpus if e.split == "test"]
    data = data_id(corpus, authored)
    records = []
    for seed in seeds:
        for fraction in fractions:
            if (fraction, seed) in skip:
                continue
            chosen = build_training_set(
                [], authored, authored_fraction=fraction, seed=seed
            ).examples
            fit = recipe(backend, metadata, seed)
            training = TrainingSet([e for e in corpus if e.split in train_splits] + chosen)
            model = fit(training)
            test_predictions = predict_examples(model, test)
            record = {
                "backend": backend,
                "fraction": fraction,
                "seed": seed,
                "n_authored": len(chosen),
                "data": data,
                "recipe": recipe_id(metadata),
                "test_macro_f1": macro_f1(test_predictions.y_true, test_predictions.y_pred),
                "lodo_macro_f1": None,
            }
            if real is not None:
                from stance.evaluation.realdev import kind_mean_macro_f1

                record["real_dev_macro_f1"] = kind_mean_macro_f1(
                    real, predict_examples(model, real).y_pred
                )
            if lodo:
                pooled = leave_one_document_out(fit, corpus, chosen)
                record["lodo_macro_f1"] = macro_f1(pooled.y_true, pooled.y_pred)
            records.append(record)
            if on_record is not None:
                on_record(record)
            shown = ", ".join(
                f"{k.removesuffix('_macro_f1')} {v:.3f}"
                for k, v in record.items()
                if k.endswith("_macro_f1") and v is not None
            )
            log(f"{backend} fraction {fraction:.2f} seed {seed}: {len(chosen)} authored, {shown}")
    return records
