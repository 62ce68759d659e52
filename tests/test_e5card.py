"""The e5 model card is written from metadata: every number comes from there."""

from __future__ import annotations

import json

from stance.evaluation.e5card import write_e5_card


def _meta() -> dict:
    cv_row = {
        "n": 10,
        "e5_macro_f1": 0.61,
        "baseline_macro_f1": 0.55,
        "bootstrap": {"diff": 0.06, "ci95": [0.01, 0.11]},
        "halves": [0.05, 0.07],
    }
    return {
        "hyperparameters": {
            "config": {
                "trainable_layers": 4,
                "epochs": 3,
                "lr": 1e-4,
                "head_lr": 3e-3,
                "batch_size": 16,
                "max_length": 256,
                "seed": 0,
                "quant_aware": True,
            },
            "n_texts": 20,
            "seconds": 5.0,
            "cache_seconds": 2.0,
            "threads": 2,
        },
        "training_data": {"n_project": 12, "n_real_train_part": 8, "n_real_calibration_part": 3},
        "vocabulary": {"kept_pieces": 600, "used_by_danish_texts": 50},
        "calibration": {"temperature": 0.7},
        "commands": ["python training/train_e5.py --work W"],
        "metrics": {
            "pool_cv": {
                "folds": 5,
                "n_pages": 4,
                "n_oof": 10,
                "command": "cv",
                "all": cv_row,
                "comment": cv_row,
                "kind_mean": cv_row,
            },
            "dev": {
                "all": {"n": 3, "macro_f1": 0.5, "baseline_macro_f1": 0.4, "ece": 0.1},
                "kind_mean_vs_baseline": {
                    "difference": -0.02,
                    "ci95": [-0.1, 0.05],
                    "halves": [0.01, -0.03],
                    "bootstrap": "b",
                },
            },
            "calibration_part": {
                "n": 3,
                "macro_f1": 0.6,
                "ece_before": 0.2,
                "ece_after": 0.05,
                "reliability": [[0.4, 0.45, 0.5, 2], [0.9, 0.95, 1.0, 1]],
            },
            "parity": {"n": 300, "label_agreement": 0.9967, "max_abs_logit_diff": 0.2},
        },
    }


def test_card_shows_the_metadata_numbers(tmp_path):
    speed = tmp_path / "speed.json"
    speed.write_text(
        json.dumps(
            {
                "command": "bench",
                "cpu_steal_fraction": 0.316,
                "rows": {
                    "e5": {
                        "single_texts_per_s": 25.3,
                        "batch_texts_per_s": 22.8,
                        "first_call_s": 0.2,
                        "peak_rss_mb": 84,
                        "extra_packages_mb": 95,
                    },
                    "baseline": {"single_texts_per_s": 1121.2, "batch_texts_per_s": 3643.1},
                },
            }
        )
    )
    behaviour = tmp_path / "behaviour.json"
    behaviour.write_text(json.dumps({"e5": {
        "capabilities": {"praise -> for": {"type": "MFT", "n": 4, "passed": 3, "failures": [],
                                            "rate": 0.75}},
        "overall": {"n": 4, "passed": 3, "rate": 0.75}}}))  # fmt: skip
    write_e5_card(tmp_path, {**_meta(), "name": "e5"}, speed, behaviour)
    card = (tmp_path / "README.md").read_text()
    assert "| MFT | praise -> for | 3/4 | 75% |" in card
    assert "top 4 layers fine-tuned" in card and "Quantisation-aware" in card
    assert "| comments | 10 | 0.610 | 0.550 | +0.060 [+0.010, +0.110] | +0.050 / +0.070 |" in card
    assert "| mean over kinds |" in card
    assert "The host took 32% of the CPU time away" in card
    assert "−0.020 [−0.100, +0.050]" in card
    assert "299 / 300" in card
    assert "| 0.9–1.0 | 1 | 0.950 | 1.000 |" in card
    assert "25.3 texts/s" in card and "1121.2" in card
    assert "`python training/train_e5.py --work W`" in card


def test_card_of_the_frozen_recipe(tmp_path):
    meta = _meta()
    meta["hyperparameters"] = {"head_fit": "C=1"}
    write_e5_card(tmp_path, meta)
    card = (tmp_path / "README.md").read_text()
    assert "frozen multilingual-e5-small" in card and "Speed" not in card


def test_the_card_script_rewrites_a_card_from_metadata(tmp_path):
    import importlib.util

    from stance.data.corpus import repo_root
    from stance.modeldir import write_metadata

    write_metadata(tmp_path, {**_meta(), "backend": "e5"})
    spec = importlib.util.spec_from_file_location("e5_card", repo_root() / "training/e5_card.py")
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    script.main(["--model", str(tmp_path), "--speed", str(tmp_path / "none.json")])
    assert "| mean over kinds |" in (tmp_path / "README.md").read_text()


def test_cv_commands_show_placeholders_for_data_and_work_paths():
    import importlib.util

    from stance.data.corpus import repo_root

    spec = importlib.util.spec_from_file_location("cv_e5", repo_root() / "training/cv_e5.py")
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    shown = script._shown(["--real-train", "/data/pool.jsonl", "--work", "/tmp/w", "--fuse"])
    assert shown == "--real-train POOL --work W --fuse"
