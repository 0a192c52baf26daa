"""The overlay's plugin inspector: each plugin's status, frames, timings and warnings."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import ipywidgets

from realtime_nb.core.state import RealtimeState
from realtime_nb.notebook.frames import KeptFrame
from realtime_nb.notebook.view import (
    STATUS_COLOURS,
    badge,
    esc,
    format_duration_ms,
    warning_item,
)
from realtime_nb.notebook.widget_diff import CSS_CLASSES, hold_all, set_if_changed

__all__ = ["MAX_WARNINGS_SHOWN", "PluginInspector"]

MAX_WARNINGS_SHOWN = 10
"""How many of the newest warnings the inspector lists (the total is always shown)."""


def _frames_done(state: RealtimeState, plugin: str) -> int:
    """Frames ``plugin`` processed: the frame messages received, or more if the plugin said so.

    Frame messages may be dropped by the server under load (or missed while disconnected), so
    the count a plugin reports in its final ``plugin_status`` (``frames_processed``, kept by the
    reducer in ``state.plugin_frames``) wins when it is larger.
    """
    stats = state.frame_timings.get(plugin)
    seen = stats.count if stats is not None else 0
    return max(seen, state.plugin_frames.get(plugin, 0))


class PluginInspector:
    """Per-plugin status, timings and timing bars; the newest warnings; the drop count; and,
    when a frame is picked in the frame viewer, that frame's per-plugin timings and warnings;
    and each plugin's metadata while the Metadata button is down.

    A plugin's status reads ``running`` (not ``started``) once its frames arrive, and its frame
    count is the larger of the frame messages received and the count the plugin reported.
    Timings per frame are the mean and the 95th percentile (from the reducer's histogram, within
    4.4 %), the last, and the plugin's total; the bar's length is the mean against the largest
    mean or p95 of any plugin, its lighter tail reaches the p95. Hovering a name shows metadata.

    One ``HTML`` widget per section, each reassigned only when its generated HTML changed.

    Attributes:
        widget: The top-level ipywidget (a ``VBox`` of the sections below).
        table: ``HTML``: one row per plugin.
        picked: ``HTML``: the picked frame's timings and warnings, empty while live.
        warnings: ``HTML``: the newest :data:`MAX_WARNINGS_SHOWN` warnings, newest first.
        footer: ``HTML``: how many messages the server dropped, empty when none.
        show_metadata: ``ToggleButton``: shows the metadata table while down.
        metadata: ``HTML``: each plugin's metadata, empty while the button is up.
    """

    def __init__(
        self, plugins: Sequence[str] = (), on_change: Callable[[], None] | None = None
    ) -> None:
        self._plugins: list[str] = list(dict.fromkeys(plugins))
        self.on_change = on_change
        self._last_state = RealtimeState()
        self.table: ipywidgets.HTML = ipywidgets.HTML()
        self.picked: ipywidgets.HTML = ipywidgets.HTML()
        self.warnings: ipywidgets.HTML = ipywidgets.HTML()
        self.footer: ipywidgets.HTML = ipywidgets.HTML()
        self.show_metadata: ipywidgets.ToggleButton = ipywidgets.ToggleButton(
            value=False,
            description="Metadata",
            icon="info",
            tooltip="Show what each plugin says about itself",
            layout=ipywidgets.Layout(width="auto"),
        )
        self.metadata: ipywidgets.HTML = ipywidgets.HTML()
        self.widget: ipywidgets.VBox = ipywidgets.VBox(
            [
                self.table,
                self.picked,
                self.warnings,
                self.footer,
                ipywidgets.HBox([self.show_metadata]),  # an HBox keeps the button its own width
                self.metadata,
            ]
        )
        self.widget.add_class(CSS_CLASSES["inspector"])
        self._synced = (self.table, self.picked, self.warnings, self.footer, self.metadata)
        self.table.value = self._table_html(RealtimeState())
        self.show_metadata.observe(self._metadata_pressed, "value")

    def _metadata_pressed(self, _change: dict[str, Any]) -> None:
        if self.on_change is not None:
            self.on_change()
        else:
            self.render(self._last_state)

    @property
    def plugins(self) -> list[str]:
        """The plugins listed so far, in order: the constructor's, then any seen in a state."""
        return list(self._plugins)

    def _known_plugins(self, state: RealtimeState) -> list[str]:
        for name in (*state.plugin_status, *state.frame_timings):
            if name not in self._plugins:
                self._plugins.append(name)
        return self._plugins

    def _table_html(self, state: RealtimeState) -> str:
        plugins = self._known_plugins(state)
        if not plugins:
            # An experiment has metrics and no plugins: no empty table to wait for.
            return "" if state.metrics else "<i>No plugins yet.</i>"
        # The scale is the largest figure drawn, so neither part of any bar overflows its track
        # (one slow warm-up frame can put a plugin's mean above its p95).
        slowest = max((max(s.p95_ms, s.mean_ms) for s in state.frame_timings.values()), default=0.0)
        head = "".join(
            f'<th style="text-align:left;padding:0 8px 0 0">{h}</th>'
            for h in ("Plugin", "Status", "Frames", "Mean", "p95", "Last", "Total", "")
        )
        rows = [f"<tr>{head}</tr>"]
        for name in plugins:
            rows.append(self._row_html(state, name, slowest))
        return f'<table style="border-collapse:collapse;font-size:90%">{"".join(rows)}</table>'

    @staticmethod
    def _row_html(state: RealtimeState, name: str, slowest: float) -> str:
        status = state.plugin_status.get(name, "pending")
        stats = state.frame_timings.get(name)
        frames_seen = _frames_done(state, name)
        if status == "started" and frames_seen > 0:
            status = "running"  # the plugin only reports "started"; frames show it is running
        total = state.plugin_timings.get(name)
        meta = state.plugin_metadata.get(name)
        title = (
            f' title="{esc(f"{meta.model} v{meta.version} → {meta.output_format}")}"'
            if meta
            else ""
        )
        frames = str(frames_seen)
        if stats is not None and stats.count:
            mean, p95 = format_duration_ms(stats.mean_ms), format_duration_ms(stats.p95_ms)
            last = format_duration_ms(stats.last_ms)
            width = min(100.0, 100.0 * stats.mean_ms / slowest) if slowest > 0 else 0.0
            tail = min(100.0, 100.0 * stats.p95_ms / slowest) if slowest > 0 else 0.0
        else:
            mean, p95, last, width, tail = "—", "—", "—", 0.0, 0.0
        colour = STATUS_COLOURS.get(status, "#9e9e9e")
        bar = (
            '<div style="position:relative;width:120px;height:8px;background:#eee;'
            'border-radius:4px;overflow:hidden">'
            f'<div style="position:absolute;width:{tail:.0f}%;height:8px;background:{colour};'
            'opacity:0.35;border-radius:4px"></div>'
            f'<div style="position:absolute;width:{width:.0f}%;height:8px;background:{colour};'
            'border-radius:4px"></div></div>'
        )
        cells = (
            f"<span{title}><b>{esc(name)}</b></span>",
            badge(status, colour),
            frames,
            mean,
            p95,
            last,
            format_duration_ms(total) if total is not None else "—",
            bar,
        )
        return "<tr>" + "".join(f'<td style="padding:0 8px 0 0">{c}</td>' for c in cells) + "</tr>"

    def _metadata_html(self, state: RealtimeState) -> str:
        if not self.show_metadata.value:
            return ""
        head = "".join(
            f'<th style="text-align:left;padding:0 8px 0 0">{h}</th>'
            for h in ("Plugin", "Model", "Version", "Input", "Output", "Confidence", "Can")
        )
        rows = [f"<tr>{head}</tr>"]
        for name in self._known_plugins(state):
            meta = state.plugin_metadata.get(name)
            if meta is None:
                cells = [f"<b>{esc(name)}</b>", "<i>no metadata yet</i>", "", "", "", "", ""]
            else:
                shape = " x ".join("?" if d is None else str(d) for d in meta.input_shape)
                cells = [
                    f"<b>{esc(name)}</b>",
                    esc(meta.model),
                    esc(meta.version),
                    esc(shape),
                    esc(meta.output_format),
                    f"{meta.confidence_default:g}",
                    esc(", ".join(meta.capabilities)),
                ]
            rows.append(
                "<tr>" + "".join(f'<td style="padding:0 8px 0 0">{c}</td>' for c in cells) + "</tr>"
            )
        return (
            '<table class="rnb-metadata" style="border-collapse:collapse;font-size:85%">'
            f"{''.join(rows)}</table>"
        )

    @staticmethod
    def _picked_html(frame: KeptFrame | None) -> str:
        if frame is None:
            return ""
        rows = []
        for name in dict.fromkeys([*frame.timings_ms, *frame.results]):
            ms = frame.timings_ms.get(name)
            took = format_duration_ms(ms) if ms is not None else "—"
            rows.append(
                f'<tr><td style="padding:0 8px 0 0"><b>{esc(name)}</b></td><td>{took}</td></tr>'
            )
        items = [warning_item(w.severity, w.plugin, w.message) for w in frame.warnings]
        warned = (
            f'<ul style="margin:2px 0;padding-left:18px">{"".join(items)}</ul>'
            if items
            else "<div><i>No warnings on this frame.</i></div>"
        )
        return (
            '<div style="border-left:3px solid #1e88e5;padding-left:6px;margin:4px 0;'
            f'font-size:90%"><b>Frame <code>{esc(frame.frame_id)}</code></b> '
            f"(#{frame.frame_index}, picked)"
            f'<table style="border-collapse:collapse">{"".join(rows)}</table>{warned}</div>'
        )

    @staticmethod
    def _warnings_html(state: RealtimeState) -> str:
        if not state.warnings:
            return ""
        shown = state.warnings[-MAX_WARNINGS_SHOWN:][::-1]
        total = max(state.warnings_count, len(state.warnings))
        if total > len(shown):
            head = f"Warnings · showing {len(shown)} of {total}"
        else:
            head = f"Warnings ({total})"
        items = [
            warning_item(
                w.severity,
                w.plugin,
                w.message,
                f" · frame <code>{esc(w.frame_id)}</code>" if w.frame_id else "",
            )
            for w in shown
        ]
        return (
            f"<div><b>{head}</b>"
            f'<ul style="margin:2px 0;padding-left:18px;font-size:90%">{"".join(items)}</ul></div>'
        )

    @staticmethod
    def _footer_html(state: RealtimeState) -> str:
        if state.dropped <= 0:
            return ""
        noun = "update" if state.dropped == 1 else "updates"
        return (
            f'<span style="color:#fb8c00">{state.dropped} {noun} dropped by the server to keep '
            "up (frame results, previews, stale progress; results stay complete)</span>"
        )

    def render(self, state: RealtimeState, picked: KeptFrame | None = None) -> int:
        """Show the plugins, warnings and drop count of ``state``, and ``picked``'s details.

        Args:
            state: The job's state.
            picked: The frame picked in the frame viewer; None while it follows the newest.

        Returns:
            How many trait assignments were made.
        """
        self._last_state = state
        with hold_all(self._synced):
            return (
                set_if_changed(self.table, "value", self._table_html(state))
                + set_if_changed(self.metadata, "value", self._metadata_html(state))
                + set_if_changed(self.picked, "value", self._picked_html(picked))
                + set_if_changed(self.warnings, "value", self._warnings_html(state))
                + set_if_changed(self.footer, "value", self._footer_html(state))
            )
