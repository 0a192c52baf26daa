"""Tests for realtime_nb.notebook.widgets: states come from real protocol messages through reduce()."""

from __future__ import annotations

import html
import itertools
import re
from collections.abc import Iterator
from typing import Any

import cv2
import ipywidgets
import numpy as np
import pytest
from conftest import TEST_METADATA as META

from realtime_nb.core.protocol import (
    ErrorDetails,
    ErrorPayload,
    FramePayload,
    JobPayload,
    MetadataPayload,
    PingPayload,
    PluginStatusPayload,
    ProgressPayload,
    WarningPayload,
    make_message,
)
from realtime_nb.core.state import (
    ConnectionChanged,
    MessageReceived,
    PreviewReceived,
    RealtimeState,
    reduce,
)
from realtime_nb.notebook.frames import FrameDrawer, KeptFrame
from realtime_nb.notebook.view import format_duration_ms
from realtime_nb.notebook.widgets import (
    CSS_CLASSES,
    MAX_WARNINGS_SHOWN,
    ConnectionBadge,
    ErrorBanner,
    FrameViewer,
    PluginInspector,
    ProgressBar,
    RealtimeOverlay,
)
from realtime_nb.vision.plugins import Plugin, PluginRegistry
from realtime_nb.vision.video_writer import encode_jpeg
from realtime_nb.worker.runner import frame_id_for

JOB = "j-1"
PLUGINS = ["pitch_detection", "player_detection", "ball_detection"]


class Feed:
    """Reduces payloads into a state the way the client does, numbering seq per job."""

    def __init__(self) -> None:
        self.state = RealtimeState()
        self._seq = itertools.count(1)

    def send(self, *payloads: Any) -> RealtimeState:
        for payload in payloads:
            if isinstance(payload, PingPayload):
                msg = make_message(payload)
            else:
                msg = make_message(payload, job_id=JOB, seq=next(self._seq))
            self.state = reduce(self.state, MessageReceived(msg))
        return self.state

    def act(self, action: ConnectionChanged | PreviewReceived) -> RealtimeState:
        self.state = reduce(self.state, action)
        return self.state


def text_of(markup: str) -> str:
    """The visible text of an HTML fragment."""
    return html.unescape(re.sub(r"<[^>]+>", "", markup))


def frame(frame_id: str, plugin: str, ms: float) -> FramePayload:
    return FramePayload(frame_id=frame_id, plugin=plugin, data={"n": 1}, timing_ms=ms)


def leaf_widgets(widget: Any) -> Iterator[Any]:
    """Every widget in the tree, layouts included."""
    yield widget
    if getattr(widget, "layout", None) is not None:
        yield widget.layout
    for child in getattr(widget, "children", ()):
        yield from leaf_widgets(child)


# --- helpers -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ms", "text"),
    [
        (0, "0.00 ms"),
        (0.421, "0.42 ms"),
        (12.34, "12.3 ms"),
        (0.996, "1.0 ms"),
        (999.94, "999.9 ms"),
        (999.97, "1.00 s"),
        (2500, "2.50 s"),
        (59_994, "59.99 s"),
        (59_997, "1 min 00 s"),
        (185_000, "3 min 05 s"),
        (-5, "0.00 ms"),
    ],
)
def test_format_duration_ms(ms: float, text: str) -> None:
    assert format_duration_ms(ms) == text


# --- progress ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payloads", "value", "label", "style"),
    [
        ([], 0.0, "Waiting · 0 %", ""),
        ([ProgressPayload(job_id=JOB, progress=0, stage="Starting")], 0.0, "Starting · 0 %", ""),
        ([ProgressPayload(job_id=JOB, progress=42, stage="Running")], 42.0, "Running · 42 %", ""),
        (
            [
                ProgressPayload(job_id=JOB, progress=99.7, stage="Running"),
                JobPayload(job_id=JOB, status="completed"),
            ],
            100.0,
            "Completed · 100 %",
            "success",
        ),
        (
            [
                ProgressPayload(job_id=JOB, progress=42, stage="Running"),
                JobPayload(job_id=JOB, status="failed"),
            ],
            42.0,
            "Failed · 42 %",
            "danger",
        ),
        ([JobPayload(job_id=JOB, status="cancelled")], 0.0, "Cancelled · 0 %", "warning"),
        ([JobPayload(job_id=JOB, status="interrupted")], 0.0, "Interrupted · 0 %", "warning"),
        ([JobPayload(job_id=JOB, status="queued")], 0.0, "Queued · 0 %", ""),
    ],
)
def test_progress_bar(payloads: list[Any], value: float, label: str, style: str) -> None:
    bar = ProgressBar()
    bar.render(Feed().send(*payloads))
    assert bar.bar.value == value
    assert (bar.bar.min, bar.bar.max) == (0, 100)
    assert text_of(bar.label.value) == label
    assert bar.bar.bar_style == style


def test_progress_stage_is_escaped() -> None:
    bar = ProgressBar()
    bar.render(Feed().send(ProgressPayload(job_id=JOB, progress=5, stage="<b>x</b>")))
    assert "<b>x</b>" not in bar.label.value
    assert text_of(bar.label.value) == "<b>x</b> · 5 %"


# --- frame viewer --------------------------------------------------------------------------------


class Box(Plugin):
    """Draws a filled white square where its result says (for the drawing toggles)."""

    name = "box"
    metadata = META

    def process(self, frame: Any, ctx: Any) -> dict[str, Any]:
        return {}

    def draw(self, frame: Any, result: dict[str, Any]) -> None:
        x, y = result["at"]
        frame[y : y + 8, x : x + 8] = 255


class Server(Plugin):
    """Known only to the server: this kernel's registry does not have it."""

    name = "server_only"
    metadata = META


def drawer() -> FrameDrawer:
    registry = PluginRegistry()
    registry.register(Box)
    return FrameDrawer(registry)


def kept(index: int, *, at: tuple[int, int] = (4, 4), warn: str | None = None) -> KeptFrame:
    """A 64x48 grey frame whose ``box`` result sits at ``at``."""
    jpeg = encode_jpeg(np.full((48, 64, 3), 60, np.uint8), quality=90)
    warnings = (WarningPayload(plugin="box", message=warn, severity="high"),) if warn else ()
    return KeptFrame(
        frame_id_for(index),
        index,
        jpeg,
        64,
        48,
        {"box": {"at": list(at)}, "server_only": {}},
        {"box": 1.5, "server_only": 0.25},
        warnings,
    )


def pixels(jpeg: bytes) -> Any:
    return cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_GRAYSCALE)


def test_frame_viewer_placeholder_then_current_frame_caption_before_any_preview() -> None:
    viewer = FrameViewer(drawer())
    feed = Feed()
    viewer.render(feed.state)
    assert "Waiting for the first frame" in viewer.caption.value
    assert viewer.image.layout.display == "none"
    assert viewer.image.format == "jpeg"
    assert viewer.scrubber.disabled and viewer.live.value

    viewer.render(feed.send(frame("f-000042", "player_detection", 12.34)))
    assert text_of(viewer.caption.value) == "frame f-000042 · player_detection 12.3 ms"
    assert viewer.image.layout.display == "none"


def test_frame_viewer_draws_each_plugin_whose_toggle_is_on() -> None:
    viewer = FrameViewer(drawer())
    frames = (kept(0, at=(4, 4)),)
    viewer.render(Feed().state, frames)
    assert viewer.image.layout.display is None
    assert [t.description for t in viewer.toggles.children] == ["box", "server_only"]
    box, server = viewer.toggles.children
    assert box.value and not box.disabled
    assert server.disabled and "not installed in this kernel" in server.tooltip
    assert viewer.plugins_drawn == ["box"]
    assert pixels(viewer.image.value)[8, 8] > 200  # the square is drawn
    assert text_of(viewer.caption.value) == "frame f-000000 · live · 2 plugins 1.8 ms · 1 kept"

    box.value = False  # the user switches the drawing off
    assert abs(int(pixels(viewer.image.value)[8, 8]) - 60) < 10
    assert viewer.image.value == frames[0].jpeg  # nothing drawn: the preview as it came
    viewer.show_plugin("box")
    assert box.value and pixels(viewer.image.value)[8, 8] > 200


def test_frame_viewer_reassigns_image_only_for_a_new_frame_or_choice() -> None:
    viewer = FrameViewer(drawer())
    state = Feed().send(frame("f-1", "box", 3.0))
    frames = (kept(0),)
    viewer.render(state, frames)
    changes: list[Any] = []
    viewer.image.observe(changes.append, names="value")

    assert viewer.render(state, frames) == 0
    assert viewer.render(state) == 0  # no frames given keeps the ones shown
    assert changes == []
    assert viewer.render(state, (*frames, kept(3, at=(20, 20)))) > 0
    assert len(changes) == 1
    assert pixels(viewer.image.value)[24, 24] > 200


def test_frame_viewer_scrubber_picks_the_nearest_kept_frame_and_live_follows_again() -> None:
    picked: list[int] = []
    viewer = FrameViewer(drawer())
    viewer.on_change = lambda: picked.append(1)
    frames = tuple(kept(i, at=(i, i)) for i in (0, 3, 6, 9))
    viewer.render(Feed().state, frames)
    s = viewer.scrubber
    assert (s.min, s.max, s.value, s.disabled) == (0, 9, 9, False)
    assert viewer.picked is None and viewer.live.value

    s.value = 4  # the user drags to a frame that was not kept: the nearest one is shown
    assert picked == [1]
    assert viewer.picked is not None and viewer.picked.frame_index == 3
    viewer.render(Feed().state)
    assert s.value == 3 and not viewer.live.value
    assert "picked" in text_of(viewer.caption.value)

    # New frames arrive: the picked one stays on screen, the range grows.
    viewer.render(Feed().state, (*frames, kept(12)))
    assert (s.max, s.value) == (12, 3) and viewer.shown is not None
    assert viewer.shown.frame_index == 3

    # The picked frame is evicted from the bounded store: it stays on screen and in range.
    viewer.render(Feed().state, (kept(6), kept(9), kept(12)))
    assert viewer.shown is not None and viewer.shown.frame_index == 3
    assert (s.min, s.max, s.value) == (3, 12, 3)
    assert "picked (no longer kept)" in text_of(viewer.caption.value)
    s.value = 7  # moving away picks among the kept frames (and the picked one)
    assert viewer.picked is not None and viewer.picked.frame_index == 6
    viewer.render(Feed().state)
    assert (s.min, s.value) == (6, 6)

    viewer.live.value = True  # Live: follow the newest again
    viewer.render(Feed().state)
    assert viewer.picked is None and s.value == 12

    s.value = 12  # already there: still live
    s.value = 7
    viewer.render(Feed().state)
    assert viewer.shown is not None and viewer.shown.frame_index == 6
    s.value = 12  # dragged to the end: live again
    assert viewer.picked is None
    viewer.pick(9)
    assert viewer.picked is not None and viewer.picked.frame_index == 9
    viewer.pick(None)
    assert viewer.picked is None


def test_a_render_never_reads_its_own_slider_moves_as_the_users() -> None:
    viewer = FrameViewer(drawer())
    moves: list[int] = []
    viewer.on_change = lambda: moves.append(1)
    viewer.render(Feed().state, (kept(0), kept(5)))
    viewer.render(Feed().state, (kept(0), kept(5), kept(10)))
    assert moves == []
    assert viewer.picked is None and viewer.scrubber.value == 10


# --- plugin inspector ----------------------------------------------------------------------------


def test_inspector_lists_plugins_with_status_and_timings() -> None:
    inspector = PluginInspector(PLUGINS)
    feed = Feed()
    inspector.render(feed.state)
    assert all(name in inspector.table.value for name in PLUGINS)
    assert text_of(inspector.table.value).count("pending") == 3

    state = feed.send(
        PluginStatusPayload(plugin="pitch_detection", status="started"),
        PluginStatusPayload(plugin="player_detection", status="running"),
        frame("f-1", "player_detection", 10.0),
        frame("f-2", "player_detection", 20.0),
        frame("f-1", "motion", 5.0),  # not in the constructor's list
        PluginStatusPayload(plugin="pitch_detection", status="completed", timing_ms=1234.0),
        PluginStatusPayload(plugin="ball_detection", status="failed"),
    )
    inspector.render(state)
    assert inspector.plugins == [*PLUGINS, "motion"]
    rows = inspector.table.value.split("<tr>")[2:]
    cells = [[text_of(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row)] for row in rows]
    by_name = {c[0]: c[1:7] for c in cells}
    assert [c[0] for c in cells] == [*PLUGINS, "motion"]
    # status, frames, mean, p95, last, total (p95 of 10 and 20 ms is the 20 ms sample, ±4.4 %)
    assert by_name["pitch_detection"] == ["completed", "0", "—", "—", "—", "1.23 s"]
    assert by_name["player_detection"] == ["running", "2", "15.0 ms", "20.0 ms", "20.0 ms", "—"]
    assert by_name["ball_detection"] == ["failed", "0", "—", "—", "—", "—"]
    assert by_name["motion"] == ["pending", "1", "5.0 ms", "5.0 ms", "5.0 ms", "—"]
    # Timing bars against the slowest plugin's p95 (player, 20 ms): a light tail to the p95,
    # a solid bar to the mean.
    widths = [re.findall(r"width:(\d+)%", row) for row in rows]
    assert widths[1] == ["100", "75"]
    assert widths[3] == ["25", "25"]
    assert widths[0] == ["0", "0"]


def test_inspector_warnings_are_escaped_bounded_and_newest_first() -> None:
    inspector = PluginInspector(PLUGINS)
    feed = Feed()
    payloads = [
        WarningPayload(plugin="ball_detection", message=f"w{i}", severity="low") for i in range(11)
    ]
    payloads.append(
        WarningPayload(
            plugin="pitch_detection",
            message="<script>alert(1)</script>",
            severity="high",
            frame_id="f-7",
        )
    )
    inspector.render(feed.send(*payloads))
    value = inspector.warnings.value
    assert "<script>" not in value
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in value
    assert f"showing {MAX_WARNINGS_SHOWN} of 12" in text_of(value)
    assert value.count("<li>") == MAX_WARNINGS_SHOWN
    visible = text_of(value)
    assert visible.index("alert(1)") < visible.index("w10") < visible.index("w2")
    assert "w1:" not in visible and "w0:" not in visible


def test_inspector_counts_warnings_beyond_what_the_state_keeps() -> None:
    inspector = PluginInspector()
    feed = Feed()
    total = RealtimeState().max_items + 10
    state = feed.send(
        *(WarningPayload(plugin="p", message=f"w{i}", severity="medium") for i in range(total))
    )
    inspector.render(state)
    assert f"showing {MAX_WARNINGS_SHOWN} of {total}" in text_of(inspector.warnings.value)


def test_inspector_shows_drop_count_only_when_positive() -> None:
    inspector = PluginInspector()
    feed = Feed()
    inspector.render(feed.send(PingPayload(interval_seconds=5)))
    assert inspector.footer.value == ""
    inspector.render(feed.send(PingPayload(interval_seconds=5, dropped=7)))
    assert "7 updates dropped" in text_of(inspector.footer.value)


# --- error banner --------------------------------------------------------------------------------


def test_error_banner_hidden_then_shows_latest_and_count() -> None:
    banner = ErrorBanner()
    feed = Feed()
    assert banner.render(feed.state) == 0
    assert banner.widget.layout.display == "none"

    feed.send(ErrorPayload(error="first failure"))
    state = feed.send(
        ErrorPayload(
            error="ball_detection crashed <oops>",
            plugin="ball_detection",
            details=ErrorDetails(error_code="PLUGIN_CRASH", message="exit code -11"),
            frame_id="f-000012",
        )
    )
    assert banner.render(state) == 2
    assert banner.widget.layout.display is None
    visible = text_of(banner.widget.value)
    for part in ("ball_detection crashed <oops>", "PLUGIN_CRASH", "exit code -11", "f-000012"):
        assert part in visible
    assert "first failure" not in visible
    assert "2 errors" in visible
    assert "<oops>" not in banner.widget.value
    assert banner.render(state) == 0


# --- connection badge ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("connection", "latency", "text", "retry_shown"),
    [
        ("IDLE", None, "Not connected", False),
        ("CONNECTING", None, "Connecting…", False),
        ("CONNECTED", 3.2, "Connected · 3 ms", False),
        ("CONNECTED", None, "Connected", False),
        ("DISCONNECTED", None, "Disconnected", False),
        ("RECONNECTING", None, "Reconnecting…", False),
        ("CLOSED", None, "Connection lost", True),
    ],
)
def test_connection_badge(
    connection: str, latency: float | None, text: str, retry_shown: bool
) -> None:
    badge = ConnectionBadge(on_retry=lambda: None)
    badge.render(Feed().act(ConnectionChanged(connection, latency)))
    assert text_of(badge.badge.value) == text
    assert (badge.retry.layout.display != "none") is retry_shown


def test_connection_badge_counts_reconnect_attempts() -> None:
    badge = ConnectionBadge()
    feed = Feed()
    badge.render(feed.act(ConnectionChanged("RECONNECTING", None, 2)))
    assert text_of(badge.badge.value) == "Reconnecting… attempt 2"
    badge.render(feed.act(ConnectionChanged("CONNECTED", 4.0, 2)))  # the attempt ends with it
    assert text_of(badge.badge.value) == "Connected · 4 ms"
    assert feed.state.reconnect_attempt == 0


def test_retry_button_calls_on_retry() -> None:
    calls: list[int] = []
    badge = ConnectionBadge(on_retry=lambda: calls.append(1))
    feed = Feed()
    badge.render(feed.act(ConnectionChanged("CLOSED")))
    badge.retry.click()
    assert calls == [1]
    badge.render(feed.act(ConnectionChanged("CONNECTING")))
    assert badge.retry.layout.display == "none"


def test_retry_hidden_without_a_callback() -> None:
    badge = ConnectionBadge()
    badge.render(Feed().act(ConnectionChanged("CLOSED")))
    assert badge.retry.layout.display == "none"
    badge.retry.click()  # nothing to call, nothing raised


# --- overlay -------------------------------------------------------------------------------------


def busy_feed() -> Feed:
    feed = Feed()
    feed.act(ConnectionChanged("CONNECTED", 4.0))
    feed.send(
        PluginStatusPayload(plugin="player_detection", status="running"),
        ProgressPayload(job_id=JOB, progress=42, stage="Running"),
        frame("f-000042", "player_detection", 12.3),
        WarningPayload(plugin="ball_detection", message="low confidence", severity="medium"),
        ErrorPayload(error="boom", plugin="ball_detection"),
    )
    feed.act(PreviewReceived("f-000042"))
    return feed


def test_fresh_overlay_already_shows_the_initial_state() -> None:
    overlay = RealtimeOverlay(job_id=JOB, plugins=PLUGINS, on_retry=lambda: None)
    assert overlay.render(RealtimeState()) == 0


def test_overlay_unchanged_state_renders_nothing() -> None:
    overlay = RealtimeOverlay(job_id=JOB, plugins=PLUGINS)
    feed = busy_feed()
    frames = (kept(0),)
    assert overlay.render(feed.state, frames) > 0
    changes: list[Any] = []
    for w in leaf_widgets(overlay.widget):
        w.observe(changes.append)
    assert overlay.render(feed.state, frames) == 0
    assert overlay.render(feed.state) == 0
    assert changes == []


def test_overlay_one_change_makes_few_assignments() -> None:
    overlay = RealtimeOverlay(job_id=JOB, plugins=PLUGINS)
    feed = busy_feed()
    overlay.render(feed.state)
    changes: list[str] = []
    for w in leaf_widgets(overlay.widget):
        w.observe(lambda change: changes.append(change["name"]))
    state = feed.send(ProgressPayload(job_id=JOB, progress=43, stage="Running"))
    assert overlay.render(state) == 2  # bar value and label
    assert sorted(changes) == ["value", "value"]
    assert overlay.progress.bar.value == 43


def test_overlay_batches_each_widget_into_one_message(monkeypatch: pytest.MonkeyPatch) -> None:
    overlay = RealtimeOverlay(job_id=JOB, plugins=PLUGINS)
    sent: list[tuple[Any, dict[str, Any]]] = []

    def record(self: Any, msg: dict[str, Any], buffers: Any = None) -> None:
        sent.append((self, msg))

    monkeypatch.setattr(ipywidgets.Widget, "_send", record)
    feed = busy_feed()
    overlay.render(feed.send(JobPayload(job_id=JOB, status="completed")), (kept(0),))
    senders = [id(w) for w, _ in sent]
    assert len(senders) == len(set(senders))  # at most one message per widget per tick
    (bar_update,) = [m for w, m in sent if w is overlay.progress.bar]
    assert set(bar_update["state"]) == {"value", "bar_style"}
    sent.clear()
    overlay.render(feed.state, (kept(0),))
    assert sent == []


def test_overlay_title_and_notebook_display() -> None:
    overlay = RealtimeOverlay(plugins=PLUGINS)
    assert text_of(overlay.title.value) == "realtime_nb"
    overlay.render(busy_feed().state)
    assert text_of(overlay.title.value) == f"Job {JOB}"
    assert isinstance(overlay.widget, ipywidgets.VBox)
    bundle = overlay._repr_mimebundle_()
    view = bundle["application/vnd.jupyter.widget-view+json"]
    assert view["model_id"] == overlay.widget.model_id
    assert "RealtimeOverlay" in bundle["text/plain"]
    assert text_of(RealtimeOverlay(title="<Mine>").title.value) == "<Mine>"


def test_overlay_close() -> None:
    overlay = RealtimeOverlay(job_id=JOB)
    overlay.close()
    assert overlay.widget.comm is None
    assert overlay.progress.bar.comm is None
    assert set(overlay._repr_mimebundle_()) == {"text/plain"}


def test_overlay_contains_every_part() -> None:
    overlay = RealtimeOverlay(job_id=JOB, plugins=PLUGINS)
    tree = {id(w) for w in leaf_widgets(overlay.widget)}
    parts: list[Any] = [
        overlay.progress,
        overlay.frame,
        overlay.inspector,
        overlay.errors,
        overlay.connection,
    ]
    assert all(id(part.widget) in tree for part in parts)


def test_overlay_parts_carry_stable_css_classes_in_the_dom_order_tests_rely_on() -> None:
    overlay = RealtimeOverlay(job_id=JOB, plugins=PLUGINS)
    parts = {
        "overlay": overlay.widget,
        "progress": overlay.progress.widget,
        "frame": overlay.frame.widget,
        "inspector": overlay.inspector.widget,
        "errors": overlay.errors.widget,
        "metrics": overlay.metrics.widget,
        "badge": overlay.connection.widget,
    }
    for key, widget in parts.items():
        assert CSS_CLASSES[key] in widget._dom_classes, key
        assert CSS_CLASSES[key].startswith("rnb-")
    # The browser tests find parts by position: header (title, badge), errors, progress, ...
    header, *rest = overlay.widget.children
    assert header.children == (overlay.title, overlay.connection.widget)
    assert rest == [
        parts["errors"],
        parts["progress"],
        parts["metrics"],  # an experiment's charts; hidden without metrics
        parts["frame"],
        parts["inspector"],
    ]
    assert overlay.progress.widget.children == (overlay.progress.bar, overlay.progress.label)
    frame = overlay.frame
    assert frame.widget.children[:2] == (frame.image, frame.caption)
    assert frame.widget.children[2].children == (frame.live, frame.scrubber)
    assert frame.widget.children[3] is frame.toggles


def _rows(inspector: PluginInspector) -> dict[str, list[str]]:
    rows = inspector.table.value.split("<tr>")[2:]
    cells = [[text_of(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row)] for row in rows]
    return {c[0]: c[1:3] for c in cells}


def test_inspector_started_plugin_shows_running_once_frames_arrive() -> None:
    inspector = PluginInspector(["a", "b"])
    feed = Feed()
    inspector.render(
        feed.send(
            PluginStatusPayload(plugin="a", status="started"),
            PluginStatusPayload(plugin="b", status="started"),
        )
    )
    assert _rows(inspector) == {"a": ["started", "0"], "b": ["started", "0"]}
    inspector.render(feed.send(frame("f-0", "a", 1.0)))
    assert _rows(inspector) == {"a": ["running", "1"], "b": ["started", "0"]}
    inspector.render(feed.send(PluginStatusPayload(plugin="a", status="completed")))
    assert _rows(inspector)["a"] == ["completed", "1"]


def test_inspector_frames_is_the_larger_of_frames_seen_and_frames_reported() -> None:
    """Dropped frame messages must not under-count: the plugin's own count wins when larger."""
    feed = Feed()
    inspector = PluginInspector(["a", "b", "c"])
    inspector.render(feed.send(frame("f-0", "a", 1.0), frame("f-1", "a", 1.0)))
    assert _rows(inspector)["a"] == [
        "pending",
        "2",
    ]  # no status yet: only "started" becomes running
    state = feed.send(
        frame("f-0", "b", 1.0),
        PluginStatusPayload(plugin="a", status="completed", frames_processed=7),
        PluginStatusPayload(plugin="b", status="completed", frames_processed=0),
    )
    assert dict(state.plugin_frames) == {"a": 7, "b": 0}
    inspector.render(state)
    assert _rows(inspector) == {
        "a": ["completed", "7"],
        "b": ["completed", "1"],
        "c": ["pending", "0"],
    }


def test_picking_a_frame_shows_its_timings_and_warnings_in_the_inspector() -> None:
    overlay = RealtimeOverlay(job_id=JOB, plugins=["box"], drawer=drawer())
    frames = (kept(0), kept(5, warn="<lost> the ball"), kept(10))
    overlay.render(busy_feed().state, frames)
    assert overlay.inspector.picked.value == ""  # live: no frame picked

    overlay.frame.scrubber.value = 5  # the user picks frame 5: the overlay re-renders at once
    detail = text_of(overlay.inspector.picked.value)
    assert "Frame f-000005 (#5, picked)" in detail
    assert "box1.5 ms" in detail and "server_only0.25 ms" in detail
    assert "high box: <lost> the ball" in detail
    assert "&lt;lost&gt;" in overlay.inspector.picked.value  # escaped

    overlay.frame.scrubber.value = 0
    assert "No warnings on this frame." in text_of(overlay.inspector.picked.value)
    overlay.frame.live.value = True
    assert overlay.inspector.picked.value == ""
    assert overlay.frame.scrubber.value == 10


def test_inspector_shows_metadata_on_request() -> None:
    overlay = RealtimeOverlay(job_id=JOB, plugins=["box", "later"])
    meta = MetadataPayload(plugin="box", metadata=META)
    overlay.render(Feed().send(meta))
    inspector = overlay.inspector
    assert inspector.metadata.value == ""  # hidden until asked

    inspector.show_metadata.value = True  # the user presses Metadata
    rows = re.findall(r"<tr>(.*?)</tr>", inspector.metadata.value)
    cells = [[text_of(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row)] for row in rows[1:]]
    assert cells[0] == ["box", "test", "1", "? x ? x 3", "json", "1", "test"]
    assert cells[1][:2] == ["later", "no metadata yet"]
    inspector.show_metadata.value = False
    assert inspector.metadata.value == ""


def test_timing_bars_never_overflow_their_track() -> None:
    inspector = PluginInspector(["a", "b"])
    # One slow warm-up frame puts a's mean (29.9 ms) above its p95 (about 10 ms).
    state = Feed().send(
        frame("f-0", "a", 2000.0), *(frame(f"f-{i}", "a", 10.0) for i in range(1, 100))
    )
    inspector.render(Feed().send(frame("f-0", "b", 5.0)))
    inspector.render(state)
    widths = [int(w) for w in re.findall(r"width:(\d+)%", inspector.table.value)]
    assert widths and max(widths) == 100 and all(0 <= w <= 100 for w in widths)
    assert "overflow:hidden" in inspector.table.value


def test_scrubber_range_can_start_above_zero_and_live_off_pins_the_shown_frame() -> None:
    viewer = FrameViewer(drawer())
    viewer.render(Feed().state, (kept(50), kept(60)))  # attached to a job already running
    s = viewer.scrubber
    assert (s.min, s.max, s.value) == (50, 60, 60)
    viewer.live.value = False  # the user pauses on what is shown
    viewer.render(Feed().state, (kept(50), kept(60), kept(70)))
    assert viewer.picked is not None and viewer.picked.frame_index == 60
    assert s.value == 60 and not viewer.live.value
    viewer.live.value = True
    viewer.render(Feed().state, (kept(80), kept(90)))  # a range wholly above the old one
    assert (s.min, s.max, s.value) == (80, 90, 90)
