"""The public functions: :func:`classify`, :func:`classify_many` and :func:`load_classifier`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import overload

from stance.arguments import check_at_least_one, check_min_score
from stance.loading import ModelRef, clear_cache, load_classifier
from stance.modeldir import read_metadata, resolve_model_dir
from stance.prediction import Prediction
from stance.text import prepare_text, prepare_texts

__all__ = ["ModelRef", "classify", "classify_many", "clear_cache", "load_classifier"]


def classify(text: str, *, model: ModelRef = None) -> Prediction:
    """The stance of one Danish text toward Danish jobcentres.

    Args:
        text: The text (any length; normalised to NFC).
        model: ``None`` or ``"baseline"`` for the shipped baseline, ``"bert"``, or a model
            directory.

    Raises:
        TextTypeError: ``text`` is not a ``str`` (also a ``TypeError``).
        EmptyTextError: ``text`` is empty or whitespace (also a ``ValueError``).
        ModelError: the model cannot be loaded.

    >>> classify("Jobcentret er et kontrolsystem, der ydmyger syge mennesker.").label
    'against'
    """
    text = prepare_text(text)
    return load_classifier(model).predict([text])[0]


@overload
def classify_many(
    texts: Iterable[str],
    *,
    model: ModelRef = None,
    batch_size: int = 256,
    progress: bool = False,
    min_score: None = None,
    n_jobs: int = 1,
) -> list[Prediction]: ...


@overload
def classify_many(
    texts: Iterable[str],
    *,
    model: ModelRef = None,
    batch_size: int = 256,
    progress: bool = False,
    min_score: float,
    n_jobs: int = 1,
) -> list[Prediction | None]: ...


def classify_many(
    texts: Iterable[str],
    *,
    model: ModelRef = None,
    batch_size: int = 256,
    progress: bool = False,
    min_score: float | None = None,
    n_jobs: int = 1,
) -> list[Prediction] | list[Prediction | None]:
    """The stance of many texts, in order: a :class:`Prediction` per text, or, with
    ``min_score``, ``None`` where the score is below it.

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
        TextTypeError: a text is not a ``str`` (also a ``TypeError``), or ``texts`` is a single
            string; the message gives its position.
        EmptyTextError: a text is empty or whitespace (also a ``ValueError``).
        ConfigError: ``batch_size``, ``min_score`` or ``n_jobs`` is out of range (also a
            ``ValueError``).

    >>> [p.label for p in classify_many(["Tak til min dygtige sagsbehandler!", "Luk jobcentret!"])]
    ['for', 'against']
    """
    from stance.workers import resolve_jobs

    check_at_least_one("batch_size", batch_size)
    check_min_score(min_score)
    workers = resolve_jobs(n_jobs)
    checked = prepare_texts(texts)
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
        return [p if p.score >= min_score else None for p in results]
    return results


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
