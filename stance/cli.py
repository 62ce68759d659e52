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


def _add_reading(parser: argparse.ArgumentParser) -> None:
    """The options that say how to read an input file (shared by every file command)."""
    parser.add_argument(
        "--delimiter",
        default=None,
        help="CSV delimiter, e.g. ';' (default: sniffed from the header: , ; tab or |)",
    )
    parser.add_argument(
        "--encoding",
        default=None,
        help="text encoding, e.g. cp1252 (default: detected: UTF-8 with or without BOM, "
        "UTF-16 with BOM, else cp1252)",
    )
    parser.add_argument(
        "--sheet", default=None, help=".xlsx: sheet name or number from 1 (default: the first)"
    )


def _reading(args: argparse.Namespace) -> dict[str, object]:
    return {"delimiter": args.delimiter, "encoding": args.encoding, "sheet": args.sheet}


def _add_labelled_file(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--text-column", default="text", help="column or field with the text (default: text)"
    )
    parser.add_argument(
        "--label-column", default="label", help="column or field with the label (default: label)"
    )
    parser.add_argument(
        "--label-map",
        default=None,
        metavar='"imod=against,for=for,neutral=neutral"',
        help='map your label values to against/for/neutral, e.g. "-1=against,0=neutral,1=for"',
    )
    _add_reading(parser)


INPUT_HELP = ".csv, .tsv/.tab, .jsonl, .txt (one text a line), .parquet or .xlsx"
VALUE_OPTIONS = ("--label-map", "--text-column", "--label-column", "--delimiter", "--sheet")
"""Options whose value may start with '-' (``--label-map "-1=against,..."``)."""


def _join_values(argv: Sequence[str]) -> list[str]:
    """``["--label-map", "-1=against"]`` as ``["--label-map=-1=against"]``, so that argparse
    does not take a value starting with '-' for an option (one starting with '--' is one).

    >>> _join_values(["train", "--label-map", "-1=against,1=for", "--text-column", "--json"])
    ['train', '--label-map=-1=against,1=for', '--text-column', '--json']
    """
    out: list[str] = []
    items = list(argv)
    i = 0
    while i < len(items):
        value = items[i + 1] if i + 1 < len(items) else ""
        if items[i] in VALUE_OPTIONS and value.startswith("-") and not value.startswith("--"):
            out.append(f"{items[i]}={items[i + 1]}")
            i += 2
            continue
        out.append(items[i])
        i += 1
    return out


def _example(*lines: str) -> str:
    return "examples:\n" + "\n".join(f"  {line}" for line in lines)


def build_parser() -> argparse.ArgumentParser:
    from stance._version import __version__

    parser = argparse.ArgumentParser(
        prog="stance",
        description="Stance of Danish text toward Danish jobcentres: against, for or neutral.",
    )
    parser.add_argument("--version", action="version", version=f"stance {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    classify = commands.add_parser(
        "classify",
        help="classify texts given as arguments, or every row of a file",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=_example(
            'stance classify "Luk jobcentrene!"',
            "stance classify --input comments.csv --output labelled.xlsx",
            "stance classify --input export.csv --output labelled.csv --excel",
            "cat comments.csv | stance classify --input - > labelled.csv",
        ),
    )
    classify.add_argument("texts", nargs="*", help="texts to classify")
    classify.add_argument("--input", help=f"a {INPUT_HELP} file; '-' reads standard input")
    classify.add_argument(
        "--format",
        choices=["csv", "tsv", "jsonl", "txt", "parquet", "xlsx"],
        help="input format (default: from the extension; stdin: from the first bytes)",
    )
    classify.add_argument(
        "--text-column", default="text", help="column or field with the text (default: text)"
    )
    classify.add_argument(
        "--output",
        type=Path,
        help="output .csv, .tsv, .jsonl, .parquet or .xlsx (default: stdout; a missing folder "
        "is made)",
    )
    classify.add_argument(
        "--output-format",
        choices=["csv", "tsv", "jsonl", "parquet", "xlsx"],
        help="output format (default: from the --output extension, else one fitting the input)",
    )
    classify.add_argument(
        "--excel",
        action="store_true",
        help="write CSV as Danish Excel opens it: ';' and a UTF-8 BOM (default: so when the "
        "input was such a CSV)",
    )
    _add_reading(classify)
    classify.add_argument(
        "--json",
        action="store_true",
        help="print JSON: the predictions (texts as arguments) or the job summary (--input with "
        "--output)",
    )
    classify.add_argument(
        "--min-score",
        type=float,
        default=None,
        help="withhold the label where the score is below this (0-1; status 'withheld'; "
        "default: none)",
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
        "--overwrite",
        action="store_true",
        help="throw away the partial output of an interrupted run into --output and start over",
    )
    classify.add_argument(
        "--replace-columns",
        action="store_true",
        help="replace the stance columns an earlier run left in the input (default: refuse)",
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
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=_example(
            'stance evaluate --input gold.csv --label-map "imod=against,for=for,neutral=neutral"',
            "stance evaluate --input gold.xlsx --output reports/mine",
        ),
    )
    evaluate.add_argument("--input", type=Path, help=f"your labelled {INPUT_HELP} file")
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
        help="report directory (default: none; the report is printed)",
    )
    evaluate.add_argument("--seed", type=int, default=0, help="seed (default: 0)")
    evaluate.add_argument("--quiet", action="store_true", help="no progress bar")
    _add_model(evaluate)

    train = commands.add_parser(
        "train",
        help="train a model on your labelled file (with the shipped training data by default) "
        "and report whether adapting helped",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=_example(
            "stance train --input gold.csv --output models/mine",
            'stance train --input gold.xlsx --output models/mine --label-map "-1=against,0=neutral,'
            '1=for"',
        ),
    )
    train.add_argument("--input", type=Path, required=True, help=f"labelled {INPUT_HELP} file")
    train.add_argument("--output", type=Path, required=True, help="model directory to write")
    _add_labelled_file(train)
    from stance.backends.registry import names as backend_names

    train.add_argument(
        "--backend", choices=backend_names(), default="baseline", help="default: baseline"
    )
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
    train.add_argument("--seed", type=int, default=0, help="seed (default: 0)")
    train.add_argument(
        "--user-weight",
        type=float,
        default=None,
        help="weight of each of your texts in the loss (default: chosen by CV on your texts)",
    )
    train.add_argument(
        "--folds", type=int, default=5, help="folds of the CV on your texts (default: 5)"
    )
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
    train.add_argument("--real-train", type=Path, help="a real pool (JSON Lines) to add")
    train.add_argument("--real-train-weight", type=float, default=1.0, help="weight of a pool text")
    train.add_argument("--json", action="store_true", help="print the report as JSON")
    train.add_argument("--quiet", action="store_true", help="no progress")

    suggest = commands.add_parser(
        "suggest",
        help="pick the texts of an unlabelled file whose labels would teach most",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=_example("stance suggest --input comments.csv --output to-label.xlsx --n 50"),
    )
    suggest.add_argument("--input", type=Path, required=True, help=f"a {INPUT_HELP} file")
    suggest.add_argument(
        "--output",
        type=Path,
        required=True,
        help="file of rows to label: .csv, .tsv, .jsonl, .parquet or .xlsx",
    )
    suggest.add_argument("--n", type=int, default=100, help="how many texts to pick (default: 100)")
    suggest.add_argument(
        "--text-column", default="text", help="column or field with the text (default: text)"
    )
    suggest.add_argument(
        "--label-column",
        default="label",
        help="name of the empty column added for coding (default: label)",
    )
    suggest.add_argument(
        "--max-similarity",
        type=float,
        default=0.6,
        help="skip texts this similar (character n-gram cosine) to one already picked "
        "(default: 0.6)",
    )
    suggest.add_argument(
        "--excel", action="store_true", help="write a CSV as Danish Excel opens it (';', BOM)"
    )
    _add_reading(suggest)
    suggest.add_argument("--seed", type=int, default=0, help="seed (default: 0)")
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
    from stance.serve.command import add_parser as add_serve_parser

    add_serve_parser(commands)

    from stance.shares_cli import add_parser as add_shares

    add_shares(commands)
    return parser


def _classify_texts(args: argparse.Namespace) -> int:
    from stance.api import classify_many

    predictions = classify_many(
        args.texts, model=args.model, batch_size=args.batch_size, n_jobs=args.jobs
    )
    if args.json:
        out = []
        for text, p in zip(args.texts, predictions):
            row = {"text": text, **p.to_dict()}
            if args.min_score is not None and p.score < args.min_score:
                row["label"] = None
            out.append(row)
        print(json.dumps(out, ensure_ascii=False, indent=2))
        return 0
    for text, p in zip(args.texts, predictions):
        label = p.label if args.min_score is None or p.score >= args.min_score else "-"
        print(f"{label}\t{p.score:.3f}\t{_one_line(text)}")
    return 0


def _one_line(text: str) -> str:
    """A text on one line of tab-separated output: backslash, tab and line breaks escaped.

    >>> _one_line("to\\tlinjer\\nher")
    'to\\\\tlinjer\\\\nher'
    """
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\r", "\\r").replace("\n", "\\n")


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
            overwrite=args.overwrite,
            output_format=args.output_format,
            excel=args.excel,
            replace_columns=args.replace_columns,
            progress=not args.quiet,
            notice=notice,
            **_reading(args),  # type: ignore[arg-type]
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
    if args.json:
        print(json.dumps(result.to_dict(), ensure_ascii=False, indent=1))
    if not args.quiet:
        where = f" to {args.output}" if args.output else ""
        withheld = (
            f"{result.withheld} withheld below --min-score {args.min_score} "
            "(stance_status 'withheld'); "
            if args.min_score is not None
            else ""
        )
        print(
            f"stance: classified {result.classified} of {result.rows} rows{where}; {withheld}"
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
    if args.output is None:  # no folder written into the working directory unasked
        import tempfile

        with tempfile.TemporaryDirectory() as folder:
            paths = write_report(report, Path(folder), command)
            markdown = next((p for p in paths if Path(p).suffix == ".md"), None)
            if markdown is not None:
                print(Path(markdown).read_text(encoding="utf-8"))
        print("stance: pass --output DIR to keep the report files", file=sys.stderr)
        return 0
    for path in write_report(report, args.output, command):
        print(f"wrote {path}")
    return 0


def _command_line(argv: Sequence[str] | None) -> str:
    import shlex

    return "stance " + shlex.join(sys.argv[1:] if argv is None else argv)


def _evaluate_file(args: argparse.Namespace, argv: Sequence[str] | None) -> int:
    from stance.own_data.evaluate import evaluate_labelled, render_file_report, write_file_report
    from stance.own_data.labelled import read_labelled

    data = read_labelled(
        args.input,
        text_column=args.text_column,
        label_column=args.label_column,
        label_map=args.label_map,
        **_reading(args),  # type: ignore[arg-type]
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
    from stance.own_data.adapt import VARIANTS, train
    from stance.own_data.labelled import read_labelled

    data = read_labelled(
        args.input,
        text_column=args.text_column,
        label_column=args.label_column,
        label_map=args.label_map,
        **_reading(args),  # type: ignore[arg-type]
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
        real_train=args.real_train,
        real_train_weight=args.real_train_weight,
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
    from stance.errors import ConfigError
    from stance.own_data.suggest import suggest_file

    if args.n < 1:
        raise ConfigError(f"--n must be >= 1, got {args.n}")
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
        excel=args.excel,
        **_reading(args),  # type: ignore[arg-type]
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
    args = parser.parse_args(_join_values(sys.argv[1:] if argv is None else argv))
    try:
        return _run(parser, args, argv)
    except BrokenPipeError:  # the reader went away (``stance ... | head``): stop quietly
        import contextlib
        import os

        with contextlib.suppress(OSError, ValueError, AttributeError):
            # so that Python's own flush at exit does not fail again
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


def _run(
    parser: argparse.ArgumentParser, args: argparse.Namespace, argv: Sequence[str] | None
) -> int:
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
            if args.resume and args.overwrite:
                parser.error("--resume continues an interrupted run, --overwrite discards it: "
                             "give one")  # fmt: skip
            if args.input is not None and args.json and args.output is None:
                parser.error(
                    "--json with --input prints the job summary and needs --output FILE (the "
                    "rows go to standard output otherwise); for rows as JSON use "
                    "--output-format jsonl"
                )
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
        if args.command == "serve":
            from stance.serve.command import run_command

            return run_command(args)
        if args.command == "shares":
            from stance.shares_cli import run as run_shares

            return run_shares(args, argv)
        return _explain(args)
    except StanceError as exc:  # a plain TypeError or ValueError is a bug: its traceback shows
        print(f"stance: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("stance: interrupted; no output file was written", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
