"""Building a small Danish BERT from scratch: a WordPiece tokenizer and masked-language-model
pretraining. Used by ``training/pretrain_mlm.py`` and, at toy size, by the tests.

torch, transformers and tokenizers are imported inside the functions.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from stance.errors import ConfigError

SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


@dataclass(frozen=True)
class EncoderSize:
    """Shape of the encoder to pretrain."""

    vocab_size: int = 16000
    hidden_size: int = 256
    num_hidden_layers: int = 4
    num_attention_heads: int = 4
    intermediate_size: int = 1024
    max_position_embeddings: int = 256

    def __post_init__(self) -> None:
        if self.hidden_size % self.num_attention_heads:
            raise ConfigError(
                f"hidden_size {self.hidden_size} must be divisible by num_attention_heads "
                f"{self.num_attention_heads}"
            )
        if self.vocab_size < len(SPECIAL_TOKENS) + 26:
            raise ConfigError(
                f"vocab_size must be at least {len(SPECIAL_TOKENS) + 26}, got {self.vocab_size}"
            )


def train_wordpiece(texts: Iterable[str], vocab_size: int, model_max_length: int) -> Any:
    """A lower-casing WordPiece tokenizer that keeps æ, ø and å (no accent stripping)."""
    from tokenizers import (
        Tokenizer,
        decoders,
        models,
        normalizers,
        pre_tokenizers,
        processors,
        trainers,
    )
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.BertNormalizer(
        clean_text=True, handle_chinese_chars=True, strip_accents=False, lowercase=True
    )
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.decoder = decoders.WordPiece()
    trainer = trainers.WordPieceTrainer(vocab_size=vocab_size, special_tokens=SPECIAL_TOKENS)
    tokenizer.train_from_iterator(texts, trainer)
    cls, sep = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", cls), ("[SEP]", sep)],
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
        model_max_length=model_max_length,
    )


def mlm_blocks(tokenizer: Any, texts: Sequence[str], block_size: int) -> list[list[int]]:
    """Concatenate the tokenised texts (separated by [SEP]) and cut them into blocks of
    ``block_size`` tokens, each wrapped in [CLS] … [SEP]."""
    body = block_size - 2
    stream: list[int] = []
    for ids in tokenizer(list(texts), add_special_tokens=False)["input_ids"]:
        stream.extend(ids)
        stream.append(tokenizer.sep_token_id)
    return [
        [tokenizer.cls_token_id, *stream[i : i + body], tokenizer.sep_token_id]
        for i in range(0, len(stream), body)
        if len(stream[i : i + body]) >= 8
    ]


def mask_tokens(
    input_ids: Any, tokenizer: Any, generator: Any, probability: float = 0.15
) -> tuple[Any, Any]:
    """BERT masking: of the chosen 15 %, 80 % → [MASK], 10 % → random token, 10 % unchanged."""
    import torch

    labels = input_ids.clone()
    special = (
        (input_ids == tokenizer.pad_token_id)
        | (input_ids == tokenizer.cls_token_id)
        | (input_ids == tokenizer.sep_token_id)
    )
    chosen = (torch.rand(input_ids.shape, generator=generator) < probability) & ~special
    labels[~chosen] = -100
    inputs = input_ids.clone()
    roll = torch.rand(input_ids.shape, generator=generator)
    inputs[chosen & (roll < 0.8)] = tokenizer.mask_token_id
    random_ids = torch.randint(len(tokenizer), input_ids.shape, generator=generator)
    swap = chosen & (roll >= 0.8) & (roll < 0.9)
    inputs[swap] = random_ids[swap]
    return inputs, labels


def masked_lm_loss(model: Any, inputs: Any, attention_mask: Any, labels: Any) -> Any:
    """Cross-entropy of the masked positions only: the vocabulary projection runs on the ~15 %
    masked tokens instead of all of them (the same loss as ``BertForMaskedLM``, much faster)."""
    import torch

    hidden = model.bert(input_ids=inputs, attention_mask=attention_mask).last_hidden_state
    chosen = labels != -100
    logits = model.cls(hidden[chosen])
    return torch.nn.functional.cross_entropy(logits, labels[chosen])


def pretrain_mlm(
    texts: Sequence[str],
    tokenizer: Any,
    size: EncoderSize,
    *,
    epochs: int = 3,
    lr: float = 5e-4,
    batch_size: int = 64,
    block_size: int = 128,
    seed: int = 0,
    device: str = "cpu",
    log: Callable[[str], None] = print,
    progress: bool = True,
    on_epoch: Callable[[int, Any], None] | None = None,
) -> tuple[Any, list[dict[str, Any]]]:
    """Pretrain a ``BertForMaskedLM`` of ``size`` from random initialisation on ``texts``.

    Returns the model and a per-epoch history (loss, seconds). ``on_epoch(epoch, model)`` is
    called after every epoch (e.g. to save a checkpoint).
    """
    import torch
    import transformers
    from transformers import BertConfig, BertForMaskedLM

    if block_size > size.max_position_embeddings:
        raise ConfigError(
            f"block_size {block_size} exceeds max_position_embeddings "
            f"{size.max_position_embeddings}"
        )
    transformers.set_seed(seed)
    config = BertConfig(
        **{**asdict(size), "vocab_size": len(tokenizer)}, pad_token_id=tokenizer.pad_token_id
    )
    model = BertForMaskedLM(config).to(device)  # type: ignore[arg-type]  # transformers' stub
    blocks = mlm_blocks(tokenizer, texts, block_size)
    generator = torch.Generator().manual_seed(seed)
    steps = math.ceil(len(blocks) / batch_size)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    scheduler = transformers.get_linear_schedule_with_warmup(
        optimizer, int(0.05 * steps * epochs), steps * epochs
    )
    history = []
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=steps * epochs, unit="step", desc="mlm")
    for epoch in range(1, epochs + 1):
        model.train()
        started, total = time.perf_counter(), 0.0
        order = torch.randperm(len(blocks), generator=generator).tolist()
        for step in range(steps):
            batch = tokenizer.pad(
                {
                    "input_ids": [
                        blocks[i] for i in order[step * batch_size : (step + 1) * batch_size]
                    ]
                },
                return_tensors="pt",
            )
            inputs, labels = mask_tokens(batch["input_ids"], tokenizer, generator)
            loss = masked_lm_loss(
                model, inputs.to(device), batch["attention_mask"].to(device), labels.to(device)
            )
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            total += float(loss.detach())
            if bar is not None:
                bar.update(1)
        record = {
            "epoch": epoch,
            "mlm_loss": total / steps,
            "seconds": round(time.perf_counter() - started, 1),
        }
        history.append(record)
        log(f"epoch {epoch}/{epochs}  mlm loss {record['mlm_loss']:.4f}  ({record['seconds']} s)")
        if on_epoch is not None:
            on_epoch(epoch, model)
    if bar is not None:
        bar.close()
    model.eval()
    return model, history


def save_encoder(model: Any, tokenizer: Any, path: str | Path) -> Path:
    """Write the pretrained encoder (safetensors) and its tokenizer."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(path, safe_serialization=True)
    tokenizer.save_pretrained(path)
    return path
