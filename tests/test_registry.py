"""The backend registry: a new backend is one module and one registry entry."""

from __future__ import annotations

import json
import sys
import textwrap

import pytest

from stance import LABELS, Prediction, classify, classify_many, explain, load_classifier
from stance.api import clear_cache
from stance.backends import registry
from stance.errors import ConfigError, ModelError

TOY_MODULE = '''
"""A toy backend: 'luk' pushes toward against, 'tak' toward for."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from stance.backends.base import Classifier
from stance.modeldir import write_metadata


class ToyClassifier(Classifier):
    def __init__(self, metadata: dict[str, Any], path: Path | None = None, weight: float = 1.0):
        super().__init__(metadata, path)
        self.weight = weight

    def _logits(self, texts: list[str]) -> np.ndarray:
        rows = []
        for text in texts:
            low = text.lower()
            rows.append([low.count("luk"), low.count("tak"), 0.5])
        return self.weight * np.asarray(rows, dtype=float)

    @classmethod
    def load(cls, path: Path, metadata: dict[str, Any]) -> ToyClassifier:
        weight = json.loads((path / "toy.json").read_text())["weight"]
        return cls(metadata, path, weight)

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        (path / "toy.json").write_text(json.dumps({"weight": self.weight}))
        write_metadata(path, self.metadata)
        return path
'''


@pytest.fixture
def toy_backend(tmp_path, monkeypatch):
    """The toy module on sys.path and one registry entry for it."""
    (tmp_path / "toy_backend.py").write_text(textwrap.dedent(TOY_MODULE), encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(registry.CLASSIFIERS, "toy", "toy_backend:ToyClassifier")
    yield tmp_path
    sys.modules.pop("toy_backend", None)
    clear_cache()


def test_a_registered_toy_backend_works_through_the_public_api(toy_backend):
    cls = registry.classifier_class("toy")
    model = cls({"backend": "toy"}, weight=3.0).save(toy_backend / "toy-model")
    meta = json.loads((model / "metadata.json").read_text())
    assert meta["format_version"] == cls.format_version and meta["labels"] == list(LABELS)

    classifier = load_classifier(model)
    assert type(classifier) is cls and classifier.weight == 3.0
    assert classify("Luk jobcentret, luk det nu", model=model).label == "against"
    assert classify("Tak til min sagsbehandler", model=model).label == "for"
    many = classify_many(["Luk det", "Tak", "Mødet er i dag"], model=model)
    assert [p.label for p in many] == ["against", "for", "neutral"]
    assert all(isinstance(p, Prediction) for p in many)
    # no linear contributions: explanations fall back to occlusion
    explanation = explain("Luk jobcentret", model=str(model))
    assert explanation.method == "occlusion"
    assert explanation.spans["against"][0].text == "Luk"
    with pytest.raises(ConfigError, match="occlusion"):
        explain("Luk jobcentret", model=str(model), method="linear")


def test_an_unregistered_backend_is_refused(tmp_path):
    (tmp_path / "metadata.json").write_text(
        json.dumps({"backend": "nope", "format_version": 1, "labels": list(LABELS)})
    )
    with pytest.raises(ModelError, match="unknown backend 'nope'"):
        load_classifier(tmp_path)
    with pytest.raises(ConfigError, match="registered backends"):
        registry.classifier_class("nope")


def test_register_checks_its_target(monkeypatch):
    monkeypatch.setattr(registry, "CLASSIFIERS", dict(registry.CLASSIFIERS))
    with pytest.raises(ConfigError, match="module:Class"):
        registry.register("x", "no_colon")
    registry.register("x", "stance.backends.baseline:BaselineClassifier")
    assert "x" in registry.names()


@pytest.mark.parametrize("name", registry.names())
def test_every_registered_backend_declares_the_interface(name):
    from stance.backends.base import Classifier

    cls = registry.classifier_class(name)
    assert issubclass(cls, Classifier)
    assert cls.format_version in cls.readable_formats
    assert not getattr(cls.load, "__isabstractmethod__", False)
    assert not getattr(cls.save, "__isabstractmethod__", False)


def test_training_registry_covers_the_shipped_backends():
    from stance.training.registry import names, trainer_for

    assert {"baseline", "bert"} <= set(names())
    with pytest.raises(ConfigError, match="backend must be one of"):
        trainer_for("nope")
