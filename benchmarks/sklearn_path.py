"""The baseline's scikit-learn inference path, kept for side-by-side benchmarks.

This is how stance classified before model format 2: ``model.skops`` loaded with skops (trusting
the format-1 type list), every feature block computed by the fitted pipeline's own scikit-learn
transformers, the blocks stacked with scipy and multiplied by the regression weights.

Usage: python benchmarks/sklearn_path.py MODEL_DIR TEXT...   (prints label, score and text, as
``stance classify`` does; MODEL_DIR is a format-1 directory, see ``run.py``)
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np

from stance.backends.base import Classifier
from stance.backends.baseline import LEGACY_MODEL_FILE, TRUSTED_TYPES
from stance.modeldir import read_metadata


class SklearnBaseline(Classifier):
    """A format-1 baseline run by scikit-learn (the code path format 2 replaced)."""

    def __init__(self, pipeline: Any, metadata: dict[str, Any], path: Path) -> None:
        super().__init__(metadata, path)
        self.pipeline = pipeline
        union = pipeline.named_steps["features"]
        weights = union.transformer_weights or {}
        self._blocks = [
            (name, tr, float(weights.get(name, 1.0))) for name, tr in union.transformer_list
        ]
        support = pipeline.named_steps["select"].get_support()
        clf = pipeline.named_steps["clf"]
        self._weights = np.zeros((support.size, clf.coef_.shape[0]))
        self._weights[support] = clf.coef_.T
        self._intercept = np.asarray(clf.intercept_, dtype=np.float64)

    @classmethod
    def load(cls, path: str | Path) -> SklearnBaseline:
        from stance.backends._skops import import_skops_io

        path = Path(path)
        sio = import_skops_io()
        file = path / LEGACY_MODEL_FILE
        untrusted = sio.get_untrusted_types(file=file)
        refused = sorted(set(untrusted) - set(TRUSTED_TYPES))
        if refused:
            raise ValueError(f"{file} holds untrusted types {refused}")
        return cls(sio.load(file, trusted=list(untrusted)), read_metadata(path), path)

    def _logits(self, texts: list[str]) -> np.ndarray:
        import scipy.sparse as sp
        import sklearn

        blocks = []
        with sklearn.config_context(assume_finite=True, skip_parameter_validation=True):
            for name, transformer, weight in self._blocks:
                if name in ("word", "char"):
                    blocks.append(transformer.transform(texts) * weight)
                else:
                    blocks.append(sp.csr_matrix(transformer.transform(texts) * weight))
        features = sp.hstack(blocks, format="csr")
        return np.asarray(features @ self._weights + self._intercept, dtype=np.float64)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    classifier = SklearnBaseline.load(args[0])
    for text, p in zip(args[1:], classifier.predict(args[1:])):
        print(f"{p.label}\t{p.score:.3f}\t{text}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
