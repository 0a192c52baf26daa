"""Line charts as inline SVG: cheap to build on every render, shown alike by the live widgets
and the static report (no JavaScript, no image encoding).

Example:
    >>> svg = line_chart([("loss", [(0, 1.0), (1, 0.5), (2, 0.25)])], title="loss")
    >>> svg.startswith("<svg") and "polyline" in svg
    True
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from realtime_nb.core.series import MetricSeries, lower_is_better
from realtime_nb.notebook.view import esc

__all__ = ["PALETTE", "format_value", "line_chart", "metric_card", "metrics_grid"]

PALETTE = ("#1e88e5", "#e53935", "#43a047", "#fb8c00", "#8e24aa", "#00897b", "#6d4c41", "#3949ab")
"""Series colours, in order."""

Series = tuple[str, Sequence[tuple[float, float]]]
"""A label and its ``(x, y)`` points in x order."""


def format_value(value: float | None) -> str:
    """A metric value in at most 4 significant digits (``-`` for none)."""
    if value is None:
        return "-"
    return f"{value:.4g}"


def _ticks(lo: float, hi: float) -> tuple[float, float]:
    if lo == hi:
        pad = abs(lo) * 0.05 or 1.0
        return lo - pad, hi + pad
    return lo, hi


def line_chart(
    series: Sequence[Series], *, title: str = "", width: int = 320, height: int = 160
) -> str:
    """An SVG line chart of one or more series, with its y range and x range written on it.

    Args:
        series: ``(label, points)`` pairs; points are ``(x, y)`` in x order.
        title: Written in the top-left corner.
        width: Width in pixels.
        height: Height in pixels.
    """
    left, right, top, bottom = 46, 8, 18, 18
    plot_w, plot_h = width - left - right, height - top - bottom
    xs = [x for _, pts in series for x, _ in pts]
    ys = [y for _, pts in series for _, y in pts if math.isfinite(y)]
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" class="rnb-chart" data-title="{esc(title)}" '
        f'style="background:#fff;border:1px solid #e0e0e0;font:10px sans-serif">',
        f'<text x="4" y="12" fill="#333">{esc(title)}</text>',
    ]
    if not xs or not ys:
        parts.append(f'<text x="{left}" y="{top + plot_h / 2}" fill="#999">no data yet</text>')
        return "".join(parts) + "</svg>"
    x0, x1 = _ticks(min(xs), max(xs))
    y0, y1 = _ticks(min(ys), max(ys))

    def px(x: float) -> float:
        return left + (x - x0) / (x1 - x0) * plot_w

    def py(y: float) -> float:
        return top + (1 - (y - y0) / (y1 - y0)) * plot_h

    parts += [
        f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="none" '
        'stroke="#eee"/>',
        f'<text x="{left - 3}" y="{top + 8}" text-anchor="end" fill="#666">'
        f"{format_value(y1)}</text>",
        f'<text x="{left - 3}" y="{top + plot_h}" text-anchor="end" fill="#666">'
        f"{format_value(y0)}</text>",
        f'<text x="{left}" y="{height - 4}" fill="#666">{format_value(x0)}</text>',
        f'<text x="{width - right}" y="{height - 4}" text-anchor="end" fill="#666">'
        f"{format_value(x1)}</text>",
    ]
    for i, (label, pts) in enumerate(series):
        colour = PALETTE[i % len(PALETTE)]
        coords = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in pts if math.isfinite(y))
        parts.append(
            f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" '
            f'data-series="{esc(label)}" data-points="{len(pts)}" points="{coords}"/>'
        )
        if len(series) > 1:
            parts.append(
                f'<text x="{left + 4}" y="{top + 10 + 11 * i}" fill="{colour}">{esc(label)}</text>'
            )
    return "".join(parts) + "</svg>"


def metric_card(series: MetricSeries, width: int = 320, height: int = 160) -> str:
    """One metric: its chart, then its latest value and step and its best value and step."""
    chart = line_chart(
        [(series.name, series.points())], title=series.name, width=width, height=height
    )
    best = "lowest" if lower_is_better(series.name) else "highest"
    return (
        f'<div class="rnb-metric" data-metric="{esc(series.name)}" '
        f'data-last-step="{series.last_step}" style="display:inline-block;margin:4px">'
        f"{chart}<div style='font:11px sans-serif;color:#333'>"
        f"<b>{esc(series.name)}</b> {format_value(series.last_value)} @ {series.last_step}"
        f" · best ({best}) {format_value(series.best_value)} @ {series.best_step}"
        f" · {series.count:,} points</div></div>"
    )


def metrics_grid(
    metrics: Mapping[str, MetricSeries],
    chosen: Sequence[str] | None = None,
    together: bool = False,
) -> str:
    """A card per metric (``chosen`` ones, else all, sorted by name), side by side; with
    ``together``, one chart of them all, each metric's latest and best value below it."""
    names = [n for n in (chosen or sorted(metrics)) if n in metrics]
    if not together:
        return "".join(metric_card(metrics[n]) for n in names)
    chart = line_chart(
        [(n, metrics[n].points()) for n in names], title=", ".join(names), width=660, height=240
    )
    lines = "".join(
        f"<div><b>{esc(n)}</b> {format_value(s.last_value)} @ {s.last_step} · best "
        f"{format_value(s.best_value)} @ {s.best_step}</div>"
        for n, s in ((n, metrics[n]) for n in names)
    )
    return (
        f'<div class="rnb-metric rnb-metrics-together" data-metric="{esc(",".join(names))}">'
        f"{chart}<div style='font:11px sans-serif;color:#333'>{lines}</div></div>"
    )
