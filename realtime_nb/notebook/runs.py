"""The runs table (``client.runs()``): every experiment on the server, sortable, comparable.

One row per experiment with its status, duration, config and latest metrics. Pick several runs
and a metric to draw their curves on one chart, as TensorBoard and W&B do. The table reads the
REST API (``GET /v1/jobs`` and ``GET /v1/jobs/{id}/metrics``) when it is built and when
Refresh is clicked; it does not follow the runs live (each run's own overlay does).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import ipywidgets

from realtime_nb.core.series import MetricSeries
from realtime_nb.notebook.charts import format_value, line_chart
from realtime_nb.notebook.view import STATUS_COLOURS, badge, esc

if TYPE_CHECKING:
    from realtime_nb.notebook.client import RealtimeClient

__all__ = ["RunRow", "RunsTable", "run_duration_s"]

RunRow = dict[str, Any]
"""A job record of kind ``experiment`` plus ``summary``: per metric its count, min, max and
last step and value."""

_SORTS = {
    "newest": (lambda r: r["created_at"], True),
    "name": (lambda r: (r.get("name") or "").lower(), False),
    "status": (lambda r: r["status"], False),
    "duration": (lambda r: run_duration_s(r) or 0.0, True),
}


def _parse(ts: str | None) -> dt.datetime | None:
    if not ts:
        return None
    return dt.datetime.fromisoformat(ts.replace("Z", "+00:00"))


def run_duration_s(record: dict[str, Any], now: dt.datetime | None = None) -> float | None:
    """Seconds from start to end (or to ``now`` while it runs); None before it started."""
    start = _parse(record.get("started_at"))
    if start is None:
        return None
    end = _parse(record.get("finished_at")) or now or dt.datetime.now(dt.UTC)
    return max(0.0, (end - start).total_seconds())


class RunsTable:
    """A widget of the server's experiments.

    Args:
        client: The client to read through.
        limit: How many of the newest jobs to look at.

    Attributes:
        widget: The top-level ``VBox``.
        sort: Dropdown of the sort key (newest, name, status, duration, or a metric's latest
            value).
        table: The ``HTML`` table.
        picked: ``SelectMultiple`` of runs to compare.
        metric: Dropdown of the metric to compare.
        chart: The ``HTML`` comparison chart.
    """

    def __init__(self, client: RealtimeClient, limit: int = 100) -> None:
        self.client = client
        self.limit = limit
        self.rows: list[RunRow] = []
        self.sort = ipywidgets.Dropdown(description="Sort by", options=list(_SORTS))
        self.refresh_button = ipywidgets.Button(description="Refresh", icon="refresh")
        self.table = ipywidgets.HTML()
        self.picked = ipywidgets.SelectMultiple(description="Compare", rows=6)
        self.metric = ipywidgets.Dropdown(description="Metric")
        self.chart = ipywidgets.HTML()
        self.widget = ipywidgets.VBox(
            [
                ipywidgets.HBox([self.sort, self.refresh_button]),
                self.table,
                ipywidgets.HBox([self.picked, self.metric]),
                self.chart,
            ]
        )
        self.widget.add_class("rnb-runs")
        self.sort.observe(lambda _: self._draw_table(), names="value")
        self.picked.observe(lambda _: self._draw_chart(), names="value")
        self.metric.observe(lambda _: self._draw_chart(), names="value")
        self.refresh_button.on_click(lambda _: self.refresh())
        self.refresh()

    def fetch(self) -> list[RunRow]:
        """The experiments among the newest jobs, each with its metrics summary."""
        rows = []
        for record in self.client.jobs(self.limit):
            if record.get("kind") != "experiment":
                continue
            path = f"/v1/jobs/{record['job_id']}/metrics?summary=1"
            rows.append({**record, "summary": self.client.request("GET", path)["summary"]})
        return rows

    def refresh(self) -> None:
        """Read the runs again and redraw."""
        self.rows = self.fetch()
        names = sorted({n for r in self.rows for n in r["summary"]})
        sorts = list(_SORTS) + [f"metric: {n}" for n in names]
        current = self.sort.value
        self.sort.options = sorts
        self.sort.value = current if current in sorts else "newest"
        picked = self.picked.value
        self.picked.options = [(f"{r.get('name')} ({r['job_id']})", r["job_id"]) for r in self.rows]
        self.picked.value = tuple(j for j in picked if any(r["job_id"] == j for r in self.rows))
        self.metric.options = names
        self._draw_table()
        self._draw_chart()

    def sorted_rows(self) -> list[RunRow]:
        """The rows in the order the sort dropdown asks for."""
        key = self.sort.value or "newest"
        if key.startswith("metric: "):
            name = key[len("metric: ") :]
            with_value = [
                r for r in self.rows if r["summary"].get(name, {}).get("value") is not None
            ]
            rest = [r for r in self.rows if r not in with_value]
            return sorted(with_value, key=lambda r: r["summary"][name]["value"]) + rest
        fn, reverse = _SORTS[key]
        return sorted(self.rows, key=fn, reverse=reverse)

    def _draw_table(self) -> None:
        self.table.value = runs_table_html(self.sorted_rows())

    def compare(self, job_ids: Sequence[str], metric: str) -> str:
        """An SVG chart of ``metric`` for each run in ``job_ids``, one line per run."""
        from realtime_nb.notebook.experiment import fetch_metrics

        series = []
        for job_id in job_ids:
            points = fetch_metrics(self.client, job_id, metric).get(metric, [])
            history = MetricSeries(metric).add((s, v) for s, v, _ in points)
            label = next((r.get("name") for r in self.rows if r["job_id"] == job_id), job_id)
            series.append((f"{label} ({job_id})", history.points()))
        return line_chart(series, title=metric, width=640, height=260)

    def _draw_chart(self) -> None:
        picked, metric = self.picked.value, self.metric.value
        if not picked or not metric:
            self.chart.value = "<i>Pick runs and a metric to compare them.</i>"
            return
        self.chart.value = self.compare(picked, metric)

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        bundle: dict[str, Any] = self.widget._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = repr(self)
        return bundle

    def __repr__(self) -> str:
        return f"RunsTable({len(self.rows)} runs)"


def runs_table_html(rows: Sequence[RunRow]) -> str:
    """The runs as an HTML table: name, status, duration, config, latest metrics."""
    head = "".join(
        f"<th style='text-align:left;padding:2px 8px'>{h}</th>"
        for h in ("Run", "Status", "Duration", "Config", "Latest metrics")
    )
    body = []
    for r in rows:
        duration = run_duration_s(r)
        config = ", ".join(f"{esc(k)}={esc(v)}" for k, v in (r.get("config") or {}).items())
        latest = ", ".join(
            f"{esc(n)} {format_value(s.get('value'))} @ {s.get('step')}"
            for n, s in sorted(r["summary"].items())
        )
        colour = STATUS_COLOURS.get(r["status"], "#9e9e9e")
        cells = (
            f"<b>{esc(r.get('name'))}</b> <code>{esc(r['job_id'])}</code>",
            badge(r["status"], colour),
            "-" if duration is None else f"{duration:.1f} s",
            config,
            latest,
        )
        body.append(
            f"<tr data-job-id='{esc(r['job_id'])}'>"
            + "".join(f"<td style='padding:2px 8px'>{c}</td>" for c in cells)
            + "</tr>"
        )
    if not body:
        return "<i>No experiments yet.</i>"
    return f"<table class='rnb-runs-table'><tr>{head}</tr>{''.join(body)}</table>"
