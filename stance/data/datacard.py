"""Tables of the dataset card (``labelled/README.md``), generated from the data itself."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from stance.data.agreement import agreement
from stance.data.batches import read_batch
from stance.data.corpus import KINDS, SPLITS
from stance.evaluation.report import markdown_table
from stance.labels import LABELS


def corpus_counts_table(rows: Sequence[dict[str, Any]]) -> str:
    """Units per split × label × kind, with totals."""
    counts = Counter((r["split"], r["label"], r["kind"]) for r in rows)
    table_rows = []
    for split in SPLITS:
        for label in LABELS:
            cells = [counts[(split, label, kind)] for kind in KINDS]
            table_rows.append([split, label, *map(str, cells), str(sum(cells))])
        cells = [sum(counts[(split, label, kind)] for label in LABELS) for kind in KINDS]
        table_rows.append([f"**{split}**", "all", *map(str, cells), str(sum(cells))])
    cells = [sum(1 for r in rows if r["kind"] == kind) for kind in KINDS]
    table_rows.append(["**all**", "all", *map(str, cells), str(len(rows))])
    return markdown_table(["split", "label", *KINDS, "total"], table_rows)


def counter_table(rows: Sequence[dict[str, Any]], field: str) -> str:
    """Authored texts per value of ``field`` and label."""
    counts = Counter((r[field], r["label"]) for r in rows)
    values = sorted(
        {r[field] for r in rows}, key=lambda v: (-sum(counts[(v, label)] for label in LABELS), v)
    )
    table_rows = [
        [
            value,
            *(str(counts[(value, label)]) for label in LABELS),
            str(sum(counts[(value, label)] for label in LABELS)),
        ]
        for value in values
    ]
    return markdown_table([field, *LABELS, "total"], table_rows)


def label_share_table(rows: Sequence[dict[str, Any]]) -> str:
    counts = Counter(r["label"] for r in rows)
    return markdown_table(
        ["label", "texts", "share"],
        [[label, str(counts[label]), f"{counts[label] / len(rows):.1%}"] for label in LABELS]
        + [["all", str(len(rows)), "100%"]],
    )


def agreement_table(annotations: Path) -> str:
    """Kappa rows for the corpus passes and the authored sample (where present)."""
    table_rows = []
    for name, first, second in (
        ("corpus, all units (pass 1 vs pass 2)", "corpus_pass1.jsonl", "corpus_pass2.jsonl"),
        (
            "authored, random 10 % sample (writer vs annotator)",
            "authored_sample_pass1.jsonl",
            "authored_sample_pass2.jsonl",
        ),
    ):
        if (annotations / first).is_file() and (annotations / second).is_file():
            result = agreement(annotations / first, annotations / second)
            table_rows.append(
                [
                    name,
                    str(result["n"]),
                    f"{result['kappa']:.3f}",
                    f"{result['agreement']:.1%}",
                    str(len(result["disagreements"])),
                ]
            )
    for blind in sorted(annotations.glob("w*_blind.jsonl")):
        writer = blind.name.removesuffix("_blind.jsonl")
        source = annotations.parent / "batches" / f"{writer}.jsonl"
        if not source.is_file():
            continue
        batch = read_batch(source, blind, writer)
        table_rows.append(
            [
                f"authored batch {writer}, every text (writer vs blind annotator)",
                str(len(batch.rows)),
                f"{batch.kappa:.3f}",
                f"{batch.agreement:.1%}",
                str(len(batch.rows) - len(batch.agreed_rows())),
            ]
        )
    return markdown_table(
        ["comparison", "n", "Cohen's κ", "raw agreement", "disagreements"], table_rows
    )


def card_sections(
    corpus: Sequence[dict[str, Any]], authored: Sequence[dict[str, Any]], annotations: Path
) -> dict[str, str]:
    """The generated blocks of the card, by marker name."""
    sections = {
        "corpus-counts": corpus_counts_table(corpus),
        "agreement": agreement_table(annotations),
    }
    if authored:
        sections.update(
            {
                "authored-labels": label_share_table(authored),
                "authored-writers": counter_table(authored, "writer"),
                "authored-speakers": counter_table(authored, "speaker"),
                "authored-registers": counter_table(authored, "register"),
                "authored-topics": counter_table(authored, "topic"),
            }
        )
    return sections


def markdown_pages(repo: Path) -> list[Path]:
    """``README.md`` and the documentation site's pages (``docs/*.md``): where scripts keep
    their tables, between ``<!-- name:start -->`` and ``<!-- name:end -->`` markers."""
    return [repo / "README.md", *sorted((repo / "docs").glob("*.md"))]


def update_pages(repo: Path, sections: dict[str, str]) -> list[Path]:
    """:func:`fill_markers` in every page of :func:`markdown_pages`; the pages changed."""
    changed = []
    for page in markdown_pages(repo):
        if not page.is_file():
            continue
        old = page.read_text(encoding="utf-8")
        new = fill_markers(old, sections)
        if new != old:
            page.write_text(new, encoding="utf-8")
            changed.append(page)
    return changed


def fill_markers(text: str, sections: dict[str, str]) -> str:
    """Replace each ``<!-- name:start -->…<!-- name:end -->`` block with its section."""
    for name, body in sections.items():
        start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
        if start not in text:
            continue
        head, rest = text.split(start, 1)
        _, tail = rest.split(end, 1)
        text = f"{head}{start}\n{body}\n{end}{tail}"
    return text
