"""A real training pool: real Danish texts about jobcentres, read from a path the user gives.

The project does not ship such a pool (the texts belong to their authors and publishers); a team
that has one passes it explicitly (``--real-train PATH``). Each line is a JSON object with at
least ``id``, ``text``, ``label``, ``kind`` (``comment`` or ``article_paragraph``) and
``source_url`` (the page it was copied from); ``confidence`` (1-3) is optional, other fields are
ignored.

The pool is split **by page**: a hash of each ``source_url`` puts the page in the training part
or in the held-out calibration part (about :data:`CALIBRATION_SHARE` of the pages). The split
depends on the URL only, so it is the same on every machine and for every subset of the pool;
the calibration part fits temperatures and the real-text confusion matrix and is never used to
choose a model. :func:`write_manifest` records ids, URLs, labels, parts and text hashes (never
the texts) so that a model's training data can be named without redistributing it.
"""

from __future__ import annotations

import csv
import hashlib
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stance.data.corpus import real_rows
from stance.data.trainset import Example
from stance.errors import ConfigError, CorpusError

POOL_KINDS: tuple[str, ...] = ("comment", "article_paragraph")
REQUIRED_FIELDS: tuple[str, ...] = ("id", "text", "label", "kind", "source_url")
PARTS: tuple[str, ...] = ("train", "calibration")
CALIBRATION_SHARE = 0.15
"""Share of the pool's pages held out for calibration (by a hash of the page URL)."""
SPLIT_SALT = "stance-realpool-v1"
"""Mixed into the page hash; changing it would move pages between the parts."""
MANIFEST_FIELDS: tuple[str, ...] = (
    "id",
    "source_url",
    "label",
    "kind",
    "confidence",
    "part",
    "text_sha256",
)


@dataclass(frozen=True)
class PoolUnit:
    """One labelled real text with its page."""

    id: str
    text: str
    label: str
    kind: str
    source_url: str
    confidence: int | None = None

    @property
    def part(self) -> str:
        """``"train"`` or ``"calibration"`` (see :func:`page_part`)."""
        return page_part(self.source_url)

    @property
    def text_sha256(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    def example(self) -> Example:
        """The unit as a training example grouped by its page (``origin`` = ``"real"``)."""
        return Example(
            self.id, self.text, self.label, self.source_url, "real", source=self.source_url
        )


def page_part(source_url: str, calibration_share: float = CALIBRATION_SHARE) -> str:
    """The part a page belongs to: ``"calibration"`` for about ``calibration_share`` of the
    pages, chosen by a hash of the URL, else ``"train"``.

    >>> page_part("https://example.dk/a") in PARTS
    True
    >>> page_part("https://example.dk/a") == page_part("https://example.dk/a")
    True
    """
    if not 0.0 <= calibration_share < 1.0:
        raise ConfigError(f"calibration share must be in [0, 1), got {calibration_share}")
    digest = hashlib.sha256(f"{SPLIT_SALT}:{source_url}".encode()).digest()
    position = int.from_bytes(digest[:8], "big") / 2**64
    return "calibration" if position < calibration_share else "train"


def read_real_pool(path: str | Path) -> list[PoolUnit]:
    """Read and validate a real training pool (texts NFC-normalised).

    Raises:
        CorpusError: the file is missing, a line is not a JSON object, a required field is
            missing or empty, a label or kind is unknown, a confidence is not 1-3, or an id
            repeats (the message names file, line and field).
    """
    path = Path(path)
    units: list[PoolUnit] = []
    not_found = "real training pool not found (pass --real-train PATH)"
    for number, row in real_rows(path, REQUIRED_FIELDS, POOL_KINDS, not_found):
        confidence = row.get("confidence")
        if confidence is not None and (
            not isinstance(confidence, int)
            or isinstance(confidence, bool)
            or not 1 <= confidence <= 3
        ):
            raise CorpusError(path, number, f"{confidence!r} is not 1, 2 or 3", "confidence")
        units.append(
            PoolUnit(
                row["id"],
                unicodedata.normalize("NFC", row["text"]),
                row["label"],
                row["kind"],
                row["source_url"].strip(),
                confidence,
            )
        )
    return units


def pool_fingerprint(units: Iterable[PoolUnit]) -> str:
    """sha256 over the units' ids, labels, kinds, pages and text hashes, in id order: the same
    pool gives the same fingerprint whatever its line order, any edit gives another."""
    digest = hashlib.sha256()
    for unit in sorted(units, key=lambda u: u.id):
        line = "\t".join((unit.id, unit.label, unit.kind, unit.source_url, unit.text_sha256))
        digest.update(line.encode("utf-8") + b"\n")
    return digest.hexdigest()


def pool_part(units: Sequence[PoolUnit], part: str | None) -> list[PoolUnit]:
    """The units of ``part`` (``"train"``, ``"calibration"``, or ``None``/``"all"`` for all)."""
    if part in (None, "all"):
        return list(units)
    if part not in PARTS:
        raise ConfigError(f"pool part must be one of {PARTS} or 'all', got {part!r}")
    return [u for u in units if u.part == part]


def describe_pool(units: Sequence[PoolUnit], part: str | None = "train") -> dict[str, Any]:
    """What a model's metadata records about the pool it trained on (no texts)."""
    chosen = pool_part(units, part)
    return {
        "fingerprint": pool_fingerprint(units),
        "part": part or "all",
        "split": f"pages by sha256('{SPLIT_SALT}:' + source_url), {CALIBRATION_SHARE:.0%} held out",
        "n_units": len(chosen),
        "n_pages": len({u.source_url for u in chosen}),
        "by_label": dict(sorted(Counter(u.label for u in chosen).items())),
        "by_kind": dict(sorted(Counter(u.kind for u in chosen).items())),
    }


def write_manifest(units: Sequence[PoolUnit], path: str | Path) -> Path:
    """Write the manifest CSV: one row per unit with id, page, label, kind, confidence, part and
    the sha256 of its text, sorted by id. No texts."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(MANIFEST_FIELDS)
        for unit in sorted(units, key=lambda u: u.id):
            writer.writerow(
                [
                    unit.id,
                    unit.source_url,
                    unit.label,
                    unit.kind,
                    "" if unit.confidence is None else unit.confidence,
                    unit.part,
                    unit.text_sha256,
                ]
            )
    return path


def read_manifest(path: str | Path) -> list[dict[str, str]]:
    """The rows of a manifest CSV written by :func:`write_manifest`.

    Raises:
        CorpusError: the file is missing or lacks a manifest column.
    """
    path = Path(path)
    if not path.is_file():
        raise CorpusError(path, None, "manifest not found")
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    missing = [name for name in MANIFEST_FIELDS if rows and name not in rows[0]]
    if missing:
        raise CorpusError(path, 1, f"missing column(s) {missing}")
    return rows


def manifest_tables(rows: Sequence[dict[str, str]]) -> str:
    """Markdown count tables of a manifest: label by kind for each part, and the hosts."""
    from urllib.parse import urlparse

    lines = [
        "| part | kind | against | for | neutral | units | pages |",
        "|---|---|---|---|---|---|---|",
    ]
    for part in ("all", *PARTS):
        in_part = [r for r in rows if part == "all" or r["part"] == part]
        for kind in ("all", *POOL_KINDS):
            chosen = [r for r in in_part if kind == "all" or r["kind"] == kind]
            counts = Counter(r["label"] for r in chosen)
            pages = len({r["source_url"] for r in chosen})
            lines.append(
                f"| {part} | {kind} | {counts['against']} | {counts['for']} | "
                f"{counts['neutral']} | {len(chosen)} | {pages} |"
            )
    hosts = Counter(urlparse(r["source_url"]).netloc.removeprefix("www.") for r in rows)
    confidence = Counter(r["confidence"] for r in rows)
    lines += [
        "",
        "Units by annotator confidence (the lower of the two): "
        + ", ".join(f"{c}: {confidence[c]}" for c in sorted(confidence, reverse=True)),
        "",
        f"{len(hosts)} sites; the ten with most units: "
        + ", ".join(f"{h} ({n})" for h, n in hosts.most_common(10))
        + ".",
    ]
    return "\n".join(lines)
