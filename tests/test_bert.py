"""BERT specifics: the standard Hugging Face directory, windows, offline errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("torch")

from stance import LABELS, load_classifier
from stance.backends.bert import encode_windows
from stance.errors import ConfigError, ModelError
from stance.training.bert import FineTuneConfig, load_base_model


def test_directory_is_a_standard_hf_model(bert_dir):
    for name in (
        "config.json",
        "model.safetensors",
        "tokenizer.json",
        "metadata.json",
        "README.md",
        "metrics.json",
    ):
        assert (bert_dir / name).is_file(), name
    config = json.loads((bert_dir / "config.json").read_text())
    assert [config["id2label"][str(i)] for i in range(3)] == list(LABELS)
    assert config["label2id"] == {label: i for i, label in enumerate(LABELS)}
    assert not list(bert_dir.glob("*.bin"))


def test_transformers_pipeline_loads_it_unchanged(bert_dir):
    from transformers import pipeline

    result = pipeline("text-classification", model=str(bert_dir), device="cpu")(
        "Jobcentret er godt"
    )
    assert result[0]["label"] in LABELS


def test_windows_cover_the_whole_text(bert_dir):
    classifier = load_classifier(bert_dir)
    text = " ".join(f"ord{i}" for i in range(300))
    ids, owner = encode_windows(classifier.tokenizer, [text, "kort"], 32, 8)
    assert owner.count(0) > 1 and owner.count(1) == 1
    assert max(len(window) for window in ids) <= 32


def test_training_is_deterministic_for_a_seed(tiny_base, small_data):
    from stance.training.bert import fine_tune

    texts = ["Jobcentret er godt.", "Jobcentret er dårligt.", "Mødet er i dag."] * 4
    labels = ["for", "against", "neutral"] * 4
    config = FineTuneConfig(epochs=1, batch_size=4, max_length=16, stride=4)
    a = fine_tune(str(tiny_base), texts, labels, config, seed=3, progress=False, log=lambda _: None)
    b = fine_tune(str(tiny_base), texts, labels, config, seed=3, progress=False, log=lambda _: None)
    assert np.allclose(a.predict_proba(texts), b.predict_proba(texts))


def test_epoch_is_chosen_on_dev(bert_dir):
    meta = json.loads((bert_dir / "metadata.json").read_text())
    scores = [h["dev_macro_f1"] for h in meta["history"]]
    assert meta["best_epoch"] == 1 + scores.index(max(scores))


def test_keep_last_epoch_keeps_the_last_and_still_fits_a_temperature(tiny_base):
    from stance.training.bert import fine_tune

    texts = ["Jobcentret er godt.", "Jobcentret er dårligt.", "Mødet er i dag."] * 4
    labels = ["for", "against", "neutral"] * 4
    config = FineTuneConfig(epochs=3, batch_size=4, max_length=16, stride=4)
    options = {"seed": 3, "progress": False, "log": lambda _: None}
    dev = (texts[:3], labels[:3])
    last = fine_tune(
        str(tiny_base), texts, labels, config, dev=dev, keep_last_epoch=True, **options
    )
    plain = fine_tune(str(tiny_base), texts, labels, config, **options)
    assert last.metadata["best_epoch"] == 3
    assert last.metadata["calibration"]["method"] == "temperature scaling on the dev set"
    # the kept weights are those after the last epoch, as without a dev set
    assert np.allclose(last._logits(texts), plain._logits(texts), atol=1e-5)


def test_unreachable_hub_model_says_how_to_use_a_local_directory():
    with pytest.raises(ModelError, match="local directory"):
        load_base_model("no-such-org/no-such-danish-bert")


def test_config_is_validated():
    with pytest.raises(ConfigError, match="stride"):
        FineTuneConfig(max_length=32, stride=20)
    with pytest.raises(ConfigError, match="unknown BERT hyperparameter"):
        FineTuneConfig.from_dict({"epochs": 2, "learning_rate": 1e-4})


def test_pickle_weights_are_refused(bert_dir, tmp_path):
    import shutil

    copy = tmp_path / "bert"
    shutil.copytree(bert_dir, copy)
    (copy / "model.safetensors").rename(copy / "pytorch_model.bin")
    with pytest.raises(ModelError, match="pickle-based weights are never loaded"):
        load_classifier(copy)


def test_long_text_is_windowed_in_bounded_memory(bert_dir):
    """A 200 kB text becomes many windows, processed in batches; every window counts."""
    classifier = load_classifier(bert_dir)
    text = "Jobcentret ydmyger folk. " * 8_000
    ids, owner = encode_windows(
        classifier.tokenizer, [text], classifier.max_length, classifier.stride
    )
    assert len(ids) > 1000 and set(owner) == {0}
    probs = classifier.predict_proba([text])
    assert probs.shape == (1, 3) and np.isclose(probs.sum(), 1.0)


def test_shipped_bert_loads_offline_through_stance_and_pipeline():
    """The shipped models/bert: a real classifier, usable with and without stance."""
    from transformers import pipeline

    from stance import classify
    from stance.modeldir import shipped_model_dir

    path = shipped_model_dir("bert")
    text = "Jobcentret spilder folks tid med meningsløse kurser."
    prediction = classify(text, model="bert")
    assert prediction.label in LABELS
    assert np.isclose(sum(prediction.probabilities.values()), 1.0)
    result = pipeline("text-classification", model=str(path), device="cpu")(text)
    assert result[0]["label"] in LABELS
    assert load_classifier("bert").labels == LABELS
