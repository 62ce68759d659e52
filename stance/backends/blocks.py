"""The baseline's settings: its feature blocks (hashed n-grams, dense features) and how they
are saved in ``metadata.json``. Inference (:mod:`stance.backends.baseline`) and the exporter of
fitted scikit-learn pipelines (:mod:`stance.backends._export`) share them."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, ClassVar

from stance.errors import ConfigError, ModelError
from stance.features.ngrams import TOKEN_PATTERN, NgramHasher
from stance.modeldir import retrain_hint

NORMS = (None, "l1", "l2")


@dataclass(frozen=True)
class HashedBlock:
    """A block of hashed n-gram features: ``HashingVectorizer`` (+ ``TfidfTransformer``).

    Attributes:
        name: The block's name in the ``FeatureUnion`` (``word``, ``char``, ...).
        hasher: The n-gram and hashing settings.
        weight: The block's transformer weight.
        binary: Counts are clipped to 1 (``HashingVectorizer(binary=True)``).
        count_norm: ``HashingVectorizer(norm=...)``, applied to the counts.
        tfidf: A ``TfidfTransformer`` follows; the next three settings are its own.
        sublinear_tf: ``1 + log(tf)`` instead of ``tf``.
        use_idf: Multiply by the IDF stored in the arrays.
        norm: Row normalisation after IDF (``"l2"``, ``"l1"`` or ``None``).
    """

    name: str
    hasher: NgramHasher
    weight: float = 1.0
    binary: bool = False
    count_norm: str | None = None
    tfidf: bool = True
    sublinear_tf: bool = False
    use_idf: bool = True
    norm: str | None = "l2"
    kind: ClassVar[str] = "hashed"

    def __post_init__(self) -> None:
        for field_name in ("count_norm", "norm"):
            if getattr(self, field_name) not in NORMS:
                raise ConfigError(
                    f"block {self.name!r}: {field_name} must be one of {NORMS}, "
                    f"got {getattr(self, field_name)!r}"
                )

    def to_dict(self) -> dict[str, Any]:
        own = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "hasher"}
        hasher = {
            "analyzer": self.hasher.analyzer,
            "ngram_range": list(self.hasher.ngram_range),
            "n_features": self.hasher.n_features,
            "lowercase": self.hasher.lowercase,
            "token_pattern": self.hasher.token_pattern,
        }
        return {"kind": self.kind, **own, **hasher}


@dataclass(frozen=True)
class DenseBlock:
    """A block of dense features: a featuriser of :data:`stance.features.DENSE_FEATURES`,
    standardised (``StandardScaler``) and weighted.

    Attributes:
        name: The block's name in the ``FeatureUnion`` (``lexicon``, ...).
        featurizer: The featuriser's name in :data:`stance.features.DENSE_FEATURES`.
        n_values: How many values the featuriser returns.
        weight: The block's transformer weight.
        standardize: A ``StandardScaler`` follows (its mean and scale are in the arrays).
    """

    name: str
    featurizer: str
    n_values: int
    weight: float = 1.0
    standardize: bool = True
    kind: ClassVar[str] = "dense"

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, **asdict(self)}


Block = HashedBlock | DenseBlock


@dataclass(frozen=True)
class BaselineFeatures:
    """What the runtime needs to turn texts into the linear layer's input.

    Attributes:
        blocks: The ``FeatureUnion`` blocks, in column order.
        select: A column selection (``VarianceThreshold``) precedes the linear layer; the
            arrays list the columns it keeps.
    """

    blocks: tuple[Block, ...]
    select: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {"select": self.select, "blocks": [block.to_dict() for block in self.blocks]}

    @classmethod
    def from_dict(cls, values: Any, path: Path | None = None) -> BaselineFeatures:
        """Read the settings saved in ``metadata.json``; a bad entry raises :class:`ModelError`."""
        where = path or Path(".")

        def bad(problem: str) -> ModelError:
            return ModelError(
                where, f"metadata.json 'features': {problem}", retrain_hint("baseline")
            )

        if not isinstance(values, dict) or not isinstance(values.get("blocks"), list):
            raise bad("expected an object with a list of 'blocks'")
        blocks: list[Block] = []
        for i, raw in enumerate(values["blocks"]):
            if not isinstance(raw, dict):
                raise bad(f"block {i} is not an object")
            raw = dict(raw)
            kind = raw.pop("kind", None)
            try:
                if kind == "hashed":
                    hasher = NgramHasher(
                        analyzer=raw.pop("analyzer"),
                        ngram_range=tuple(raw.pop("ngram_range")),
                        n_features=int(raw.pop("n_features")),
                        lowercase=bool(raw.pop("lowercase", True)),
                        token_pattern=raw.pop("token_pattern", TOKEN_PATTERN),
                    )
                    _check_keys(raw, HashedBlock, i)
                    blocks.append(HashedBlock(hasher=hasher, **raw))
                elif kind == "dense":
                    _check_keys(raw, DenseBlock, i)
                    blocks.append(DenseBlock(**raw))
                else:
                    raise ConfigError(f"unknown kind {kind!r}; expected 'hashed' or 'dense'")
            except (KeyError, TypeError, ValueError) as exc:
                raise bad(f"block {i}: {exc}") from exc
        names = [block.name for block in blocks]
        if len(set(names)) != len(names):
            raise bad(f"block names repeat: {names}")
        return cls(tuple(blocks), bool(values.get("select", True)))


def _check_keys(raw: dict[str, Any], cls: type, i: int) -> None:
    allowed = {f.name for f in fields(cls)} - {"hasher"}
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise ConfigError(f"unknown setting(s) {unknown} for a {cls.kind} block")  # type: ignore[attr-defined]
