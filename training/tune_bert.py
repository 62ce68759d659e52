"""Choose BERT's base model, learning rate and epochs on a real dev set (or by LODO CV).

Usage: python training/tune_bert.py --base-models DIR [DIR …] [--random-init DIR]
       [--epochs 12] [--lr 1e-4 3e-4] [--seed 0] [--real-dev PATH]

With --real-dev, every candidate base model and learning rate is fine-tuned once as
train_bert.py trains (corpus train split + authored texts) and the real dev set is scored after
every epoch (mean over kinds of the macro-F1, which decides; and each kind). Without it, fine-tunes
once per held-out source document (authored texts always in training) and scores the pooled
leave-one-document-out predictions after every epoch.
--random-init DIR adds a candidate with DIR's architecture and tokenizer but freshly
initialised weights (the "no pretraining" control). Writes reports/bert-tuning.md. The test
split is never read.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import tempfile
from pathlib import Path

from stance.data.trainset import load_examples
from stance.evaluation.report import markdown_table
from stance.training.bert import FineTuneConfig
from stance.training.tuning import bert_epoch_curve, bert_real_dev_curve

REPO = Path(__file__).resolve().parents[1]


def random_init_copy(base: Path, target: Path) -> Path:
    """``base``'s config and tokenizer with new random weights."""
    from transformers import AutoConfig, AutoModelForMaskedLM, AutoTokenizer, set_seed

    set_seed(0)
    model = AutoModelForMaskedLM.from_config(AutoConfig.from_pretrained(base))
    model.save_pretrained(target, safe_serialization=True)
    AutoTokenizer.from_pretrained(base).save_pretrained(target)
    return target


def main(argv: list[str] | None = None) -> None:
    defaults = FineTuneConfig()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-models", nargs="*", default=[])
    parser.add_argument("--random-init", type=Path, default=None)
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--lr", type=float, nargs="+", default=[defaults.lr])
    parser.add_argument("--batch-size", type=int, default=defaults.batch_size)
    parser.add_argument("--max-length", type=int, default=defaults.max_length)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--real-dev", type=Path, default=None, help="real dev set (JSON Lines)")
    parser.add_argument("--report", type=Path, default=REPO / "reports" / "bert-tuning.md")
    args = parser.parse_args(argv)

    corpus, authored, _ = load_examples()
    train_dev = [e for e in corpus if e.split in ("train", "dev")]
    training = [e for e in corpus if e.split == "train"] + list(authored)
    real = None
    if args.real_dev is not None:
        from stance.evaluation.realdev import read_real_dev

        real = read_real_dev(args.real_dev)
    details: dict[tuple[str, float], list[dict[str, float]]] = {}
    candidates = [(str(b), str(b)) for b in args.base_models]
    with tempfile.TemporaryDirectory() as scratch:
        if args.random_init is not None:
            path = random_init_copy(args.random_init, Path(scratch) / "random-init")
            candidates.append((f"{args.random_init} architecture, random weights", str(path)))
        curves = {}
        for name, path in candidates:
            for lr in args.lr:
                config = FineTuneConfig(
                    epochs=args.epochs,
                    lr=lr,
                    batch_size=args.batch_size,
                    max_length=args.max_length,
                )
                if real is not None:
                    points = bert_real_dev_curve(path, config, training, real, seed=args.seed)
                    details[(name, lr)] = points
                    curve = [p["kind_mean"] for p in points]
                else:
                    curve = bert_epoch_curve(path, config, train_dev, authored, seed=args.seed)
                curves[(name, lr)] = curve
                best = max(range(len(curve)), key=curve.__getitem__)
                print(f"{name}, lr {lr}: best epoch {best + 1}, CV macro-F1 {curve[best]:.4f}")
    rows = [[name, str(lr), *(f"{v:.3f}" for v in curve)] for (name, lr), curve in curves.items()]
    header = ["base model", "lr", *(f"epoch {e}" for e in range(1, args.epochs + 1))]
    argv = sys.argv[1:] if argv is None else argv
    command = ("python training/tune_bert.py " + shlex.join(argv)).strip()
    if real is not None:
        what = (
            f"mean over kinds of the macro-F1 on the real dev set ({len(real)} texts) after each "
            f"fine-tuning epoch of one run on the {len(training)} texts train_bert.py trains on "
            "(corpus train split + authored)"
        )
        for (name, lr), points in details.items():
            for kind in ("comment", "article_paragraph"):
                rows.append(
                    [
                        f"{name} ({kind.replace('_', ' ')}s)",
                        str(lr),
                        *(f"{p[kind]:.3f}" for p in points),
                    ]
                )
    else:
        what = (
            f"macro-F1 of pooled leave-one-document-out predictions over the {len(train_dev)} "
            f"corpus train + dev units after each fine-tuning epoch, with {len(authored)} "
            "authored texts in training in every fold"
        )
    best_name, best_lr = max(curves, key=lambda k: max(curves[k]))
    best_epoch = max(range(args.epochs), key=curves[(best_name, best_lr)].__getitem__) + 1
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text(
        "# BERT base model, learning rate and epochs\n\n"
        f"Made by `{command}`. Score: {what}; batch size {args.batch_size}, max length "
        f"{args.max_length}, seed {args.seed}. The test split is not used. Best: {best_name}, lr "
        f"{best_lr}, epoch {best_epoch} ({max(curves[(best_name, best_lr)]):.3f}).\n\n"
        + markdown_table(header, rows)
        + "\n",
        encoding="utf-8",
    )
    print(f"wrote {args.report}")


if __name__ == "__main__":
    main()
