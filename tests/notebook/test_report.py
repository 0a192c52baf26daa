"""Tests for realtime_nb.notebook.report: a static, self-contained HTML summary of a job."""

from __future__ import annotations

import base64
import io
import itertools
import re
from typing import Any

import numpy as np
import pytest
from IPython.core.formatters import format_display_data

from realtime_nb.core.protocol import (
    ErrorDetails,
    ErrorPayload,
    FramePayload,
    JobPayload,
    PluginStatusPayload,
    WarningPayload,
    make_message,
)
from realtime_nb.core.state import MessageReceived, RealtimeState, reduce
from realtime_nb.notebook.report import job_report, plugin_timings, timings_chart_png

JOB = "j-report"
PNG = re.compile(r'<img class="rnb-report-chart"[^>]*src="data:image/png;base64,([A-Za-z0-9+/=]+)"')


def feed(*payloads: Any) -> RealtimeState:
    state = RealtimeState()
    seq = itertools.count(1)
    for payload in payloads:
        state = reduce(state, MessageReceived(make_message(payload, job_id=JOB, seq=next(seq))))
    return state


def finished_state() -> RealtimeState:
    frames = [
        FramePayload(frame_id=f"f-{i}", plugin=p, data={}, timing_ms=ms)
        for i in range(4)
        for p, ms in (("fast", 1.0 + i), ("slow", 10.0 * (i + 1)))
    ]
    return feed(
        PluginStatusPayload(plugin="fast", status="started"),
        PluginStatusPayload(plugin="slow", status="started"),
        *frames,
        WarningPayload(
            plugin="slow", message="<b>dark</b> & grim", severity="high", frame_id="f-1"
        ),
        WarningPayload(
            plugin="slow", message="<b>dark</b> & grim", severity="high", frame_id="f-2"
        ),
        WarningPayload(plugin="fast", message="low light", severity="low"),
        ErrorPayload(
            error="boom <script>",
            plugin="slow",
            details=ErrorDetails(error_code="PLUGIN_CRASH", message="boom"),
            frame_id="f-3",
        ),
        PluginStatusPayload(plugin="fast", status="completed", timing_ms=10.0),
        PluginStatusPayload(plugin="slow", status="completed", timing_ms=100.0),
        JobPayload(job_id=JOB, status="completed"),
    )


def png_of(markup: str) -> bytes:
    match = PNG.search(markup)
    assert match, "no embedded chart"
    return base64.b64decode(match.group(1))


def test_report_has_chart_totals_and_escaped_warnings() -> None:
    report = job_report(finished_state())
    markup = report.data
    png = png_of(markup)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    # Totals
    for text in (
        "Status: <b>completed</b>",
        "Progress: <b>100 %</b>",
        "Plugins: <b>2</b>",
        "Frame results: <b>8</b>",
        "Warnings: <b>3</b>",
        "Errors: <b>1</b>",
    ):
        assert text in markup, text
    # Warnings grouped with severity and count, escaped; the error escaped too.
    assert "&lt;b&gt;dark&lt;/b&gt; &amp; grim <span>&times; 2</span>" in markup
    assert "low light <span>&times; 1</span>" in markup
    assert markup.index(">high<") < markup.index(">low<")  # most severe first
    assert "<script>" not in markup and "boom &lt;script&gt;" in markup
    assert "<code>PLUGIN_CRASH</code>" in markup
    # No widgets, no scripts: plain text/html that nbviewer shows as it is.
    bundle, _ = format_display_data(report)  # type: ignore[no-untyped-call]
    assert bundle["text/html"] == markup
    assert not any("widget" in mime for mime in bundle)


def test_report_from_state_shows_means_only() -> None:
    timings = {t.plugin: t for t in plugin_timings(finished_state())}
    assert timings["fast"].frames == 4 and timings["fast"].mean_ms == pytest.approx(2.5)
    assert timings["slow"].mean_ms == pytest.approx(25.0)
    assert timings["slow"].p95_ms is None


def test_report_from_results_shows_mean_and_p95() -> None:
    results = [
        {"plugin": "slow", "timing_ms": float(ms), "frame_index": ms} for ms in range(1, 101)
    ]
    timings = {t.plugin: t for t in plugin_timings(finished_state(), results)}
    assert timings["slow"].frames == 100
    assert timings["slow"].mean_ms == pytest.approx(50.5)
    assert timings["slow"].p95_ms == pytest.approx(float(np.percentile(range(1, 101), 95)))
    assert timings["fast"].frames == 0 and timings["fast"].p95_ms is None
    markup = job_report(finished_state(), results).data
    assert "Frame results: <b>100</b>" in markup
    assert "<th" in markup and ">p95<" in markup
    assert "50.5 ms" in markup  # the same text the live inspector shows (view.format_duration_ms)


def test_report_embeds_previews_as_jpeg_thumbnails() -> None:
    cv2 = pytest.importorskip("cv2")
    ok, jpeg = cv2.imencode(".jpg", np.full((8, 8, 3), 128, np.uint8))
    assert ok
    markup = job_report(finished_state(), previews=[jpeg.tobytes()] * 20).data
    thumbs = re.findall(
        r'class="rnb-report-thumb"[^>]*src="data:image/jpeg;base64,([^"]+)"', markup
    )
    assert len(thumbs) == 12
    assert base64.b64decode(thumbs[0]) == jpeg.tobytes()


def test_chart_is_a_readable_png() -> None:
    from matplotlib.image import imread

    png = timings_chart_png(plugin_timings(finished_state()))
    image = imread(io.BytesIO(png), format="png")
    assert image.shape[0] > 20 and image.shape[1] > 100


def test_report_of_an_empty_state() -> None:
    markup = job_report(RealtimeState()).data
    assert "No plugin timings." in markup and "No warnings." in markup
    assert "rnb-report-chart" not in markup
