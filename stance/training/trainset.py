"""The mixed training set every training path uses: the project's texts plus, optionally, the
training part of a real training pool, each text with a weight.

The project's texts are the corpus units (``train`` + ``dev`` by default) and the authored
texts; a real pool is read by explicit path (``real_train``) and split by page
(:mod:`stance.data.realpool`); only its ``part`` (the training part by default) is used.
Without a pool the set is the project's texts alone, all weighing 1 (what models were trained
on before the pool existed).

>>> mix = build_training_set(use_authored=False, splits=("train",))
>>> mix.kinds[0], mix.weights[0], mix.description["real_train"]
('corpus', 1.0, None)
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stance.data.realpool import PoolUnit, describe_pool, pool_part, read_real_pool
from stance.data.trainset import TrainingSet, load_examples
from stance.data.trainset import build_training_set as _project_set
from stance.errors import ConfigError


@dataclass
class MixedTrainingSet:
    """Parallel lists, one entry per training text, and the description stored in metadata.

    ``groups`` is the source document (corpus), writer (authored) or page URL (pool);
    ``kinds`` is ``"corpus"`` or ``"authored"`` for the project's texts and the pool's kind
    (``"comment"`` / ``"article_paragraph"``) for real texts; ``origins`` is ``"corpus"``,
    ``"authored"`` or ``"real"``.
    """

    texts: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    weights: list[float] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)
    origins: list[str] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    description: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.texts)

    def extend(self, other: MixedTrainingSet) -> None:
        for name in ("texts", "labels", "weights", "groups", "kinds", "origins", "ids"):
            getattr(self, name).extend(getattr(other, name))


def project_set(project: TrainingSet, authored_weight: float = 1.0) -> MixedTrainingSet:
    """The project's texts (corpus units weigh 1, authored texts ``authored_weight``)."""
    mix = MixedTrainingSet(description=dict(project.description))
    for e in project.examples:
        mix.texts.append(e.text)
        mix.labels.append(e.label)
        mix.weights.append(authored_weight if e.origin == "authored" else 1.0)
        mix.groups.append(e.group)
        mix.kinds.append(e.origin)
        mix.origins.append(e.origin)
        mix.ids.append(e.id)
    mix.description["authored_weight"] = authored_weight
    return mix


def pool_set(units: Sequence[PoolUnit], weight: float = 1.0) -> MixedTrainingSet:
    """Pool units as training texts, each weighing ``weight``, grouped by page."""
    mix = MixedTrainingSet()
    for u in units:
        mix.texts.append(u.text)
        mix.labels.append(u.label)
        mix.weights.append(weight)
        mix.groups.append(u.source_url)
        mix.kinds.append(u.kind)
        mix.origins.append("real")
        mix.ids.append(u.id)
    return mix


def build_training_set(
    *,
    real_train: str | os.PathLike[str] | None = None,
    real_weight: float = 1.0,
    part: str = "train",
    pool: Sequence[PoolUnit] | None = None,
    use_project: bool = True,
    use_authored: bool = True,
    authored_weight: float = 1.0,
    authored_fraction: float = 1.0,
    corpus_path: str | os.PathLike[str] | None = None,
    authored_path: str | os.PathLike[str] | None = None,
    splits: Sequence[str] = ("train", "dev"),
    seed: int = 0,
) -> MixedTrainingSet:
    """The project's texts plus the ``part`` of the real pool at ``real_train`` (or the units
    given as ``pool``, already read), each pool text weighing ``real_weight``.

    Args:
        real_train: Path of the pool's JSON Lines file; ``None`` trains without a pool.
        real_weight: Weight of each pool text in the loss (project corpus texts weigh 1).
        part: Which part of the pool: ``"train"`` (default), ``"calibration"`` or ``"all"``.
        pool: Units already read (e.g. a cross-validation fold); their fingerprint is that of
            the units given. Mutually exclusive with ``real_train``.
        use_project: Include the project's corpus units (and authored texts).
        use_authored: Include the authored texts.
        authored_weight: Weight of each authored text.
        authored_fraction: Keep a seeded, label-stratified fraction of the authored texts.
        corpus_path, authored_path: Other project files (default: the shipped ones).
        splits: Corpus splits to include.
        seed: Seed of the authored fraction.

    Raises:
        ConfigError: a negative weight, both ``real_train`` and ``pool``, or an empty set.
        CorpusError: the pool file is missing or invalid.
    """
    if real_weight < 0 or authored_weight < 0:
        raise ConfigError(
            f"weights must be >= 0, got real_weight={real_weight}, "
            f"authored_weight={authored_weight}"
        )
    if real_train is not None and pool is not None:
        raise ConfigError("pass the pool as a path (real_train) or as units (pool), not both")
    if use_project:
        corpus, authored, files = load_examples(
            corpus_path, authored_path, use_authored=use_authored
        )
        project = _project_set(
            corpus,
            authored,
            splits=splits,
            authored_fraction=authored_fraction,
            seed=seed,
            files=files,
        )
        mix = project_set(project, authored_weight)
    else:
        mix = MixedTrainingSet(description={"n_corpus": 0, "n_authored": 0, "files": []})
    units: list[PoolUnit] | None = None
    if real_train is not None:
        everything = read_real_pool(Path(real_train))
        units = pool_part(everything, part)
        described = describe_pool(everything, part)
    elif pool is not None:
        units = list(pool)
        described = describe_pool(units, None)
        described["part"] = "given units"
    if units is not None:
        mix.extend(pool_set(units, real_weight))
        mix.description["real_train"] = {**described, "weight": real_weight}
    else:
        mix.description["real_train"] = None
    if not mix.texts:
        raise ConfigError("the training set is empty (no project texts and no pool)")
    return mix


def add_mix_arguments(parser: argparse.ArgumentParser) -> None:
    """The training scripts' options for the training mix: ``--real-train PATH``,
    ``--real-weight`` and ``--authored-weight`` (see :func:`build_training_set`)."""
    parser.add_argument(
        "--real-train",
        type=Path,
        default=None,
        help="a real training pool (JSON Lines); its "
        "training part joins the training texts, its calibration part fits the temperature",
    )
    parser.add_argument("--real-weight", type=float, default=1.0, help="weight of a pool text")
    parser.add_argument(
        "--authored-weight", type=float, default=1.0, help="weight of an authored text"
    )
