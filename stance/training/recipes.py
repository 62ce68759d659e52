"""Training entry points shared by the scripts in ``training/``: data in, model directory out."""

from __future__ import annotations

import datetime as dt
import os
import platform
from pathlib import Path
from typing import Any

from stance.backends.baseline import BaselineClassifier
from stance.data.trainset import TrainingSet, build_training_set, load_examples
from stance.training.baseline import BaselineConfig, train_baseline_on


def library_versions(*names: str) -> dict[str, str]:
    """Installed versions of the given distributions (and Python and stance)."""
    from importlib.metadata import PackageNotFoundError, version

    from stance._version import __version__

    versions = {"python": platform.python_version(), "stance": __version__}
    for name in names:
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            continue
    return versions


def training_data(
    *,
    corpus_path: str | os.PathLike[str] | None = None,
    authored_path: str | os.PathLike[str] | None = None,
    use_authored: bool = True,
    authored_fraction: float = 1.0,
    splits: tuple[str, ...] = ("train", "dev"),
    seed: int = 0,
) -> TrainingSet:
    """The validated training set: corpus units of ``splits`` plus authored texts."""
    corpus, authored, files = load_examples(corpus_path, authored_path, use_authored=use_authored)
    return build_training_set(
        corpus, authored, splits=splits, authored_fraction=authored_fraction, seed=seed, files=files
    )


def common_metadata(name: str, training: TrainingSet, versions: dict[str, str]) -> dict[str, Any]:
    return {
        "name": name,
        "created": dt.date.today().isoformat(),
        "training_data": training.description,
        "library_versions": versions,
    }


def train_and_save_baseline(
    output: str | Path,
    config: BaselineConfig,
    *,
    seed: int = 0,
    corpus_path: str | os.PathLike[str] | None = None,
    authored_path: str | os.PathLike[str] | None = None,
    use_authored: bool = True,
    authored_fraction: float = 1.0,
) -> BaselineClassifier:
    """Train the baseline on train + dev (+ authored) and write it to ``output``."""
    output = Path(output)
    training = training_data(
        corpus_path=corpus_path,
        authored_path=authored_path,
        use_authored=use_authored,
        authored_fraction=authored_fraction,
        seed=seed,
    )
    metadata = common_metadata(
        output.name, training, library_versions("scikit-learn", "numpy", "safetensors", "afinn")
    )
    classifier = train_baseline_on(training, config, seed=seed, metadata=metadata)
    classifier.save(output)
    return classifier


def train_and_save_bert(
    output: str | Path,
    base_model: str,
    config: Any,
    *,
    seed: int = 0,
    device: str = "auto",
    corpus_path: str | os.PathLike[str] | None = None,
    authored_path: str | os.PathLike[str] | None = None,
    use_authored: bool = True,
    authored_fraction: float = 1.0,
    progress: bool = True,
    log: Any = print,
    keep_last_epoch: bool = False,
) -> Any:
    """Fine-tune ``base_model`` on train (+ authored), pick the epoch on dev (or keep the last
    one), fit the temperature on dev, write ``output``."""
    from stance.evaluation.modelcard import write_bert_card
    from stance.training.bert import fine_tune

    output = Path(output)
    training = training_data(
        corpus_path=corpus_path,
        authored_path=authored_path,
        use_authored=use_authored,
        authored_fraction=authored_fraction,
        splits=("train",),
        seed=seed,
    )
    corpus, _, _ = load_examples(corpus_path, authored_path, use_authored=False)
    dev = [e for e in corpus if e.split == "dev"]
    metadata = common_metadata(
        output.name,
        training,
        library_versions("torch", "transformers", "tokenizers", "safetensors", "numpy"),
    )
    metadata["dev_size"] = len(dev)
    metadata["epoch_choice"] = "last" if keep_last_epoch else "best on dev"
    classifier = fine_tune(
        base_model,
        training.texts,
        training.labels,
        config,
        dev=([e.text for e in dev], [e.label for e in dev]),
        seed=seed,
        device=device,
        progress=progress,
        log=log,
        metadata=metadata,
        keep_last_epoch=keep_last_epoch,
    )
    classifier.save(output)
    write_bert_card(output, classifier.metadata)
    return classifier
