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
    real_train: str | Path | None = None,
    real_weight: float = 1.0,
    authored_weight: float = 1.0,
) -> BaselineClassifier:
    """Train the baseline on train + dev (+ authored) and write it to ``output``.

    With ``real_train`` (a real pool's path) the pool's training part joins the training texts
    (each weighing ``real_weight``; authored texts weigh ``authored_weight``), the temperature
    is fitted on the pool's held-out calibration part (whatever ``config.calibrate`` says), and
    the real-text confusion on that part goes into the metadata.
    """
    output = Path(output)
    if real_train is None and authored_weight == 1.0:
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
    from dataclasses import replace

    from stance.data.realpool import pool_part, read_real_pool
    from stance.training.baseline import train_baseline
    from stance.training.poolcalibration import calibrate_on_pool
    from stance.training.trainset import build_training_set

    mix = build_training_set(
        real_train=real_train,
        real_weight=real_weight,
        use_authored=use_authored,
        authored_weight=authored_weight,
        authored_fraction=authored_fraction,
        corpus_path=corpus_path,
        authored_path=authored_path,
        seed=seed,
    )
    metadata = {
        "name": output.name,
        "created": dt.date.today().isoformat(),
        "training_data": mix.description,
        "library_versions": library_versions("scikit-learn", "numpy", "safetensors", "afinn"),
    }
    calibrate_here = config.calibrate and real_train is None
    classifier = train_baseline(
        mix.texts,
        mix.labels,
        config if calibrate_here else replace(config, calibrate=False),
        groups=mix.groups,
        origins=mix.origins,
        seed=seed,
        metadata=metadata,
        sample_weight=mix.weights,
    )
    if real_train is not None:
        everything = read_real_pool(real_train)
        calibrate_on_pool(classifier, pool_part(everything, "calibration"), everything)
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
    real_train: str | Path | None = None,
    real_weight: float = 1.0,
    authored_weight: float = 1.0,
) -> Any:
    """Fine-tune ``base_model`` on train (+ authored), pick the epoch on dev (or keep the last
    one), fit the temperature on dev, write ``output``.

    With ``real_train`` the pool's training part joins the training texts (weight
    ``real_weight``), and the temperature and real-text confusion come from the pool's
    calibration part instead of the corpus dev units."""
    from stance.evaluation.modelcard import write_bert_card
    from stance.training.bert import fine_tune

    output = Path(output)
    from stance.training.trainset import build_training_set

    mix = build_training_set(
        real_train=real_train,
        real_weight=real_weight,
        use_authored=use_authored,
        authored_weight=authored_weight,
        authored_fraction=authored_fraction,
        corpus_path=corpus_path,
        authored_path=authored_path,
        splits=("train",),
        seed=seed,
    )
    corpus, _, _ = load_examples(corpus_path, authored_path, use_authored=False)
    dev = [e for e in corpus if e.split == "dev"]
    metadata: dict[str, Any] = {
        "name": output.name,
        "created": dt.date.today().isoformat(),
        "training_data": mix.description,
        "library_versions": library_versions(
            "torch", "transformers", "tokenizers", "safetensors", "numpy"
        ),
    }
    metadata["dev_size"] = len(dev)
    metadata["epoch_choice"] = "last" if keep_last_epoch else "best on dev"
    classifier = fine_tune(
        base_model,
        mix.texts,
        mix.labels,
        config,
        sample_weight=None if set(mix.weights) == {1.0} else mix.weights,
        dev=([e.text for e in dev], [e.label for e in dev]),
        seed=seed,
        device=device,
        progress=progress,
        log=log,
        metadata=metadata,
        keep_last_epoch=keep_last_epoch,
    )
    if real_train is not None:
        from stance.data.realpool import pool_part, read_real_pool
        from stance.training.poolcalibration import calibrate_on_pool

        everything = read_real_pool(real_train)
        calibrate_on_pool(classifier, pool_part(everything, "calibration"), everything)
    classifier.save(output)
    write_bert_card(output, classifier.metadata)
    return classifier
