"""The training registry: for each backend, how to train it (the build-time twin of
:mod:`stance.backends.registry`).

Each entry names a module attribute holding a :class:`Trainer`, imported on first use, so
naming a backend imports neither scikit-learn nor torch. Evaluation
(:func:`stance.evaluation.harness.training_fit_function`), the authored-text ablation and
``stance train`` find a backend's recipe here instead of branching on its name.

>>> trainer_for("baseline").config.__name__
'BaselineConfig'
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from stance.errors import ConfigError

TRAINERS: dict[str, str] = {
    "baseline": "stance.training.baseline:TRAINER",
    "bert": "stance.training.bert:TRAINER",
    "e5": "stance.training.e5head:TRAINER",
}
"""Backend name -> ``"module:ATTRIBUTE"`` of its :class:`Trainer`."""

FitFn = Callable[[Any], Any]
"""A training set (:class:`stance.data.trainset.TrainingSet`) in, a fitted classifier out."""


@dataclass(frozen=True)
class Trainer:
    """How one backend is trained.

    Attributes:
        config: Its hyperparameter dataclass (with ``from_dict``).
        fit: ``fit(texts, labels, config, *, seed, sample_weight, groups, origins, metadata,
            base_model, device)`` -> a fitted classifier; ``groups``/``origins`` drive
            calibration where the backend calibrates itself, ``base_model``/``device`` apply to
            backends that fine-tune a pretrained encoder.
        refit: ``refit(metadata, *, seed=None, calibrate=True)`` -> a fit function that
            re-runs a saved model's recipe on a training set (for cross-validation).
        adapt_config: ``adapt_config(shipped_metadata, changes)`` -> the config ``stance
            train`` uses: the shipped model's hyperparameters with ``changes``.
        require: Raises :class:`stance.errors.MissingDependencyError` when the extra the
            backend trains with is missing.
        libraries: Distributions whose versions a trained model records.
        weighting: How a text's weight enters the loss, for reports.
        fine_tunes_base: Training starts from a pretrained encoder (``base_model``).
        cv_proxy: A cheaper backend whose cross-validation chooses ``stance train``'s weight
            for this one (``None``: its own).
        calibrates_from_cv: ``stance train`` fits the temperature on the cross-validated
            predictions of the user's texts (else the fit calibrates itself).
        single_threaded: Fits are small and run best with one BLAS thread.
    """

    config: type
    fit: Callable[..., Any]
    refit: Callable[..., FitFn]
    adapt_config: Callable[[dict[str, Any], dict[str, Any] | None], Any]
    require: Callable[[], object]
    libraries: tuple[str, ...]
    weighting: str
    fine_tunes_base: bool = False
    cv_proxy: str | None = None
    calibrates_from_cv: bool = False
    single_threaded: bool = False


def names() -> tuple[str, ...]:
    """The backends that can be trained."""
    return tuple(TRAINERS)


def trainer_for(backend: object) -> Trainer:
    """The :class:`Trainer` of ``backend``.

    Raises:
        ConfigError: no trainer is registered for it.
    """
    target = TRAINERS.get(str(backend)) if isinstance(backend, str) else None
    if target is None:
        raise ConfigError(f"backend must be one of {names()}, got {backend!r}")
    module, _, attribute = target.partition(":")
    trainer: Trainer = getattr(importlib.import_module(module), attribute)
    return trainer
