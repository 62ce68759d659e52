"""Speed and memory of stance, printed as a table (targets on 2 CPU cores in brackets).

Usage: python benchmarks/run.py [--models baseline bert] [--update-readme]

Rows: time of `import stance` (fresh process), first classify with model loading (fresh
process), warm single-text latency p50/p99, classify_many throughput on short texts, peak
memory after loading, and training time. BERT rows need torch; GPU rows run when CUDA is present.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TARGETS = {
    "import stance": "≤ 100 ms, no torch",
    "warm single text, p50": "≤ 2 ms",
    "classify_many throughput": "≥ 3,000 texts/s",
    "training": "≤ 30 s",
}


def fresh_process(code: str, repeats: int = 5) -> float:
    """Median wall time (s) of ``code`` in a new interpreter, as measured inside it."""
    timings = []
    for _ in range(repeats):
        out = subprocess.run(
            [
                sys.executable,
                "-c",
                f"import time; t = time.perf_counter(); {code}; print(time.perf_counter() - t)",
            ],
            capture_output=True,
            text=True,
            check=True,
            cwd=REPO,
        )
        timings.append(float(out.stdout.strip().splitlines()[-1]))
    return statistics.median(timings)


def short_texts(n: int) -> list[str]:
    from stance.data.corpus import read_authored

    texts = [r["text"] for r in read_authored()]
    return [texts[i % len(texts)] for i in range(n)]


def peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_model(model: str, device: str | None = None) -> list[tuple[str, str, str]]:
    import stance
    from stance.api import clear_cache, load_classifier

    rows = []
    label = model if device is None else f"{model} ({device})"
    if device is None:
        first = fresh_process(
            f"import stance; stance.classify('Jobcentret er godt', model={model!r})", 3
        )
        rows.append((f"first classify, load included [{label}]", f"{first * 1000:.0f} ms", ""))
    clear_cache()
    classifier = load_classifier(model)
    if device is not None and hasattr(classifier, "model"):
        classifier.device = device
        classifier.model.to(device)
    text = "Jobcentret hjalp mig endelig i job, tak til min sagsbehandler."
    for _ in range(20):
        classifier.predict([text])
    latencies = []
    for _ in range(300 if model == "baseline" else 100):
        start = time.perf_counter()
        classifier.predict([text])
        latencies.append(time.perf_counter() - start)
    latencies.sort()
    p50 = latencies[len(latencies) // 2] * 1000
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000
    rows.append(
        (
            f"warm single text, p50 / p99 [{label}]",
            f"{p50:.2f} / {p99:.2f} ms",
            TARGETS["warm single text, p50"] if model == "baseline" else "",
        )
    )
    texts = short_texts(5000 if model == "baseline" else 2000)
    start = time.perf_counter()
    stance.classify_many(texts, model=model, batch_size=256 if model == "baseline" else 64)
    rate = len(texts) / (time.perf_counter() - start)
    rows.append(
        (
            f"classify_many throughput [{label}]",
            f"{rate:,.0f} texts/s",
            TARGETS["classify_many throughput"] if model == "baseline" else "",
        )
    )
    if device is None:
        rows.append((f"peak memory after use [{label}]", f"{peak_rss_mb():.0f} MB", ""))
    return rows


def bench_training() -> tuple[str, str, str]:
    import json

    from stance.training.baseline import BaselineConfig, train_baseline_on
    from stance.training.recipes import training_data

    config = BaselineConfig.from_dict(
        json.loads((REPO / "training" / "baseline_config.json").read_text())
    )
    data = training_data()
    start = time.perf_counter()
    train_baseline_on(data, config)
    seconds = time.perf_counter() - start
    folds = ", incl. calibration folds" if config.calibrate else ""
    return (
        f"training{folds} [baseline, {len(data)} texts]",
        f"{seconds:.1f} s",
        TARGETS["training"],
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["baseline", "bert"])
    parser.add_argument("--update-readme", action="store_true")
    args = parser.parse_args(argv)

    imported = fresh_process("import stance")
    heavy = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, stance; stance.classify('x y'); "
            "print(','.join(m for m in ('torch', 'transformers') if m in sys.modules) or 'none')",
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
    ).stdout.strip()
    rows = [
        ("import stance", f"{imported * 1000:.0f} ms", TARGETS["import stance"]),
        ("heavy modules after default classify", heavy, "none"),
    ]
    for model in args.models:
        if model == "bert":
            try:
                import torch
            except ImportError:
                print("skipping bert: torch is not installed", file=sys.stderr)
                continue
            from stance.modeldir import shipped_model_dir

            if not shipped_model_dir("bert").is_dir():
                print("skipping bert: models/bert is missing", file=sys.stderr)
                continue
            rows += bench_model("bert")
            if torch.cuda.is_available():
                rows += bench_model("bert", device="cuda")
        else:
            rows += bench_model(model)
    rows.append(bench_training())

    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError, StopIteration), open("/proc/cpuinfo") as info:
        cpu = next(line.split(":", 1)[1].strip() for line in info if line.startswith("model name"))
    machine = (
        f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}"
    )
    table = "\n".join(
        ["| measurement | result | target |", "|---|---|---|"]
        + [f"| {name} | {value} | {target} |" for name, value, target in rows]
    )
    when = dt.date.today().isoformat()
    text = f"Measured {when} on {machine} by `python benchmarks/run.py`.\n\n{table}"
    print(text)
    if args.update_readme:
        from stance.data.datacard import fill_markers

        readme = REPO / "README.md"
        readme.write_text(
            fill_markers(readme.read_text(encoding="utf-8"), {"benchmark": text}), encoding="utf-8"
        )


if __name__ == "__main__":
    main()
