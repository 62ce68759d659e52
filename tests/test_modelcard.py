"""Model cards: the baseline's card says what the model is, carries its scores and the AFINN-da
notice the ODbL asks for."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from stance.evaluation.modelcard import AFINN_NOTICE, write_baseline_card

REPO = Path(__file__).resolve().parents[1]


def _score(value: float) -> dict:
    return {
        "macro_f1": value,
        "macro_f1_ci95": [value - 0.1, value + 0.1],
        "accuracy": value,
        "f_avg": value,
    }


def test_baseline_card_from_metadata_and_report(tmp_path):
    metadata = json.loads((REPO / "models" / "baseline" / "metadata.json").read_text("utf-8"))
    report = {
        "model": "baseline",
        "command": "python training/evaluate.py --model baseline",
        "rows": {
            "baseline": {
                "test": _score(0.8),
                "lodo": _score(0.7),
                "real_dev": {"all": _score(0.61), "by_kind": {"comment": _score(0.59)}},
            }
        },
    }
    write_baseline_card(tmp_path, metadata, report)
    card = (tmp_path / "README.md").read_text(encoding="utf-8")
    assert AFINN_NOTICE in card
    assert "0.610 [0.510, 0.710]" in card and "| 0.590 |" in card
    assert json.dumps(metadata["hyperparameters"]) in card
    assert "python training/evaluate.py --model baseline" in card


def test_baseline_card_without_report_says_how_to_add_scores(tmp_path):
    shutil.copy(REPO / "models" / "baseline" / "metadata.json", tmp_path / "metadata.json")
    write_baseline_card(tmp_path, json.loads((tmp_path / "metadata.json").read_text("utf-8")))
    assert "--update-model-card" in (tmp_path / "README.md").read_text(encoding="utf-8")


def test_shipped_baseline_carries_the_notice():
    card = REPO / "models" / "baseline" / "README.md"
    assert AFINN_NOTICE in card.read_text(encoding="utf-8")
    assert AFINN_NOTICE in (REPO / "README.md").read_text(encoding="utf-8")
