"""Behavioural checks (CheckList-style) of shipped models: pass rate per capability.

Usage: python training/behaviour.py [--model models/baseline] [--model models/bert]
       [--output reports/behaviour.json]

The suite (stance.evaluation.behaviour) is constructed Danish text written for the project; it
diagnoses and is reported in the model cards, and never chooses a model.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from stance.evaluation.behaviour import behaviour_table, run_behaviour

REPO = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", action="append", type=Path, default=None)
    parser.add_argument("--output", type=Path, default=REPO / "reports" / "behaviour.json")
    args = parser.parse_args(argv)
    from stance.api import load_classifier

    models = args.model or [REPO / "models" / "baseline"]
    report = {}
    for path in models:
        result = run_behaviour(load_classifier(path))
        report[path.name] = result
        print(f"## {path.name}\n\n{behaviour_table(result)}\n")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n", "utf-8")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
