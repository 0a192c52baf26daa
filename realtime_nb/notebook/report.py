"""A static job report: plain HTML with an embedded chart and thumbnails, no widgets, no server.

:func:`job_report` turns a job's final :class:`~realtime_nb.core.state.RealtimeState` (and, if
given, its per-frame results and a few JPEG previews) into an :class:`IPython.display.HTML` object.
Its output is a ``text/html`` bundle whose images are base64 ``data:`` URIs, so a saved notebook,
nbviewer or GitHub show it exactly as it looked live, long after the server and the kernel are gone.

Example:
    >>> from realtime_nb.core.state import RealtimeState
    >>> report = job_report(RealtimeState(job_id="j1", job_status="completed", progress=100.0))
    >>> "Job j1" in report.data and "completed" in report.data
    True
"""

from __future__ import annotations

import base64
import io
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from IPython.display import HTML

from realtime_nb.core.series import MetricSeries
from realtime_nb.core.state import RealtimeState
from realtime_nb.notebook.charts import metric_card
from realtime_nb.notebook.view import SEVERITY_ORDER, esc, format_duration_ms, warning_item

__all__ = [
    "MAX_EMBEDDED_VIDEO_BYTES",
    "PluginTiming",
    "experiment_report",
    "job_report",
    "plugin_timings",
    "show_video",
    "timings_chart_png",
]

MAX_EMBEDDED_VIDEO_BYTES = 25 * 2**20
"""A video up to this size is embedded in the cell (the saved notebook plays it anywhere); a
larger one is linked by its path, which must stay beside the notebook."""

MAX_THUMBNAILS = 12
"""How many previews the report embeds at most (the last ones given)."""


@dataclass(frozen=True, slots=True)
class PluginTiming:
    """Per-frame timing of one plugin: how many frames, mean and 95th percentile (ms).

    ``p95_ms`` is None when only means are known (from the state, without per-frame results).
    """

    plugin: str
    frames: int
    mean_ms: float
    p95_ms: float | None
    total_ms: float


def _percentile(sorted_values: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0-1) of already sorted values, interpolated linearly (numpy's
    default method)."""
    if not sorted_values:
        return 0.0
    pos = (len(sorted_values) - 1) * q
    lo, hi = math.floor(pos), math.ceil(pos)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def plugin_timings(
    state: RealtimeState, results: Iterable[Mapping[str, Any]] | None = None
) -> list[PluginTiming]:
    """Per-plugin timing, from per-frame results if given, else from the state's running means.

    Args:
        state: The job's state; gives the plugin order and, without results, the means.
        results: ``job.results()`` rows (``plugin`` and ``timing_ms`` are read).

    Returns:
        One entry per plugin, in the state's order, then any plugin only the results name.
    """
    order = list(dict.fromkeys([*state.plugin_status, *state.frame_timings]))
    if results is not None:
        samples: dict[str, list[float]] = {}
        for row in results:
            samples.setdefault(str(row["plugin"]), []).append(float(row["timing_ms"]))
        out = []
        for name in dict.fromkeys([*order, *samples]):
            values = sorted(samples.get(name, ()))
            total = sum(values)
            out.append(
                PluginTiming(
                    plugin=name,
                    frames=len(values),
                    mean_ms=total / len(values) if values else 0.0,
                    p95_ms=_percentile(values, 0.95) if values else None,
                    total_ms=total,
                )
            )
        return out
    out = []
    for name in order:
        stats = state.frame_timings.get(name)
        out.append(
            PluginTiming(
                plugin=name,
                frames=stats.count if stats else 0,
                mean_ms=stats.mean_ms if stats else 0.0,
                p95_ms=None,
                total_ms=stats.total_ms if stats else 0.0,
            )
        )
    return out


def timings_chart_png(timings: Sequence[PluginTiming]) -> bytes:
    """A horizontal bar chart of mean (and p95, when known) ms per frame per plugin, as PNG.

    Drawn with matplotlib's Agg canvas directly (no pyplot, so no global figure state and no
    interactive backend), which is safe from any thread.
    """
    # matplotlib takes about a second to import; only a report with timings needs it.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    names = [t.plugin for t in timings]
    fig = Figure(figsize=(6.0, 0.5 + 0.45 * max(1, len(names))), dpi=80)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ys = list(range(len(names)))
    has_p95 = any(t.p95_ms is not None for t in timings)
    height = 0.4 if has_p95 else 0.7
    ax.barh(
        [y - (height / 2 if has_p95 else 0) for y in ys],
        [t.mean_ms for t in timings],
        height=height,
        color="#1e88e5",
        label="mean",
    )
    if has_p95:
        ax.barh(
            [y + height / 2 for y in ys],
            [t.p95_ms or 0.0 for t in timings],
            height=height,
            color="#fb8c00",
            label="p95",
        )
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)
    ax.set_yticks(ys, names, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("ms per frame", fontsize=8)
    ax.tick_params(axis="x", labelsize=8)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _fmt_ms(ms: float | None) -> str:
    return "—" if ms is None else format_duration_ms(ms)


def _timings_html(timings: Sequence[PluginTiming], state: RealtimeState) -> str:
    if not timings:
        return "<p><i>No plugin timings.</i></p>"
    head = "".join(
        f'<th style="text-align:left;padding:0 10px 0 0">{h}</th>'
        for h in ("Plugin", "Status", "Frames", "Mean", "p95", "Total")
    )
    rows = [f"<tr>{head}</tr>"]
    for t in timings:
        status = state.plugin_status.get(t.plugin, "—")
        frames = max(t.frames, state.plugin_frames.get(t.plugin, 0))
        total = state.plugin_timings.get(t.plugin, t.total_ms)
        cells = (
            f"<b>{esc(t.plugin)}</b>",
            esc(status),
            str(frames),
            _fmt_ms(t.mean_ms if frames else None),
            _fmt_ms(t.p95_ms),
            _fmt_ms(total),
        )
        rows.append(
            "<tr>" + "".join(f'<td style="padding:0 10px 0 0">{c}</td>' for c in cells) + "</tr>"
        )
    chart = _b64(timings_chart_png(timings))
    return (
        f'<table class="rnb-report-timings" style="border-collapse:collapse">{"".join(rows)}'
        "</table>"
        f'<img class="rnb-report-chart" alt="timings per plugin" '
        f'src="data:image/png;base64,{chart}" style="max-width:100%"/>'
    )


def _warnings_html(state: RealtimeState) -> str:
    total = max(state.warnings_count, len(state.warnings))
    if total == 0:
        return "<p>No warnings.</p>"
    groups = Counter((w.severity, w.plugin, w.message) for w in state.warnings)
    kept = len(state.warnings)
    scope = f"the last {kept} kept, grouped" if kept < total else "grouped"
    items = []
    for (severity, plugin, message), count in sorted(
        groups.items(), key=lambda kv: (SEVERITY_ORDER.get(kv[0][0], 3), -kv[1], kv[0])
    ):
        items.append(warning_item(severity, plugin, message, tail=f" <span>&times; {count}</span>"))
    return (
        f'<div class="rnb-report-warnings"><b>Warnings: {total}</b> ({scope})'
        f'<ul style="margin:2px 0">{"".join(items)}</ul></div>'
    )


def _errors_html(state: RealtimeState) -> str:
    total = max(state.errors_count, len(state.errors))
    if total == 0:
        return ""
    items = []
    for e in state.errors[-10:]:
        code = f" <code>{esc(e.details.error_code)}</code>" if e.details is not None else ""
        where = f" · plugin <b>{esc(e.plugin)}</b>" if e.plugin else ""
        frame = f" · frame <code>{esc(e.frame_id)}</code>" if e.frame_id else ""
        items.append(f"<li>{esc(e.error)}{code}{where}{frame}</li>")
    return (
        f'<div class="rnb-report-errors" style="color:#b71c1c"><b>Errors: {total}</b> '
        f'(latest {len(items)})<ul style="margin:2px 0">{"".join(items)}</ul></div>'
    )


def _thumbnails_html(previews: Sequence[bytes]) -> str:
    shown = [p for p in previews if p][-MAX_THUMBNAILS:]
    if not shown:
        return ""
    images = "".join(
        f'<img class="rnb-report-thumb" alt="preview {i + 1}" '
        f'src="data:image/jpeg;base64,{_b64(p)}" style="height:90px;margin:0 4px 4px 0"/>'
        for i, p in enumerate(shown)
    )
    return f'<div class="rnb-report-thumbnails">{images}</div>'


def job_report(
    state: RealtimeState,
    results: Sequence[Mapping[str, Any]] | None = None,
    previews: Sequence[bytes] = (),
) -> HTML:
    """A static summary of a job, for the notebook to keep after the job (and server) are gone.

    Args:
        state: The job's final state (``job.state``).
        results: ``job.results()``; when given, the chart shows mean and p95 per frame from
            every stored result, else only the means the state kept.
        previews: JPEG previews to embed as thumbnails (at most :data:`MAX_THUMBNAILS`, the
            last ones).

    Returns:
        An ``IPython.display.HTML`` (display it, or make it the cell's last expression); its
        ``data`` is the self-contained HTML: base64 images, escaped text, no scripts.
    """
    timings = plugin_timings(state, results)
    status = state.job_status or "unknown"
    totals = [
        ("Status", esc(status)),
        ("Progress", f"{int(state.progress)} %"),
        ("Plugins", str(len(timings))),
        ("Frame results", str(len(results) if results is not None else state.frames_received)),
        ("Messages", str(state.messages_received)),
        ("Warnings", str(max(state.warnings_count, len(state.warnings)))),
        ("Errors", str(max(state.errors_count, len(state.errors)))),
        ("Dropped updates", str(state.dropped)),
    ]
    totals_html = " · ".join(f"{k}: <b>{v}</b>" for k, v in totals)
    title = f"Job {state.job_id}" if state.job_id else "Job"
    body = (
        f'<div class="rnb-report" style="font-family:sans-serif;font-size:90%">'
        f'<h4 style="margin:4px 0">{esc(title)} — report</h4>'
        f'<p class="rnb-report-totals">{totals_html}</p>'
        f"{_timings_html(timings, state)}"
        f"{_warnings_html(state)}"
        f"{_errors_html(state)}"
        f"{_thumbnails_html(previews)}"
        "</div>"
    )
    return HTML(body)  # type: ignore[no-untyped-call]


def _config_html(config: Mapping[str, Any]) -> str:
    if not config:
        return ""
    rows = "".join(
        f"<tr><td><code>{esc(k)}</code></td><td>{esc(v)}</td></tr>" for k, v in config.items()
    )
    return f'<table class="rnb-report-config" style="font-size:90%">{rows}</table>'


def experiment_report(
    record: Mapping[str, Any],
    state: RealtimeState,
    metrics: Mapping[str, Sequence[tuple[int, float | None, float]]],
    images: Sequence[bytes] = (),
) -> HTML:
    """A static summary of an experiment (``run.report()``): status, duration, config, a
    chart per metric drawn from every stored point (downsampled, spikes kept) with its latest
    and best value, the images it showed, its warnings and errors.

    Args:
        record: The job record (``run.record()``).
        state: The job's state as the client reduced it.
        metrics: Every stored point (``run.metrics()``).
        images: JPEG images to embed (at most :data:`MAX_THUMBNAILS`, the last ones).
    """
    status = record.get("status") or state.job_status or "unknown"
    points = sum(len(v) for v in metrics.values())
    totals = [
        ("Status", esc(status)),
        ("Progress", f"{int(record.get('progress') or state.progress)} %"),
        ("Metrics", str(len(metrics))),
        ("Points", f"{points:,}"),
        ("Warnings", str(max(state.warnings_count, len(state.warnings)))),
        ("Errors", str(max(state.errors_count, len(state.errors)))),
    ]
    totals_html = " · ".join(f"{k}: <b>{v}</b>" for k, v in totals)
    cards = "".join(
        metric_card(MetricSeries(name).add((step, value) for step, value, _ in metrics[name]))
        for name in sorted(metrics)
    )
    error = record.get("error")
    error_html = f"<pre style='color:#b71c1c'>{esc(error)}</pre>" if error else ""
    title = f"Run {record.get('name') or record.get('job_id')}"
    body = (
        f'<div class="rnb-report rnb-experiment-report" '
        f'style="font-family:sans-serif;font-size:90%">'
        f'<h4 style="margin:4px 0">{esc(title)} — report</h4>'
        f'<p class="rnb-report-totals">{totals_html}</p>'
        f"{_config_html(record.get('config') or {})}"
        f'<div class="rnb-report-metrics">{cards}</div>'
        f"{error_html}"
        f"{_warnings_html(state)}"
        f"{_errors_html(state)}"
        f"{_thumbnails_html(images)}"
        "</div>"
    )
    return HTML(body)  # type: ignore[no-untyped-call]


def show_video(path: Path) -> bool:
    """Display a video inline when running in a notebook kernel (a plain Python process shows
    nothing); returns whether it was displayed.

    The video is embedded up to :data:`MAX_EMBEDDED_VIDEO_BYTES`, so the saved notebook keeps
    it; beyond that the output refers to the file by path.
    """
    from IPython import get_ipython
    from IPython.display import Video, display

    shell = get_ipython()
    if shell is None or not hasattr(shell, "kernel"):
        return False
    embed = path.stat().st_size <= MAX_EMBEDDED_VIDEO_BYTES
    video = Video(  # type: ignore[no-untyped-call]
        str(path), embed=embed, mimetype="video/mp4", html_attributes="controls muted playsinline"
    )
    display(video)  # type: ignore[no-untyped-call]
    return True
