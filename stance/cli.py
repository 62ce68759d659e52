"""The ``stance`` command line: classify texts or files, evaluate models (on the project's data
or your labelled file), train a model on your labels, suggest texts to label, explain
predictions, convert baseline model directories to format 2.

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
        "--model", default=None, help="'baseline' (default), 'bert', 'e5' or a model directory"
    )


def _add_labelled_file(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--text-column", default="text", help="column or field with the text")
    parser.add_argument("--label-column", default="label", help="column or field with the label")
    parser.add_argument(
        "--label-map",
        default=None,
        metavar='"imod=against,for=for,neutral=neutral"',
        help="map your label values to against/for/neutral",
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
        "--input",
        help="a .csv, .tsv, .jsonl, .txt (one text a line) or .parquet file; '-' reads stdin",
    )
    classify.add_argument(
        "--format", choices=["csv", "tsv", "jsonl", "txt", "parquet"], help="input format"
    )
    classify.add_argument("--text-column", default="text", help="column or field with the text")
    classify.add_argument(
        "--output", type=Path, help="output .csv, .tsv, .jsonl or .parquet (default: stdout)"
    )
    classify.add_argument(
        "--json", action="store_true", help="print JSON (texts given as arguments)"
    )
    classify.add_argument(
        "--min-score",
        type=float,
        default=None,
        help="leave the label empty where the score is below this (0-1)",
    )
    classify.add_argument("--batch-size", type=int, default=256, help="texts per model call")
    classify.add_argument(
        "--jobs", type=int, default=1, help="worker processes (-1: all cores; default 1)"
    )
    classify.add_argument(
        "--strict",
        action="store_true",
        help="stop at the first row that cannot be read or classified (exit 2, write nothing)",
    )
    classify.add_argument(
        "--resume",
        action="store_true",
        help="continue an interrupted run into the same --output from its last finished chunk",
    )
    classify.add_argument(
        "--chunk-size",
        type=int,
        default=10_000,
        help="rows read, classified, written and checkpointed together (default 10000)",
    )
    classify.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    _add_model(classify)

    evaluate = commands.add_parser(
        "evaluate",
        help="evaluate a model on your labelled file (--input), or on the project's test split "
        "and by LODO CV",
    )
    evaluate.add_argument(
        "--input", type=Path, help="your labelled .csv, .tsv, .jsonl or .parquet file"
    )
    _add_labelled_file(evaluate)
    evaluate.add_argument(
        "--references",
        choices=["cv", "project"],
        default="cv",
        help="with --input: fit the reference rows by 5-fold CV on your file (default) or on "
        "the project's corpus",
    )
    evaluate.add_argument("--json", action="store_true", help="with --input: print JSON")
    evaluate.add_argument("--no-cv", action="store_true", help="skip cross-validation")
    evaluate.add_argument(
        "--output",
        type=Path,
        default=None,
        help="report directory (default: reports; with --input, no files unless given)",
    )
    evaluate.add_argument("--seed", type=int, default=0)
    evaluate.add_argument("--quiet", action="store_true", help="no progress bar")
    _add_model(evaluate)

    train = commands.add_parser(
        "train",
        help="train a model on your labelled file (with the shipped training data by default) "
        "and report whether adapting helped",
    )
    train.add_argument(
        "--input", type=Path, required=True, help="labelled .csv, .tsv, .jsonl or .parquet"
    )
    train.add_argument("--output", type=Path, required=True, help="model directory to write")
    _add_labelled_file(train)
    train.add_argument("--backend", choices=["baseline", "bert"], default="baseline")
    data = train.add_mutually_exclusive_group()
    data.add_argument(
        "--with-shipped-data",
        dest="with_shipped_data",
        action="store_true",
        default=True,
        help="train on the shipped training data plus your texts (default)",
    )
    data.add_argument(
        "--only-my-data",
        dest="with_shipped_data",
        action="store_false",
        help="train on your texts alone",
    )
    train.add_argument("--seed", type=int, default=0)
    train.add_argument(
        "--user-weight",
        type=float,
        default=None,
        help="weight of each of your texts in the loss (default: chosen by CV on your texts)",
    )
    train.add_argument("--folds", type=int, default=5, help="folds of the CV on your texts")
    train.add_argument(
        "--base-model", default=None, help="bert: encoder to fine-tune (default: shipped base)"
    )
    train.add_argument("--device", default="auto", help="bert: auto, cpu or cuda")
    train.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="change one of the shipped model's hyperparameters (repeatable), e.g. --set C=3",
    )
    train.add_argument("--json", action="store_true", help="print the report as JSON")
    train.add_argument("--quiet", action="store_true", help="no progress")

    suggest = commands.add_parser(
        "suggest", help="pick the texts of an unlabelled file whose labels would teach most"
    )
    suggest.add_argument(
        "--input", type=Path, required=True, help=".csv, .tsv, .jsonl, .parquet or .txt"
    )
    suggest.add_argument(
        "--output", type=Path, required=True, help="file of rows to label (.csv, .jsonl, ...)"
    )
    suggest.add_argument("--n", type=int, default=100, help="how many texts to pick")
    suggest.add_argument("--text-column", default="text", help="column or field with the text")
    suggest.add_argument(
        "--label-column", default="label", help="name of the empty column added for coding"
    )
    suggest.add_argument(
        "--max-similarity",
        type=float,
        default=0.6,
        help="skip texts this similar (character n-gram cosine) to one already picked",
    )
    suggest.add_argument("--seed", type=int, default=0)
    suggest.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    _add_model(suggest)

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

    predictions = classify_many(
        args.texts, model=args.model, batch_size=args.batch_size, n_jobs=args.jobs
    )
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
    from stance.batch import classify_file

    def notice(message: str) -> None:
        if not args.quiet:
            print(f"stance: {message}", file=sys.stderr)

    sys.stdout.flush()
    try:
        result = classify_file(
            args.input,
            args.output,
            text_column=args.text_column,
            fmt=args.format,
            model=args.model,
            min_score=args.min_score,
            batch_size=args.batch_size,
            chunk_size=args.chunk_size,
            n_jobs=args.jobs,
            strict=args.strict,
            resume=args.resume,
            progress=not args.quiet,
            notice=notice,
        )
    except KeyboardInterrupt:
        if args.output is None:
            print("stance: interrupted", file=sys.stderr)
        else:
            print(
                f"stance: interrupted; {args.output} was not written. Run the same command with "
                "--resume to continue from the last finished chunk",
                file=sys.stderr,
            )
        return 130
    if not args.quiet:
        where = f" to {args.output}" if args.output else ""
        print(
            f"stance: classified {result.classified} of {result.rows} rows{where}; "
            f"{result.failed} could not be classified"
            + (" (see the 'error' column)" if result.failed else ""),
            file=sys.stderr,
        )
    return 1 if result.failed else 0


def _evaluate(args: argparse.Namespace) -> int:
    from stance.evaluation.harness import evaluate_model
    from stance.evaluation.report import write_report

    report = evaluate_model(args.model, cv=not args.no_cv, seed=args.seed, progress=True)
    command = (
        "stance evaluate"
        + (f" --model {args.model}" if args.model else "")
        + (" --no-cv" if args.no_cv else "")
    )
    for path in write_report(report, args.output or Path("reports"), command):
        print(f"wrote {path}")
    return 0


def _command_line(argv: Sequence[str] | None) -> str:
    import shlex

    return "stance " + shlex.join(sys.argv[1:] if argv is None else argv)


def _evaluate_file(args: argparse.Namespace, argv: Sequence[str] | None) -> int:
    from stance.data.userdata import read_labelled
    from stance.evaluation.userfile import evaluate_labelled, render_file_report, write_file_report

    data = read_labelled(
        args.input,
        text_column=args.text_column,
        label_column=args.label_column,
        label_map=args.label_map,
    )
    if data.skipped:
        print(f"stance: {data.skipped_sentence()}", file=sys.stderr)
    result = evaluate_labelled(
        data,
        model=args.model,
        references=args.references,
        seed=args.seed,
        progress=not args.quiet,
    )
    command = _command_line(argv)
    if args.output is not None:
        paths = write_file_report(result, args.output, command)
        result["files"] = [str(p) for p in paths]
        for path in paths:
            print(f"wrote {path}", file=sys.stderr)
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=1))
    else:
        print(render_file_report(result, command))
    return 0


def _hyperparameters(settings: Sequence[str]) -> dict[str, object] | None:
    """``["C=3", "class_weight=null"]`` as ``{"C": 3, "class_weight": None}`` (JSON values,
    else strings)."""
    from stance.errors import ConfigError

    values: dict[str, object] = {}
    for setting in settings:
        name, sep, raw = setting.partition("=")
        if not sep or not name.strip():
            raise ConfigError(f"--set needs NAME=VALUE, got {setting!r}")
        try:
            values[name.strip()] = json.loads(raw)
        except json.JSONDecodeError:
            values[name.strip()] = raw
    return values or None


def _train(args: argparse.Namespace, argv: Sequence[str] | None) -> int:
    from stance.data.userdata import read_labelled
    from stance.training.adapt import VARIANTS, train

    data = read_labelled(
        args.input,
        text_column=args.text_column,
        label_column=args.label_column,
        label_map=args.label_map,
    )
    if data.skipped:
        print(f"stance: {data.skipped_sentence()}", file=sys.stderr)
    source = {k: v for k, v in data.summary(listed=20).items() if k != "label_counts"}
    report = train(
        data.texts,
        data.labels,
        output=args.output,
        backend=args.backend,
        with_shipped_data=args.with_shipped_data,
        seed=args.seed,
        user_weight=args.user_weight,
        folds=args.folds,
        base_model=args.base_model,
        device=args.device,
        hyperparameters=_hyperparameters(args.set),
        source=source,
        command=_command_line(argv),
        progress=not args.quiet,
        log=(lambda _: None) if args.quiet else (lambda line: print(line, file=sys.stderr)),
    )
    if args.json:
        print(json.dumps({**report, "rows": data.summary()}, ensure_ascii=False, indent=1))
        return 0
    print(f"{args.folds}-fold cross-validated macro-F1 on your {len(data.texts)} texts:")
    for key, name in VARIANTS.items():
        row = report["cv"][key]
        low, high = row["macro_f1_ci95"]
        mark = "  <- this model" if key == report["trained"] else ""
        print(f"  {name:28} {row['macro_f1']:.3f} [{low:.3f}, {high:.3f}]{mark}")
    print(f"your texts' weight: {report['user_weight']:g} ({report['user_weight_chosen_by']})")
    print(f"wrote {args.output} (see {Path(args.output) / 'report.md'})")
    return 0


def _suggest(args: argparse.Namespace) -> int:
    from stance.data.selection import suggest_file

    if args.n < 1:
        raise ValueError(f"--n must be >= 1, got {args.n}")
    summary = suggest_file(
        args.input,
        args.n,
        output=args.output,
        text_column=args.text_column,
        label_column=args.label_column,
        model=args.model,
        max_similarity=args.max_similarity,
        seed=args.seed,
        progress=not args.quiet,
    )
    if not args.quiet:
        extra = [
            f"{summary['near_duplicates_skipped']} near-duplicates passed over",
            f"{summary['rows_without_text']} rows without text",
            f"{summary['rows_already_labelled']} already labelled",
        ]
        print(
            f"stance: picked {summary['picked']} of {summary['candidates']} candidate rows "
            f"({'; '.join(extra)}); wrote {args.output} with an empty {args.label_column!r} "
            "column to fill in",
            file=sys.stderr,
        )
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
            if args.input is None and (args.strict or args.resume):
                parser.error("--strict and --resume apply to --input FILE")
            if args.resume and args.output is None:
                parser.error("--resume needs --output FILE (the file the interrupted run wrote)")
            if args.jobs == 0 or args.jobs < -1:
                parser.error(f"--jobs must be a positive number or -1 (all cores), got {args.jobs}")
            if args.chunk_size < 1 or args.batch_size < 1:
                parser.error("--chunk-size and --batch-size must be at least 1")
            return _classify_file(args) if args.input is not None else _classify_texts(args)
        if args.command == "evaluate":
            if args.input is None:
                if args.json:
                    parser.error("--json needs --input FILE")
                return _evaluate(args)
            if args.no_cv:
                parser.error("--no-cv applies to the project's evaluation, not to --input")
            return _evaluate_file(args, argv)
        if args.command == "train":
            return _train(args, argv)
        if args.command == "suggest":
            return _suggest(args)
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
