"""Charts of :class:`stance.shares.Shares`: bars per group, or lines over time per group, each
share with its interval. ``.png`` needs matplotlib (``pip install "stance[train]"``); ``.html``
is a self-contained page with an inline SVG chart and the table (no extra, nothing fetched).
"""

from __future__ import annotations

import html
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stance.errors import ConfigError, MissingDependencyError

if TYPE_CHECKING:
    from stance.shares import Shares

COLOURS = {"against": "#c0392b", "for": "#2471a3", "neutral": "#7f8c8d"}
MAX_PANELS = 12


def _colour(label: str, i: int) -> str:
    return COLOURS.get(label, ["#8e44ad", "#d68910", "#17a589"][i % 3])


def _panels(shares: Shares) -> list[tuple[str, list[dict[str, Any]]]]:
    """(group, rows) in order; one panel per group when there are periods."""
    panels: dict[str, list[dict[str, Any]]] = {}
    for row in shares.rows:
        panels.setdefault(str(row["group"]), []).append(row)
    return list(panels.items())[:MAX_PANELS]


def plot_shares(shares: Shares, path: Path) -> Path:
    """Write the chart to ``path`` (``.png`` or ``.html``)."""
    suffix = path.suffix.lower()
    if suffix == ".png":
        _png(shares, path)
    elif suffix in (".html", ".htm"):
        body = html_page(shares)
        temporary = path.with_name(f".{path.name}.tmp")
        temporary.write_text(body, encoding="utf-8")
        os.replace(temporary, path)
    else:
        raise ConfigError(f"{path}: plot to .png or .html, not {path.suffix!r}")
    return path


def _title(shares: Shares) -> str:
    return f"Share of each stance ({shares.method}, {shares.level * 100:g} % intervals)"


def _png(shares: Shares, path: Path) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise MissingDependencyError(
            'a .png chart needs matplotlib; install it with: pip install "stance[train]" '
            "(or write .html, which needs nothing)"
        ) from exc
    labels = shares.labels
    if shares.has_period:
        panels = _panels(shares)
        cols = min(3, len(panels))
        rows_n = -(-len(panels) // cols)
        fig, axes = plt.subplots(
            rows_n, cols, figsize=(5 * cols, 3.2 * rows_n), squeeze=False, sharey=True
        )
        for ax in axes.flat[len(panels) :]:
            ax.set_visible(False)
        for ax, (group, rows) in zip(axes.flat, panels):
            x = list(range(len(rows)))
            for i, label in enumerate(labels):
                colour = _colour(label, i)
                ax.plot(
                    x, [r[f"share_{label}"] for r in rows], marker="o", color=colour, label=label
                )
                ax.fill_between(
                    x,
                    [r[f"low_{label}"] for r in rows],
                    [r[f"high_{label}"] for r in rows],
                    color=colour,
                    alpha=0.18,
                )
            ax.set_xticks(x)
            ax.set_xticklabels(
                [str(r["period"]) for r in rows], rotation=45, ha="right", fontsize=8
            )
            ax.set_ylim(0, 1)
            ax.set_title(group if len(panels) > 1 or group != "all" else "", fontsize=10)
            ax.grid(axis="y", alpha=0.3)
        axes.flat[0].legend(fontsize=8)
        axes.flat[0].set_ylabel("share")
    else:
        rows = list(shares.rows)
        fig, ax = plt.subplots(figsize=(max(5.0, 1.2 * len(rows) + 2), 3.8))
        width = 0.8 / len(labels)
        for i, label in enumerate(labels):
            xs = [g + (i - (len(labels) - 1) / 2) * width for g in range(len(rows))]
            values = [r[f"share_{label}"] for r in rows]
            below = [r[f"share_{label}"] - r[f"low_{label}"] for r in rows]
            above = [r[f"high_{label}"] - r[f"share_{label}"] for r in rows]
            ax.bar(
                xs,
                values,
                width,
                yerr=[below, above],
                capsize=3,
                color=_colour(label, i),
                label=label,
            )
            ax.scatter(
                xs,
                [r[f"raw_{label}"] for r in rows],
                marker="_",
                s=120,
                color="black",
                zorder=3,
                label="raw count" if i == 0 else None,
            )
        ax.set_xticks(range(len(rows)))
        ax.set_xticklabels([f"{r['group']}\n(n={r['n']})" for r in rows], fontsize=8)
        ax.set_ylim(0, 1)
        ax.set_ylabel("share")
        ax.grid(axis="y", alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(_title(shares), fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


# Inline SVG ---------------------------------------------------------------------------------


def _svg_bars(shares: Shares) -> str:
    labels = shares.labels
    rows = list(shares.rows)
    left, top, height, slot = 50, 20, 240, 40 * len(labels) + 30
    width = left + slot * len(rows) + 20
    parts = [_svg_axes(left, top, height, width)]
    bar = 34
    for g, row in enumerate(rows):
        x0 = left + 15 + g * slot
        for i, label in enumerate(labels):
            x = x0 + i * (bar + 6)
            y = _y(row[f"share_{label}"], top, height)
            parts.append(
                f'<rect x="{x}" y="{y:.1f}" width="{bar}" height="{top + height - y:.1f}" '
                f'fill="{_colour(label, i)}"><title>{html.escape(label)}: '
                f"{row[f'share_{label}'] * 100:.1f} % [{row[f'low_{label}'] * 100:.1f}, "
                f"{row[f'high_{label}'] * 100:.1f}], raw {row[f'raw_{label}'] * 100:.1f} %"
                "</title></rect>"
            )
            cx = x + bar / 2
            y_low, y_high = (
                _y(row[f"low_{label}"], top, height),
                _y(row[f"high_{label}"], top, height),
            )
            parts.append(
                f'<path d="M{cx:.1f} {y_low:.1f}V{y_high:.1f}M{cx - 5:.1f} {y_low:.1f}h10'
                f'M{cx - 5:.1f} {y_high:.1f}h10" stroke="#000" fill="none"/>'
            )
            y_raw = _y(row[f"raw_{label}"], top, height)
            parts.append(
                f'<path d="M{x:.1f} {y_raw:.1f}h{bar}" stroke="#000" stroke-dasharray="3 2"/>'
            )
        parts.append(
            f'<text x="{x0 + (len(labels) * (bar + 6)) / 2:.1f}" y="{top + height + 16}" '
            f'text-anchor="middle">{html.escape(str(row["group"]))} (n={row["n"]})</text>'
        )
    return _svg(width, top + height + 30, parts)


def _svg_lines(shares: Shares) -> str:
    labels = shares.labels
    blocks = []
    for group, rows in _panels(shares):
        left, top, height = 50, 24, 200
        step = max(28, min(80, 600 // max(1, len(rows))))
        width = left + step * max(1, len(rows) - 1) + 60
        parts = [_svg_axes(left, top, height, width)]
        if group != "all":
            parts.append(f'<text x="{left}" y="14" font-weight="bold">{html.escape(group)}</text>')
        xs = [left + 20 + j * step for j in range(len(rows))]
        for i, label in enumerate(labels):
            colour = _colour(label, i)
            upper = [(x, _y(r[f"high_{label}"], top, height)) for x, r in zip(xs, rows)]
            lower = [(x, _y(r[f"low_{label}"], top, height)) for x, r in zip(xs, rows)]
            band = " ".join(f"{x:.1f},{y:.1f}" for x, y in upper + lower[::-1])
            parts.append(f'<polygon points="{band}" fill="{colour}" fill-opacity="0.18"/>')
            line = " ".join(
                f"{x:.1f},{_y(r[f'share_{label}'], top, height):.1f}" for x, r in zip(xs, rows)
            )
            parts.append(
                f'<polyline points="{line}" fill="none" stroke="{colour}" stroke-width="2"/>'
            )
            for x, r in zip(xs, rows):
                parts.append(
                    f'<circle cx="{x:.1f}" cy="{_y(r[f"share_{label}"], top, height):.1f}" r="3" '
                    f'fill="{colour}"><title>{html.escape(str(r["period"]))} {label}: '
                    f"{r[f'share_{label}'] * 100:.1f} % [{r[f'low_{label}'] * 100:.1f}, "
                    f"{r[f'high_{label}'] * 100:.1f}] (n={r['n']})</title></circle>"
                )
        for x, r in zip(xs, rows):
            parts.append(
                f'<text x="{x:.1f}" y="{top + height + 14}" text-anchor="middle" '
                f'font-size="10">{html.escape(str(r["period"]))}</text>'
            )
        blocks.append(_svg(width, top + height + 24, parts))
    return "\n".join(blocks)


def _y(value: float, top: int, height: int) -> float:
    return top + height * (1.0 - float(value))


def _svg_axes(left: int, top: int, height: int, width: int) -> str:
    ticks = []
    for t in (0, 0.25, 0.5, 0.75, 1.0):
        y = _y(t, top, height)
        ticks.append(
            f'<path d="M{left} {y:.1f}H{width - 10}" stroke="#ddd"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="10">'
            f"{t * 100:.0f} %</text>"
        )
    return "".join(ticks)


def _svg(width: int, height: int, parts: list[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">'
        + "".join(parts)
        + "</svg>"
    )


def _legend(shares: Shares) -> str:
    items = "".join(
        f'<span style="margin-right:1em"><span style="display:inline-block;width:12px;'
        f'height:12px;background:{_colour(label, i)}"></span> {html.escape(label)}</span>'
        for i, label in enumerate(shares.labels)
    )
    raw = "" if shares.has_period else "<span>dashed: raw count</span>"
    return f"<p>{items}{raw}</p>"


def html_page(shares: Shares) -> str:
    """A self-contained HTML report: chart, table, correction, assumptions, warnings."""
    chart = _svg_lines(shares) if shares.has_period else _svg_bars(shares)
    head = "".join(f"<th>{html.escape(c)}</th>" for c in shares.columns)
    body = []
    for row in shares.rows:
        cells = []
        for column in shares.columns:
            value = row[column]
            text = f"{value * 100:.1f} %" if isinstance(value, float) else str(value)
            cells.append(f"<td>{html.escape(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    warnings = "".join(f"<li>{html.escape(w)}</li>" for w in shares.warnings)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(_title(shares))}</title>
<style>body{{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}}
table{{border-collapse:collapse;font-size:12px}}td,th{{border:1px solid #ccc;padding:2px 6px;
text-align:right}}</style></head><body>
<h1>{html.escape(_title(shares))}</h1>
<p>{html.escape(shares.correction[:1].upper() + shares.correction[1:])}.</p>
{_legend(shares)}
{chart}
<p>{html.escape(shares.assumptions)}</p>
{"<h2>Warnings</h2><ul>" + warnings + "</ul>" if warnings else ""}
<p>{html.escape(shares.advice)}</p>
<h2>Table</h2>
<table><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>
<p>Intervals: bootstrap percentile, {shares.n_bootstrap} replicates, seed {shares.seed}.</p>
</body></html>
"""
