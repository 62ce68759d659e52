"""Time to classify one 300,000-character text, by shape: one long token (several kinds) and
ordinary words. The text features are linear in a text's length, so a long token may not be
much slower than the same length of words (target: under 1 s each).

Usage: python benchmarks/long_text.py [--length 300000] [--repeats 3] [--output FILE]

Each row is the best of ``--repeats`` runs in this process, each on a fresh text (so no cache
of a token's features helps), after one warm-up classification; seed 0 for the random token.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
TARGET = "< 1 s"
WORDS = "jobcentret hjalp mig ikke med noget som helst , men sagsbehandleren var sød . "


def shapes(length: int, seed: int = 0) -> dict[str, Callable[[int], str]]:
    """Text makers by shape: ``make(i)`` is a fresh text of ``length`` characters."""
    rng = random.Random(seed)
    letters = "abcdefghijklmnopqrstuvwxyzæøå"

    def repeated(unit: str) -> Callable[[int], str]:
        return lambda i: ((unit + letters[i % len(letters)]) * length)[:length]

    return {
        "one token: one letter repeated": lambda i: letters[i % len(letters)] * length,
        "one token: 'jobcentret' repeated": repeated("jobcentret"),
        "one token: random letters": lambda i: "".join(rng.choices(letters, k=length)),
        "ordinary words": lambda i: ((WORDS + letters[i % len(letters)] + " ") * length)[:length],
    }


def measure(length: int = 300_000, repeats: int = 3) -> list[dict[str, object]]:
    """The best time of ``repeats`` classifications of each shape."""
    from stance import classify

    classify("Jobcentret hjalp mig.")
    rows = []
    for name, make in shapes(length).items():
        times = []
        for i in range(repeats):
            text = make(i)
            started = time.perf_counter()
            classify(text)
            times.append(time.perf_counter() - started)
        rows.append({"shape": name, "characters": length, "seconds": round(min(times), 3)})
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--length", type=int, default=300_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--output", type=Path, default=HERE / "long_text_results.json")
    args = parser.parse_args(argv)
    load_before = os.getloadavg()[0]
    rows = measure(args.length, args.repeats)
    result = {
        "date": dt.date.today().isoformat(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "load_before": round(load_before, 2),
        "command": "python benchmarks/long_text.py"
        + (f" --length {args.length}" if args.length != 300_000 else ""),
        "target": TARGET,
        "rows": rows,
    }
    args.output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"| text ({args.length:,} characters) | seconds | target |\n|---|---|---|")
    for row in rows:
        print(f"| {row['shape']} | {row['seconds']} | {TARGET} |")


if __name__ == "__main__":
    main()
