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
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import ipywidgets

from realtime_nb.core.state import RealtimeState
from realtime_nb.notebook.charts import metrics_grid
from realtime_nb.notebook.frame_viewer import FrameViewer
from realtime_nb.notebook.frames import FrameDrawer, KeptFrame
from realtime_nb.notebook.inspector import MAX_WARNINGS_SHOWN, PluginInspector
from realtime_nb.notebook.view import (
    badge,
    esc,
)
from realtime_nb.notebook.widget_diff import CSS_CLASSES, HIDDEN, VISIBLE, hold_all, set_if_changed

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
        with hold_all(self._synced):
            return (
                set_if_changed(self.bar, "value", float(state.progress))
                + set_if_changed(self.bar, "bar_style", style)
                + set_if_changed(self.label, "value", self._label(state))
            )


class ErrorBanner:
    """A red box with the latest error and the error count; hidden while there are none.

    Attributes:
        widget: The top-level ipywidget (an ``HTML``).
    """

    def __init__(self) -> None:
        self.widget: ipywidgets.HTML = ipywidgets.HTML(layout=ipywidgets.Layout(display=HIDDEN))
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
        with hold_all(self._synced):
            if not state.errors:
                return set_if_changed(self.widget.layout, "display", HIDDEN)
            return set_if_changed(self.widget, "value", self._html(state)) + set_if_changed(
                self.widget.layout, "display", VISIBLE
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
        self.widget: ipywidgets.HTML = ipywidgets.HTML(layout=ipywidgets.Layout(display=HIDDEN))
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
        with hold_all(self._synced):
            if not state.metrics:
                return set_if_changed(self.widget.layout, "display", HIDDEN)
            html = metrics_grid(state.metrics, self._chosen, self._together)
            return set_if_changed(self.widget, "value", html) + set_if_changed(
                self.widget.layout, "display", VISIBLE
            )


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
            layout=ipywidgets.Layout(display=HIDDEN, width="auto"),
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
        with hold_all(self._synced):
            return set_if_changed(self.badge, "value", self._html(state)) + set_if_changed(
                self.retry.layout, "display", VISIBLE if closed else HIDDEN
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
        with self._lock, hold_all(self._synced):
            self._last_state = state
            return (
                set_if_changed(self.title, "value", self._title_html(self.job_id or state.job_id))
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
