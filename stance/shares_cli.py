"""``stance shares``: the share of each stance in a file of texts, per group or period,
corrected for the model's errors, with 95 % intervals (see :mod:`stance.shares`)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from stance.errors import InputFileError

DESCRIPTION = """\
The share of each stance (against, for, neutral) among the texts of a file, per group (--by)
and period (--time/--every), corrected for the model's errors, with 95 % bootstrap intervals.
The correction comes from your labelled sample (--gold: texts drawn AT RANDOM from this same
corpus and labelled by you; not the texts `stance suggest` picks), else from the model's
confusion measured on real Danish text (stored in the model directory), else the shares are
the raw counts, with a warning. The report says which, what the method assumes, and how many
labelled texts would give intervals of the width you want (--target-width)."""


# The same as in stance.quantification / stance.shares (a test checks), so building the parser
# imports no numpy.
METHODS = ("cc", "pcc", "acc", "pacc", "em")
DEFAULT_METHOD = "pacc"
DEFAULT_WITH_GOLD = "em"
EVERY = ("week", "month", "year")
MIN_GROUP = 2
N_BOOTSTRAP = 1000


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``shares`` to the ``stance`` command's subparsers."""
    parser = subparsers.add_parser(
        "shares",
        help="shares of each stance in a file (per group / period), corrected for the model's "
        "errors, with intervals",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--input", required=True, help="a .csv, .tsv, .jsonl, .txt or .parquet file of texts"
    )
    parser.add_argument(
        "--format", choices=["csv", "tsv", "jsonl", "txt", "parquet"], help="input format"
    )
    parser.add_argument("--text-column", default="text", help="column or field with the text")
    parser.add_argument("--by", default=None, metavar="COLUMN", help="give shares per value")
    parser.add_argument(
        "--time", default=None, metavar="COLUMN", help="column of ISO dates (YYYY-MM-DD)"
    )
    parser.add_argument(
        "--every", choices=EVERY, default="month", help="period for --time (default month)"
    )
    parser.add_argument(
        "--gold",
        type=Path,
        default=None,
        metavar="FILE",
        help="your labelled random sample of this corpus (.csv, .tsv, .jsonl, .parquet)",
    )
    parser.add_argument("--gold-text-column", default="text", help="column with the text in --gold")
    parser.add_argument("--label-column", default="label", help="column with the label in --gold")
    parser.add_argument(
        "--label-map",
        default=None,
        metavar='"imod=against,for=for,neutral=neutral"',
        help="map --gold's label values to against/for/neutral",
    )
    parser.add_argument(
        "--method",
        choices=METHODS,
        default=None,
        help="cc, pcc (raw counts), acc, pacc or em (corrected); default "
        f"{DEFAULT_METHOD}, or {DEFAULT_WITH_GOLD} with --gold",
    )
    parser.add_argument(
        "--kind",
        default=None,
        help="correct with the model's confusion on one kind of text only (e.g. comment)",
    )
    parser.add_argument("--output", type=Path, default=None, help="table: .csv, .tsv or .json")
    parser.add_argument("--plot", type=Path, default=None, help="chart: .png or .html")
    parser.add_argument(
        "--bootstrap", type=int, default=N_BOOTSTRAP, help="bootstrap replicates per interval"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the bootstrap")
    parser.add_argument(
        "--target-width",
        type=float,
        default=0.10,
        help="interval width to plan the labelled sample for (default 0.10: ±5 points)",
    )
    parser.add_argument(
        "--min-group",
        type=int,
        default=MIN_GROUP,
        help=f"fewest texts a group may have (default {MIN_GROUP})",
    )
    parser.add_argument(
        "--drop-small", action="store_true", help="leave out groups below --min-group"
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument(
        "--model", default=None, help="'baseline' (default), 'bert' or a model directory"
    )
    return parser


def read_rows(
    path: str, text_column: str, fmt: str | None = None
) -> tuple[list[dict[str, Any]], list[int], list[str], str]:
    """Rows, their line (row) numbers, the columns and the format of a batch file (the one
    place this command reads input files: the file layer, :mod:`stance.io`)."""
    from stance.io import read_table

    table = read_table(path, text_column, fmt)
    return table.rows, list(table.line_numbers), list(table.columns), table.format


def run(args: argparse.Namespace, argv: Any = None) -> int:
    """Run ``stance shares``; return the exit code."""
    from stance.io import text_problem
    from stance.shares import estimate_shares, time_bins

    rows, numbers, columns, fmt = read_rows(args.input, args.text_column, args.format)
    unit = "row" if fmt == "parquet" else "line"
    for option, column in (("--by", args.by), ("--time", args.time)):
        if column is not None and rows and column not in columns:
            raise InputFileError(
                args.input,
                f"no column {column!r} for {option}; columns are {columns}",
                column=column,
            )
    texts: list[str] = []
    groups: list[Any] = []
    dates: list[Any] = []
    where: list[str] = []
    skipped: list[str] = []
    for row, number in zip(rows, numbers):
        text, problem = text_problem(row.get(args.text_column), args.text_column)
        if problem is not None:
            skipped.append(f"{unit} {number}")
            continue
        texts.append(str(text))
        groups.append(row.get(args.by) if args.by else None)
        dates.append(row.get(args.time) if args.time else None)
        where.append(f"{args.input}, {unit} {number}")
    if skipped:
        more = f" and {len(skipped) - 5} more" if len(skipped) > 5 else ""
        print(
            f"stance: left out {len(skipped)} rows without a usable text: "
            f"{', '.join(skipped[:5])}{more}",
            file=sys.stderr,
        )
    if not texts:
        raise InputFileError(args.input, f"no row has a usable text in {args.text_column!r}")
    if args.time:  # refuse a bad date before classifying anything
        time_bins(dates, args.every, where=where, column=args.time)
    shares = estimate_shares(
        texts,
        by=groups if args.by else None,
        time=dates if args.time else None,
        every=args.every,
        gold=args.gold,
        method=args.method,
        model=args.model,
        kind=args.kind,
        n_bootstrap=args.bootstrap,
        seed=args.seed,
        min_group=args.min_group,
        drop_small=args.drop_small,
        target_width=args.target_width,
        progress=not args.quiet,
        gold_text_column=args.gold_text_column,
        gold_label_column=args.label_column,
        label_map=args.label_map,
        time_where=where if args.time else None,
        time_column=args.time,
    )
    if args.output is not None:
        shares.write(args.output)
        print(f"stance: wrote {args.output}", file=sys.stderr)
    if args.plot is not None:
        shares.plot(args.plot)
        print(f"stance: wrote {args.plot}", file=sys.stderr)
    if args.json:
        print(json.dumps(shares.to_dict(), ensure_ascii=False, indent=1))
    else:
        print(shares.render())
    return 0
