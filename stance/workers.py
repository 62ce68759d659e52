"""Worker processes for batch jobs: each loads the model once and classifies chunks of texts;
results come back in order.

Workers are started with the ``spawn`` method on every platform (the default on macOS and
Windows): a fresh interpreter is safe with threads and BLAS pools in the parent, where ``fork``
is not. Scripts that call ``classify_many(..., n_jobs=N)`` must therefore guard their entry
point with ``if __name__ == "__main__":``, as for any ``multiprocessing`` code.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    import numpy as np

    from stance.backends.base import Classifier

START_METHOD = "spawn"
IN_FLIGHT_PER_WORKER = 2
"""Chunks queued per worker: enough to keep every worker busy, few enough to bound memory."""

T = TypeVar("T")
Result = tuple["np.ndarray", dict[int, str]]


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity where the platform has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def resolve_jobs(n_jobs: int) -> int:
    """The number of worker processes for ``n_jobs`` (``-1`` means every available core).

    >>> resolve_jobs(3)
    3
    >>> resolve_jobs(0)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    stance.errors.ConfigError: n_jobs must be a positive number of processes or -1 for all ...
    """
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs == 0 or n_jobs < -1:
        from stance.errors import ConfigError

        raise ConfigError(
            f"n_jobs must be a positive number of processes or -1 for all cores, got {n_jobs!r}"
        )
    return available_cores() if n_jobs == -1 else n_jobs


def predict_texts(
    classifier: Classifier, texts: list[str], batch_size: int, *, isolate: bool = True
) -> Result:
    """Probabilities (``(len(texts), 3)``, in :data:`stance.LABELS` order) for checked texts.

    With ``isolate``, a batch that fails is retried one text at a time, and a text that still
    fails gets a NaN row and a message in the returned ``{index: message}``; errors about the
    model itself (:class:`stance.errors.StanceError`) are raised.
    """
    import numpy as np

    from stance.errors import StanceError

    out = np.full((len(texts), 3), np.nan)
    failures: dict[int, str] = {}
    for start in range(0, len(texts), batch_size):
        batch = texts[start : start + batch_size]
        try:
            out[start : start + len(batch)] = classifier.predict_proba(batch)
            continue
        except StanceError:
            raise
        except Exception:
            if not isolate:
                raise
        for i, text in enumerate(batch, start):
            try:
                out[i] = classifier.predict_proba([text])[0]
            except StanceError:
                raise
            except Exception as exc:
                failures[i] = f"classification failed: {type(exc).__name__}: {exc}"
    return out, failures


class LocalPredictor:
    """Classifies in this process (``n_jobs=1``)."""

    def __init__(self, model: str, batch_size: int, isolate: bool = True) -> None:
        from stance.loading import load_classifier

        self.classifier = load_classifier(model)
        self.batch_size = batch_size
        self.isolate = isolate

    def __enter__(self) -> LocalPredictor:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def map(self, jobs: Iterable[tuple[T, list[str]]]) -> Iterator[tuple[T, Result]]:
        """``(key, texts)`` in, ``(key, (probabilities, failures))`` out, in order."""
        for key, texts in jobs:
            yield key, predict_texts(self.classifier, texts, self.batch_size, isolate=self.isolate)


_classifier: Any = None
_load_error: BaseException | None = None


def _start_worker(model: str, threads: int) -> None:
    """Runs once in each worker: leave Ctrl-C to the parent (which stops the pool), cap the
    math libraries' threads, then load the model."""
    global _classifier, _load_error
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(name, str(threads))
    try:
        from stance.loading import load_classifier

        _classifier = load_classifier(model)
        _classifier.set_threads(threads)
    except BaseException as exc:  # re-raised with the first chunk, where the caller sees it
        _load_error = exc


def _exit_with_parent(parent: int) -> None:
    """End this worker when its parent is gone (killed, say): it would otherwise wait for
    work forever, holding a model in memory."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(1)


def _predict_in_worker(texts: list[str], batch_size: int, isolate: bool) -> Result:
    if _load_error is not None:
        raise _load_error
    return predict_texts(_classifier, texts, batch_size, isolate=isolate)


class ProcessPredictor:
    """Classifies in ``workers`` processes that each load the model once."""

    def __init__(self, model: str, batch_size: int, workers: int, isolate: bool = True) -> None:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        self.batch_size = batch_size
        self.isolate = isolate
        self.workers = workers
        self.pool = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context(START_METHOD),
            initializer=_start_worker,
            initargs=(model, max(1, available_cores() // workers)),
        )

    def __enter__(self) -> ProcessPredictor:
        return self

    def __exit__(self, kind: object, *exc: object) -> None:
        # On an error or interruption, drop queued chunks instead of finishing them.
        self.pool.shutdown(wait=kind is None, cancel_futures=kind is not None)

    def map(self, jobs: Iterable[tuple[T, list[str]]]) -> Iterator[tuple[T, Result]]:
        """``(key, texts)`` in, ``(key, (probabilities, failures))`` out, in order, with at most
        :data:`IN_FLIGHT_PER_WORKER` chunks per worker queued."""
        pending: deque[tuple[T, Any]] = deque()
        for key, texts in jobs:
            future = self.pool.submit(_predict_in_worker, texts, self.batch_size, self.isolate)
            pending.append((key, future))
            if len(pending) >= IN_FLIGHT_PER_WORKER * self.workers:
                done_key, done = pending.popleft()
                yield done_key, done.result()
        while pending:
            done_key, done = pending.popleft()
            yield done_key, done.result()


def predictor(
    model: str | os.PathLike[str], batch_size: int, n_jobs: int = 1, *, isolate: bool = True
) -> LocalPredictor | ProcessPredictor:
    """A predictor for the model directory ``model``: in this process for one job, else a
    pool of worker processes."""
    workers = resolve_jobs(n_jobs)
    model = str(Path(model))
    if workers == 1:
        return LocalPredictor(model, batch_size, isolate)
    return ProcessPredictor(model, batch_size, workers, isolate)
