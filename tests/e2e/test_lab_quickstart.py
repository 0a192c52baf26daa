"""The quickstart tutorial, run top to bottom in JupyterLab in headless Chromium.

What a person would see is checked in the page: the overlay renders as widgets (never as
``RealtimeOverlay(...)`` text), its progress bar moves and ends at 100 %, the frame viewer shows
JPEG previews whose pixels change while the job runs, the inspector lists every plugin as
completed with its timings, and the browser console stays free of errors.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from .conftest import PLUGINS, TIMING, collapse

FRAMES = 100  # the quickstart's clip: 4 s at 25 fps

# The first <video> in the outputs, once the browser has read its metadata: its duration in
# seconds, or -1 (no video element), -2 (the browser cannot decode it) or -3 (no metadata in 20 s).
_VIDEO_DURATION_JS = """async () => {
  const v = document.querySelector('.jp-OutputArea-output video');
  if (!v) return -1;
  if (v.readyState < 1 && !v.error) {
    await new Promise(done => {
      v.addEventListener('loadedmetadata', done, {once: true});
      v.addEventListener('error', done, {once: true});
      setTimeout(done, 20000);
    });
  }
  if (v.error) return -2;
  return v.readyState >= 1 ? v.duration : -3;
}"""


@pytest.mark.timeout(240)
def test_quickstart_runs_live_in_jupyterlab(notebook_page: Any) -> None:
    nb, console = notebook_page
    nb.open("01-quickstart.ipynb")
    nb.screenshot("opened")

    nb.run_all()
    # A picture mid-job, if the job is still running when the bar passes 30 %. Only the picture
    # depends on that timing: the checks below read the timeline the page recorded.
    try:
        snap = nb.wait_overlay(
            "(s.imageHash && s.progress >= 30) || s.label.startsWith('Completed')",
            timeout_ms=60_000,
        )
        if snap["progress"] < 100:
            nb.screenshot("overlay-midjob", element=".jp-OutputArea-output > .widget-vbox")
    except (Exception, pytest.fail.Exception) as exc:  # the checks after all cells ran tell why
        print(f"no mid-job screenshot: {exc}")
    nb.wait_all_cells_ran(timeout_ms=180_000)
    nb.screenshot("all-cells-ran")

    # Rendered as widgets, exactly one overlay, nothing as text, no error output.
    nb.assert_no_plain_text_widgets()
    assert nb.overlay_count() == 1
    nb.assert_no_error_outputs()
    nb.page.locator(".jp-OutputArea-output > .widget-vbox").first.scroll_into_view_if_needed()
    nb.screenshot("overlay-done", element=".jp-OutputArea-output > .widget-vbox")

    final = nb.latest()
    assert final is not None
    assert final["progress"] == 100, final
    assert final["label"] == "Completed · 100 %", final
    assert "progress-bar-success" in final["barClass"], final
    assert final["error"] == "", final
    assert final["imageVisible"] and final["imageWidth"] > 0 and final["imageHeight"] > 0, final
    assert re.match(rf"^frame f-0*{FRAMES - 1} · \w+ ", final["caption"] or ""), final

    rows = {row[0]: row for row in final["rows"]}
    assert sorted(rows) == sorted(PLUGINS), final["rows"]
    for name in PLUGINS:
        _, status, frames, mean, p95, last, total, *_ = rows[name]
        assert status == "completed", rows[name]
        assert frames == str(FRAMES), rows[name]
        for timing in (mean, p95, last, total):
            assert TIMING.match(timing), rows[name]

    # Live, not just the end state: the page showed the bar in between and it never went back,
    # and the image changed, pixel for pixel, while the job ran.
    timeline = nb.timeline()
    progress = [s["progress"] for s in timeline if s["progress"] is not None]
    assert progress == sorted(progress), collapse(progress)
    assert any(0 < p < 100 for p in progress), collapse(progress)
    running_hashes = collapse(
        [s["imageHash"] for s in timeline if s["imageHash"] and s["progress"] < 100]
    )
    assert len(set(running_hashes)) >= 3, running_hashes

    # job.video(): the annotated H.264 video plays in Chromium, whole (4 s at 25 fps).
    nb.page.locator(".jp-OutputArea-output video").first.scroll_into_view_if_needed()
    duration = nb.page.evaluate(_VIDEO_DURATION_JS)
    assert 3.5 <= duration <= 4.5, duration
    nb.screenshot("annotated-video", element=".jp-OutputArea-output video")

    # The notebook's own checks passed (their cells ran with no error), and the page is clean.
    assert console.unexpected_errors() == [], console.unexpected_errors()
