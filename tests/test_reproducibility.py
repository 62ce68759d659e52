"""The shipped baseline can be rebuilt from the repository (slow: trains on the full data)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_retraining_reproduces_the_shipped_baseline(tmp_path):
    from stance import load_classifier
    from stance.data import read_corpus
    from stance.training.baseline import BaselineConfig
    from stance.training.recipes import train_and_save_baseline

    shipped = load_classifier(REPO / "models" / "baseline")
    config = BaselineConfig()
    assert BaselineConfig.from_dict(shipped.metadata["hyperparameters"]) == config
    rebuilt = train_and_save_baseline(tmp_path / "baseline", config, seed=shipped.metadata["seed"])
    assert (
        rebuilt.metadata["training_data"]["sha256"] == shipped.metadata["training_data"]["sha256"]
    )
    texts = [r["text"] for r in read_corpus()]
    assert np.allclose(rebuilt.predict_proba(texts), shipped.predict_proba(texts), atol=1e-6)
