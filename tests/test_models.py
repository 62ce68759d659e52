"""Broken, incompatible or unsafe model directories raise ModelError naming the path and the fix."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from stance import ModelError, load_classifier
from stance.api import clear_cache


@pytest.fixture
def copy_of(tmp_path):
    def make(source: Path) -> Path:
        clear_cache()
        target = tmp_path / source.name
        shutil.copytree(source, target)
        return target

    return make


def _assert_model_error(path: Path, match: str) -> None:
    with pytest.raises(ModelError, match=match) as caught:
        load_classifier(path)
    assert str(path) in str(caught.value)
    assert "Rebuild it with" in str(caught.value) or "Pass one of" in str(caught.value)
    assert isinstance(caught.value, OSError)


def test_missing_directory(tmp_path):
    _assert_model_error(tmp_path / "nope", "model directory not found")


def test_missing_metadata(copy_of, model_dir):
    path = copy_of(model_dir)
    (path / "metadata.json").unlink()
    _assert_model_error(path, "metadata.json is missing")


def test_corrupt_metadata(copy_of, model_dir):
    path = copy_of(model_dir)
    (path / "metadata.json").write_text("{ not json")
    _assert_model_error(path, "not valid JSON")


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"format_version": 99}, "format version 99 is not supported"),
        ({"labels": ["neg", "pos", "neu"]}, "differ from stance.LABELS"),
        ({"backend": "fasttext"}, "unknown backend"),
    ],
)
def test_incompatible_metadata(copy_of, model_dir, change, match):
    path = copy_of(model_dir)
    meta = json.loads((path / "metadata.json").read_text())
    (path / "metadata.json").write_text(json.dumps(meta | change))
    _assert_model_error(path, match)


def _weights(path: Path) -> Path:
    for name in ("model.skops", "e5.bin"):
        if (path / name).exists():
            return path / name
    return path / "model.safetensors"


def test_missing_weights(copy_of, model_dir):
    path = copy_of(model_dir)
    _weights(path).unlink()
    _assert_model_error(path, "is missing")


def test_truncated_weights(copy_of, model_dir):
    path = copy_of(model_dir)
    weights = _weights(path)
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    _assert_model_error(path, "corrupt|could not be read")


def test_garbage_weights(copy_of, model_dir):
    path = copy_of(model_dir)
    _weights(path).write_bytes(b"\x00garbage" * 100)
    _assert_model_error(path, "corrupt|could not be read")


def test_untrusted_types_are_refused(copy_of, baseline_dir):
    """A format-1 skops file that smuggles in a function is refused before anything is built."""
    import os

    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer

    from stance.backends._skops import import_skops_io

    path = copy_of(baseline_dir)
    meta = json.loads((path / "metadata.json").read_text())
    (path / "metadata.json").write_text(json.dumps(meta | {"format_version": 1}))
    (path / "model.safetensors").unlink()
    sio = import_skops_io()
    sio.dump(Pipeline([("evil", FunctionTransformer(os.system))]), path / "model.skops")
    _assert_model_error(path, "types stance does not trust")


def test_wrong_labels_in_bert_config(copy_of, bert_dir):
    path = copy_of(bert_dir)
    config = json.loads((path / "config.json").read_text())
    config["id2label"] = {"0": "neg", "1": "pos", "2": "neu"}
    config["label2id"] = {"neg": 0, "pos": 1, "neu": 2}
    (path / "config.json").write_text(json.dumps(config))
    _assert_model_error(path, "labels")


def test_shipped_baseline_was_trained_with_the_code_defaults():
    """BaselineConfig's defaults are the shipped recipe: there is no second copy to drift."""
    from stance.training.baseline import BaselineConfig

    meta = json.loads((Path(__file__).parents[1] / "models/baseline/metadata.json").read_text())
    assert BaselineConfig.from_dict(meta["hyperparameters"]) == BaselineConfig()
