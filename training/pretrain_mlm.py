"""Pretrain a small Danish BERT from scratch with masked-language modelling, offline.

Usage: python training/pretrain_mlm.py [--text data/debian_da.txt]
       [--output models/danish-mini-bert]
       [--epochs 6] [--layers 4] [--hidden 256] [--vocab 16000] [--seed 0] [--device auto]

Text: the Debian documentation text from training/extract_debian_text.py, plus the corpus
train and dev units and the authored texts (never the test split). Writes a Hugging Face
directory (model.safetensors, tokenizer, config) with a README.md card and pretraining.json.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from stance.backends.bert import pick_device
from stance.data.trainset import load_examples
from stance.training.pretraining import EncoderSize, pretrain_mlm, save_encoder, train_wordpiece

REPO = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--text", type=Path, default=REPO / "data" / "debian_da.txt")
    parser.add_argument("--output", type=Path, default=REPO / "models" / "danish-mini-bert")
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--vocab", type=int, default=16000)
    parser.add_argument("--block-size", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=5e-4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="auto")
    parser.add_argument(
        "--checkpoints",
        type=Path,
        default=None,
        help="also keep a copy after every epoch in DIR/epoch-N",
    )
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)

    if not args.text.is_file():
        parser.error(f"{args.text} not found; run python training/extract_debian_text.py first")
    debian = [line for line in args.text.read_text(encoding="utf-8").splitlines() if line.strip()]
    corpus, authored, _ = load_examples()
    own = [e.text for e in corpus if e.split in ("train", "dev")] + [e.text for e in authored]
    texts = debian + own
    size = EncoderSize(
        vocab_size=args.vocab,
        hidden_size=args.hidden,
        num_hidden_layers=args.layers,
        num_attention_heads=args.heads,
        intermediate_size=4 * args.hidden,
        max_position_embeddings=max(256, args.block_size),
    )
    tokenizer = train_wordpiece(texts, args.vocab, model_max_length=size.max_position_embeddings)
    device = pick_device(args.device)

    def checkpoint(epoch: int, model: object) -> None:
        save_encoder(model, tokenizer, args.output)
        if args.checkpoints is not None:
            save_encoder(model, tokenizer, args.checkpoints / f"epoch-{epoch}")

    model, history = pretrain_mlm(
        texts,
        tokenizer,
        size,
        epochs=args.epochs,
        lr=args.lr,
        batch_size=args.batch_size,
        block_size=args.block_size,
        seed=args.seed,
        device=device,
        progress=not args.no_progress,
        on_epoch=checkpoint,
    )
    save_encoder(model, tokenizer, args.output)
    words = {
        "debian": sum(len(t.split()) for t in debian),
        "corpus_and_authored": sum(len(t.split()) for t in own),
    }
    n_params = sum(p.numel() for p in model.parameters())
    command = "python training/pretrain_mlm.py" + "".join(
        f" --{k.replace('_', '-')} {v}"
        for k, v in (
            ("epochs", args.epochs),
            ("layers", args.layers),
            ("hidden", args.hidden),
            ("vocab", args.vocab),
            ("seed", args.seed),
        )
    )
    info = {
        "size": size.__dict__,
        "parameters": n_params,
        "words": words,
        "epochs": args.epochs,
        "lr": args.lr,
        "batch_size": args.batch_size,
        "block_size": args.block_size,
        "seed": args.seed,
        "device": device,
        "history": history,
        "command": command,
    }
    (args.output / "pretraining.json").write_text(
        json.dumps(info, indent=2) + "\n", encoding="utf-8"
    )
    (args.output / "README.md").write_text(
        f"""---
language: da
license: mit
tags: [bert, fill-mask, danish]
---

# danish-mini-bert

A small BERT ({args.layers} layers, hidden size {args.hidden}, {n_params / 1e6:.1f} M parameters,
WordPiece vocabulary of {len(tokenizer)} lower-cased tokens that keep æ, ø and å) pretrained from
random initialisation with masked-language modelling (15 % masking) for {args.epochs} epochs.

Trained on {words["debian"]:,} words of running Danish from Debian's Danish documentation
packages (libreoffice-help-da, gimp-help-da, debian-edu-doc-da, manpages-da; mostly software help)
and {words["corpus_and_authored"]:,} words from the stance corpus (train and dev units only) and
the authored texts. Made by `{command}` on {device}; the per-epoch loss is in
`pretraining.json`.

It is the base of the fine-tuned stance classifier in `models/bert`. It is a small model trained
on little, mostly technical text: it is not a general-purpose Danish language model.

The weights are released under the project's MIT licence. The training text keeps its own
licences (the Debian documentation packages are under free licences such as MPL-2.0, GPL and
GFDL; the corpus texts belong to their publishers); the text itself is not distributed with the
model.
""",
        encoding="utf-8",
    )
    print(f"wrote {args.output} ({n_params / 1e6:.1f} M parameters)")


if __name__ == "__main__":
    main()
