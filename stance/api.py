"""The public functions: :func:`classify`, :func:`classify_many` and :func:`load_classifier`."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from stance.modeldir import read_metadata, resolve_model_dir
from stance.prediction import Prediction
from stance.text import prepare_text

if TYPE_CHECKING:
    from stance.backends.base import Classifier

ModelRef = str | os.PathLike[str] | None

_cache: dict[Path, Classifier] = {}
_by_reference: dict[tuple[object, str], Classifier] = {}  # (model, working directory)
_lock = threading.Lock()


def _load(path: Path) -> Classifier:
    meta = read_metadata(path)
    if meta["backend"] == "bert":
        from stance.backends.bert import BertClassifier

        return BertClassifier.load(path, meta)
    if meta["backend"] == "e5":
        from stance.backends.e5 import E5Classifier

        return E5Classifier.load(path, meta)
    from stance.backends.baseline import BaselineClassifier

    return BaselineClassifier.load(path, meta)


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


def classify(text: str, *, model: ModelRef = None) -> Prediction:
    """The stance of one Danish text toward Danish jobcentres.

    Args:
        text: The text (any length; normalised to NFC).
        model: ``None`` or ``"baseline"`` for the shipped baseline, ``"bert"``, or a model
            directory.

    Raises:
        TypeError: ``text`` is not a ``str`` (a :class:`stance.errors.TextTypeError`).
        ValueError: ``text`` is empty or whitespace (a :class:`stance.errors.EmptyTextError`).
        ModelError: the model cannot be loaded.

    >>> classify("Jobcentret er et kontrolsystem, der ydmyger syge mennesker.").label
    'against'
    """
    text = prepare_text(text)
    return load_classifier(model).predict([text])[0]


def classify_many(
    texts: Iterable[str],
    *,
    model: ModelRef = None,
    batch_size: int = 256,
    progress: bool = False,
    min_score: float | None = None,
    n_jobs: int = 1,
) -> list[Prediction | None]:
    """The stance of many texts, in order.

    Args:
        texts: The texts; each must be a non-empty ``str``.
        model: As in :func:`classify`.
        batch_size: Texts per model call.
        progress: Show a progress bar on stderr.
        min_score: If given, predictions whose ``score`` is below it are returned as ``None``
            (see the README for what a score means on this data).
        n_jobs: Worker processes, each loading the model once (``-1``: every core). The
            result is the same as with one process. Workers are started with ``spawn``, so a
            script that uses this needs an ``if __name__ == "__main__":`` guard.

    Raises:
        TypeError, ValueError: a text is not a non-empty ``str``; the message gives its position.

    >>> [p.label for p in classify_many(["Tak til min dygtige sagsbehandler!", "Luk jobcentret!"])]
    ['for', 'against']
    """
    from stance.workers import resolve_jobs

    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    if min_score is not None and not 0.0 <= min_score <= 1.0:
        raise ValueError(f"min_score must be between 0 and 1, got {min_score}")
    workers = resolve_jobs(n_jobs)
    if isinstance(texts, (str, bytes)):
        raise TypeError(
            f"texts must be an iterable of str, not a single {type(texts).__name__}; "
            "use classify() for one text"
        )
    checked = [prepare_text(text, i) for i, text in enumerate(texts)]
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(checked), unit="text", desc="classify", leave=False)
    if workers > 1 and len(checked) > batch_size:
        results = _classify_in_workers(checked, model, batch_size, workers, bar)
    else:
        classifier = load_classifier(model)
        results = []
        for start in range(0, len(checked), batch_size):
            batch = checked[start : start + batch_size]
            results.extend(classifier.predict(batch))
            if bar is not None:
                bar.update(len(batch))
    if bar is not None:
        bar.close()
    if min_score is not None:
        return [p if p is not None and p.score >= min_score else None for p in results]
    return results  # type: ignore[return-value]


def _classify_in_workers(
    texts: list[str], model: ModelRef, batch_size: int, workers: int, bar: object
) -> list[Prediction]:
    """Chunks of whole batches (so every model call sees the same texts as in one process),
    about four per worker for balance, at most 40 batches each."""
    from stance.workers import predictor

    path = resolve_model_dir(model).resolve()
    read_metadata(path)
    batches = -(-len(texts) // batch_size)
    workers = min(workers, batches)
    per_chunk = max(1, min(40, -(-batches // (4 * workers)))) * batch_size
    jobs = ((start, texts[start : start + per_chunk]) for start in range(0, len(texts), per_chunk))
    results: list[Prediction] = []
    with predictor(path, batch_size, workers, isolate=False) as pool:
        for _, (probabilities, _failures) in pool.map(jobs):
            results.extend(Prediction.from_probabilities(row) for row in probabilities)
            if bar is not None:
                bar.update(len(probabilities))  # type: ignore[attr-defined]
    return results
