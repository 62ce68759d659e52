"""End-to-end smoke tests of every script in training/ (small data, seconds each)."""

from __future__ import annotations

import gzip
import json
import runpy
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def run_script(name: str, *args: str) -> object:
    """Run training/<name>.py's main() with ``args``."""
    module = runpy.run_path(str(REPO / "training" / f"{name}.py"), run_name="stance_script")
    return module["main"](list(args))


def test_train_baseline_and_evaluate(tmp_path, small_data, capsys):
    out = tmp_path / "baseline"
    run_script(
        "train_baseline",
        "--output",
        str(out),
        "--corpus",
        str(small_data[0]),
        "--authored",
        str(small_data[1]),
        "--seed",
        "1",
    )
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["training_data"]["n_authored"] == 90 and meta["seed"] == 1
    run_script("evaluate", "--model", str(out), "--no-cv", "--output", str(tmp_path / "reports"))
    assert (tmp_path / "reports" / "baseline.md").is_file()


def test_train_baseline_without_authored_and_fraction(tmp_path, small_data):
    out = tmp_path / "a"
    run_script(
        "train_baseline",
        "--output",
        str(out),
        "--corpus",
        str(small_data[0]),
        "--authored",
        str(small_data[1]),
        "--without-authored",
    )
    assert json.loads((out / "metadata.json").read_text())["training_data"]["n_authored"] == 0
    run_script(
        "train_baseline",
        "--output",
        str(out),
        "--corpus",
        str(small_data[0]),
        "--authored",
        str(small_data[1]),
        "--authored-fraction",
        "0.5",
    )
    assert json.loads((out / "metadata.json").read_text())["training_data"]["n_authored"] == 45


def test_training_refuses_an_invalid_corpus(tmp_path):
    from stance.errors import CorpusError

    bad = tmp_path / "stance.jsonl"
    bad.write_text('{"id": "d000-p01"}\n', encoding="utf-8")
    with pytest.raises(CorpusError, match="line 1"):
        run_script(
            "train_baseline",
            "--output",
            str(tmp_path / "m"),
            "--corpus",
            str(bad),
            "--without-authored",
        )


def test_pretrain_and_train_bert(tmp_path, small_data):
    pytest.importorskip("torch")
    text = tmp_path / "debian.txt"
    text.write_text(
        "Vælg Filer og derefter Gem for at gemme dokumentet på disken nu.\n" * 20, encoding="utf-8"
    )
    base = tmp_path / "mini"
    run_script(
        "pretrain_mlm",
        "--text",
        str(text),
        "--output",
        str(base),
        "--epochs",
        "1",
        "--layers",
        "1",
        "--hidden",
        "32",
        "--heads",
        "2",
        "--vocab",
        "120",
        "--block-size",
        "64",
        "--batch-size",
        "64",
        "--no-progress",
    )
    assert (base / "model.safetensors").is_file() and (base / "pretraining.json").is_file()
    out = tmp_path / "bert"
    run_script(
        "train_bert",
        "--base-model",
        str(base),
        "--output",
        str(out),
        "--epochs",
        "1",
        "--max-length",
        "32",
        "--corpus",
        str(small_data[0]),
        "--authored",
        str(small_data[1]),
        "--no-progress",
    )
    card = (out / "README.md").read_text()
    assert "python training/train_bert.py" in card and str(base) in card


def test_extract_debian_text_readers(tmp_path):
    module = runpy.run_path(str(REPO / "training" / "extract_debian_text.py"), run_name="x")
    page = tmp_path / "p.html"
    page.write_text(
        "<html><script>var x=1;</script><p>Klik på knappen for at åbne en ny fil i programmet.</p>"
        "<li>kort</li></html>",
        encoding="utf-8",
    )
    assert module["html_paragraphs"](page) == [
        "Klik på knappen for at åbne en ny fil i programmet.",
        "kort",
    ]
    man = tmp_path / "ls.1.gz"
    man.write_bytes(
        gzip.compress(b".TH LS 1\n.SH BESKRIVELSE\nViser indholdet af mapper\n.B ls\nog filer.\n")
    )
    assert module["man_paragraphs"](man) == ["Viser indholdet af mapper ls og filer."]
    assert module["is_running_text"]("Dette er en helt almindelig dansk sætning her.")
    assert not module["is_running_text"]("x = 1; y = 2; z = 3; 4 5 6")


def test_merge_authored_drops_copies(tmp_path, authored_rows, monkeypatch, capsys):
    target = tmp_path / "authored.jsonl"
    target.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in authored_rows[:5]),
        encoding="utf-8",
    )
    batch = tmp_path / "batch.jsonl"
    fields = ("text", "label", "register", "speaker", "topic", "rationale")
    new = {
        "text": "En helt ny tekst om ventetider på jobcentret i Vejle i år.",
        "label": "neutral",
        "register": "news",
        "speaker": "journalist",
        "topic": "waiting-times",
        "rationale": "Facts.",
    }
    copy = {k: authored_rows[0][k] for k in fields}
    batch.write_text(
        json.dumps(new, ensure_ascii=False) + "\n" + json.dumps(copy, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )
    assert (
        run_script("merge_authored", str(batch), "--writer", "w99", "--authored", str(target)) == 0
    )
    rows = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 6 and rows[-1]["id"] == "a-00006" and rows[-1]["writer"] == "w99"
    assert "dropped batch line 2" in capsys.readouterr().err


def test_splits_are_reproducible(tmp_path):
    corpus = tmp_path / "stance.jsonl"
    shutil.copy(REPO / "labelled" / "stance.jsonl", corpus)
    run_script("assign_splits", "--corpus", str(corpus))
    assert corpus.read_text(encoding="utf-8") == (REPO / "labelled" / "stance.jsonl").read_text(
        encoding="utf-8"
    )


def test_agreement_and_dataset_card_are_current(capsys):
    run_script("agreement")
    out = capsys.readouterr().out
    assert "corpus: n = 145" in out and "authored sample: n = " in out
    assert run_script("dataset_card", "--check") == 0


def test_train_baseline_refuses_a_missing_or_bad_config(tmp_path, small_data):
    from stance.errors import ConfigError

    args = ["--output", str(tmp_path / "m"), "--corpus", str(small_data[0]), "--without-authored"]
    missing = tmp_path / "nope.json"
    with pytest.raises(ConfigError, match=f"{missing}: config file not found"):
        run_script("train_baseline", *args, "--config", str(missing))
    bad = tmp_path / "bad.json"
    bad.write_text('{"C": 1.0, "char_ngrams": 3}', encoding="utf-8")
    with pytest.raises(ConfigError, match=f"{bad}: unknown baseline hyperparameter"):
        run_script("train_baseline", *args, "--config", str(bad))
    assert not (tmp_path / "m").exists()


def test_train_baseline_script_against_an_installed_wheel(tmp_path, small_data, installed_wheel):
    """Run from another folder with an installed stance, the script trains the shipped recipe."""
    import os
    import subprocess
    import sys

    from stance.training.baseline import BaselineConfig

    out = tmp_path / "model"
    code = (
        "import runpy, stance, sys; print(stance.__file__); "
        f"runpy.run_path({str(REPO / 'training' / 'train_baseline.py')!r}, run_name='__main__')"
    )
    env = {**os.environ, "PYTHONPATH": str(installed_wheel)}
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            code,
            "--output",
            str(out),
            "--corpus",
            str(small_data[0]),
            "--authored",
            str(small_data[1]),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.splitlines()[0].startswith(str(installed_wheel))
    meta = json.loads((out / "metadata.json").read_text())
    assert BaselineConfig.from_dict(meta["hyperparameters"]) == BaselineConfig()
