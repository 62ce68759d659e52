"""Batch jobs at scale: texts per second and peak memory of `stance classify --input` on
100,000 rows (and 1,000,000 with --big), --jobs 1 against --jobs 2, Dask with two worker
processes and Spark local[2], side by side with the old whole-file CLI.

Usage: python benchmarks/batch.py [--big] [--only cli old dask spark] [--table-only]
                                 [--update-readme]

Input is synthetic: the project's own texts (labelled/authored.jsonl and labelled/stance.jsonl)
repeated in order with an id column, as CSV for the CLI and as Parquet files of 10,000 rows for
Dask and Spark (as on a cluster). Every run is a fresh process; its wall time includes start-up
(imports, model loading, and for Spark the JVM), so texts/s = rows / wall time. CPU time is
user + system time of the whole process tree. Peak memory is the largest resident set of the
process for one process, and for several processes the largest sum over the process tree
sampled every 0.1 s (shared pages counted in each process).

Measured rows are kept in benchmarks/batch_results.json, so the slow --big rows can be run on
their own (--only picks which rows run); --update-readme writes every kept row and the
estimate into the README.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "batch_results.json"
OLD_REF = "1b0d7b5"  # the last commit whose CLI read a whole file into memory
FILE_ROWS = 10_000


def project_texts() -> list[str]:
    texts = []
    for name in ("authored.jsonl", "stance.jsonl"):
        with (REPO / "labelled" / name).open(encoding="utf-8") as lines:
            texts += [json.loads(line)["text"] for line in lines if line.strip()]
    return texts


def write_inputs(folder: Path, rows: int) -> tuple[Path, Path]:
    """``rows`` rows as one CSV file and as a folder of Parquet files."""
    texts = project_texts()
    source = folder / f"in-{rows}.csv"
    with source.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["id", "text"])
        writer.writerows([i, texts[i % len(texts)]] for i in range(rows))
    parquet = folder / f"in-{rows}.parquet"
    with contextlib.suppress(ImportError):
        import pyarrow as pa
        import pyarrow.parquet as pq

        parquet.mkdir()
        for start in range(0, rows, FILE_ROWS):
            ids = list(range(start, min(rows, start + FILE_ROWS)))
            table = pa.table({"id": ids, "text": [texts[i % len(texts)] for i in ids]})
            pq.write_table(table, parquet / f"part-{start // FILE_ROWS:05d}.parquet")
    return source, parquet


def _tree_usage(root: int) -> tuple[int, float]:
    """Resident memory (bytes) and CPU seconds so far (user + system, with the children each
    process has reaped) of ``root`` and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    usage: dict[int, tuple[int, float]] = {}
    page, tick = os.sysconf("SC_PAGE_SIZE"), os.sysconf("SC_CLK_TCK")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{entry}/statm") as statm:
                rss = int(statm.read().split()[1]) * page
        except (OSError, IndexError):
            continue
        usage[int(entry)] = (rss, sum(int(f) for f in fields[11:15]) / tick)
        children.setdefault(int(fields[1]), []).append(int(entry))
    rss_total, cpu_total, todo = 0, 0.0, [root]
    while todo:
        pid = todo.pop()
        rss, cpu = usage.get(pid, (0, 0.0))
        rss_total += rss
        cpu_total += cpu
        todo += children.get(pid, [])
    return rss_total, cpu_total


def measure(
    command: list[str], env: dict[str, str] | None = None
) -> tuple[float, float, float, float]:
    """Run ``command`` (in a scratch folder); return wall seconds, CPU seconds (user + system,
    of the process tree), the peak resident memory of the process (MB) and the peak sum over
    its process tree (MB, sampled)."""
    with tempfile.TemporaryDirectory(prefix="stance-run-") as cwd:
        start = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL)
        tree, tree_cpu = 0, 0.0
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            with contextlib.suppress(OSError):
                rss, cpu = _tree_usage(process.pid)
                tree, tree_cpu = max(tree, rss), max(tree_cpu, cpu)
            time.sleep(0.1)
        wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode not in (0, 1):
        raise SystemExit(f"failed ({process.returncode}): {' '.join(command)}")
    own = usage.ru_maxrss / 1024
    # CPU: what the process and the children it reaped used, or (Spark's JVM and its Python
    # workers are never reaped by the driver) the largest sum seen over the live tree.
    cpu = max(usage.ru_utime + usage.ru_stime, tree_cpu)
    return wall, cpu, own, max(tree / 2**20, own)


def run_cli(source: Path, out: Path, jobs: int | None, old: Path | None = None) -> tuple:
    args = ["classify", "--input", str(source), "--output", str(out), "--quiet"]
    if jobs is not None:
        args += ["--jobs", str(jobs)]
    env = dict(os.environ)
    if old is not None:
        env["PYTHONPATH"] = str(old)
    return measure([sys.executable, "-m", "stance", *args], env)


def old_checkout(folder: Path, ref: str) -> Path:
    """The package and baseline model as of ``ref``, unpacked from git."""
    target = folder / "old"
    target.mkdir()
    archive = subprocess.run(
        ["git", "archive", ref, "stance", "models/baseline"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target


DASK = """
import sys, stance
import dask.dataframe as dd
from distributed import Client, LocalCluster
if __name__ == "__main__":
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster):
        ddf = dd.read_parquet(sys.argv[1])
        labelled = ddf.map_partitions(stance.classify_frame, text_column="text",
                                      meta=stance.classify_frame(ddf._meta))
        labelled.to_parquet(sys.argv[2])
"""

SPARK = """
import sys, stance
from pyspark.sql import SparkSession
from pyspark.sql.types import DoubleType, StringType, StructField, StructType
spark = (SparkSession.builder.master("local[2]").config("spark.ui.enabled", "false")
         .config("spark.pyspark.python", sys.executable).getOrCreate())
spark.sparkContext.setLogLevel("ERROR")
df = spark.read.parquet(sys.argv[1])
def classify_batches(frames):
    for frame in frames:
        yield stance.classify_frame(frame, text_column="text")
schema = StructType([*df.schema.fields,
    StructField("stance_label", StringType()), StructField("stance_score", DoubleType()),
    StructField("p_against", DoubleType()), StructField("p_for", DoubleType()),
    StructField("p_neutral", DoubleType()), StructField("error", StringType())])
df.mapInPandas(classify_batches, schema=schema).write.mode("overwrite").parquet(sys.argv[2])
spark.stop()
"""


def run_engine(code: str, parquet: Path, out: Path) -> tuple:
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    return measure([sys.executable, "-c", code, str(parquet), str(out)], env)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError, StopIteration), open("/proc/cpuinfo") as info:
        cpu = next(line.split(":", 1)[1].strip() for line in info if line.startswith("model name"))
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}"


def record(
    results: dict,
    key: str,
    label: str,
    rows: int,
    processes: int,
    timing: tuple,
    command: str,
    load: float,
) -> None:
    wall, cpu, own, tree = timing
    results[key] = {
        "run": label,
        "rows": rows,
        "processes": processes,
        "wall_s": round(wall, 1),
        "texts_per_s": round(rows / wall),
        "cpu_s": round(cpu, 1),
        "texts_per_cpu_s": round(rows / cpu),
        "peak_mb": round(own if processes == 1 else tree),
        "date": dt.date.today().isoformat(),
        "machine": machine(),
        "load_before": round(load, 2),
        "command": command,
    }
    print(
        f"{label}: {rows / wall:,.0f} texts/s, {wall:.1f} s, CPU {cpu:.1f} s, peak {own:.0f} MB "
        f"(tree {tree:.0f} MB)",
        flush=True,
    )


ORDER = [
    "old-100k",
    "cli-100k-j1",
    "cli-100k-j2",
    "old-1m",
    "cli-1m-j1",
    "cli-1m-j2",
    "dask-100k",
    "spark-100k",
]


def render(results: dict) -> str:
    rows = [results[k] for k in ORDER if k in results]
    lines = [
        "| run | rows | processes | wall | texts/s | CPU time | texts per CPU-second "
        "| peak memory | measured |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['run']} | {r['rows']:,} | {r['processes']} | {r['wall_s']:.0f} s | "
            f"{r['texts_per_s']:,} | {r['cpu_s']:.0f} s | {r['texts_per_cpu_s']:,} | "
            f"{r['peak_mb']:,} MB | {r['date']}, load {r['load_before']} |"
        )
    machines = sorted({r["machine"] for r in rows})
    # --only picks which rows run; what a row measures depends on --big alone.
    commands = sorted({r["command"].split(" --only")[0] for r in rows})
    text = [
        f"Measured on {'; '.join(machines)} by "
        + " and ".join(f"`{c}`" for c in commands)
        + " (the 1,000,000-row rows with `--big`). Load: the machine's 1-minute load average "
        "when the run started; other jobs were sharing these 2 cores, so wall times are "
        "longer than on an idle machine.",
        "",
        "\n".join(lines),
    ]
    growth = []
    for small_key, large_key, what in (
        ("cli-100k-j1", "cli-1m-j1", "the streaming CLI (`--jobs 1`)"),
        ("old-100k", "old-1m", "the old CLI"),
    ):
        small, large = results.get(small_key), results.get(large_key)
        if small and large:
            change = large["peak_mb"] / small["peak_mb"] - 1
            growth.append(
                f"{what} peaks at {small['peak_mb']:,} MB on 100,000 rows and "
                f"{large['peak_mb']:,} MB on 1,000,000 ({change:+.0%})"
            )
    if growth:
        text += ["", "Memory: " + "; ".join(growth) + "."]
    one = results.get("cli-1m-j1") or results.get("cli-100k-j1")
    two = results.get("cli-1m-j2") or results.get("cli-100k-j2")
    if one and two:
        chars = sum(map(len, project_texts())) / len(project_texts())
        hours = {
            n: 1e8 / ((one if n == 1 else two)["texts_per_cpu_s"] * n) / 3600
            for n in (1, 2, 8, 32, 128)
        }
        per_n = ", ".join(f"{h:,.1f} h on {n} core{'s' if n > 1 else ''}" for n, h in hours.items())
        wall_gain = two["texts_per_s"] / one["texts_per_s"]
        cpu_gain = 2 * two["texts_per_cpu_s"] / one["texts_per_cpu_s"]
        extra = one["texts_per_cpu_s"] / two["texts_per_cpu_s"] - 1
        more_or_less = f"{abs(extra):.0%} {'more' if extra >= 0 else 'less'}"
        text += [
            "",
            f"`--jobs 2` against `--jobs 1` on {one['rows']:,} rows: {wall_gain:.2f}× the "
            f"texts per second by wall time here. Two processes spend {more_or_less} CPU per "
            f"text than one, so on two otherwise idle cores they would give about {cpu_gain:.2f}× "
            "(derived from CPU time, not measured: "
            + (
                "this shared machine gave the two processes together no more CPU time a "
                "second than it gave one)."
                if wall_gain < 0.8 * cpu_gain
                else "consistent with the wall times)."
            ),
        ]
        text += [
            "",
            "Wall time depends on what else the machine runs (these runs shared it, see the "
            "load), CPU time much less, so the estimate below is made from CPU time: texts per "
            "CPU-second is what one core does when it is kept busy.",
            "",
            f"**What 100 million comments would take** with the baseline: {per_n}. That is "
            f"100 million / ({one['texts_per_cpu_s']:,} texts per CPU-second with one process, "
            f"or {two['texts_per_cpu_s']:,} with several, which also load the model and move "
            "texts between processes) / N cores, from the "
            f"{one['rows']:,}-row runs above. It assumes every core is kept busy, cores like "
            f"this machine's, texts like the benchmark's (mean {chars:.0f} characters; time "
            "grows roughly with length), and that reading and writing keep up (in the CLI they "
            "are part of the CPU time measured; a cluster adds scheduling and I/O of its own, "
            "see the Dask and Spark rows).",
        ]
    return "\n".join(text)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--big", action="store_true", help="the 1,000,000-row rows (minutes)")
    parser.add_argument(
        "--only",
        nargs="+",
        choices=["cli", "old", "dask", "spark"],
        default=["cli", "old", "dask", "spark"],
    )
    parser.add_argument("--old-ref", default=OLD_REF, help="git ref of the old whole-file CLI")
    parser.add_argument("--update-readme", action="store_true")
    parser.add_argument(
        "--table-only", action="store_true", help="run nothing; print (and write) the kept rows"
    )
    args = parser.parse_args(argv)
    if args.table_only:
        args.only = []

    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    command = "python benchmarks/batch.py" + (" --big" if args.big else "")
    rows = 1_000_000 if args.big else 100_000
    tag = "1m" if args.big else "100k"
    with tempfile.TemporaryDirectory(prefix="stance-bench-") as tmp:
        folder = Path(tmp)
        source, parquet = write_inputs(folder, rows) if args.only else (folder, folder)
        out = folder / "out.csv"
        runs: list[tuple[str, str, int, Callable[[], tuple]]] = []
        if "old" in args.only:
            old = old_checkout(folder, args.old_ref)
            label = f"old CLI, whole file ({args.old_ref})"
            runs.append((f"old-{tag}", label, 1, partial(run_cli, source, out, None, old)))
        if "cli" in args.only:
            for jobs in (1, 2):
                label = f"CLI, streaming, `--jobs {jobs}`"
                runs.append(
                    (f"cli-{tag}-j{jobs}", label, jobs, partial(run_cli, source, out, jobs))
                )
        if "dask" in args.only and not args.big:
            label = "Dask LocalCluster, 2 worker processes"
            runs.append(("dask-100k", label, 2, partial(run_engine, DASK, parquet, folder / "d")))
        if "spark" in args.only and not args.big:
            label = "Spark `local[2]`, `mapInPandas`"
            runs.append(("spark-100k", label, 2, partial(run_engine, SPARK, parquet, folder / "s")))
        for key, label, processes, run in runs:
            load = os.getloadavg()[0]
            record(results, key, label, rows, processes, run(), command, load)
            for leftover in (folder / "d", folder / "s", out):
                if leftover.is_dir():
                    shutil.rmtree(leftover)
                else:
                    leftover.unlink(missing_ok=True)
            RESULTS.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    text = render(results)
    print(text)
    if args.update_readme:
        sys.path.insert(0, str(REPO))
        from stance.data.datacard import update_pages

        for page in update_pages(REPO, {"batch-benchmark": text}):
            print(f"updated {page.relative_to(REPO)}")


if __name__ == "__main__":
    main()
