"""The BERT backend: fine-tuning any BERT-family encoder, and serving it.

A model directory is a standard Hugging Face directory (``config.json`` whose labels are
exactly :data:`stance.LABELS`, ``model.safetensors``, tokenizer files) plus ``metadata.json``,
so ``transformers.pipeline("text-classification", model=DIR)`` works on it unchanged.

Texts longer than the model's window are split into overlapping windows whose probabilities
are averaged; nothing is cut. torch and transformers are imported only here, and only when a
function of this module runs.
"""

from __future__ import annotations

import logging
import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from stance.backends.base import Classifier
from stance.errors import ConfigError, MissingDependencyError, ModelError
from stance.hyperparameters import config_from_dict
from stance.labels import ID2LABEL, LABEL2ID, LABELS
from stance.modeldir import retrain_hint, write_metadata

logger = logging.getLogger(__name__)

INSTALL_HINT = 'pip install "stance[bert]"'
WEIGHTS_FILE = "model.safetensors"


def require_torch() -> tuple[Any, Any]:
    """``(torch, transformers)``, or a :class:`MissingDependencyError` with the install command."""
    try:
        import torch
        import transformers
    except ImportError as exc:
        raise MissingDependencyError(
            f"the BERT backend needs torch and transformers ({exc.name} is missing); "
            f"install them with: {INSTALL_HINT}"
        ) from exc
    return torch, transformers


@dataclass(frozen=True)
class FineTuneConfig:
    """Hyperparameters of BERT fine-tuning.

    >>> FineTuneConfig(epochs=0)
    Traceback (most recent call last):
    ...
    stance.errors.ConfigError: epochs must be >= 1, got 0
    """

    epochs: int = 10
    lr: float = 1e-4
    batch_size: int = 32
    max_length: int = 128
    stride: int = 32
    weight_decay: float = 0.01
    warmup_ratio: float = 0.1
    class_weights: bool = True
    dropout: float | None = None

    def __post_init__(self) -> None:
        if self.epochs < 1:
            raise ConfigError(f"epochs must be >= 1, got {self.epochs}")
        if not 0 < self.lr < 1:
            raise ConfigError(f"lr must be between 0 and 1, got {self.lr}")
        if self.batch_size < 1:
            raise ConfigError(f"batch_size must be >= 1, got {self.batch_size}")
        if self.max_length < 8:
            raise ConfigError(f"max_length must be >= 8, got {self.max_length}")
        if not 0 <= self.stride < self.max_length // 2:
            raise ConfigError(
                f"stride must be >= 0 and < max_length / 2 ({self.max_length // 2}), "
                f"got {self.stride}"
            )
        if not 0 <= self.warmup_ratio < 1:
            raise ConfigError(f"warmup_ratio must be in [0, 1), got {self.warmup_ratio}")

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> FineTuneConfig:
        """Build a config from saved hyperparameters, rejecting unknown names."""
        return config_from_dict(cls, values, "BERT")


def pick_device(device: str = "auto") -> str:
    """``"cuda"`` when asked for or available (``"auto"``), else ``"cpu"``."""
    torch, _ = require_torch()
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(
            f"device {device!r} requested but CUDA is not available; use --device cpu"
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
        self.max_length = int(hyper.get("max_length", FineTuneConfig.max_length))
        self.stride = int(hyper.get("stride", FineTuneConfig.stride))
        self.batch_size = batch_size

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


def load_base_model(base_model: str | Path, dropout: float | None = None) -> tuple[Any, Any]:
    """Tokenizer and a fresh 3-label classification head on ``base_model`` (hub id or directory).

    Raises:
        ModelError: the base model cannot be loaded (e.g. no network for a hub id).
    """
    require_torch()
    from transformers import AutoConfig, AutoModelForSequenceClassification, AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(str(base_model))
        config = AutoConfig.from_pretrained(
            str(base_model),
            num_labels=len(LABELS),
            id2label=dict(ID2LABEL),
            label2id=dict(LABEL2ID),
        )
        if dropout is not None:
            config.hidden_dropout_prob = dropout
            config.attention_probs_dropout_prob = dropout
        model = AutoModelForSequenceClassification.from_pretrained(str(base_model), config=config)
    except OSError as exc:
        local = Path(str(base_model)).is_dir()
        fix = (
            "Check that the directory holds config.json, weights and tokenizer files"
            if local
            else "The Hugging Face Hub could not be reached or has no such model. Pass a local "
            "directory instead, e.g. --base-model models/danish-mini-bert (built offline by "
            "python training/pretrain_mlm.py)"
        )
        raise ModelError(Path(str(base_model)), f"cannot load base model ({exc})", fix) from exc
    return model, tokenizer


def _seed_everything(seed: int) -> None:
    torch, transformers = require_torch()
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    transformers.set_seed(seed)


def _class_weights(labels: Sequence[str]) -> np.ndarray:
    counts = np.array(
        [max(1, sum(label == name for label in labels)) for name in LABELS], dtype=float
    )
    return len(labels) / (len(LABELS) * counts)


def fine_tune(
    base_model: str | Path,
    texts: Sequence[str],
    labels: Sequence[str],
    config: FineTuneConfig,
    *,
    dev: tuple[Sequence[str], Sequence[str]] | None = None,
    seed: int = 0,
    device: str = "auto",
    progress: bool = True,
    log: Callable[[str], None] | None = None,
    metadata: dict[str, Any] | None = None,
    on_epoch: Callable[[int, BertClassifier], None] | None = None,
) -> BertClassifier:
    """Fine-tune ``base_model`` on ``texts``; with ``dev``, keep the epoch with the best dev
    macro-F1 and fit a temperature on the dev set. ``on_epoch(epoch, classifier)`` is called
    after every epoch (the model is in eval mode).

    Deterministic for a seed on CPU. On CUDA it trains with mixed precision.
    """
    torch, transformers = require_torch()
    from sklearn.metrics import f1_score

    from stance.calibration import fit_temperature

    log = log or logger.info
    started = time.perf_counter()
    device = pick_device(device)
    _seed_everything(seed)
    model, tokenizer = load_base_model(base_model, config.dropout)
    model.to(device)

    windows, owner = encode_windows(tokenizer, texts, config.max_length, config.stride)
    targets = [LABEL2ID[labels[i]] for i in owner]
    generator = torch.Generator().manual_seed(seed)
    steps_per_epoch = math.ceil(len(windows) / config.batch_size)
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=config.lr, weight_decay=config.weight_decay
    )
    scheduler = transformers.get_linear_schedule_with_warmup(
        optimizer,
        int(config.warmup_ratio * steps_per_epoch * config.epochs),
        steps_per_epoch * config.epochs,
    )
    weight = torch.tensor(_class_weights(labels), dtype=torch.float32, device=device)
    loss_fn = torch.nn.CrossEntropyLoss(weight=weight if config.class_weights else None)
    use_amp = device.startswith("cuda")
    amp_dtype = torch.bfloat16 if use_amp and torch.cuda.is_bf16_supported() else torch.float16

    classifier = BertClassifier(
        model, tokenizer, {"hyperparameters": asdict(config)}, device=device
    )
    history: list[dict[str, Any]] = []
    best_state, best_score, best_epoch = None, -1.0, config.epochs
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(
            total=steps_per_epoch * config.epochs, unit="step", desc="fine-tune", leave=False
        )
    for epoch in range(1, config.epochs + 1):
        model.train()
        order = torch.randperm(len(windows), generator=generator).tolist()
        epoch_start, total_loss = time.perf_counter(), 0.0
        for step in range(steps_per_epoch):
            idx = order[step * config.batch_size : (step + 1) * config.batch_size]
            batch = tokenizer.pad({"input_ids": [windows[i] for i in idx]}, return_tensors="pt")
            batch = {k: v.to(device) for k, v in batch.items()}
            y = torch.tensor([targets[i] for i in idx], device=device)
            with torch.autocast(device_type="cuda", dtype=amp_dtype, enabled=use_amp):
                logits = model(**batch).logits
            loss = loss_fn(logits.float(), y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            total_loss += float(loss.detach()) * len(idx)
            if bar is not None:
                bar.update(1)
        model.eval()
        record: dict[str, Any] = {
            "epoch": epoch,
            "train_loss": total_loss / len(windows),
            "seconds": round(time.perf_counter() - epoch_start, 1),
        }
        if dev is not None:
            predicted = [LABELS[i] for i in classifier._logits(list(dev[0])).argmax(axis=1)]
            record["dev_macro_f1"] = float(
                f1_score(list(dev[1]), predicted, average="macro", zero_division=0)
            )
            if record["dev_macro_f1"] > best_score:
                best_score, best_epoch = record["dev_macro_f1"], epoch
                best_state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
        history.append(record)
        if on_epoch is not None:
            on_epoch(epoch, classifier)
        log(
            f"epoch {epoch}/{config.epochs}  loss {record['train_loss']:.4f}"
            + (f"  dev macro-F1 {record['dev_macro_f1']:.3f}" if dev is not None else "")
            + f"  ({record['seconds']} s)"
        )
    if bar is not None:
        bar.close()
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    calibration: dict[str, Any] = {"temperature": 1.0, "method": "none"}
    if dev is not None:
        dev_logits = classifier._logits(list(dev[0]))
        calibration = {
            "temperature": fit_temperature(dev_logits, [LABEL2ID[label] for label in dev[1]]),
            "method": "temperature scaling on the dev set",
        }
    classifier.metadata = {
        "backend": "bert",
        "base_model": str(base_model),
        "hyperparameters": asdict(config),
        "seed": seed,
        "best_epoch": best_epoch,
        "history": history,
        "calibration": calibration,
        "device": device,
        "training_seconds": round(time.perf_counter() - started, 1),
        **(metadata or {}),
    }
    classifier.temperature = float(calibration["temperature"])
    return classifier


def refit_function(metadata: dict[str, Any]) -> Callable[[Any], BertClassifier]:
    """The training recipe of a saved BERT model, for cross-validation.

    Each fold fine-tunes the same base model with the same hyperparameters for the epoch count
    chosen on dev (``best_epoch``); the fold's ``dev``-split units are held out of training and
    used to fit the temperature.
    """
    from stance.data import repo_root

    hyper = dict(metadata.get("hyperparameters", {}))
    hyper["epochs"] = int(metadata.get("best_epoch", hyper.get("epochs", FineTuneConfig.epochs)))
    config = FineTuneConfig.from_dict(hyper)
    base = str(metadata.get("base_model"))
    if not Path(base).is_absolute() and (repo_root() / base).is_dir():
        base = str(repo_root() / base)
    seed = int(metadata.get("seed", 0))

    def fit(training: Any) -> BertClassifier:
        train = [e for e in training.examples if e.split != "dev"]
        dev = [e for e in training.examples if e.split == "dev"]
        model = fine_tune(
            base,
            [e.text for e in train],
            [e.label for e in train],
            config,
            seed=seed,
            progress=False,
        )
        if dev:
            from stance.calibration import fit_temperature

            model.temperature = fit_temperature(
                model._logits([e.text for e in dev]), [LABEL2ID[e.label] for e in dev]
            )
        return model

    return fit
