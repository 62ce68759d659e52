"""The real training pool reader, its page split, fingerprint and manifest (synthetic stand-ins)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from stance.data.realpool import (
    page_part,
    pool_fingerprint,
    pool_part,
    read_real_pool,
    write_manifest,
)
from stance.errors import CorpusError

LABELS = ("against", "for", "neutral")


def synthetic_rows(n: int = 60) -> list[dict]:
    return [
        {
            "id": f"rp-x{i:04d}",
            "text": f"Syntetisk tekst nummer {i} om jobcentret.",
            "label": LABELS[i % 3],
            "kind": "comment" if i % 4 == 0 else "article_paragraph",
            "confidence": 1 + i % 3,
            "source_url": f"https://example.dk/side-{i // 3}",
            "source_title": "Eksempel",
        }
        for i in range(n)
    ]


def write_pool(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return path


def test_reads_and_splits_by_page(tmp_path: Path) -> None:
    units = read_real_pool(write_pool(tmp_path / "pool.jsonl", synthetic_rows(300)))
    assert len(units) == 300
    parts = {}
    for unit in units:
        parts.setdefault(unit.source_url, set()).add(unit.part)
    assert all(len(p) == 1 for p in parts.values())  # a page never straddles the parts
    held = sum(p == {"calibration"} for p in parts.values()) / len(parts)
    assert 0.03 < held < 0.35
    assert len(pool_part(units, "train")) + len(pool_part(units, "calibration")) == 300


def test_page_part_depends_on_url_only() -> None:
    urls = [f"https://example.dk/{i}" for i in range(2000)]
    first = [page_part(u) for u in urls]
    assert first == [page_part(u) for u in reversed(urls)][::-1]
    assert 0.12 < first.count("calibration") / len(urls) < 0.18


def test_fingerprint_ignores_order_and_sees_edits(tmp_path: Path) -> None:
    rows = synthetic_rows()
    a = pool_fingerprint(read_real_pool(write_pool(tmp_path / "a.jsonl", rows)))
    b = pool_fingerprint(read_real_pool(write_pool(tmp_path / "b.jsonl", rows[::-1])))
    edited = [dict(r) for r in rows]
    edited[5]["label"] = "for" if edited[5]["label"] != "for" else "against"
    c = pool_fingerprint(read_real_pool(write_pool(tmp_path / "c.jsonl", edited)))
    edited[5] = dict(rows[5], text=rows[5]["text"] + "!")
    d = pool_fingerprint(read_real_pool(write_pool(tmp_path / "d.jsonl", edited)))
    assert a == b and len({a, c, d}) == 3


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"label": "pro"}, "label"),
        ({"kind": "tweet"}, "kind"),
        ({"source_url": ""}, "source_url"),
        ({"text": "  "}, "text"),
        ({"confidence": 7}, "confidence"),
    ],
)
def test_bad_rows_name_line_and_field(tmp_path: Path, change: dict, field: str) -> None:
    rows = synthetic_rows(5)
    rows[3].update(change)
    with pytest.raises(CorpusError) as err:
        read_real_pool(write_pool(tmp_path / "pool.jsonl", rows))
    assert err.value.line == 4 and err.value.field == field


def test_duplicate_id_and_missing_file(tmp_path: Path) -> None:
    rows = synthetic_rows(4)
    rows[2]["id"] = rows[0]["id"]
    with pytest.raises(CorpusError, match="duplicate id"):
        read_real_pool(write_pool(tmp_path / "pool.jsonl", rows))
    with pytest.raises(CorpusError, match="--real-train"):
        read_real_pool(tmp_path / "missing.jsonl")


def test_manifest_has_no_texts(tmp_path: Path) -> None:
    units = read_real_pool(write_pool(tmp_path / "pool.jsonl", synthetic_rows(20)))
    out = write_manifest(units, tmp_path / "manifest.csv")
    content = out.read_text("utf-8")
    assert "Syntetisk" not in content
    rows = list(csv.DictReader(content.splitlines()))
    assert [r["id"] for r in rows] == sorted(u.id for u in units)
    assert {r["part"] for r in rows} <= {"train", "calibration"}
    assert all(len(r["text_sha256"]) == 64 for r in rows)


def test_dataset_card_tables_match_the_committed_manifest() -> None:
    from stance.data.realpool import manifest_tables, read_manifest

    repo = Path(__file__).resolve().parents[1]
    rows = read_manifest(repo / "labelled" / "realtrain-manifest.csv")
    card = (repo / "labelled" / "README.md").read_text("utf-8")
    assert manifest_tables(rows) in card
    assert {r["part"] for r in rows} == {"train", "calibration"}
