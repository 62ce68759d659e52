"""Fine-tuning BERT-family encoders for stance, and the recipe that cross-validation re-runs.

Deterministic for a seed on CPU; mixed precision on CUDA. torch and transformers are imported
only when a function here runs.
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

from stance.backends.bert import (
    DEFAULT_MAX_LENGTH,
    DEFAULT_STRIDE,
    BertClassifier,
    encode_windows,
    pick_device,
    require_torch,
)
from stance.errors import ConfigError, ModelError
from stance.labels import ID2LABEL, LABEL2ID, LABELS
from stance.modeldir import config_from_dict
from stance.training.registry import Trainer

logger = logging.getLogger(__name__)


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
    max_length: int = DEFAULT_MAX_LENGTH
    stride: int = DEFAULT_STRIDE
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
    sample_weight: Sequence[float] | None = None,
    keep_last_epoch: bool = False,
) -> BertClassifier:
    """Fine-tune ``base_model`` on ``texts``; with ``dev``, keep the epoch with the best dev
    macro-F1 (or, with ``keep_last_epoch``, the last one, as when the epoch count was chosen
    elsewhere) and fit a temperature on the dev set. ``on_epoch(epoch, classifier)`` is called
    after every epoch (the model is in eval mode). ``sample_weight`` (one weight >= 0 per text,
    shared by its windows) weights each text's term in the loss, on top of the class weights.

    Deterministic for a seed on CPU. On CUDA it trains with mixed precision.
    """
    torch, transformers = require_torch()
    from sklearn.metrics import f1_score

    from stance.evaluation.calibration import fit_temperature

    log = log or logger.info
    started = time.perf_counter()
    device = pick_device(device)
    _seed_everything(seed)
    model, tokenizer = load_base_model(base_model, config.dropout)
    model.to(device)

    windows, owner = encode_windows(tokenizer, texts, config.max_length, config.stride)
    targets = [LABEL2ID[labels[i]] for i in owner]
    window_weight = None
    if sample_weight is not None:
        if len(sample_weight) != len(texts) or any(not w >= 0 for w in sample_weight):
            raise ConfigError(
                f"sample_weight needs one weight >= 0 per text ({len(texts)}), "
                f"got {len(sample_weight)}"
            )
        window_weight = [float(sample_weight[i]) for i in owner]
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
    class_weight = weight if config.class_weights else None
    loss_fn = torch.nn.CrossEntropyLoss(weight=class_weight)

    def weighted_loss(logits: Any, y: Any, idx: list[int]) -> Any:
        # the class-weighted mean, each window's term also weighted by its text's weight
        w = torch.tensor([window_weight[i] for i in idx], device=device)  # type: ignore[index]
        if class_weight is not None:
            w = w * class_weight[y]
        per_window = torch.nn.functional.cross_entropy(logits, y, reduction="none")
        return (per_window * w).sum() / w.sum().clamp_min(1e-12)

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
            if window_weight is None:
                loss = loss_fn(logits.float(), y)
            else:
                loss = weighted_loss(logits.float(), y, idx)
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
            if record["dev_macro_f1"] > best_score and not keep_last_epoch:
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
    from stance.data.corpus import repo_root

    hyper = dict(metadata.get("hyperparameters", {}))
    hyper["epochs"] = int(metadata.get("best_epoch") or hyper.get("epochs", FineTuneConfig.epochs))
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
            from stance.evaluation.calibration import fit_temperature

            model.temperature = fit_temperature(
                model._logits([e.text for e in dev]), [LABEL2ID[e.label] for e in dev]
            )
        return model

    return fit


# --- the training registry's entry (stance.training.registry) ---------------------------------


def fit(
    texts: Sequence[str],
    labels: Sequence[str],
    config: FineTuneConfig,
    *,
    seed: int = 0,
    sample_weight: Sequence[float] | None = None,
    groups: Sequence[str] | None = None,
    origins: Sequence[str] | None = None,
    metadata: dict[str, Any] | None = None,
    base_model: str | Path | None = None,
    device: str = "auto",
) -> BertClassifier:
    """:func:`fine_tune` of ``base_model`` with the registry's common signature, quietly
    (``groups`` and ``origins`` do not apply: no temperature is fitted here)."""
    if base_model is None:
        raise ConfigError("fine-tuning BERT needs base_model (a directory or a model id)")
    return fine_tune(
        str(base_model),
        texts,
        labels,
        config,
        seed=seed,
        device=device,
        progress=False,
        log=lambda _: None,
        metadata=metadata,
        sample_weight=sample_weight,
    )


def refit(
    metadata: dict[str, Any], *, seed: int | None = None, calibrate: bool = True
) -> Callable[[Any], BertClassifier]:
    """:func:`refit_function`, with another ``seed``; the temperature is always fitted on the
    fold's dev units (``calibrate`` is accepted for the common signature)."""
    return refit_function(metadata if seed is None else {**metadata, "seed": seed})


def adapt_config(shipped: dict[str, Any], changes: dict[str, Any] | None) -> FineTuneConfig:
    """The shipped BERT's hyperparameters with ``changes``, for the epoch count the shipped
    model kept (chosen on dev), as cross-validation re-runs it."""
    saved = dict(shipped.get("hyperparameters", {}))
    saved["epochs"] = int(shipped.get("best_epoch") or saved.get("epochs", 5))
    return FineTuneConfig.from_dict({**saved, **(changes or {})})


TRAINER = Trainer(
    config=FineTuneConfig,
    fit=fit,
    refit=refit,
    adapt_config=adapt_config,
    require=require_torch,
    libraries=("torch", "transformers", "tokenizers", "safetensors", "numpy"),
    weighting="the fine-tuning loss (each window of a text carries the text's weight, on top "
    "of the class weights)",
    fine_tunes_base=True,
    cv_proxy="baseline",
    calibrates_from_cv=True,
)
"""How BERT is trained (registered in :mod:`stance.training.registry`)."""
