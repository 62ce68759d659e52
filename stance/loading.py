"""Loading classifiers: :func:`load_classifier` reads a model directory's metadata, finds its
backend in :mod:`stance.backends.registry` and keeps the loaded classifier in a cache shared by
:func:`stance.classify`, the batch functions and the worker processes."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from stance.modeldir import read_metadata, resolve_model_dir

if TYPE_CHECKING:
    from stance.backends.base import Classifier

ModelRef = str | os.PathLike[str] | None

_cache: dict[Path, Classifier] = {}
_by_reference: dict[tuple[object, str], Classifier] = {}  # (model, working directory)
_lock = threading.Lock()


def _load(path: Path) -> Classifier:
    from stance.backends import registry

    return registry.load(path, read_metadata(path))


def load_classifier(model: ModelRef = "baseline") -> Classifier:
    """Load a classifier (cached, thread-safe).

    Args:
        model: ``"baseline"`` (default), ``"bert"``, or the path of a model directory written by
            a training script. The backend is read from the directory's ``metadata.json``.

    Returns:
        An object with ``.predict(texts) -> list[Prediction]`` and ``.labels``.

    Raises:
        ModelError: the directory is missing, incomplete, corrupt or incompatible.

    >>> load_classifier().labels
    ('against', 'for', 'neutral')
    """
    # a model already loaded under the same reference skips resolving its path again
    key: tuple[object, str] | None
    try:
        key = ("baseline" if model is None else model, os.getcwd())
        classifier = _by_reference.get(key)
    except (TypeError, OSError):  # an unhashable reference, or no working directory
        key, classifier = None, None
    if classifier is not None:
        return classifier
    path = resolve_model_dir(model).resolve()
    with _lock:
        classifier = _cache.get(path)
        if classifier is None:
            classifier = _load(path)
            _cache[path] = classifier
        if key is not None:
            _by_reference[key] = classifier
        return classifier


def clear_cache() -> None:
    """Forget every loaded classifier (the next call loads again)."""
    with _lock:
        _cache.clear()
        _by_reference.clear()
