"""ipywidgets overlay for one job: progress, current frame, plugin inspector, errors, connection.

The client calls :meth:`RealtimeOverlay.render` from its own thread, on a clock, with the latest
:class:`~realtime_nb.core.state.RealtimeState`.
Rendering is a diff: each part compares what it would
show with what its widgets already hold and assigns only the traits that changed, inside
``hold_sync()`` so one tick sends at most one comm message per widget. Every ``render`` returns
how many trait assignments it made, so an unchanged state costs nothing on the wire.

Example:
    >>> from realtime_nb.core.state import RealtimeState
    >>> overlay = RealtimeOverlay(job_id="j1", plugins=["ball_detection"])
    >>> overlay.render(RealtimeState(progress=42.0, stage="Running"))  # bar value and label
    2
    >>> overlay.render(RealtimeState(progress=42.0, stage="Running"))  # nothing changed
    0
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from typing import Any

import ipywidgets

from realtime_nb.core.state import RealtimeState
from realtime_nb.notebook.charts import metrics_grid
from realtime_nb.notebook.frames import FrameDrawer, KeptFrame, nearest
from realtime_nb.notebook.view import (
    STATUS_COLOURS,
    badge,
    esc,
    format_duration_ms,
    warning_item,
)

__all__ = [
    "CSS_CLASSES",
    "MAX_WARNINGS_SHOWN",
    "ConnectionBadge",
    "ErrorBanner",
    "FrameViewer",
    "MetricsPanel",
    "PluginInspector",
    "ProgressBar",
    "RealtimeOverlay",
]

MAX_WARNINGS_SHOWN = 10
"""How many of the newest warnings the inspector lists (the total is always shown)."""

CSS_CLASSES = {
    "overlay": "rnb-overlay",
    "progress": "rnb-progress",
    "frame": "rnb-frame",
    "inspector": "rnb-inspector",
    "errors": "rnb-errors",
    "metrics": "rnb-metrics",
    "badge": "rnb-badge",
}
"""Stable CSS classes on each part's top-level widget, for styling and for tests to find them.

Classes are added with ``widget.add_class``; they never change the order of the DOM children.
"""

_HIDDEN = "none"
# Layout.display None means "whatever the widget's CSS says", i.e. visible.
_VISIBLE = None

_BAR_STYLES = {"completed": "success", "failed": "danger"} | dict.fromkeys(
    ("cancelled", "interrupted"), "warning"
)
_CONNECTION_LOOK: dict[str, tuple[str, str]] = {
    "IDLE": ("Not connected", "#9e9e9e"),
    "CONNECTING": ("Connecting…", "#fb8c00"),
    "CONNECTED": ("Connected", "#43a047"),
    "DISCONNECTED": ("Disconnected", "#9e9e9e"),
    "RECONNECTING": ("Reconnecting…", "#fb8c00"),
    "CLOSED": ("Connection lost", "#e53935"),
}


def _set(obj: Any, name: str, value: object) -> int:
    """Assign ``obj.name = value`` only if it differs; return 1 if assigned, else 0."""
    current = getattr(obj, name)
    if current is value or current == value:
        return 0
    setattr(obj, name, value)
    return 1


@contextmanager
def _held(widgets: Iterable[Any]) -> Iterator[None]:
    """Hold sync on every widget, so each sends its changed traits in one message at the end."""
    with ExitStack() as stack:
        for widget in widgets:
            stack.enter_context(widget.hold_sync())
        yield


def _frames_done(state: RealtimeState, plugin: str) -> int:
    """Frames ``plugin`` processed: the frame messages received, or more if the plugin said so.

    Frame messages may be dropped by the server under load (or missed while disconnected), so
    the count a plugin reports in its final ``plugin_status`` (``frames_processed``, kept by the
    reducer in ``state.plugin_frames``) wins when it is larger.
    """
    stats = state.frame_timings.get(plugin)
    seen = stats.count if stats is not None else 0
    return max(seen, state.plugin_frames.get(plugin, 0))


class ProgressBar:
    """A 0-100 progress bar with a ``"Running · 42 %"`` label.

    Attributes:
        widget: The top-level ipywidget (an ``HBox`` of the bar and its label).
        bar: The ``FloatProgress``.
        label: The ``HTML`` label beside the bar.
    """

    def __init__(self) -> None:
        self.bar: ipywidgets.FloatProgress = ipywidgets.FloatProgress(
            value=0.0, min=0.0, max=100.0, layout=ipywidgets.Layout(flex="1 1 auto")
        )
        self.label: ipywidgets.HTML = ipywidgets.HTML(value=self._label(RealtimeState()))
        self.widget: ipywidgets.HBox = ipywidgets.HBox([self.bar, self.label])
        self.widget.add_class(CSS_CLASSES["progress"])
        self._synced = (self.bar, self.label)

    @staticmethod
    def _label(state: RealtimeState) -> str:
        if state.finished and state.job_status is not None:
            name = state.job_status.capitalize()
        elif state.stage:
            name = state.stage
        elif state.job_status:
            name = state.job_status.capitalize()
        else:
            name = "Waiting"
        # Floor, not round: "100 %" must mean done, not 99.6.
        return f"{esc(name)} · {int(state.progress)} %"

    def render(self, state: RealtimeState) -> int:
        """Show ``state.progress``, its stage, and a colour once the job ended.

        Returns:
            How many trait assignments were made.
        """
        style = _BAR_STYLES.get(state.job_status or "", "")
        with _held(self._synced):
            return (
                _set(self.bar, "value", float(state.progress))
                + _set(self.bar, "bar_style", style)
                + _set(self.label, "value", self._label(state))
            )


class FrameViewer:
    """The frame: the newest preview (live) or one picked with the scrubber, with each plugin's
    drawing switched on or off by its toggle.

    Previews arrive undrawn with every plugin's result for their frame; the viewer draws the plugins
    whose toggle is on (with the plugins' own ``draw``, see
    :class:`~realtime_nb.notebook.frames.FrameDrawer`). The scrubber runs over the frames the client
    kept (bounded, see :class:`~realtime_nb.notebook.frames.FrameStore`) by frame number; moving it
    picks the nearest kept frame and stops following the newest, and the inspector then shows that
    frame's per-plugin timings and warnings. A picked frame stays on screen (and in the slider's
    range) even once the bounded store has let it go. Moving the slider to the end, or pressing
    Live, follows the newest frame again. Once a job has ended, :meth:`on_demand` lets the
    scrubber cover every frame: the ones not kept are fetched from the server.

    Args:
        drawer: Draws plugin results over a frame; a default one uses the default registry.
        plugin_options: The job's options of each plugin, which their drawings are drawn with.
        on_change: Called after the user toggled a plugin, scrubbed or pressed Live (the
            overlay re-renders everything with it); by default the viewer re-renders itself.
        lock: Held while rendering and while handling the user's input (an overlay passes its
            own, so a render on the client's thread and a click on the kernel's never interleave).

    Attributes:
        widget: The top-level ipywidget (a ``VBox``).
        image: The ``Image`` (JPEG), hidden until the first preview.
        caption: ``HTML``: which frame is shown, or a placeholder.
        live: ``ToggleButton``: on while the newest frame is followed.
        scrubber: ``IntSlider`` over the kept frames' numbers; disabled below two frames.
        toggles: ``HBox`` of one ``ToggleButton`` per plugin, on while its drawing shows.
    """

    PLACEHOLDER = "<i>Waiting for the first frame…</i>"

    def __init__(
        self,
        drawer: FrameDrawer | None = None,
        on_change: Callable[[], None] | None = None,
        lock: threading.RLock | None = None,
        plugin_options: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        self._drawer = drawer if drawer is not None else FrameDrawer()
        self._plugin_options = dict(plugin_options or {})
        self.on_change = on_change
        self._lock = lock if lock is not None else threading.RLock()
        self._frames: tuple[KeptFrame, ...] = ()
        self._picked: KeptFrame | None = None
        self._fetch: Callable[[int], KeptFrame | None] | None = None
        self._frame_count = 0
        self._hidden: set[str] = set()
        self._drawn: tuple[str, tuple[str, ...], bytes] | None = None
        self._syncing = False
        self._last_state = RealtimeState()
        self.image: ipywidgets.Image = ipywidgets.Image(
            format="jpeg", layout=ipywidgets.Layout(display=_HIDDEN, max_width="100%")
        )
        self.caption: ipywidgets.HTML = ipywidgets.HTML(value=self.PLACEHOLDER)
        self.live: ipywidgets.ToggleButton = ipywidgets.ToggleButton(
            value=True,
            description="Live",
            icon="play",
            tooltip="Follow the newest frame",
            layout=ipywidgets.Layout(width="auto"),
        )
        self.scrubber: ipywidgets.IntSlider = ipywidgets.IntSlider(
            value=0,
            min=0,
            max=0,
            description="Frame",
            disabled=True,
            continuous_update=False,
            layout=ipywidgets.Layout(flex="1 1 auto"),
        )
        self.toggles: ipywidgets.HBox = ipywidgets.HBox(
            layout=ipywidgets.Layout(flex_flow="row wrap")
        )
        self._toggle_for: dict[str, ipywidgets.ToggleButton] = {}
        controls = ipywidgets.HBox([self.live, self.scrubber])
        self.widget: ipywidgets.VBox = ipywidgets.VBox(
            [self.image, self.caption, controls, self.toggles]
        )
        self.widget.add_class(CSS_CLASSES["frame"])
        self._synced: tuple[Any, ...] = (
            self.image,
            self.image.layout,
            self.caption,
            self.live,
            self.scrubber,
            self.toggles,
        )
        self.scrubber.observe(self._scrubbed, "value")
        self.live.observe(self._live_pressed, "value")

    # --- what is shown ----------------------------------------------------------------------

    @property
    def picked(self) -> KeptFrame | None:
        """The frame picked with the scrubber, or None while following the newest."""
        with self._lock:
            return self._picked

    @property
    def shown(self) -> KeptFrame | None:
        """The frame on screen: the picked one, else the newest kept, else None."""
        with self._lock:
            return self.picked or (self._frames[-1] if self._frames else None)

    @property
    def plugins_drawn(self) -> list[str]:
        """The plugins whose drawing is on (toggle on and drawable in this kernel)."""
        return [n for n, t in self._toggle_for.items() if t.value and not t.disabled]

    def pick(self, frame_index: int | None) -> None:
        """Show the kept frame nearest ``frame_index``; None follows the newest frame again."""
        with self._lock:
            self._pin(frame_index)
        self._changed()

    def on_demand(self, fetch: Callable[[int], KeptFrame | None], frame_count: int) -> None:
        """Let the scrubber run over every frame of a finished job, ``0`` to
        ``frame_count - 1``: a frame that is not kept is fetched with ``fetch(index)`` (None
        when it cannot be had, and the nearest kept frame shows instead)."""
        with self._lock:
            self._fetch, self._frame_count = fetch, max(0, frame_count)
        self._changed()

    def show_plugin(self, plugin: str, visible: bool = True) -> None:
        """Switch ``plugin``'s drawing on or off (as its toggle does)."""
        with self._lock:
            if visible:
                self._hidden.discard(plugin)
            else:
                self._hidden.add(plugin)
            toggle = self._toggle_for.get(plugin)
            if toggle is not None:
                self._syncing = True
                try:
                    toggle.value = visible
                finally:
                    self._syncing = False
        self._changed()

    # --- user input -------------------------------------------------------------------------

    def _pin(self, frame_index: int | None) -> None:
        # The picked frame stays a candidate even once the bounded store has let it go.
        frames = [*self._frames, *([self._picked] if self._picked is not None else [])]
        target = nearest(frames, frame_index) if frame_index is not None else None
        if (
            self._fetch is not None
            and frame_index is not None
            and 0 <= frame_index < self._frame_count
            and (target is None or target.frame_index != frame_index)
        ):
            target = self._fetch(frame_index) or target
        newest = self._frames[-1] if self._frames else None
        self._picked = None if target is None or target is newest else target

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change()
        else:
            self.render(self._last_state)

    def _scrubbed(self, change: dict[str, Any]) -> None:
        with self._lock:
            if self._syncing:
                return
            self._pin(int(change["new"]))
        self._changed()

    def _live_pressed(self, change: dict[str, Any]) -> None:
        with self._lock:
            if self._syncing:
                return
            self._picked = None if change["new"] else self.shown
        self._changed()

    def _toggled(self, plugin: str, change: dict[str, Any]) -> None:
        with self._lock:
            if self._syncing:
                return
            if change["new"]:
                self._hidden.discard(plugin)
            else:
                self._hidden.add(plugin)
        self._changed()

    # --- rendering --------------------------------------------------------------------------

    def _ensure_toggles(self, names: Iterable[str]) -> int:
        new = [n for n in dict.fromkeys(names) if n not in self._toggle_for]
        for name in new:
            drawable = self._drawer.can_draw(name, self._plugin_options.get(name))
            toggle = ipywidgets.ToggleButton(
                value=name not in self._hidden,
                description=name,
                disabled=not drawable,
                tooltip=f"Show {name}'s drawing"
                if drawable
                else f"{name} is not installed in this kernel, so it cannot be drawn here",
                layout=ipywidgets.Layout(width="auto"),
            )
            toggle.observe(lambda change, n=name: self._toggled(n, change), "value")
            self._toggle_for[name] = toggle
        if not new:
            return 0
        self.toggles.children = tuple(self._toggle_for.values())
        return 1

    def _jpeg(self, frame: KeptFrame) -> bytes:
        drawn = tuple(n for n in frame.results if n not in self._hidden)
        if self._drawn is not None and self._drawn[:2] == (frame.frame_id, drawn):
            return self._drawn[2]  # the same bytes object: _set sees no change
        jpeg = self._drawer.draw(frame, drawn, self._plugin_options)
        self._drawn = (frame.frame_id, drawn, jpeg)
        return jpeg

    def _caption(self, state: RealtimeState, shown: KeptFrame | None) -> str:
        if shown is None:
            frame = state.current_frame
            if frame is None:
                return self.PLACEHOLDER
            return (
                f"frame <code>{esc(frame.frame_id)}</code> · {esc(frame.plugin)} "
                f"{format_duration_ms(frame.timing_ms)}"
            )
        if self._picked is None:
            where = "live"
        elif self._frame_count or any(f.frame_id == shown.frame_id for f in self._frames):
            where = "picked"  # kept, or to be fetched again whenever it is picked
        else:
            where = "picked (no longer kept)"
        spent = format_duration_ms(sum(shown.timings_ms.values()))
        return (
            f"frame <code>{esc(shown.frame_id)}</code> · {where} · "
            f"{len(shown.timings_ms)} plugins {spent} · {len(self._frames)} kept"
        )

    def _scrub_to(self, lo: int, hi: int, value: int) -> int:
        slider = self.scrubber
        n = 0
        # Move the bound that keeps min <= max valid first.
        if lo > slider.max:
            n += _set(slider, "max", hi) + _set(slider, "min", lo)
        else:
            n += _set(slider, "min", lo) + _set(slider, "max", hi)
        return n + _set(slider, "value", value) + _set(slider, "disabled", hi <= lo)

    def render(self, state: RealtimeState, frames: Sequence[KeptFrame] = ()) -> int:
        """Show the picked or newest of ``frames`` with the chosen drawings; caption it.

        Args:
            state: The job's state (its plugins get toggles; its current frame captions the
                viewer until the first preview).
            frames: The kept frames, oldest first; empty keeps the ones already given.

        Returns:
            How many trait assignments were made.
        """
        with self._lock, _held(self._synced):
            self._syncing = True
            self._last_state = state
            try:
                if frames:
                    self._frames = tuple(frames)
                shown = self.shown
                names = [*state.plugin_status, *(shown.results if shown else ())]
                n = self._ensure_toggles(names)
                if shown is not None:
                    n += _set(self.image, "value", self._jpeg(shown))
                    n += _set(self.image.layout, "display", _VISIBLE)
                    if self._frame_count:  # a finished job: every frame, fetched on demand
                        first, last = 0, self._frame_count - 1
                    else:
                        first = self._frames[0].frame_index if self._frames else shown.frame_index
                        last = self._frames[-1].frame_index if self._frames else first
                    n += self._scrub_to(
                        min(first, shown.frame_index),
                        max(last, shown.frame_index),
                        shown.frame_index,
                    )
                n += _set(self.live, "value", self._picked is None)
                n += _set(self.caption, "value", self._caption(state, shown))
            finally:
                self._syncing = False
        return n


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
        with _held(self._synced):
            return (
                _set(self.table, "value", self._table_html(state))
                + _set(self.metadata, "value", self._metadata_html(state))
                + _set(self.picked, "value", self._picked_html(picked))
                + _set(self.warnings, "value", self._warnings_html(state))
                + _set(self.footer, "value", self._footer_html(state))
            )


class ErrorBanner:
    """A red box with the latest error and the error count; hidden while there are none.

    Attributes:
        widget: The top-level ipywidget (an ``HTML``).
    """

    def __init__(self) -> None:
        self.widget: ipywidgets.HTML = ipywidgets.HTML(layout=ipywidgets.Layout(display=_HIDDEN))
        self.widget.add_class(CSS_CLASSES["errors"])
        self._synced = (self.widget, self.widget.layout)

    @staticmethod
    def _html(state: RealtimeState) -> str:
        e = state.errors[-1]
        parts = [f"<b>Error:</b> {esc(e.error)}"]
        if e.details is not None:
            parts.append(f"<code>{esc(e.details.error_code)}</code>")
            if e.details.message and e.details.message != e.error:
                parts.append(esc(e.details.message))
            if e.details.fallback:
                parts.append(f"fallback: {esc(e.details.fallback)}")
        if e.plugin:
            parts.append(f"plugin <b>{esc(e.plugin)}</b>")
        if e.frame_id:
            parts.append(f"frame <code>{esc(e.frame_id)}</code>")
        count = max(state.errors_count, len(state.errors))
        noun = "error" if count == 1 else "errors"
        return (
            '<div style="background:#fdecea;color:#b71c1c;border:1px solid #e53935;'
            'border-radius:4px;padding:4px 8px">'
            f"{' · '.join(parts)}"
            f'<span style="float:right">{count} {noun}</span></div>'
        )

    def render(self, state: RealtimeState) -> int:
        """Show the latest of ``state.errors``, or hide when there is none.

        Returns:
            How many trait assignments were made.
        """
        with _held(self._synced):
            if not state.errors:
                return _set(self.widget.layout, "display", _HIDDEN)
            return _set(self.widget, "value", self._html(state)) + _set(
                self.widget.layout, "display", _VISIBLE
            )


class MetricsPanel:
    """An experiment's metrics: a line chart per metric with its latest value and step, best
    value and step, and point count; hidden until the first metric arrives.

    Each chart draws the metric's downsampled history (the lowest and highest value of each
    of at most 256 step buckets, so spikes survive), so a render costs the same after a
    million points as after ten. It is redrawn by the render clock, never per point: one
    trait assignment per render at most, whatever the logging rate.

    Attributes:
        widget: The top-level ipywidget (an ``HTML`` holding inline SVG charts).
    """

    def __init__(self) -> None:
        self.widget: ipywidgets.HTML = ipywidgets.HTML(layout=ipywidgets.Layout(display=_HIDDEN))
        self.widget.add_class(CSS_CLASSES["metrics"])
        self._synced = (self.widget, self.widget.layout)
        self._chosen: list[str] | None = None
        self._together = False
        self._shown: object = None

    def choose(self, names: Sequence[str] | None, together: bool = False) -> None:
        """Show only the metrics ``names`` (in that order; None: every metric), each on its
        own chart, or with ``together`` all on one chart. Shown from the next render."""
        self._chosen = list(names) if names is not None else None
        self._together = together
        self._shown = None

    def render(self, state: RealtimeState) -> int:
        """Draw ``state.metrics`` if they changed since the last render.

        Returns:
            How many trait assignments were made.
        """
        if state.metrics is self._shown:
            return 0
        self._shown = state.metrics
        with _held(self._synced):
            if not state.metrics:
                return _set(self.widget.layout, "display", _HIDDEN)
            html = metrics_grid(state.metrics, self._chosen, self._together)
            return _set(self.widget, "value", html) + _set(self.widget.layout, "display", _VISIBLE)


class ConnectionBadge:
    """The connection state (``"Connected · 3 ms"``, ``"Reconnecting…"``, ...) and a Retry button.

    The button shows only once the client gave up (``CLOSED``, "Connection lost") and an
    ``on_retry`` callback was given.

    Attributes:
        widget: The top-level ipywidget (an ``HBox`` of the badge and the button).
        badge: The ``HTML`` badge.
        retry: The Retry ``Button``.
    """

    def __init__(self, on_retry: Callable[[], None] | None = None) -> None:
        self._on_retry = on_retry
        self.badge: ipywidgets.HTML = ipywidgets.HTML(value=self._html(RealtimeState()))
        self.retry: ipywidgets.Button = ipywidgets.Button(
            description="Retry",
            icon="refresh",
            tooltip="Connect again",
            layout=ipywidgets.Layout(display=_HIDDEN, width="auto"),
        )
        self.retry.on_click(self._clicked)
        self.widget: ipywidgets.HBox = ipywidgets.HBox([self.badge, self.retry])
        self.widget.add_class(CSS_CLASSES["badge"])
        self._synced = (self.badge, self.retry.layout)

    def _clicked(self, _button: Any) -> None:
        if self._on_retry is not None:
            self._on_retry()

    @staticmethod
    def text(connection: str, latency_ms: float | None = None, attempt: int = 0) -> str:
        """Return the badge's text for a connection state: ``"Connected · 3 ms"``,
        ``"Reconnecting… attempt 2"``, ``"Connection lost"``."""
        label = _CONNECTION_LOOK.get(connection, (connection.capitalize(), ""))[0]
        if connection == "CONNECTED" and latency_ms is not None:
            return f"{label} · {latency_ms:.0f} ms"
        if connection == "RECONNECTING" and attempt > 0:
            return f"{label} attempt {attempt}"
        return label

    @classmethod
    def _html(cls, state: RealtimeState) -> str:
        colour = _CONNECTION_LOOK.get(state.connection, ("", "#9e9e9e"))[1]
        text = cls.text(state.connection, state.latency_ms, state.reconnect_attempt)
        return badge(text, colour)

    def render(self, state: RealtimeState) -> int:
        """Show ``state.connection`` and ``state.latency_ms``.

        Returns:
            How many trait assignments were made.
        """
        closed = state.connection == "CLOSED" and self._on_retry is not None
        with _held(self._synced):
            return _set(self.badge, "value", self._html(state)) + _set(
                self.retry.layout, "display", _VISIBLE if closed else _HIDDEN
            )


class RealtimeOverlay:
    """Everything about one job in one widget: the notebook's live view.

    Shows itself when it is the last expression of a cell. The client calls :meth:`render` on
    its own thread whenever the state changed.

    Args:
        job_id: The job shown, for the title.
        plugins: Plugins to list in the inspector before any message about them arrives.
        title: The title; default ``"Job <job_id>"``.
        on_retry: Called when the user clicks Retry after the connection was lost.
        drawer: Draws plugins' results over previews; by default from the default registry.
        plugin_options: The job's options of each plugin, which their drawings are drawn with.
        executor: Where the job runs (``process``, ``dask``...), shown beside the title.
        dashboard_url: The Dask dashboard, linked beside the title.

    Attributes:
        widget: The top-level ``VBox``.
        title: The ``HTML`` title, beside the connection badge.
        progress: The :class:`ProgressBar`.
        frame: The :class:`FrameViewer`.
        inspector: The :class:`PluginInspector`.
        errors: The :class:`ErrorBanner`.
        metrics: The :class:`MetricsPanel` (an experiment's charts; hidden without metrics).
        connection: The :class:`ConnectionBadge`.

    Example:
        >>> overlay = RealtimeOverlay(job_id="j1", plugins=["ball_detection"])
        >>> overlay  # as the last expression of a notebook cell, this shows the widget
        RealtimeOverlay(job_id='j1')
    """

    def __init__(
        self,
        job_id: str | None = None,
        plugins: Sequence[str] = (),
        title: str | None = None,
        on_retry: Callable[[], None] | None = None,
        drawer: FrameDrawer | None = None,
        executor: str | None = None,
        dashboard_url: str | None = None,
        plugin_options: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        self.job_id = job_id
        self._title = title
        self._executor = executor
        self._dashboard_url = dashboard_url
        # render() runs on the client's thread; clicks and cells run on the kernel's. Re-entrant:
        # a render's own trait assignments call the viewer's observers on the same thread.
        self._lock = threading.RLock()
        self._last_state = RealtimeState()
        self.title: ipywidgets.HTML = ipywidgets.HTML(layout=ipywidgets.Layout(flex="1 1 auto"))
        self.progress = ProgressBar()
        self.frame = FrameViewer(
            drawer, on_change=self._rerender, lock=self._lock, plugin_options=plugin_options
        )
        self.inspector = PluginInspector(plugins, on_change=self._rerender)
        self.errors = ErrorBanner()
        self.metrics = MetricsPanel()
        self.connection = ConnectionBadge(on_retry)
        header = ipywidgets.HBox([self.title, self.connection.widget])
        parts = (self.errors, self.progress, self.metrics, self.frame, self.inspector)
        self.widget: ipywidgets.VBox = ipywidgets.VBox([header, *(p.widget for p in parts)])
        self.widget.add_class(CSS_CLASSES["overlay"])
        self._synced: tuple[Any, ...] = (self.title, *self.connection._synced)
        self._synced += tuple(w for p in parts for w in p._synced)
        self.title.value = self._title_html(job_id)

    def _title_html(self, job_id: str | None) -> str:
        text = self._title or (f"Job {job_id}" if job_id else "realtime_nb")
        where = f" <small>on {esc(self._executor)}</small>" if self._executor else ""
        if self._dashboard_url and self._dashboard_url.startswith(("http://", "https://")):
            link = esc(self._dashboard_url)
            where += f' <small>(<a href="{link}" target="_blank">Dask dashboard</a>)</small>'
        return f"<b>{esc(text)}</b>{where}"

    def render(self, state: RealtimeState, frames: Sequence[KeptFrame] = ()) -> int:
        """Bring every part up to date with ``state``, touching only what changed.

        Args:
            state: The latest state of the job.
            frames: The frames kept so far, oldest first (the client's
                :class:`~realtime_nb.notebook.frames.FrameStore`); empty keeps the ones
                already given.

        Returns:
            How many trait assignments were made; 0 when nothing changed.
        """
        with self._lock, _held(self._synced):
            self._last_state = state
            return (
                _set(self.title, "value", self._title_html(self.job_id or state.job_id))
                + self.connection.render(state)
                + self.errors.render(state)
                + self.progress.render(state)
                + self.metrics.render(state)
                + self.frame.render(state, frames)
                + self.inspector.render(state, self.frame.picked)
            )

    def _rerender(self) -> None:
        """After the user scrubbed, toggled or asked for metadata: show the last state again."""
        with self._lock:
            self.render(self._last_state)

    def close(self) -> None:
        """Close every widget of the overlay (it can no longer be displayed)."""
        _close_tree(self.widget)

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        bundle_of = getattr(self.widget, "_repr_mimebundle_", None)
        if bundle_of is None:  # closed
            return {"text/plain": repr(self)}
        bundle: dict[str, Any] = bundle_of(**kwargs)
        bundle["text/plain"] = repr(self)
        return bundle

    def __repr__(self) -> str:
        return f"RealtimeOverlay(job_id={self.job_id!r})"


def _close_tree(widget: Any) -> None:
    for child in getattr(widget, "children", ()):
        _close_tree(child)
    layout = getattr(widget, "layout", None)
    widget.close()
    if layout is not None:
        layout.close()
