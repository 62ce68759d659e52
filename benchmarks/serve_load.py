"""Load on ``stance serve``, on loopback only: requests/s, p50/p99 latency, errors and the
server's peak memory with 16 and 64 concurrent clients sending single comments and 100-text
batches to ``/v1/classify``; then 16 clients of single comments while one more client uploads
a 100,000-row CSV to ``/v1/files``, against the same 16 clients without it.

Usage: python benchmarks/serve_load.py [--seconds 30] [--clients 16 64] [--rows 100000]
                                      [--workers 1] [--output benchmarks/serve_load.json]

The run is bounded: each phase lasts ``--seconds`` (the upload phase until the upload is
back, at most ``--upload-timeout``), then the server is stopped. Texts are the project's own
(``labelled/authored.jsonl``), cycled in order. The server runs in its own process
(``python -m stance serve``) and the clients in this one (asyncio + httpx), on the same
machine, so they share its cores. Peak memory is the largest sum of resident set sizes over
the server's process tree (uvicorn and the file job's process), sampled every 0.1 s (Linux
``/proc``). Latency is per request, from sending to the whole response read.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _texts() -> list[str]:
    rows = (REPO / "labelled" / "authored.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["text"] for line in rows if line.strip()]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tree_rss(pid: int) -> int:
    """Resident bytes of ``pid`` and all its descendants (Linux /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(entry))
        except (OSError, IndexError, ValueError):
            continue
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        todo.extend(children.get(current, []))
        try:
            with open(f"/proc/{current}/status", encoding="utf-8") as handle:
                for line in handle:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
        except OSError:
            continue
    return total


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of the server process (its finished children included)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return sum(int(x) for x in fields[11:15]) / os.sysconf("SC_CLK_TCK")


class PeakMemory:
    """Samples the server's process tree every 0.1 s in a thread."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stop.is_set():
            self.peak = max(self.peak, _tree_rss(self.pid))
            time.sleep(0.1)

    def reset(self) -> None:
        self.peak = _tree_rss(self.pid)


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def _client(base: str, url: str, bodies, stop: float, latencies: list, errors: list, n: int):
    """One client: its own connection, one request at a time (a shared pool of many
    connections costs the client more CPU per request than the server spends)."""
    import httpx

    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as http:
        i = n
        while time.perf_counter() < stop:
            body = bodies[i % len(bodies)]
            i += 1
            start = time.perf_counter()
            try:
                response = await http.post(url, json=body)
                if response.status_code != 200:
                    errors.append(response.status_code)
                    continue
            except Exception as exc:  # counted, not raised: the run goes on
                errors.append(type(exc).__name__)
                continue
            latencies.append(time.perf_counter() - start)


async def _phase(base: str, clients: int, bodies, seconds: float, until=None) -> dict:
    latencies: list[float] = []
    errors: list = []
    started = time.perf_counter()
    client_cpu = time.process_time()
    stop = started + seconds
    # with an upload, the clients run until it is back (and at least ``seconds``)
    until_stop = float("inf") if until is not None else stop
    tasks = [
        asyncio.create_task(_client(base, "/v1/classify", bodies, until_stop, latencies, errors, n))
        for n in range(clients)
    ]
    upload = None
    if until is not None:
        upload = await until
        remaining = stop - time.perf_counter()
        if remaining > 0:
            await asyncio.sleep(remaining)
        for task in tasks:
            task.cancel()  # a request in flight is dropped, not counted
        await asyncio.gather(*tasks, return_exceptions=True)
    else:
        await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - started
    client_cpu = time.process_time() - client_cpu
    return {
        "requests": len(latencies),
        "seconds": round(elapsed, 2),
        "req_per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": round(1000 * statistics.median(latencies), 1) if latencies else None,
        "p99_ms": round(1000 * _percentile(latencies, 0.99), 1) if latencies else None,
        "errors": len(errors),
        "error_kinds": sorted({str(e) for e in errors}),
        "upload": upload,
        "client_cpu_ms_per_request": round(1000 * client_cpu / max(1, len(latencies)), 2),
    }


async def _upload(base: str, path: Path, timeout: float) -> dict:
    import httpx

    start = time.perf_counter()
    try:
        async with httpx.AsyncClient(base_url=base, timeout=timeout) as http:
            with path.open("rb") as handle:
                response = await http.post(
                    "/v1/files", files={"file": (path.name, handle, "text/csv")}
                )
            body = response.content
    except httpx.HTTPError as exc:
        seconds = round(time.perf_counter() - start, 1)
        return {"status": type(exc).__name__, "seconds": seconds, "rows": 0, "failed": 0}
    seconds = time.perf_counter() - start
    return {
        "status": response.status_code,
        "seconds": round(seconds, 1),
        "rows": int(response.headers.get("x-stance-rows", 0) or 0),
        "failed": int(response.headers.get("x-stance-failed", 0) or 0),
        "bytes_back": len(body),
    }


def _write_csv(path: Path, texts: list[str], rows: int) -> None:
    import csv

    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["id", "text"])
        for i in range(rows):
            writer.writerow([i, texts[i % len(texts)]])


class _Skip(Exception):
    pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="length of each phase")
    parser.add_argument("--clients", type=int, nargs="+", default=[16, 64])
    parser.add_argument(
        "--rows", type=int, default=100_000, help="rows of the uploaded file (0: no upload)"
    )
    parser.add_argument("--upload-clients", type=int, default=16)
    parser.add_argument("--upload-timeout", type=float, default=600.0)
    parser.add_argument("--workers", type=int, default=1, help="server processes")
    parser.add_argument("--output", type=Path, default=REPO / "benchmarks" / "serve_load.json")
    args = parser.parse_args(argv)
    if args.seconds <= 0 or args.seconds > 600:
        parser.error("--seconds must be in (0, 600]")

    texts = _texts()
    singles = [{"texts": [t]} for t in texts]
    batches = [
        {"texts": [texts[(i + j) % len(texts)] for j in range(100)]} for i in range(0, 2000, 100)
    ]
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    command = [sys.executable, "-m", "stance", "serve", "--host", "127.0.0.1", "--port", str(port),
               "--workers", str(args.workers)]  # fmt: skip
    server = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    memory = PeakMemory(server.pid)
    results: dict = {"phases": []}
    try:
        import urllib.request

        for _ in range(300):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise SystemExit("the server did not start")
        memory.thread.start()
        idle = _tree_rss(server.pid)
        for clients in args.clients:
            for name, bodies in (("single", singles), ("batch of 100", batches)):
                memory.reset()
                cpu = _cpu_seconds(server.pid)
                row = asyncio.run(_phase(base, clients, bodies, args.seconds))
                cpu = _cpu_seconds(server.pid) - cpu
                row.update(
                    clients=clients,
                    payload=name,
                    peak_rss_mb=round(memory.peak / 2**20),
                    server_cpu_ms_per_request=round(1000 * cpu / max(1, row["requests"]), 2),
                )
                print(json.dumps(row), flush=True)
                results["phases"].append(row)
        with tempfile.TemporaryDirectory() as folder:
            if args.rows == 0:  # no upload phases
                raise _Skip
            path = Path(folder) / "upload.csv"
            _write_csv(path, texts, args.rows)
            for with_upload in (False, True):
                memory.reset()

                async def run(with_upload: bool = with_upload) -> dict:
                    until = None
                    if with_upload:
                        until = asyncio.ensure_future(_upload(base, path, args.upload_timeout))
                    return await _phase(base, args.upload_clients, singles, args.seconds, until)

                cpu = _cpu_seconds(server.pid)
                row = asyncio.run(run())
                cpu = _cpu_seconds(server.pid) - cpu
                row.update(
                    server_cpu_s=round(cpu, 1),
                    clients=args.upload_clients,
                    payload="single" + (f" + one {args.rows:,}-row upload" if with_upload else ""),
                    peak_rss_mb=round(memory.peak / 2**20),
                    upload_mb=round(path.stat().st_size / 2**20, 1),
                )
                print(json.dumps(row), flush=True)
                results["phases"].append(row)
    except _Skip:
        pass
    finally:
        memory.stop.set()
        server.terminate()
        server.wait(timeout=30)
    results.update(
        command="python benchmarks/serve_load.py "
        + " ".join(argv if argv is not None else sys.argv[1:]),
        date=dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        machine=f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        idle_rss_mb=round(idle / 2**20),
        workers=args.workers,
        seconds=args.seconds,
    )
    args.output.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    print(table(results))
    return 0


def table(results: dict) -> str:
    """The Markdown table for docs/serve.md."""
    lines = [
        "| clients | payload | requests | req/s | p50 ms | p99 ms | errors | server peak RSS MiB "
        "| server CPU ms/request | client CPU ms/request |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in results["phases"]:
        lines.append(
            f"| {row['clients']} | {row['payload']} | {row['requests']:,} | {row['req_per_s']} | "
            f"{row['p50_ms']} | {row['p99_ms']} | {row['errors']} | {row['peak_rss_mb']} | "
            f"{row.get('server_cpu_ms_per_request', '–')} | "
            f"{row.get('client_cpu_ms_per_request', '–')} |"
        )
    for row in results["phases"]:
        if row.get("upload"):
            u = row["upload"]
            lines.append(
                f"\nThe upload ({row['upload_mb']} MiB, {u['rows']:,} rows, {u['failed']} failed) "
                f"came back with HTTP {u['status']} after {u['seconds']} s; the server's CPU time "
                f"in that phase, the file's process included: {row['server_cpu_s']} s."
            )
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
