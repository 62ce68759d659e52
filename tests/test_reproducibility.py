"""The shipped baseline can be rebuilt from the repository (slow: trains on the full data).

The shipped baseline trained on a real pool that is not distributed; set ``STANCE_REAL_TRAIN``
to the pool's path to rebuild it (the test is skipped without it, and checks the fingerprint).
"""

from __future__ import annotations

import os
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
    data = shipped.metadata["training_data"]
    pool = data.get("real_train")
    options = {}
    if pool:
        path = os.environ.get("STANCE_REAL_TRAIN")
        if not path:
            pytest.skip("the shipped baseline trained on a real pool: set STANCE_REAL_TRAIN")
        options = {
            "real_train": path,
            "real_weight": pool["weight"],
            "authored_weight": data.get("authored_weight", 1.0),
        }
    rebuilt = train_and_save_baseline(
        tmp_path / "baseline", config, seed=shipped.metadata["seed"], **options
    )
    assert rebuilt.metadata["training_data"]["sha256"] == data["sha256"]
    if pool:
        assert rebuilt.metadata["training_data"]["real_train"] == pool
        assert rebuilt.temperature == shipped.temperature
    texts = [r["text"] for r in read_corpus()]
    assert np.allclose(rebuilt.predict_proba(texts), shipped.predict_proba(texts), atol=1e-6)
