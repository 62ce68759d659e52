"""Adapting a model to your own labelled texts: ``stance train`` and :func:`stance.train`.

**What it trains.** By default the shipped model's recipe (its backend and the hyperparameters
in its own ``metadata.json``) on the shipped training data (the corpus ``train`` + ``dev`` units
and the authored texts; never the corpus test split) plus your texts. With
``with_shipped_data=False`` (``--only-my-data``) on your texts alone.

**How your texts are weighted.** Each of your texts gets a weight ``w`` in the training loss
(``sample_weight`` of the logistic regression, on top of its class weights; for BERT the same
weight on each of the text's windows in the cross-entropy), each shipped text weight 1. The
default ``w`` is chosen by k-fold cross-validation on your texts among ``w = 1`` and the weights
that give your texts 25 %, 50 % and 75 % of the total weight. For BERT the weight is chosen
with the baseline's cross-validation (one BERT fine-tune per candidate and fold would take
hours on a CPU); pass ``user_weight`` to set it.

**What it reports.** Stratified k-fold cross-validated macro-F1 on your texts (pooled
out-of-fold predictions, with a bootstrap 95 % interval) of: the shipped model as it is, shipped
data + your data, and your data alone. In each fold, the weight used for the "shipped data +
your data" score is the one that scored best on the *other* folds, so choosing it does not
inflate the score. The numbers go into the model's ``metadata.json`` (``adaptation``) and a
``report.md`` in the model directory.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from stance.errors import ConfigError, ModelError, TextTypeError
from stance.extras import TRAIN_MODULES, require
from stance.labels import LABEL2ID, LABELS
from stance.own_data.labelled import MIN_EXAMPLES, check_enough_examples, check_labels

logger = logging.getLogger(__name__)

SHARES = (0.25, 0.5, 0.75)
"""Candidate shares of the total training weight for your texts (besides ``w = 1``)."""
VARIANTS = {
    "shipped_as_is": "shipped model as it is",
    "shipped_plus_user": "shipped data + your data",
    "user_only": "your data alone",
}


def single_threaded_blas() -> Any:
    """A context in which BLAS and OpenMP use one thread.

    Cross-validation fits many small sparse logistic regressions; their L-BFGS steps gain
    nothing from a parallel BLAS, and on busy cores its threads cost a lot (a fit on 250 texts
    took 0.7-1.0 s with one thread against 4.5-8 s with two, on 2 shared cores).
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # threadpoolctl comes with scikit-learn; without it, change nothing
        import contextlib

        return contextlib.nullcontext()
    return threadpool_limits(1)


def candidate_weights(n_shipped: int, n_user: int, shares: Sequence[float] = SHARES) -> list[float]:
    """``1`` and the weights per user text that give the user's texts each share of the total.

    >>> candidate_weights(2000, 100)
    [1.0, 6.667, 20.0, 60.0]
    >>> candidate_weights(2000, 2000)  # 1:1 already gives 50 %
    [1.0, 3.0]
    """
    weights = [1.0]
    for share in shares:
        w = round(share / (1 - share) * n_shipped / n_user, 3)
        if w > weights[-1] * 1.05:
            weights.append(w)
    return weights


def stratified_folds(labels: Sequence[str], folds: int, seed: int) -> np.ndarray:
    """A fold number per example, stratified by label and shuffled with ``seed``."""
    from sklearn.model_selection import StratifiedKFold

    ids = np.zeros(len(labels), dtype=int)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for fold, (_, held) in enumerate(splitter.split(np.zeros(len(labels)), labels)):
        ids[held] = fold
    return ids


def _macro_f1(gold: Sequence[str], probs: np.ndarray) -> float:
    from stance.evaluation.metrics import macro_f1

    return macro_f1(list(gold), [LABELS[i] for i in probs.argmax(axis=1)])


def _summary(gold: list[str], probs: np.ndarray, fold_of: np.ndarray, seed: int) -> dict[str, Any]:
    from stance.evaluation.metrics import score

    scores = score(gold, [LABELS[i] for i in probs.argmax(axis=1)], probs, seed=seed)
    per_fold = [
        _macro_f1([g for g, f in zip(gold, fold_of) if f == k], probs[fold_of == k])
        for k in range(int(fold_of.max()) + 1)
    ]
    return {
        "macro_f1": scores["macro_f1"],
        "macro_f1_ci95": list(scores["macro_f1_ci95"]),
        "accuracy": scores["accuracy"],
        "f_avg": scores["f_avg"],
        "per_class_f1": {label: s["f1"] for label, s in scores["per_class"].items()},
        "ece": scores["ece"],
        "fold_macro_f1": per_fold,
    }


class _Recipe:
    """The shipped model's recipe for one backend: hyperparameters, base model, fitting."""

    def __init__(
        self,
        backend: str,
        hyperparameters: dict[str, Any] | None,
        base_model: str | os.PathLike[str] | None,
        device: str,
    ) -> None:
        from stance.modeldir import read_metadata, shipped_model_dir
        from stance.training.registry import trainer_for

        self.backend = backend
        self.trainer = trainer_for(backend)
        self.device = device
        self.shipped_metadata = read_metadata(shipped_model_dir(backend))
        self.config: Any = self.trainer.adapt_config(self.shipped_metadata, hyperparameters)
        self.base_model = (
            resolve_base_model(self.shipped_metadata, base_model)
            if self.trainer.fine_tunes_base
            else None
        )

    def fit(
        self,
        texts: list[str],
        labels: list[str],
        weights: list[float] | None,
        seed: int,
        *,
        groups: list[str] | None = None,
        origins: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> Any:
        import contextlib

        with single_threaded_blas() if self.trainer.single_threaded else contextlib.nullcontext():
            return self.trainer.fit(
                texts,
                labels,
                self.config,
                seed=seed,
                sample_weight=weights,
                groups=groups,
                origins=origins,
                metadata=metadata,
                base_model=self.base_model,
                device=self.device,
            )


def resolve_base_model(
    shipped_metadata: dict[str, Any], base_model: str | os.PathLike[str] | None
) -> str:
    """The BERT base model to fine-tune: ``base_model`` if given; else the shipped BERT's own
    pretrained base (``models/danish-mini-bert``) where it is present, as in a checkout; else
    the shipped fine-tuned BERT itself, whose training then continues on the new data (the
    wheel leaves the pretrained base out to keep ``pip install stance`` small)."""
    from stance.modeldir import shipped_model_dir

    if base_model is not None:
        return str(base_model)
    base = str(shipped_metadata.get("base_model"))
    for candidate in (shipped_model_dir(Path(base).name), Path(base), shipped_model_dir("bert")):
        if candidate.is_dir() and (candidate / "config.json").is_file():
            return str(candidate)
    raise ModelError(
        Path(base),
        "neither the shipped BERT nor its base model is installed",
        "Pass base_model with a BERT directory or a Hugging Face model id",
    )


def _check_output(output: Path) -> None:
    from stance.modeldir import METADATA_FILE, SHIPPED_MODELS, shipped_model_dir

    resolved = output.resolve()
    if any(resolved == shipped_model_dir(name).resolve() for name in SHIPPED_MODELS):
        raise ConfigError(f"{output} is a shipped model; write your model to another directory")
    if output.exists():
        if not output.is_dir():
            raise ConfigError(f"{output} exists and is not a directory; choose another output")
        if any(output.iterdir()) and not (output / METADATA_FILE).is_file():
            raise ConfigError(
                f"{output} exists, is not empty and is not a stance model directory; choose "
                "another output (an existing model directory is replaced)"
            )


def _replace_dir(written: Path, output: Path) -> None:
    """Move a finished model directory into place (replacing an older model there)."""
    if output.exists():
        old = output.with_name(f".{output.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        output.rename(old)
        written.rename(output)
        shutil.rmtree(old, ignore_errors=True)
    else:
        written.rename(output)


def shipped_weights(shipped: Any) -> list[float]:
    """Each shipped training text's weight: its own (a mix with the real pool) or 1."""
    weights = getattr(shipped, "weights", None)
    return list(weights) if weights else [1.0] * len(shipped)


def train(
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    output: str | os.PathLike[str],
    backend: str = "baseline",
    with_shipped_data: bool = True,
    seed: int = 0,
    user_weight: float | None = None,
    folds: int = 5,
    hyperparameters: dict[str, Any] | None = None,
    base_model: str | os.PathLike[str] | None = None,
    device: str = "auto",
    source: dict[str, Any] | None = None,
    command: str | None = None,
    corpus_path: str | os.PathLike[str] | None = None,
    authored_path: str | os.PathLike[str] | None = None,
    progress: bool = False,
    log: Callable[[str], None] | None = None,
    real_train: str | os.PathLike[str] | None = None,
    real_train_weight: float = 1.0,
) -> dict[str, Any]:
    """Train a model on your labelled texts (plus the shipped training data) and say whether
    adapting helped.

    The model directory written to ``output`` works wherever a model name does:
    ``classify(text, model=output)``, ``stance classify --model output``, ``explain``, and for
    BERT ``transformers.pipeline("text-classification", model=output)``.

    Args:
        texts: Your texts.
        labels: Their labels (``against``, ``for``, ``neutral``); at least 5 of each.
        output: The model directory to write (an existing model directory is replaced).
        backend: ``"baseline"`` or ``"bert"``.
        with_shipped_data: Train on the shipped training data plus your texts (default), or on
            your texts alone.
        seed: Seed of the folds and of training.
        user_weight: Weight of each of your texts in the loss (shipped texts weigh 1); default:
            chosen by cross-validation on your texts.
        folds: Folds of the cross-validation on your texts (2–10).
        hyperparameters: Changes to the shipped model's hyperparameters.
        base_model: BERT only: the encoder to fine-tune (default: the shipped BERT's base).
        device: BERT only: ``"auto"``, ``"cpu"`` or ``"cuda"``.
        source: Where the texts came from (stored in the metadata), e.g. a file summary.
        command: The command line that made the model (for ``report.md``).
        corpus_path, authored_path: Other shipped-data files (default: the shipped ones).
        progress: Show a progress bar on stderr.
        log: Called with one line per step (default: the module logger).
        real_train: A real training pool (JSON Lines); its training part joins the shipped
            training data, each text weighing ``real_train_weight`` (see
            :func:`stance.training.trainset.build_training_set`).
        real_train_weight: Weight of each pool text in the loss.

    Returns:
        The ``adaptation`` record also written into ``metadata.json``: ``cv`` (macro-F1 with a
        95 % interval, accuracy, F_avg, per-fold macro-F1 for ``shipped_as_is``,
        ``shipped_plus_user`` and ``user_only``), ``user_weight``, ``weights`` (each candidate's
        CV macro-F1), ``trained`` (which variant this directory holds), ``best`` and ``output``.

    Raises:
        LabelError: a label outside :data:`stance.LABELS`, or fewer than 5 examples of a label.
        ConfigError: a bad argument, or ``output`` is a non-model directory with files in it.
        MissingDependencyError: scikit-learn (``stance[train]``) or torch (``stance[bert]``).

    >>> import tempfile
    >>> texts = ["Jobcentret hjalp mig", "Luk jobcentret", "Mødet er tirsdag"] * 5
    >>> labels = ["for", "against", "neutral"] * 5
    >>> report = train(texts, labels, output=tempfile.mkdtemp() + "/m", with_shipped_data=False,
    ...                folds=2, user_weight=1)  # doctest: +SKIP
    """
    require(TRAIN_MODULES, "train", "stance train")
    _check_arguments(backend, folds, user_weight)
    texts, labels, counts = _checked_examples(texts, labels, folds, source)
    output = Path(output)
    _check_output(output)
    log = log or logger.info
    started = dt.datetime.now()
    recipe = _Recipe(backend, hyperparameters, base_model, device)
    from stance.training.recipes import training_data

    shipped: Any = training_data(
        corpus_path=None if corpus_path is None else Path(corpus_path),
        authored_path=None if authored_path is None else Path(authored_path),
        splits=("train", "dev"),
        seed=seed,
    )
    if real_train is not None:  # the pool's training part joins the shipped data
        from stance.training.trainset import build_training_set

        shipped = build_training_set(
            real_train=real_train,
            real_weight=real_train_weight,
            corpus_path=corpus_path,
            authored_path=authored_path,
            seed=seed,
        )
    weights = [float(user_weight)] if user_weight is not None else None
    proxy = None
    if weights is None:
        weights = candidate_weights(len(shipped), len(texts))
        if recipe.trainer.cv_proxy is not None:  # e.g. one BERT fine-tune per weight and fold
            proxy = _Recipe(recipe.trainer.cv_proxy, None, None, device)
    n_fits = folds * (len(weights) + (1 if proxy is None else 2)) + 1
    bar = _progress_bar(progress, n_fits, backend)
    cv_folds = _Folds(texts, labels, shipped, folds, seed, bar)
    log(f"{len(texts)} texts of yours ({counts}), {len(shipped)} shipped training texts")
    oof, weight_scores, chosen, fold_weights = _cross_validate(
        cv_folds, backend, recipe, proxy, weights, log
    )
    cv = {name: _summary(labels, probs, cv_folds.fold_of, seed) for name, probs in oof.items()}
    for name, row in cv.items():
        log(f"{VARIANTS[name]}: CV macro-F1 {row['macro_f1']:.3f}")
    trained = "shipped_plus_user" if with_shipped_data else "user_only"
    # the best variant in CV (on a tie, the one this directory holds)
    best_variant = max(cv, key=lambda name: (round(cv[name]["macro_f1"], 12), name == trained))

    data = _final_data(shipped, texts, labels, counts, chosen, with_shipped_data, source)
    metadata = _model_metadata(output.name, backend, shipped, data.description, hyperparameters)
    adaptation: dict[str, Any] = {
        "folds": folds,
        "seed": seed,
        "n_user": len(texts),
        "user_label_counts": counts,
        "cv": cv,
        "user_weight": chosen,
        "user_weight_chosen_by": "given"
        if user_weight is not None
        else f"{folds}-fold CV on your texts"
        + (" with the baseline recipe" if proxy is not None else ""),
        "weights": weight_scores,
        "fold_weights": fold_weights,
        "trained": trained,
        "best": best_variant,
        "command": command,
        "seconds": None,
    }
    log(f"training the model on {len(data.texts)} texts")
    model = recipe.fit(
        data.texts,
        data.labels,
        data.sample_weight,
        seed,
        groups=data.groups,
        origins=data.origins,
        metadata=None if recipe.trainer.calibrates_from_cv else metadata,
    )
    if bar is not None:
        bar.update(1)
        bar.close()
    if recipe.trainer.calibrates_from_cv:
        _calibrate(model, metadata, oof[trained], labels, folds)
    adaptation["seconds"] = round((dt.datetime.now() - started).total_seconds(), 1)
    model.metadata["adaptation"] = adaptation
    _save(model, output, render_report(model.metadata, shipped, str(output)))
    log(f"wrote {output}")
    return {**adaptation, "output": str(output)}


def _check_arguments(backend: str, folds: int, user_weight: float | None) -> None:
    from stance.training.registry import trainer_for

    trainer_for(backend).require()
    if not 2 <= folds <= 10:
        raise ConfigError(f"folds must be between 2 and 10, got {folds}")
    if user_weight is not None and not user_weight > 0:
        raise ConfigError(f"user_weight must be > 0, got {user_weight}")


def _checked_examples(
    texts: Sequence[str], labels: Sequence[str], folds: int, source: dict[str, Any] | None
) -> tuple[list[str], list[str], dict[str, int]]:
    """The texts (checked, normalised), the labels (checked) and the label counts (at least
    ``max(5, folds)`` of each label)."""
    from stance.text import prepare_text

    if isinstance(texts, str) or isinstance(labels, str):
        raise TextTypeError("texts and labels must be sequences of strings, not a single string")
    checked = [prepare_text(text, i) for i, text in enumerate(texts)]
    checked_labels = check_labels(list(labels))
    if len(checked) != len(checked_labels):
        raise ConfigError(f"{len(checked)} texts but {len(checked_labels)} labels")
    where = (source or {}).get("file")
    counts = check_enough_examples(checked_labels, max(MIN_EXAMPLES, folds), where)
    return checked, checked_labels, counts


def _progress_bar(progress: bool, total: int, backend: str) -> Any:
    if not progress:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, unit="fit", desc=f"train {backend}", leave=False)


class _Folds:
    """Stratified folds over the user's texts, and models fitted without each fold."""

    def __init__(
        self, texts: list[str], labels: list[str], shipped: Any, folds: int, seed: int, bar: Any
    ) -> None:
        self.texts, self.labels, self.shipped = texts, labels, shipped
        self.folds, self.seed, self.bar = folds, seed, bar
        self.fold_of = stratified_folds(labels, folds, seed)

    def fitted(self, recipe: _Recipe, train_idx: np.ndarray, w: float | None) -> Any:
        """``recipe`` fitted on the user's texts at ``train_idx`` (weight ``w`` each) plus the
        shipped data, or on those texts alone when ``w`` is ``None``."""
        user_texts = [self.texts[i] for i in train_idx]
        user_labels = [self.labels[i] for i in train_idx]
        if w is None:
            model = recipe.fit(user_texts, user_labels, None, self.seed)
        else:
            model = recipe.fit(
                self.shipped.texts + user_texts,
                self.shipped.labels + user_labels,
                shipped_weights(self.shipped) + [w] * len(user_texts),
                self.seed,
            )
        if self.bar is not None:
            self.bar.update(1)
        return model

    def out_of_fold(self, recipe: _Recipe, w: float | None) -> np.ndarray:
        """Each text's probabilities from the model fitted without its fold."""
        probs = np.zeros((len(self.texts), len(LABELS)))
        for k in range(self.folds):
            held = np.flatnonzero(self.fold_of == k)
            model = self.fitted(recipe, np.flatnonzero(self.fold_of != k), w)
            probs[held] = model.predict_proba([self.texts[i] for i in held])
        return probs


def _cross_validate(
    cv: _Folds,
    backend: str,
    recipe: _Recipe,
    proxy: _Recipe | None,
    weights: list[float],
    log: Callable[[str], None],
) -> tuple[dict[str, np.ndarray], list[dict[str, Any]], float, list[float]]:
    """Out-of-fold probabilities of the three variants, each weight's score, the chosen
    weight and the weight used in each fold."""
    from stance.api import load_classifier
    from stance.modeldir import shipped_model_dir

    labels = cv.labels
    # the shipped model itself (not a folder of the same name in the working directory)
    shipped_model = load_classifier(shipped_model_dir(backend))
    oof: dict[str, np.ndarray] = {"shipped_as_is": shipped_model.predict_proba(cv.texts)}
    log(f"shipped model as it is: CV macro-F1 {_macro_f1(labels, oof['shipped_as_is']):.3f}")
    by_weight = {w: cv.out_of_fold(proxy or recipe, w) for w in weights}
    weight_scores = _weight_scores(by_weight, len(cv.texts), len(cv.shipped), labels)
    for row in weight_scores:
        log(f"weight {row['weight']:g} ({row['share']:.0%} of the weight): {row['macro_f1']:.3f}")
    best = max(weight_scores, key=lambda r: (round(r["macro_f1"], 12), -r["weight"]))
    chosen = float(best["weight"])
    combined, fold_weights = _nested_choice(by_weight, weights, labels, cv.fold_of, cv.folds)
    if proxy is not None:  # BERT: its own CV at the weight the baseline chose
        combined = cv.out_of_fold(recipe, chosen)
        fold_weights = [chosen] * cv.folds
    oof["shipped_plus_user"] = combined
    oof["user_only"] = cv.out_of_fold(recipe, None)
    return oof, weight_scores, chosen, fold_weights


def _weight_scores(
    by_weight: dict[float, np.ndarray], n_user: int, n_shipped: int, labels: list[str]
) -> list[dict[str, Any]]:
    return [
        {
            "weight": w,
            "share": round(w * n_user / (w * n_user + n_shipped), 3),
            "macro_f1": _macro_f1(labels, probs),
        }
        for w, probs in by_weight.items()
    ]


def _nested_choice(
    by_weight: dict[float, np.ndarray],
    weights: list[float],
    labels: list[str],
    fold_of: np.ndarray,
    folds: int,
) -> tuple[np.ndarray, list[float]]:
    """The "shipped data + your data" predictions where each fold's weight is the best on
    the *other* folds (so choosing it does not flatter the score), and those weights."""
    fold_weights = []
    combined = np.zeros((len(labels), len(LABELS)))
    for k in range(folds):
        rest = fold_of != k
        w_k = max(
            weights,
            key=lambda w: (
                round(_macro_f1([g for g, r in zip(labels, rest) if r], by_weight[w][rest]), 12),
                -w,
            ),
        )
        fold_weights.append(w_k)
        combined[fold_of == k] = by_weight[w_k][fold_of == k]
    return combined, fold_weights


@dataclass
class _TrainingSet:
    texts: list[str]
    labels: list[str]
    sample_weight: list[float] | None
    groups: list[str]
    origins: list[str]
    description: dict[str, Any]


def _final_data(
    shipped: Any,
    texts: list[str],
    labels: list[str],
    counts: dict[str, int],
    chosen: float,
    with_shipped_data: bool,
    source: dict[str, Any] | None,
) -> _TrainingSet:
    """What the model itself is trained on, and its description for the metadata."""
    n_user = len(texts)
    if with_shipped_data:
        data = _TrainingSet(
            shipped.texts + texts,
            shipped.labels + labels,
            shipped_weights(shipped) + [chosen] * n_user,
            shipped.groups + ["user"] * n_user,
            shipped.origins + ["user"] * n_user,
            dict(shipped.description),
        )
    else:
        data = _TrainingSet(
            list(texts),
            list(labels),
            None,
            ["user"] * n_user,
            ["user"] * n_user,
            {"corpus_splits": [], "n_corpus": 0, "n_authored": 0},
        )
    from stance.own_data.labelled import LabelledData

    data.description.update(
        {
            "n_user": n_user,
            "user_label_counts": counts,
            "user_sha256": LabelledData(list(texts), list(labels), [], n_user).sha256(),
            "user_weight": chosen if with_shipped_data else None,
        }
    )
    if source:
        data.description["user_source"] = source
    return data


def _model_metadata(
    name: str,
    backend: str,
    shipped: Any,
    description: dict[str, Any],
    hyperparameters: dict[str, Any] | None,
) -> dict[str, Any]:
    from stance.training.recipes import common_metadata, library_versions
    from stance.training.registry import trainer_for

    versions = library_versions(*trainer_for(backend).libraries)
    return {
        **common_metadata(name, shipped, versions),
        "training_data": description,
        "adapted_from": {
            "model": backend,
            "hyperparameters": "the shipped model's metadata.json"
            + (" with changes" if hyperparameters else ""),
        },
    }


def _calibrate(
    model: Any, metadata: dict[str, Any], oof: np.ndarray, labels: list[str], folds: int
) -> None:
    """BERT: temperature scaling on the out-of-fold predictions of the user's texts."""
    from stance.evaluation.calibration import fit_temperature

    logp = np.log(np.clip(oof, 1e-12, None))
    temperature = fit_temperature(logp, [LABEL2ID[label] for label in labels])
    model.metadata.update(metadata)
    model.metadata["calibration"] = {
        "temperature": temperature,
        "method": f"temperature scaling on the {folds}-fold out-of-fold predictions of your texts",
    }
    model.temperature = temperature


def staging_dir(output: Path) -> Path:
    """A new hidden folder beside ``output`` to write a model into, with the permissions a
    folder made by ``mkdir`` gets (``tempfile.mkdtemp`` makes it private, 0700)."""
    output.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{output.name}.", suffix=".part", dir=output.parent))
    umask = os.umask(0)
    os.umask(umask)
    staging.chmod(0o777 & ~umask)
    return staging


def _save(model: Any, output: Path, report: str) -> None:
    """Write the model and its ``report.md`` beside ``output``, then move them into place."""
    staging = staging_dir(output)
    try:
        model.save(staging)
        (staging / "report.md").write_text(report, "utf-8")
        _replace_dir(staging, output)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    from stance.api import clear_cache

    clear_cache()  # a model loaded earlier from ``output`` is stale now


def _row(name: str, scores: dict[str, Any], note: str = "") -> list[str]:
    low, high = scores["macro_f1_ci95"]
    return [
        VARIANTS[name] + note,
        f"{scores['macro_f1']:.3f} [{low:.3f}, {high:.3f}]",
        f"{scores['accuracy']:.3f}",
        "n/a" if scores["f_avg"] is None else f"{scores['f_avg']:.3f}",
        ", ".join(f"{v:.2f}" for v in scores["fold_macro_f1"]),
    ]


def render_report(metadata: dict[str, Any], shipped: Any, where: str | None = None) -> str:
    """``report.md`` of an adapted model: did adapting help, how the texts were weighted."""
    from stance._version import __version__
    from stance.evaluation.report import markdown_table

    a = metadata["adaptation"]
    cv = a["cv"]
    data = metadata["training_data"]
    name = metadata.get("name")
    where = where or str(name)
    weight_note = f" (your texts × {a['user_weight']:g})"
    rows = [
        _row("shipped_as_is", cv["shipped_as_is"]),
        _row("shipped_plus_user", cv["shipped_plus_user"], weight_note),
        _row("user_only", cv["user_only"]),
    ]
    best, trained = a["best"], a["trained"]
    if best == trained:
        verdict = f"Best in cross-validation: **{VARIANTS[best]}**, which this directory holds."
    elif best == "shipped_as_is":
        verdict = (
            f"Best in cross-validation: **{VARIANTS[best]}**: adapting did not help on these "
            "texts; keep using the shipped model (or label more texts and train again)."
        )
    else:
        flag = "--only-my-data" if best == "user_only" else "--with-shipped-data"
        verdict = (
            f"Best in cross-validation: **{VARIANTS[best]}**; this directory holds "
            f"{VARIANTS[trained]}. Train with `{flag}` for the other."
        )
    counts = ", ".join(f"{label} {n}" for label, n in a["user_label_counts"].items())
    weight_rows = [
        [f"{w['weight']:g}", f"{w['share']:.0%}", f"{w['macro_f1']:.3f}"] for w in a["weights"]
    ]
    hyper = metadata.get("hyperparameters")
    from stance.training.registry import trainer_for

    backend = metadata.get("backend")
    trainer = trainer_for(str(backend))
    how_weighted = trainer.weighting
    source = data.get("user_source") or {}
    parts = [
        f"# `{name}`: a {backend} model adapted to your texts",
        "",
        (f"Made by `{a['command']}`" if a.get("command") else "Made by `stance.train`")
        + f" with stance {__version__} on {metadata.get('created')} "
        f"(seed {a['seed']}, {a['seconds']} s).",
        "",
        "## Did adapting help?",
        "",
        f"Stratified {a['folds']}-fold cross-validated macro-F1 on your {a['n_user']} texts "
        f"({counts}): each fold is predicted by a model trained without it; predictions are "
        "pooled; 95 % bootstrap interval over texts.",
        "",
        markdown_table(
            ["model", "macro-F1 [95% CI]", "accuracy", "F_avg", "macro-F1 per fold"], rows
        ),
        "",
        verdict,
        "",
        "The shipped model's row is the model as installed, on all your texts. In each fold of "
        "the 'shipped data + your data' row, your texts' weight is the one that scored best on "
        "the *other* folds (weights per fold: "
        + ", ".join(f"{w:g}" for w in a["fold_weights"])
        + "), so the choice of weight does not flatter it.",
        "",
        "## How your texts were weighted",
        "",
        f"Each of your texts counts **{a['user_weight']:g}** times as much as one shipped "
        f"training text in {how_weighted}; chosen by: {a['user_weight_chosen_by']}.",
        "",
        markdown_table(["weight", "share of the total weight", "CV macro-F1"], weight_rows),
        "",
        "## Training data",
        "",
        (
            f"- Shipped: {data.get('n_corpus')} corpus units (splits {data.get('corpus_splits')};"
            f" never the test split) and {data.get('n_authored')} authored texts "
            f"(SHA-256 `{str(data.get('sha256'))[:16]}…`)."
            if trained == "shipped_plus_user"
            else f"- Shipped: not used (`--only-my-data`); {len(shipped)} shipped texts exist."
        ),
        f"- Yours: {a['n_user']} texts (SHA-256 of texts and labels "
        f"`{data.get('user_sha256', '')[:16]}…`)"
        + (f" from `{source.get('file')}`" if source.get("file") else "")
        + (
            f"; {source.get('rows_skipped')} of {source.get('rows_read')} rows left out "
            f"({source.get('missing_text')} without a text, {source.get('missing_label')} "
            "without a label)"
            if source.get("rows_skipped")
            else ""
        )
        + ".",
        "",
        "## Hyperparameters",
        "",
        f"From {metadata['adapted_from']['hyperparameters']}: `{hyper}`"
        + (f"; base model `{metadata.get('base_model')}`" if trainer.fine_tunes_base else "")
        + f". Calibration: {metadata.get('calibration', {}).get('method')}.",
        "",
        "## Use",
        "",
        "```",
        f'stance classify --model {where} "Jobcentret hjalp mig."',
        f"stance evaluate --input gold.csv --model {where}",
        f'python -c \'from stance import classify; print(classify("...", model="{where}"))\'',
        "```",
        "",
    ]
    return "\n".join(parts)


def train_file(
    path: str | os.PathLike[str],
    *,
    output: str | os.PathLike[str],
    text_column: str = "text",
    label_column: str = "label",
    label_map: str | dict[str, str] | None = None,
    delimiter: str | None = None,
    encoding: str | None = None,
    sheet: str | int | None = None,
    **options: Any,
) -> dict[str, Any]:
    """:func:`train` on a labelled file of any format :mod:`stance.io` reads (rows without a
    text or label are left out, counted and recorded)."""
    from stance.own_data.labelled import read_labelled

    data = read_labelled(
        path,
        text_column=text_column,
        label_column=label_column,
        label_map=label_map,
        delimiter=delimiter,
        encoding=encoding,
        sheet=sheet,
    )
    summary = {k: v for k, v in data.summary().items() if k != "label_counts"}
    summary["skipped"] = summary["skipped"][:20]
    return {
        **train(data.texts, data.labels, output=output, source=summary, **options),
        "rows": data.summary(),
    }
