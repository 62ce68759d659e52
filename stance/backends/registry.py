"""The backend registry: one table from a backend's name to its classifier class.

A model directory's ``metadata.json`` names its backend; :func:`load` finds the class here and
calls its :meth:`~stance.backends.base.Classifier.load`. Classes are imported on first use
(as Hugging Face's ``AutoModel`` does), so naming a backend costs nothing until it is loaded,
and torch is imported only when a BERT model is.

Adding a backend is one module under ``stance/backends/`` with a
:class:`~stance.backends.base.Classifier` subclass, and one line in :data:`CLASSIFIERS`
(or one :func:`register` call); ``tests/test_contract.py`` then runs the contract on it.

>>> names()[:2]
('baseline', 'bert')
>>> classifier_class("baseline").__name__
'BaselineClassifier'
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stance.errors import ConfigError

if TYPE_CHECKING:
    from stance.backends.base import Classifier

CLASSIFIERS: dict[str, str] = {
    "baseline": "stance.backends.baseline:BaselineClassifier",
    "bert": "stance.backends.bert:BertClassifier",
    "e5": "stance.backends.e5:E5Classifier",
}
"""Backend name -> ``"module:Class"`` of its classifier (imported on first use)."""


def register(name: str, target: str) -> None:
    """Register (or replace) backend ``name``, whose class is ``target`` (``"module:Class"``).

    >>> register("baseline", "stance.backends.baseline:BaselineClassifier")
    """
    module, sep, attribute = target.partition(":")
    if not name or not sep or not module or not attribute:
        raise ConfigError(f"a backend needs a name and a 'module:Class' target, got {target!r}")
    CLASSIFIERS[name] = target


def names() -> tuple[str, ...]:
    """The registered backend names, in registration order."""
    return tuple(CLASSIFIERS)


def classifier_class(name: str) -> type[Classifier]:
    """The classifier class of backend ``name`` (its module imported on first use).

    Raises:
        ConfigError: no backend of that name is registered.
    """
    target = CLASSIFIERS.get(name)
    if target is None:
        raise ConfigError(f"unknown backend {name!r}; registered backends: {list(names())}")
    module, _, attribute = target.partition(":")
    cls: type[Classifier] = getattr(importlib.import_module(module), attribute)
    return cls


def load(path: Path, metadata: dict[str, Any]) -> Classifier:
    """Load the model directory ``path`` with the class its ``metadata["backend"]`` names."""
    return classifier_class(str(metadata["backend"])).load(path, metadata)
