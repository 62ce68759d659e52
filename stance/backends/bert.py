"""The BERT backend at inference: a fine-tuned BERT-family encoder behind the classifier interface.

A model directory is a standard Hugging Face directory (``config.json`` whose labels are
exactly :data:`stance.LABELS`, ``model.safetensors``, tokenizer files) plus ``metadata.json``,
so ``transformers.pipeline("text-classification", model=DIR)`` works on it unchanged.

Texts longer than the model's window are split into overlapping windows whose probabilities
are averaged; nothing is cut. torch and transformers are imported only when a function of this
module runs. Fine-tuning lives in :mod:`stance.training.bert`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from stance.backends.base import Classifier
from stance.errors import ConfigError, ModelError
from stance.extras import install_command, missing
from stance.labels import LABELS
from stance.modeldir import retrain_hint, write_metadata

INSTALL_HINT = install_command("bert")
WEIGHTS_FILE = "model.safetensors"
DEFAULT_MAX_LENGTH = 128
"""Tokens per window, unless the model's metadata says otherwise."""
DEFAULT_STRIDE = 32
"""Tokens shared by consecutive windows, unless the model's metadata says otherwise."""


def require_torch() -> tuple[Any, Any]:
    """``(torch, transformers)``, or a :class:`MissingDependencyError` with the install command."""
    try:
        import torch
        import transformers
    except ImportError as exc:
        raise missing(exc.name or "torch", "bert", "the BERT backend") from exc
    return torch, transformers


def pick_device(device: str = "auto") -> str:
    """``"cuda"`` when asked for or available (``"auto"``), else ``"cpu"``."""
    torch, _ = require_torch()
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(
            f"device {device!r} requested but CUDA is not available; use device 'cpu'"
        )
    return device


def encode_windows(
    tokenizer: Any, texts: Sequence[str], max_length: int, stride: int
) -> tuple[list[list[int]], list[int]]:
    """Token ids of overlapping windows covering every text, and the text index of each window."""
    encoded = tokenizer(
        list(texts),
        truncation=True,
        max_length=max_length,
        stride=stride,
        return_overflowing_tokens=True,
        padding=False,
    )
    return encoded["input_ids"], list(encoded["overflow_to_sample_mapping"])


class BertClassifier(Classifier):
    """A fine-tuned sequence-classification encoder with its tokenizer and metadata."""

    format_version: ClassVar[int] = 1
    readable_formats: ClassVar[tuple[int, ...]] = (1,)

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        metadata: dict[str, Any],
        path: Path | None = None,
        device: str = "auto",
        batch_size: int = 32,
    ) -> None:
        super().__init__(metadata, path)
        self.model = model
        self.tokenizer = tokenizer
        self.device = pick_device(device)
        self.model.to(self.device)
        self.model.eval()
        hyper = metadata.get("hyperparameters", {})
        self.max_length = int(hyper.get("max_length", DEFAULT_MAX_LENGTH))
        self.stride = int(hyper.get("stride", DEFAULT_STRIDE))
        self.batch_size = batch_size

    def set_threads(self, threads: int) -> None:
        """Cap torch's intra-op threads (one worker process of several)."""
        torch, _ = require_torch()
        torch.set_num_threads(threads)

    def window_logits(self, input_ids: list[list[int]]) -> np.ndarray:
        """Raw logits of each window, computed in batches."""
        torch, _ = require_torch()
        out = []
        with torch.inference_mode():
            for start in range(0, len(input_ids), self.batch_size):
                batch = self.tokenizer.pad(
                    {"input_ids": input_ids[start : start + self.batch_size]}, return_tensors="pt"
                )
                batch = {k: v.to(self.device) for k, v in batch.items()}
                out.append(self.model(**batch).logits.float().cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, len(LABELS)))

    def _logits(self, texts: list[str]) -> np.ndarray:
        """log of the window-averaged probabilities (the logits themselves for short texts)."""
        from stance.backends.base import softmax

        input_ids, owner = encode_windows(self.tokenizer, texts, self.max_length, self.stride)
        probs = softmax(self.window_logits(input_ids))
        summed = np.zeros((len(texts), len(LABELS)))
        np.add.at(summed, owner, probs)
        counts = np.bincount(owner, minlength=len(texts))[:, None]
        return np.log(np.clip(summed / counts, 1e-12, None))

    @classmethod
    def load(cls, path: Path, metadata: dict[str, Any], device: str = "auto") -> BertClassifier:
        """Load a model directory (safetensors weights only)."""
        require_torch()
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        if not (path / "config.json").is_file():
            raise ModelError(path, "config.json is missing", retrain_hint("bert"))
        if not (path / WEIGHTS_FILE).is_file():
            other = [p.name for p in path.glob("*.bin")]
            problem = f"{WEIGHTS_FILE} is missing"
            if other:
                problem += f" (found {other}; pickle-based weights are never loaded)"
            raise ModelError(path, problem, retrain_hint("bert"))
        try:
            tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
            model = AutoModelForSequenceClassification.from_pretrained(
                path, local_files_only=True, use_safetensors=True
            )
        except Exception as exc:
            raise ModelError(
                path,
                f"the model files could not be read ({type(exc).__name__}: {exc})",
                retrain_hint("bert"),
            ) from exc
        labels = [model.config.id2label[i] for i in range(model.config.num_labels)]
        if labels != list(LABELS):
            raise ModelError(
                path,
                f"config.json labels {labels} differ from stance.LABELS {list(LABELS)}",
                retrain_hint("bert"),
            )
        return cls(model, tokenizer, metadata, path, device=device)

    def save(self, path: str | Path) -> Path:
        """Write the Hugging Face files and ``metadata.json`` to ``path``."""
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        self.model.save_pretrained(path, safe_serialization=True)
        self.tokenizer.save_pretrained(path)
        write_metadata(path, self.metadata)
        self.path = path
        return path
