"""The behavioural suite: its structure and the pass-rate bookkeeping (with stub classifiers)."""

from __future__ import annotations

import numpy as np

from stance.evaluation.behaviour import behaviour_suite, behaviour_table, run_behaviour
from stance.labels import LABELS


class Always:
    """A stub that gives every text the same probabilities."""

    def __init__(self, label: str) -> None:
        self.row = np.full(3, 0.1)
        self.row[LABELS.index(label)] = 0.8

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        return np.tile(self.row, (len(texts), 1))


def test_suite_covers_the_three_test_types() -> None:
    cases = behaviour_suite()
    assert {c.kind for c in cases} == {"mft", "inv", "dir"}
    assert "Jobcentret er fint." in {c.texts[0] for c in cases}
    assert all(len(c.texts) >= 2 for c in cases if c.kind != "mft")


def test_constant_classifier_passes_invariance_and_fails_direction() -> None:
    result = run_behaviour(Always("neutral"))
    caps = result["capabilities"]
    assert caps["names swapped -> same label"]["rate"] == 1.0
    assert caps["off-target negativity -> neutral"]["rate"] == 1.0
    assert caps["praise -> for"]["rate"] == 0.0
    assert caps["adding a negation"]["rate"] == 0.0  # no change is no movement
    assert caps["negated praise -> not for"]["rate"] == 1.0
    assert result["overall"]["n"] == len(behaviour_suite())
    assert "| MFT | praise -> for | 0/" in behaviour_table(result)
