"""The ``stance`` command line: classify texts or files, evaluate models, explain predictions,
convert baseline model directories to format 2.

Exit codes: 0 success; 1 some rows of a batch could not be classified (the output is still
written); 2 bad usage or input (an error message says what and where).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from stance.errors import StanceError


def _add_model(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model", default=None, help="'baseline' (default), 'bert' or a model directory"
    )


def build_parser() -> argparse.ArgumentParser:
    from stance import __version__

    parser = argparse.ArgumentParser(
        prog="stance",
        description="Stance of Danish text toward Danish jobcentres: against, for or neutral.",
    )
    parser.add_argument("--version", action="version", version=f"stance {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    classify = commands.add_parser(
        "classify", help="classify texts given as arguments, or every row of a file"
    )
    classify.add_argument("texts", nargs="*", help="texts to classify")
    classify.add_argument(
        "--input", type=Path, help="a .csv, .jsonl or .txt file (one text a line)"
    )
    classify.add_argument("--format", choices=["csv", "jsonl", "txt"], help="input format")
    classify.add_argument("--text-column", default="text", help="column or field with the text")
    classify.add_argument("--output", type=Path, help="output .csv or .jsonl (default: stdout)")
    classify.add_argument(
        "--json", action="store_true", help="print JSON (texts given as arguments)"
    )
    classify.add_argument(
        "--min-score",
        type=float,
        default=None,
        help="leave the label empty where the score is below this (0-1)",
    )
    classify.add_argument("--batch-size", type=int, default=256)
    classify.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    _add_model(classify)

    evaluate = commands.add_parser("evaluate", help="evaluate a model (test split and LODO CV)")
    evaluate.add_argument("--no-cv", action="store_true", help="skip cross-validation")
    evaluate.add_argument("--output", type=Path, default=Path("reports"), help="report directory")
    evaluate.add_argument("--seed", type=int, default=0)
    _add_model(evaluate)

    explain = commands.add_parser("explain", help="show which parts of a text drove the label")
    explain.add_argument("text")
    explain.add_argument("--top", type=int, default=5, help="spans to show per label")
    explain.add_argument("--json", action="store_true")
    explain.add_argument(
        "--color", choices=["auto", "always", "never"], default="auto", help="colour the spans"
    )
    _add_model(explain)

    convert = commands.add_parser(
        "convert",
        help="rewrite a baseline model directory in format 2 (arrays only)",
        description="Rewrite a baseline model directory in format 2: arrays in "
        "model.safetensors and settings in metadata.json, which load without scikit-learn and "
        "run no code. A format-1 SOURCE (model.skops) needs the train extra; its pipeline's "
        "probabilities on the project's labelled texts must match the arrays' to 1e-9.",
    )
    convert.add_argument("source", help="a model directory, or 'baseline'")
    convert.add_argument("target", type=Path, help="where to write (may equal SOURCE)")
    convert.add_argument(
        "--no-check", action="store_true", help="skip the check on the labelled texts"
    )
    return parser


def _classify_texts(args: argparse.Namespace) -> int:
    from stance.api import classify_many

    predictions = classify_many(args.texts, model=args.model, batch_size=args.batch_size)
    if args.json:
        out = []
        for text, p in zip(args.texts, predictions):
            row = {"text": text, **p.to_dict()}  # type: ignore[union-attr]
            if args.min_score is not None and p.score < args.min_score:  # type: ignore[union-attr]
                row["label"] = None
            out.append(row)
        print(json.dumps(out, ensure_ascii=False, indent=2))
        return 0
    for text, p in zip(args.texts, predictions):
        label = p.label if args.min_score is None or p.score >= args.min_score else "-"  # type: ignore[union-attr]
        print(f"{label}\t{p.score:.3f}\t{text}")  # type: ignore[union-attr]
    return 0


def _classify_file(args: argparse.Namespace) -> int:
    from stance.api import load_classifier
    from stance.batch import classify_table, read_table, write_table

    table = read_table(args.input, args.text_column, args.format)
    classifier = load_classifier(args.model)
    bar = None
    if not args.quiet:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(table.rows), unit="row", desc="classify", file=sys.stderr)
    classified, failed = classify_table(
        table,
        classifier.predict,
        batch_size=args.batch_size,
        min_score=args.min_score,
        progress=None if bar is None else bar.update,
    )
    if bar is not None:
        bar.close()
    body = write_table(table, args.output)
    if args.output is None:
        sys.stdout.write(body)
    if not args.quiet:
        where = f" to {args.output}" if args.output else ""
        print(
            f"stance: classified {classified} of {len(table.rows)} rows{where}; "
            f"{failed} could not be classified" + (" (see the 'error' column)" if failed else ""),
            file=sys.stderr,
        )
    return 1 if failed else 0


def _evaluate(args: argparse.Namespace) -> int:
    from stance.evaluation.harness import evaluate_model
    from stance.evaluation.report import write_report

    report = evaluate_model(args.model, cv=not args.no_cv, seed=args.seed, progress=True)
    command = (
        "stance evaluate"
        + (f" --model {args.model}" if args.model else "")
        + (" --no-cv" if args.no_cv else "")
    )
    for path in write_report(report, args.output, command):
        print(f"wrote {path}")
    return 0


def _explain(args: argparse.Namespace) -> int:
    from stance.explanation import explain, render_explanation

    explanation = explain(args.text, model=args.model, top=args.top)
    if args.json:
        print(json.dumps(explanation.to_dict(), ensure_ascii=False, indent=2))
        return 0
    color = args.color == "always" or (args.color == "auto" and sys.stdout.isatty())
    print(render_explanation(explanation, color=color))
    return 0


def _check_texts() -> list[str]:
    """The project's labelled texts (corpus and authored), where they are installed."""
    from stance.data import read_authored, read_corpus

    texts: list[str] = []
    for read in (read_corpus, read_authored):
        try:
            texts += [row["text"] for row in read()]
        except (OSError, StanceError):
            continue
    return texts


def _convert(args: argparse.Namespace) -> int:
    from stance.backends.baseline import convert_model_dir

    texts = [] if args.no_check else _check_texts()
    classifier, difference = convert_model_dir(args.source, args.target, check_texts=texts)
    checked = (
        f"; largest probability difference from the scikit-learn pipeline on {len(texts)} "
        f"texts: {difference:.1e}"
        if classifier.pipeline is not None and texts
        else ""
    )
    print(f"wrote {args.target} (format 2){checked}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "classify":
            if args.min_score is not None and not 0.0 <= args.min_score <= 1.0:
                parser.error(f"--min-score must be between 0 and 1, got {args.min_score}")
            if args.input is not None and args.texts:
                parser.error("give texts as arguments or --input FILE, not both")
            if args.input is None and not args.texts:
                parser.error("give one or more texts, or --input FILE")
            return _classify_file(args) if args.input is not None else _classify_texts(args)
        if args.command == "evaluate":
            return _evaluate(args)
        if args.command == "convert":
            return _convert(args)
        return _explain(args)
    except (StanceError, TypeError, ValueError) as exc:
        print(f"stance: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("stance: interrupted; no output file was written", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
