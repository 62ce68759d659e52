"""Speed, memory and install size of stance: the numpy baseline (model format 2) side by side
with the scikit-learn path it replaced, in one run (targets for 2 CPU cores).

Usage: python benchmarks/run.py [--models baseline bert] [--no-install] [--update-readme]

The scikit-learn path is ``benchmarks/sklearn_path.py``: the shipped baseline written back as a
format-1 directory (``model.skops``, rebuilt exactly from the shipped arrays) and run by the
pipeline's own transformers, as stance did before format 2. Inputs are the project's own texts:
the comments in ``labelled/`` (corpus reader comments and authored comments) with 20-40 words,
and the corpus reader comments at full length. Fresh-process rows are medians of several runs
from compiled bytecode (as an installed package runs), with their CPU time beside (the machine
may be shared; the load average is printed); latencies cycle through all the comments,
so every text is a real, different comment. The install rows build two fresh virtual
environments: ``pip install stance`` (the core) and ``pip install "stance[train]"`` (the
libraries the core needed before, now the train extra).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
TEXT = "Jobcentret hjalp mig endelig i job, tak til min sagsbehandler."
TARGETS = {
    "cli": "≤ 0.4 s",
    "first": "≤ 0.25 s",
    "warm": "≤ 0.5 ms",
    "many": "≥ 6,000 texts/s",
    "venv": "≤ 150 MB",
    "training": "≤ 30 s",
}
HEAVY = ("sklearn", "scipy", "skops", "pandas", "pyarrow", "datasets", "matplotlib", "torch")

Row = tuple[str, str, str, str]  # measurement, scikit-learn path, numpy path, target


def _env() -> dict[str, str]:
    """The environment for fresh processes: bytecode on, one BLAS thread."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.setdefault("OPENBLAS_NUM_THREADS", "1")
    return env


def wall(command: Sequence[str], repeats: int = 5) -> tuple[float, float]:
    """Median wall time and CPU time (s) of running ``command``, after one warm-up run."""
    import resource

    timings, cpu = [], []
    for i in range(repeats + 1):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True, cwd="/tmp", env=_env())
        elapsed = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if i:
            timings.append(elapsed)
            cpu.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return statistics.median(timings), statistics.median(cpu)


def inside(code: str, repeats: int = 5) -> tuple[float, float]:
    """Median wall time and CPU time (s) of ``code`` in a fresh interpreter, measured inside it."""
    timings, cpu = [], []
    for i in range(repeats + 1):
        out = subprocess.run(
            [
                sys.executable,
                "-c",
                "import time; t, c = time.perf_counter(), time.process_time(); "
                f"{code}; print(time.perf_counter() - t, time.process_time() - c)",
            ],
            capture_output=True,
            text=True,
            check=True,
            cwd=REPO,
            env=_env(),
        )
        if i:
            elapsed, used = out.stdout.strip().splitlines()[-1].split()
            timings.append(float(elapsed))
            cpu.append(float(used))
    return statistics.median(timings), statistics.median(cpu)


def comments() -> tuple[list[str], list[str]]:
    """The labelled comments with 20-40 words, and the corpus reader comments at full length."""
    from stance.data.corpus import read_authored, read_corpus

    corpus = [r["text"] for r in read_corpus() if r["kind"] == "comment"]
    authored = [r["text"] for r in read_authored() if r["register"] == "comment"]
    short = [t for t in corpus + authored if 20 <= len(t.split()) <= 40]
    return short, corpus


def describe(texts: list[str]) -> str:
    words = statistics.mean(len(t.split()) for t in texts)
    chars = statistics.mean(len(t) for t in texts)
    return f"{len(texts)} texts, mean {words:.0f} words / {chars:.0f} characters"


def latency(call: Callable[[str], object], texts: list[str], n: int = 2000) -> tuple[float, ...]:
    """p50 and p99 (ms) of ``call`` on one text at a time, cycling through ``texts``."""
    for text in texts:  # warm: model loaded, caches filled as in a long-running process
        call(text)
    timings = []
    for i in range(n):
        text = texts[i % len(texts)]
        start = time.perf_counter()
        call(text)
        timings.append(time.perf_counter() - start)
    timings.sort()
    return timings[len(timings) // 2] * 1000, timings[int(len(timings) * 0.99) - 1] * 1000


def rate(call: Callable[[list[str]], object], texts: list[str], repeats: int = 3) -> float:
    """Texts per second of ``call`` on all of ``texts`` (best of ``repeats``)."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        call(texts)
        best = min(best, time.perf_counter() - start)
    return len(texts) / best


def _ms(value: tuple[float, float]) -> str:
    return f"{value[0] * 1000:.0f} ms (CPU {value[1] * 1000:.0f} ms)"


def _s(value: tuple[float, float]) -> str:
    return f"{value[0]:.2f} s (CPU {value[1]:.2f} s)"


def format_1_copy(target: Path) -> Path:
    """The shipped baseline written back as a format-1 directory (``model.skops``)."""
    from stance.api import load_classifier
    from stance.backends.baseline import save_format_1
    from stance.training.baseline import pipeline_from_classifier

    shipped = load_classifier("baseline")
    shipped.pipeline = pipeline_from_classifier(shipped)
    return save_format_1(shipped, target)


def bench_baseline(old_dir: Path) -> list[Row]:
    import stance
    from stance.api import load_classifier
    from stance.text import prepare_text

    sys.path.insert(0, str(HERE))
    from sklearn_path import SklearnBaseline

    short, long = comments()
    rows: list[Row] = []
    console = Path(sys.executable).with_name("stance")
    new_cli = [str(console)] if console.exists() else [sys.executable, "-m", "stance"]
    rows.append(
        (
            f'`stance classify "…"` one-shot, wall ({len(TEXT.split())} words)',
            _s(wall([sys.executable, str(HERE / "sklearn_path.py"), str(old_dir), TEXT])),
            _s(wall([*new_cli, "classify", TEXT])),
            TARGETS["cli"],
        )
    )
    old_first = (
        f"import sys; sys.path.insert(0, {str(HERE)!r}); import stance; "
        f"from sklearn_path import SklearnBaseline; "
        f"SklearnBaseline.load({str(old_dir)!r}).predict([{TEXT!r}])"
    )
    rows.append(
        (
            "`import stance` + first classify, fresh interpreter",
            _ms(inside(old_first)),
            _ms(inside(f"import stance; stance.classify({TEXT!r})")),
            TARGETS["first"],
        )
    )
    heavy = subprocess.run(
        [
            sys.executable,
            "-c",
            f"import sys, stance; stance.classify({TEXT!r}); stance.classify_many(['a', 'b']); "
            f"print(','.join(m for m in {HEAVY!r} if m in sys.modules) or 'none')",
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
    ).stdout.strip()
    rows.append(("heavy libraries imported by classify", "sklearn, scipy, skops", heavy, "none"))

    old = SklearnBaseline.load(old_dir)
    new = load_classifier("baseline")
    old_p50, old_p99 = latency(lambda t: old.predict([t]), short)
    new_p50, new_p99 = latency(stance.classify, short)
    rows.append(
        (
            f"warm `classify(text)`, p50 / p99, 20–40-word comments ({describe(short)})",
            f"{old_p50:.2f} / {old_p99:.2f} ms",
            f"{new_p50:.2f} / {new_p99:.2f} ms",
            TARGETS["warm"],
        )
    )
    # the n-gram cache off: every word hashed on every call
    for hasher in new._hashers:
        object.__setattr__(hasher, "cache_size", 0)
        hasher._cache.clear()
    cold_p50, cold_p99 = latency(stance.classify, short, n=1000)
    for hasher in new._hashers:
        object.__setattr__(hasher, "cache_size", 1 << 16)
    rows.append(
        (
            "  the same with the numpy path's n-gram cache off",
            "",
            f"{cold_p50:.2f} / {cold_p99:.2f} ms",
            "",
        )
    )

    def old_many(texts: list[str]) -> None:  # what classify_many does, on the old classifier
        checked = [prepare_text(t, i) for i, t in enumerate(texts)]
        for start in range(0, len(checked), 256):
            old.predict(checked[start : start + 256])

    batch = [short[i % len(short)] for i in range(5000)]
    rows.append(
        (
            "`classify_many`, 5,000 comments of 20–40 words, one process",
            f"{rate(old_many, batch):,.0f} texts/s",
            f"{rate(stance.classify_many, batch):,.0f} texts/s",
            TARGETS["many"],
        )
    )
    full = [long[i % len(long)] for i in range(1000)]
    rows.append(
        (
            f"`classify_many`, corpus reader comments at full length ({describe(long)})",
            f"{rate(old_many, full):,.0f} texts/s",
            f"{rate(stance.classify_many, full):,.0f} texts/s",
            "",
        )
    )
    # the peak resident set of this process image (VmHWM; ru_maxrss would count the parent's)
    rss = (
        "print(next(int(line.split()[1]) for line in open('/proc/self/status') "
        "if line.startswith('VmHWM')) / 1024)"
    )
    texts_file = old_dir.parent / "comments.json"
    texts_file.write_text(json.dumps(batch[:2000], ensure_ascii=False), encoding="utf-8")
    read = f"texts = json.loads(open({str(texts_file)!r}, encoding='utf-8').read())"
    memory = []
    for load in (
        f"sys.path.insert(0, {str(HERE)!r}); from sklearn_path import SklearnBaseline; "
        f"SklearnBaseline.load({str(old_dir)!r}).predict(texts)",
        "stance.classify_many(texts)",
    ):
        code = f"import json, sys, stance; {read}; {load}; {rss}"
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
        )
        memory.append(f"{float(out.stdout.strip().splitlines()[-1]):.0f} MB")
    rows.append(("peak memory, 2,000 comments classified (fresh process)", *memory, ""))
    return rows


def bench_install() -> list[Row]:
    """Fresh virtual environments: the core install, and the libraries the core needed before."""
    sizes, counts = [], []
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "src"
        subprocess.run(["git", "clone", "-q", str(REPO), str(source)], check=True)
        for name, spec in (("old", f"{source}[train]"), ("new", str(source))):
            venv = Path(tmp) / name
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
            subprocess.run(
                [str(venv / "bin" / "pip"), "install", "--quiet", spec],
                check=True,
                capture_output=True,
            )
            listed = subprocess.run(
                [str(venv / "bin" / "pip"), "list", "--format=json"],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            counts.append(len(json.loads(listed)))
            # disk usage, as `du` counts it
            total = sum(p.lstat().st_blocks * 512 for p in venv.rglob("*"))
            sizes.append(f"{total / 2**20:.0f} MB, {counts[-1]} packages")
    return [
        (
            'fresh venv after `pip install stance` (scikit-learn path: `"stance[train]"`)',
            *sizes,
            TARGETS["venv"],
        )
    ]


def bench_training() -> Row:
    from stance.training.baseline import BaselineConfig, train_baseline_on
    from stance.training.recipes import training_data

    config = BaselineConfig()
    data = training_data()
    start = time.perf_counter()
    train_baseline_on(data, config)
    seconds = time.perf_counter() - start
    folds = ", incl. calibration folds" if config.calibrate else ""
    return (
        f"training{folds} [baseline, {len(data)} texts]",
        f"{seconds:.1f} s",
        "(same: training uses scikit-learn)",
        TARGETS["training"],
    )


def bench_bert(device: str | None = None) -> list[Row]:
    import stance
    from stance.api import clear_cache, load_classifier

    label = "bert" if device is None else f"bert ({device})"
    rows: list[Row] = []
    if device is None:
        first = inside(f"import stance; stance.classify({TEXT!r}, model='bert')", 3)
        rows.append((f"first classify, load included [{label}]", "", _ms(first), ""))
    clear_cache()
    classifier = load_classifier("bert")
    if device is not None:
        classifier.device = device
        classifier.model.to(device)
    short, _ = comments()
    p50, p99 = latency(lambda t: classifier.predict([t]), short[:100], n=200)
    rows.append((f"warm single text, p50 / p99 [{label}]", "", f"{p50:.2f} / {p99:.2f} ms", ""))
    batch = [short[i % len(short)] for i in range(1000)]
    many = rate(lambda t: stance.classify_many(t, model="bert", batch_size=64), batch, 1)
    rows.append((f"classify_many [{label}]", "", f"{many:,.0f} texts/s", ""))
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["baseline", "bert"])
    parser.add_argument("--no-install", action="store_true", help="skip the fresh-venv rows")
    parser.add_argument("--update-readme", action="store_true")
    args = parser.parse_args(argv)

    load_before = os.getloadavg()[0]
    rows: list[Row] = []
    if "baseline" in args.models:
        with tempfile.TemporaryDirectory() as tmp:
            rows += bench_baseline(format_1_copy(Path(tmp) / "baseline-format-1"))
    if not args.no_install:
        rows += bench_install()
    if "bert" in args.models:
        try:
            import torch
        except ImportError:
            print("skipping bert: torch is not installed", file=sys.stderr)
        else:
            from stance.modeldir import shipped_model_dir

            if shipped_model_dir("bert").is_dir():
                rows += bench_bert()
                if torch.cuda.is_available():
                    rows += bench_bert("cuda")
    rows.append(bench_training())

    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError, StopIteration), open("/proc/cpuinfo") as info:
        cpu = next(line.split(":", 1)[1].strip() for line in info if line.startswith("model name"))
    machine = (
        f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}"
    )
    load = f"load average {load_before:.1f} before the run, {os.getloadavg()[0]:.1f} after"
    table = "\n".join(
        [
            "| measurement | scikit-learn path | numpy path (format 2) | target |",
            "|---|---|---|---|",
        ]
        + [f"| {name} | {old} | {new} | {target} |" for name, old, new, target in rows]
    )
    when = dt.date.today().isoformat()
    command = "python benchmarks/run.py"
    if args.models != ["baseline", "bert"]:
        command += " --models " + " ".join(args.models)
    if args.no_install:
        command += " --no-install"
    text = f"Measured {when} on {machine} ({load}) by `{command}`.\n\n{table}"
    print(text)
    if args.update_readme:
        from stance.data.datacard import update_pages

        for page in update_pages(REPO, {"benchmark": text}):
            print(f"updated {page.relative_to(REPO)}")


if __name__ == "__main__":
    main()
