"""Self-describing model directories: where they are, and their ``metadata.json``.

Every model directory holds ``metadata.json`` with a format version, the backend, the labels,
library versions, a training-data fingerprint, hyperparameters and scores. It is checked on load.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, TypeVar

from stance.errors import ConfigError, ModelError
from stance.labels import LABELS

FORMAT_VERSION = 2
"""The newest model directory format (the baseline's arrays-only format)."""
FORMAT_VERSIONS: dict[str, int] = {"baseline": 2, "bert": 1, "e5": 1}
"""The format each backend writes."""
READABLE_FORMATS: dict[str, tuple[int, ...]] = {"baseline": (1, 2), "bert": (1,), "e5": (1,)}
"""The formats each backend reads (baseline format 1 needs ``stance[train]``)."""
METADATA_FILE = "metadata.json"
SHIPPED_MODELS: tuple[str, ...] = ("baseline", "bert", "e5")
BACKENDS: tuple[str, ...] = ("baseline", "bert", "e5")

RETRAIN = {
    "baseline": "python training/train_baseline.py --output DIR",
    "bert": "python training/train_bert.py --output DIR",
    "e5": "python training/train_e5.py --work W --real-train POOL`, then "
    "`python training/export_e5.py --finetuned W/finetuned --real-train POOL --output DIR",
}


def retrain_hint(backend: str | None = None) -> str:
    """The sentence that tells a user how to rebuild a model directory."""
    if backend in RETRAIN:
        return f"Rebuild it with `{RETRAIN[backend]}`"
    return "Rebuild it with `python training/train_baseline.py` or `python training/train_bert.py`"


def shipped_model_dir(name: str) -> Path:
    """The directory of a shipped model: inside the installed package, else the checkout."""
    package = Path(__file__).resolve().parent
    for candidate in (package / "_models" / name, package.parent / "models" / name):
        if candidate.is_dir():
            return candidate
    return package.parent / "models" / name


def resolve_model_dir(model: str | os.PathLike[str] | None) -> Path:
    """Turn ``None``, ``"baseline"``, ``"bert"`` or a path into an existing model directory.

    Raises:
        ModelError: no such directory.
    """
    if model is None:
        model = "baseline"
    if isinstance(model, str) and model in SHIPPED_MODELS and not Path(model).is_dir():
        path = shipped_model_dir(model)
        if not path.is_dir():
            raise ModelError(
                path,
                f"the shipped model {model!r} is not installed",
                retrain_hint(model) + ", or reinstall stance",
            )
        return path
    if not isinstance(model, (str, os.PathLike)):
        raise TypeError(
            f"model must be None, a name in {SHIPPED_MODELS} or a path, got {type(model).__name__}"
        )
    path = Path(model)
    if not path.is_dir():
        raise ModelError(
            path,
            "model directory not found",
            f"Pass one of {SHIPPED_MODELS} or a directory written by a training script",
        )
    return path


def read_metadata(path: Path) -> dict[str, Any]:
    """Read and check ``metadata.json`` of a model directory.

    Raises:
        ModelError: the file is missing, not JSON, from another format version, names an
            unknown backend, or has labels other than :data:`LABELS`.
    """
    file = path / METADATA_FILE
    if not file.is_file():
        raise ModelError(
            path, f"{METADATA_FILE} is missing; this is not a stance model", retrain_hint()
        )
    try:
        meta = json.loads(file.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelError(
            path, f"{METADATA_FILE} is not valid JSON ({exc})", retrain_hint()
        ) from exc
    if not isinstance(meta, dict):
        raise ModelError(path, f"{METADATA_FILE} must hold a JSON object", retrain_hint())
    backend = meta.get("backend")
    if backend not in BACKENDS:
        raise ModelError(
            path, f"unknown backend {backend!r}; expected one of {BACKENDS}", retrain_hint()
        )
    version = meta.get("format_version")
    readable = READABLE_FORMATS[backend]
    if version not in readable:
        raise ModelError(
            path,
            f"model format version {version!r} is not supported (this stance reads "
            f"{backend} versions {', '.join(map(str, readable))})",
            retrain_hint(backend),
        )
    labels = meta.get("labels")
    if labels != list(LABELS):
        raise ModelError(
            path,
            f"model labels {labels!r} differ from stance.LABELS {list(LABELS)}",
            retrain_hint(backend),
        )
    return meta


def write_metadata(
    path: Path, meta: dict[str, Any], *, format_version: int | None = None
) -> dict[str, Any]:
    """Write ``metadata.json`` with :data:`LABELS` and the format version the backend writes
    (:data:`FORMAT_VERSIONS`, unless ``format_version`` is given); return what was written."""
    own = {k: v for k, v in meta.items() if k not in ("format_version", "labels")}
    version = format_version or FORMAT_VERSIONS.get(str(meta.get("backend")), FORMAT_VERSION)
    meta = {"format_version": version, "labels": list(LABELS), **own}
    (path / METADATA_FILE).write_text(
        json.dumps(meta, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    return meta


C = TypeVar("C")


def config_from_dict(cls: type[C], values: dict[str, Any], what: str) -> C:
    """``cls(**values)``, refusing names that ``cls`` does not have (``what`` names the kind).

    >>> from dataclasses import dataclass
    >>> @dataclass
    ... class Example:
    ...     lr: float = 0.1
    >>> config_from_dict(Example, {"lr": 0.5}, "example")
    Example(lr=0.5)
    >>> config_from_dict(Example, {"rate": 0.5}, "example")
    Traceback (most recent call last):
    ...
    stance.errors.ConfigError: unknown example hyperparameter(s) ['rate']; allowed: ['lr']
    """
    fields = cls.__dataclass_fields__  # type: ignore[attr-defined]
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise ConfigError(f"unknown {what} hyperparameter(s) {unknown}; allowed: {sorted(fields)}")
    return cls(**values)
