"""The baseline at inference, on numpy alone: hashed word and character n-grams (TF-IDF), dense
text features, and a linear layer.

The model is the scikit-learn pipeline of :mod:`stance.training.baseline` reduced to its
arrays. A model directory in **format 2** holds

- ``model.safetensors``: per block its IDF values, the hash columns the linear layer uses and
  their coefficients, the standardisation of dense blocks, and the intercepts;
- ``metadata.json``: under ``"features"``, every block's settings (n-gram analyzer and range,
  number of hash columns, TF-IDF options, dense featuriser name, block weight).

Nothing in such a directory can run code when it is loaded. Format 1 directories
(``model.skops``, the whole scikit-learn pipeline) still load when scikit-learn and skops are
installed (only the types in :data:`TRUSTED_TYPES` are accepted); :func:`convert_model_dir`
(``stance convert SRC DST``) rewrites one in format 2.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from stance.backends.base import Classifier
from stance.backends.blocks import (  # noqa: F401 (settings, imported from here too)
    NORMS,
    BaselineFeatures,
    Block,
    DenseBlock,
    HashedBlock,
)
from stance.errors import ConfigError, MissingDependencyError, ModelError, UnknownNameError
from stance.features import dense_featurizer
from stance.features.ngrams import hash_blocks
from stance.labels import LABELS
from stance.modeldir import retrain_hint, write_metadata

MODEL_FILE = "model.safetensors"
LEGACY_MODEL_FILE = "model.skops"
WORD_BITS = 18
CHAR_BITS = 19
CHUNK_CHARACTERS = 6000
"""Texts are featurised in chunks of about this many characters (the arrays stay in cache)."""

TRUSTED_TYPES: tuple[str, ...] = (
    "builtins.slice",
    "numpy.dtype",
    "numpy.ndarray",
    "numpy.float64",
    "numpy.int64",
    "scipy.sparse._csr.csr_matrix",
    "sklearn.feature_extraction.text.HashingVectorizer",
    "sklearn.feature_extraction.text.TfidfTransformer",
    "sklearn.feature_selection._variance_threshold.VarianceThreshold",
    "sklearn.linear_model._logistic.LogisticRegression",
    "sklearn.pipeline.FeatureUnion",
    "sklearn.pipeline.Pipeline",
    "sklearn.preprocessing._data.StandardScaler",
    "stance.training.lexicon_features.LexiconFeatures",
)
"""Every type a format-1 model file (``model.skops``) may contain; anything else is refused.

The file names ``LexiconFeatures`` by its module, so loading a format-1 model imports
:mod:`stance.training.lexicon_features` (a scikit-learn transformer, which cannot live in the
core): the one build-time module a runtime path loads, and only for this legacy format.
``stance convert`` rewrites such a directory in format 2, which needs nothing from training."""


def __getattr__(name: str) -> object:
    """``BaselineConfig`` and ``CALIBRATION_DATA`` moved to :mod:`stance.training.baseline`;
    the old names warn and are removed in the next release."""
    if name in ("BaselineConfig", "CALIBRATION_DATA"):
        import warnings

        warnings.warn(
            f"stance.backends.baseline.{name} moved: import it from stance.training.baseline "
            "(the old name goes in the next release)",
            DeprecationWarning,
            stacklevel=2,
        )
        from stance.training import baseline

        return getattr(baseline, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# --- the compiled blocks ----------------------------------------------------------------------


def _row_norms(values: np.ndarray, rows: np.ndarray, kind: str) -> np.ndarray:
    """Per row (a run of entries beginning at each of ``rows``), the L1 or L2 norm."""
    if kind == "l2":
        norms = np.sqrt(np.add.reduceat(values * values, rows))
    else:
        norms = np.add.reduceat(np.abs(values), rows)
    norms[norms == 0.0] = 1.0  # scikit-learn leaves an all-zero row as it is
    return norms


def _transform_key(spec: HashedBlock) -> tuple[Any, ...]:
    """The settings that blocks must share to be scored together."""
    return (spec.binary, spec.count_norm, spec.tfidf, spec.sublinear_tf, spec.use_idf, spec.norm)


class HashedFeatures:
    """One or more :class:`HashedBlock` with the same TF-IDF settings and their arrays, scored
    together: their hash columns are laid side by side in one column space."""

    def __init__(
        self, specs: Sequence[HashedBlock], arrays: dict[str, np.ndarray], n_labels: int
    ) -> None:
        self.specs = tuple(specs)
        first = self.specs[0]
        if any(_transform_key(spec) != _transform_key(first) for spec in self.specs):
            raise ConfigError("blocks scored together must share their TF-IDF settings")
        self.setting = first
        widths = [spec.hasher.n_features for spec in self.specs]
        self.offsets = np.concatenate(([0], np.cumsum(widths))).astype(np.int64)
        self.width = int(self.offsets[-1])
        self.weights = np.array([spec.weight for spec in self.specs])
        use_idf = first.tfidf and first.use_idf
        known_parts, coef_parts, coef_columns, idf_columns, idf_values = [], [], [], [], []
        idf_defaults = []
        for spec, offset in zip(self.specs, self.offsets.tolist()):
            n, name = spec.hasher.n_features, spec.name
            columns = _array(arrays, f"{name}.columns", np.int64, (-1,))
            _check_columns(columns, n, name)
            coef_columns.append(columns + offset)
            coef_parts.append(_array(arrays, f"{name}.coef", np.float64, (columns.size, n_labels)))
            known_parts.append(columns + offset)
            if use_idf:
                cols = _array(arrays, f"{name}.idf.columns", np.int64, (-1,))
                _check_columns(cols, n, f"{name}.idf")
                idf_columns.append(cols + offset)
                idf_values.append(_array(arrays, f"{name}.idf.values", np.float64, (cols.size,)))
                idf_defaults.append(_array(arrays, f"{name}.idf.default", np.float64, (1,))[0])
                known_parts.append(cols + offset)
        # one slot per column that has an IDF or a coefficient, then one slot per block that
        # every other column of the block shares (the block's default IDF, zero coefficients)
        coef_known = np.concatenate(coef_columns)
        if not idf_columns or np.array_equal(np.concatenate(idf_columns), coef_known):
            known = coef_known  # the usual case: the kept columns are those with an IDF
        else:
            known = np.concatenate(known_parts)
            known.sort()  # np.unique is slower: it hashes
            known = known[np.concatenate(([True], known[1:] != known[:-1]))]
        self.known = known
        self.slot = np.empty(self.width, dtype=np.int32)
        for b in range(len(self.specs)):
            self.slot[self.offsets[b] : self.offsets[b + 1]] = known.size + b
        self.slot[known] = np.arange(known.size, dtype=np.int32)
        n_slots = known.size + len(self.specs)
        by_label = np.zeros((n_labels, n_slots))  # one contiguous row per label: fast gathers
        coef_slots = self.slot[coef_known]
        for k, values in enumerate(np.concatenate(coef_parts).T):
            by_label[k, coef_slots] = values
        self._coef_by_label = list(by_label)
        self.coef = by_label.T  # (slot, label)
        self.idf = None
        if use_idf:
            self.idf = np.empty(n_slots)
            self.idf[known.size :] = idf_defaults
            self.idf[self.slot[np.concatenate(idf_columns)]] = np.concatenate(idf_values)

    def _entries(
        self, parts: Sequence[tuple[np.ndarray, np.ndarray]], n_docs: int
    ) -> tuple[np.ndarray, ...]:
        """Count the n-gram occurrences of each text and block.

        Returns:
            ``(rows, row_docs, row_blocks, columns, counts)``: the entries are the distinct
            (text, column) pairs, sorted; a row is the run of entries of one text and block,
            starting at ``rows``; ``columns`` are in the joint column space.
        """
        width = self.width
        dtype = np.int32 if n_docs * width < 2**31 else np.int64  # a faster sort
        pieces = []
        for (docs, columns), offset in zip(parts, self.offsets.tolist()):
            key = columns.astype(dtype)
            if offset:
                key += offset
            if n_docs > 1:
                key += (docs * width).astype(dtype, copy=False)
            pieces.append(key)
        keys = pieces[0] if len(pieces) == 1 else np.concatenate(pieces)
        keys.sort()
        n = keys.size
        if n == 0:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty, empty, empty, empty
        new = np.empty(n, dtype=bool)
        new[0] = True
        np.not_equal(keys[1:], keys[:-1], out=new[1:])
        first = np.flatnonzero(new)
        counts = np.diff(first, append=n)
        keys = keys[first]
        n_blocks = len(self.specs)
        if n_docs == 1:  # one text: a row per block that has n-grams
            columns = keys.astype(np.intp)  # gathers are fastest with intp indices
            bounds = np.searchsorted(columns, self.offsets)
            row_blocks = np.flatnonzero(bounds[1:] > bounds[:-1])
            rows = bounds[row_blocks]
            return rows, np.zeros(rows.size, dtype=np.intp), row_blocks, columns, counts
        docs = (keys // width).astype(np.intp)
        columns = keys.astype(np.intp) - docs * width
        if n_blocks == 1:
            blocks = np.zeros(keys.size, dtype=np.intp)
            group = docs
        else:
            blocks = np.searchsorted(self.offsets[1:], columns, side="right")
            group = docs * n_blocks + blocks
        new = np.empty(keys.size, dtype=bool)
        new[0] = True
        np.not_equal(group[1:], group[:-1], out=new[1:])
        rows = np.flatnonzero(new)
        return rows, docs[rows], blocks[rows], columns, counts

    def _tf_idf(
        self, rows: np.ndarray, slots: np.ndarray, counts: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """The values before the final normalisation, and the row norms it divides by."""
        spec = self.setting
        values = np.ones(counts.size) if spec.binary else counts.astype(np.float64)
        if spec.count_norm is not None:
            sizes = np.diff(rows, append=values.size)
            values /= np.repeat(_row_norms(values, rows, spec.count_norm), sizes)
        if not spec.tfidf:
            return values, None
        if spec.sublinear_tf:
            np.log(values, out=values)
            values += 1.0
        if self.idf is not None:
            values *= self.idf[slots]
        norms = None if spec.norm is None else _row_norms(values, rows, spec.norm)
        return values, norms

    def values(
        self, parts: Sequence[tuple[np.ndarray, np.ndarray]], n_docs: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The blocks' weighted feature values, as the scikit-learn pipeline computes them.

        Returns:
            ``(docs, blocks, columns, values)``: one entry per distinct (text, block, column),
            ``blocks`` indexing :attr:`specs`, ``columns`` the block's own hash columns.
        """
        rows, row_docs, row_blocks, columns, counts = self._entries(parts, n_docs)
        if counts.size == 0:
            return row_docs, row_blocks, columns, np.zeros(0)
        values, norms = self._tf_idf(rows, self._slots(columns), counts)
        sizes = np.diff(rows, append=values.size)
        scale = self.weights[row_blocks]
        if norms is not None:
            scale = scale / norms
        values *= np.repeat(scale, sizes)
        blocks = np.repeat(row_blocks, sizes)
        return np.repeat(row_docs, sizes), blocks, columns - self.offsets[blocks], values

    def add_logits(
        self, parts: Sequence[tuple[np.ndarray, np.ndarray]], logits: np.ndarray
    ) -> None:
        """Add the blocks' contributions to ``logits`` (one row per text)."""
        rows, row_docs, row_blocks, columns, counts = self._entries(parts, logits.shape[0])
        if counts.size == 0:
            return
        slots = self._slots(columns)
        values, norms = self._tf_idf(rows, slots, counts)
        # the row norm and block weight scale whole rows, so they apply to the row sums
        sums = np.empty((rows.size, len(self._coef_by_label)))
        for k, coef in enumerate(self._coef_by_label):
            sums[:, k] = np.add.reduceat(coef[slots] * values, rows)
        scale = self.weights[row_blocks]
        if norms is not None:
            scale = scale / norms
        sums *= scale[:, None]
        if logits.shape[0] == 1:
            logits[0] += sums.sum(axis=0)
        elif len(self.specs) == 1:
            logits[row_docs] += sums
        else:
            np.add.at(logits, row_docs, sums)

    def _slots(self, columns: np.ndarray) -> np.ndarray:
        return self.slot[columns].astype(np.intp)

    def coefficients(self, block: int, columns: np.ndarray) -> np.ndarray:
        """The linear layer's coefficient rows of hash ``columns`` of block number ``block``."""
        return self.coef[self.slot[columns + self.offsets[block]]]


class DenseFeatures:
    """A :class:`DenseBlock` with its arrays, ready to score texts."""

    def __init__(self, spec: DenseBlock, arrays: dict[str, np.ndarray], n_labels: int) -> None:
        self.spec = spec
        name = spec.name
        d = spec.n_values
        self.function, _ = dense_featurizer_for(spec)
        columns = _array(arrays, f"{name}.columns", np.int64, (-1,))
        _check_columns(columns, d, name)
        self.selected = columns
        self.coef = np.zeros((d, n_labels))
        self.coef[columns] = _array(arrays, f"{name}.coef", np.float64, (columns.size, n_labels))
        self.mean = self.scale = None
        if spec.standardize:
            self.mean = _array(arrays, f"{name}.mean", np.float64, (d,))
            self.scale = _array(arrays, f"{name}.scale", np.float64, (d,))

    def values(self, texts: Sequence[str]) -> np.ndarray:
        """The block's weighted (standardised) values, shape ``(len(texts), n_values)``."""
        raw = np.asarray([self.function(text) for text in texts], dtype=np.float64)
        raw = raw.reshape(len(texts), self.spec.n_values)
        if self.mean is not None and self.scale is not None:
            raw -= self.mean
            raw /= self.scale
        if self.spec.weight != 1.0:
            raw *= self.spec.weight
        return raw

    def add_logits(self, texts: Sequence[str], logits: np.ndarray) -> None:
        # multiply and sum feature by feature rather than ``@``: a matrix product may sum in
        # another order for another batch size, and a text's scores must not depend on its batch
        logits += (self.values(texts)[:, :, None] * self.coef[None, :, :]).sum(axis=1)


def dense_featurizer_for(spec: DenseBlock) -> tuple[Any, tuple[str, ...]]:
    try:
        function, names = dense_featurizer(spec.featurizer)
    except KeyError as exc:
        raise ConfigError(
            f"block {spec.name!r} needs the dense featuriser {spec.featurizer!r}, which this "
            "version of stance does not have; upgrade stance"
        ) from exc
    if len(names) != spec.n_values:
        raise ConfigError(
            f"block {spec.name!r}: featuriser {spec.featurizer!r} returns {len(names)} values, "
            f"the model expects {spec.n_values}"
        )
    return function, names


def _array(
    arrays: dict[str, np.ndarray], key: str, dtype: Any, shape: tuple[int, ...]
) -> np.ndarray:
    """``arrays[key]``, checked for its dtype (integers: any width) and shape."""
    if key not in arrays:
        raise ConfigError(f"array {key!r} is missing")
    array = arrays[key]
    if dtype is np.int64 and array.dtype.kind in "iu":
        array = array.astype(np.int64, copy=False)
    elif array.dtype != dtype:
        raise ConfigError(f"array {key!r} has dtype {array.dtype}, expected {np.dtype(dtype)}")
    if len(array.shape) != len(shape) or any(
        want not in (-1, got) for want, got in zip(shape, array.shape)
    ):
        raise ConfigError(f"array {key!r} has shape {array.shape}, expected {shape}")
    return array


def _check_columns(columns: np.ndarray, n: int, what: str) -> None:
    if columns.size and (columns.min() < 0 or columns.max() >= n or (np.diff(columns) <= 0).any()):
        raise ConfigError(f"array {what!r} must hold increasing column numbers in 0..{n - 1}")


# --- the classifier ---------------------------------------------------------------------------


class BaselineClassifier(Classifier):
    """The baseline: feature blocks and a linear layer, from a model directory's arrays.

    Build one with :meth:`load` (a model directory) or :meth:`from_pipeline` (a fitted
    scikit-learn pipeline, as training does).
    """

    format_version: ClassVar[int] = 2
    readable_formats: ClassVar[tuple[int, ...]] = (1, 2)
    has_contributions: ClassVar[bool] = True

    def __init__(
        self,
        features: BaselineFeatures,
        arrays: dict[str, np.ndarray],
        metadata: dict[str, Any],
        path: Path | None = None,
    ) -> None:
        super().__init__(metadata, path)
        self.features = features
        self.arrays = arrays
        self.pipeline: Any = None  # the scikit-learn pipeline, when built from one
        n_labels = len(LABELS)
        try:
            self.intercept = _array(arrays, "intercept", np.float64, (n_labels,))
            hashed = [spec for spec in features.blocks if isinstance(spec, HashedBlock)]
            groups: dict[tuple[Any, ...], list[HashedBlock]] = {}
            for spec in hashed:
                groups.setdefault(_transform_key(spec), []).append(spec)
            self._groups = [HashedFeatures(specs, arrays, n_labels) for specs in groups.values()]
            self._dense = [
                DenseFeatures(spec, arrays, n_labels)
                for spec in features.blocks
                if isinstance(spec, DenseBlock)
            ]
        except ValueError as exc:
            raise ModelError(
                path or Path("."),
                f"{MODEL_FILE} does not fit its metadata: {exc}",
                retrain_hint("baseline"),
            ) from exc
        # one hashing pass over every hashed block; each group takes its blocks' results
        self._hashers = [spec.hasher for spec in hashed]
        self._group_parts = [[hashed.index(spec) for spec in g.specs] for g in self._groups]

    @classmethod
    def from_pipeline(
        cls, pipeline: Any, metadata: dict[str, Any], path: Path | None = None
    ) -> BaselineClassifier:
        """Export a fitted scikit-learn baseline pipeline to arrays (no scikit-learn import).

        Raises:
            ConfigError: the pipeline holds a step or setting the numpy baseline cannot
                reproduce (the message names it).
        """
        from stance.backends._export import export_pipeline

        features, arrays = export_pipeline(pipeline)
        classifier = cls(features, arrays, metadata, path)
        classifier.pipeline = pipeline
        return classifier

    def block(self, name: str) -> tuple[HashedFeatures, int] | tuple[DenseFeatures, None]:
        """The compiled block called ``name``: ``(group, index in group)`` for a hashed block,
        ``(features, None)`` for a dense one."""
        for group in self._groups:
            for index, spec in enumerate(group.specs):
                if spec.name == name:
                    return group, index
        for dense in self._dense:
            if dense.spec.name == name:
                return dense, None
        names = [spec.name for spec in self.features.blocks]
        raise UnknownNameError(f"no block {name!r}; blocks: {names}")

    def contributions(self, text: str) -> tuple[list[tuple[int, int]], np.ndarray]:
        """Per word of ``text``, its summed contribution to each label's centred logit: each
        hashed n-gram's TF-IDF value times its centred coefficient, and each dense block's
        change when a lexicon hit (or word) is blanked out."""
        from stance.explanation import linear_word_weights

        return linear_word_weights(self, text)

    def _logits(self, texts: list[str]) -> np.ndarray:
        logits = np.zeros((len(texts), len(LABELS)))
        start = 0
        while start < len(texts):
            # chunks of about CHUNK_CHARACTERS characters keep the per-n-gram arrays in cache
            end, size = start + 1, len(texts[start])
            while end < len(texts) and size + len(texts[end]) <= CHUNK_CHARACTERS:
                size += len(texts[end])
                end += 1
            chunk = texts[start:end] if start or end < len(texts) else texts
            out = logits[start:end]
            if self._groups:
                parts = hash_blocks(chunk, self._hashers)
                for group, indices in zip(self._groups, self._group_parts):
                    group.add_logits([parts[i] for i in indices], out)
            for dense in self._dense:
                dense.add_logits(chunk, out)
            start = end
        logits += self.intercept
        return logits

    @classmethod
    def load(cls, path: Path, metadata: dict[str, Any]) -> BaselineClassifier:
        """Load a model directory: format 2 (arrays), or format 1 (skops) with the train extra."""
        if metadata.get("format_version") == 1:
            return _load_format_1(path, metadata)
        file = path / MODEL_FILE
        if not file.is_file():
            raise ModelError(path, f"{MODEL_FILE} is missing", retrain_hint("baseline"))
        features = BaselineFeatures.from_dict(metadata.get("features"), path)
        from safetensors import SafetensorError
        from safetensors.numpy import load_file

        try:
            arrays = load_file(file)
        except (SafetensorError, OSError, ValueError) as exc:
            raise ModelError(
                path,
                f"{MODEL_FILE} is corrupt or truncated ({type(exc).__name__}: {exc})",
                retrain_hint("baseline"),
            ) from exc
        return cls(features, arrays, metadata, path)

    def save(self, path: str | Path) -> Path:
        """Write ``model.safetensors`` and ``metadata.json`` (format 2) to ``path``.

        A ``model.skops`` left in ``path`` from format 1 is removed, so that the directory
        holds one model.
        """
        from safetensors.numpy import save

        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        arrays = {key: np.ascontiguousarray(value) for key, value in self.arrays.items()}
        (path / MODEL_FILE).write_bytes(save(arrays, metadata={"format": "stance-baseline-2"}))
        meta = {**self.metadata, "features": self.features.to_dict()}
        self.metadata = write_metadata(path, meta)
        (path / LEGACY_MODEL_FILE).unlink(missing_ok=True)
        self.path = path
        return path


def import_skops_for(path: Path) -> Any:
    """``skops.io``, or :class:`MissingDependencyError` saying how to read a format-1 model."""
    from stance.extras import TRAIN_MODULES, missing, require

    purpose = (
        f"{path} is a format-1 baseline ({LEGACY_MODEL_FILE}, a scikit-learn pipeline saved "
        "with skops); reading it"
    )
    try:
        require(TRAIN_MODULES, "train", purpose)
        from stance.backends._skops import import_skops_io

        return import_skops_io()
    except (ImportError, MissingDependencyError) as exc:
        error = exc if isinstance(exc, MissingDependencyError) else None
        error = error or missing(exc.name or str(exc), "train", purpose)
        raise MissingDependencyError(
            f"{error}; or, where they are installed, convert the directory once to format 2, "
            f"which loads without them: `stance convert {path} NEW_DIR`"
        ) from exc


def _load_format_1(path: Path, metadata: dict[str, Any]) -> BaselineClassifier:
    """Read ``model.skops`` (trusting only :data:`TRUSTED_TYPES`) and export it to arrays."""
    file = path / LEGACY_MODEL_FILE
    if not file.is_file():
        raise ModelError(path, f"{LEGACY_MODEL_FILE} is missing", retrain_hint("baseline"))
    sio = import_skops_for(path)
    try:
        untrusted = sio.get_untrusted_types(file=file)
    except Exception as exc:
        raise ModelError(
            path,
            f"{LEGACY_MODEL_FILE} is corrupt or truncated ({type(exc).__name__}: {exc})",
            retrain_hint("baseline"),
        ) from exc
    refused = sorted(set(untrusted) - set(TRUSTED_TYPES))
    if refused:
        raise ModelError(
            path,
            f"{LEGACY_MODEL_FILE} contains types stance does not trust: {refused}",
            "Only load models from people you trust; " + retrain_hint("baseline"),
        )
    try:
        pipeline = sio.load(file, trusted=list(untrusted))
    except Exception as exc:
        raise ModelError(
            path,
            f"{LEGACY_MODEL_FILE} could not be read ({type(exc).__name__}: {exc})",
            retrain_hint("baseline"),
        ) from exc
    try:
        return BaselineClassifier.from_pipeline(pipeline, metadata, path)
    except (AttributeError, KeyError, TypeError, ValueError, ConfigError) as exc:
        raise ModelError(
            path,
            f"{LEGACY_MODEL_FILE} does not hold a stance baseline pipeline ({exc})",
            retrain_hint("baseline"),
        ) from exc


def save_format_1(classifier: BaselineClassifier, path: str | Path) -> Path:
    """Write ``classifier.pipeline`` as a format-1 directory (``model.skops``); for tests and
    benchmarks of the old path."""
    import zipfile

    sio = import_skops_for(Path(path))
    if classifier.pipeline is None:
        raise ConfigError("this classifier was not built from a scikit-learn pipeline")
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    sio.dump(
        classifier.pipeline,
        path / LEGACY_MODEL_FILE,
        compression=zipfile.ZIP_DEFLATED,
        compresslevel=9,
    )
    meta = {k: v for k, v in classifier.metadata.items() if k not in ("features",)}
    write_metadata(path, meta, version=1)
    (path / MODEL_FILE).unlink(missing_ok=True)
    return path


def convert_model_dir(
    source: str | Path, target: str | Path, *, check_texts: Sequence[str] = ()
) -> tuple[BaselineClassifier, float]:
    """Rewrite a baseline model directory in format 2 (``target`` may equal ``source``).

    A format-1 source needs scikit-learn and skops (``pip install "stance[train]"``); its
    pipeline's probabilities on ``check_texts`` must match the exported arrays' to 1e-9, or
    nothing is written.

    Returns:
        The converted classifier and the largest probability difference on ``check_texts``
        (0.0 when there are none or the source is already format 2).

    Raises:
        ModelError: ``source`` is not a baseline directory, or the check fails.
    """
    from stance.modeldir import read_metadata, resolve_model_dir

    source = resolve_model_dir(source)
    metadata = read_metadata(source)
    from stance.backends.registry import classifier_class

    if not issubclass(classifier_class(metadata["backend"]), BaselineClassifier):
        raise ModelError(
            source, f"only baseline models can be converted, this one is {metadata['backend']!r}"
        )
    classifier = BaselineClassifier.load(source, metadata)
    difference = 0.0
    texts = list(check_texts)
    if metadata.get("format_version") == 1:
        from stance._version import __version__

        classifier.metadata = {
            **metadata,
            "converted": {
                "from_format_version": 1,
                "stance": __version__,
                "checked_texts": len(texts),
            },
        }
    if classifier.pipeline is not None and texts:
        expected = classifier.pipeline.predict_proba(texts)
        got = classifier.predict_proba(texts, calibrated=False)
        difference = float(np.abs(expected - got).max())
        if difference > 1e-9:
            raise ModelError(
                source,
                f"the exported arrays differ from the scikit-learn pipeline by {difference:.2e} "
                f"in probability on {len(texts)} texts; nothing was written",
                "Please report this with the model directory",
            )
        classifier.metadata["converted"]["largest_probability_difference"] = difference
    classifier.save(target)
    return classifier, difference
