"""Stop the realtime server under an open notebook and start it again: the page recovers.

``notebooks/restart.ipynb`` (beside this file) submits a 400-frame job and shows its overlay.
While the job runs, ``realtime-nb serve`` gets SIGTERM and is started again on the same port,
token and data dir with ``--resume-interrupted``. In the page: the connection badge goes from
Connected to "Reconnecting…" and back to Connected, the progress bar never goes back and ends at
100 %, new frames arrive after the restart, and ``job.wait()`` returns the completed job.
"""

from __future__ import annotations

import json
import re
import urllib.request
from typing import Any

import pytest

from .conftest import PLUGINS, TIMING, collapse

FRAMES = 400  # the fixture notebook's clip: 40 s at 10 fps


def badge_state(badge: str | None) -> str:
    """``"Connected · 3 ms"`` → ``"Connected"``, ``"Reconnecting… attempt 2"`` →
    ``"Reconnecting…"``: the state, without the latency or the attempt."""
    return (badge or "").split(" · ", 1)[0].split(" attempt ", 1)[0]


@pytest.mark.timeout(280)
def test_overlay_survives_a_server_restart(notebook_page: Any, realtime_server: Any) -> None:
    nb, console = notebook_page
    nb.open("restart.ipynb")
    nb.screenshot("opened")
    nb.run_all()

    # Mid-job, connected, a frame on screen: this is the moment to pull the plug.
    before = nb.wait_overlay(
        "s.imageHash && s.progress >= 10 && s.badge.startsWith('Connected')", timeout_ms=90_000
    )
    nb.screenshot("overlay-midjob", element=".jp-OutputArea-output > .widget-vbox")
    assert before["progress"] < 80, f"the job ran too fast to stop it mid-way: {before}"
    title = re.fullmatch(r"Job (j-[0-9a-f]+) on process", before["title"])  # and its executor
    assert title, before
    job_id = title.group(1)

    code = realtime_server.stop()  # SIGTERM, and wait for it to exit
    assert code == 0, f"realtime-nb serve exited with {code} on SIGTERM"
    down = nb.wait_overlay("/^Reconnecting… attempt [1-5]$/.test(s.badge)", timeout_ms=30_000)
    nb.screenshot("reconnecting", element=".jp-OutputArea-output > .widget-vbox")
    assert down["progress"] < 100, down

    realtime_server.start("--resume-interrupted")
    nb.wait_overlay("s.badge.startsWith('Connected')", timeout_ms=60_000)
    nb.screenshot("reconnected", element=".jp-OutputArea-output > .widget-vbox")

    final = nb.wait_overlay(
        "s.progress === 100 && s.label === 'Completed · 100 %'", timeout_ms=150_000
    )
    nb.wait_all_cells_ran(timeout_ms=60_000)
    nb.page.locator(".jp-OutputArea-output > .widget-vbox").first.scroll_into_view_if_needed()
    nb.screenshot("done")
    nb.screenshot("overlay-done", element=".jp-OutputArea-output > .widget-vbox")

    # The end state, as shown.
    nb.assert_no_plain_text_widgets()
    assert nb.overlay_count() == 1
    # stderr is allowed here (a client may log its reconnection), a traceback is not.
    nb.assert_no_error_outputs(allow_stderr=True)
    assert "progress-bar-success" in final["barClass"], final
    assert final["error"] == "", final
    assert badge_state(final["badge"]) == "Connected", final
    rows = {row[0]: row for row in final["rows"]}
    assert sorted(rows) == sorted(PLUGINS), final["rows"]
    for name in PLUGINS:
        _, status, _frames, mean, last, total, *_ = rows[name]
        assert status == "completed", rows[name]
        for timing in (mean, last, total):
            assert TIMING.match(timing), rows[name]
    stdout = [o["text"] for o in nb.output_texts() if o["mime"] == "application/vnd.jupyter.stdout"]
    assert f"final: completed {FRAMES} of {FRAMES} frames" in "\n".join(stdout), stdout

    # The story in between, sampled in the page 20 times a second.
    timeline = nb.timeline()
    states = collapse([badge_state(s["badge"]) for s in timeline])
    assert states[-1] == "Connected", states
    reconnecting = states.index("Reconnecting…")  # ValueError (a failure) if never shown
    assert "Connected" in states[:reconnecting], states
    assert "Connected" in states[reconnecting:], states
    progress = [s["progress"] for s in timeline if s["progress"] is not None]
    assert progress == sorted(progress), f"progress went back: {collapse(progress)}"
    first_down = next(
        i for i, s in enumerate(timeline) if badge_state(s["badge"]) == "Reconnecting…"
    )
    back = next(
        i
        for i, s in enumerate(timeline)
        if i > first_down and badge_state(s["badge"]) == "Connected"
    )
    seen = {s["imageHash"] for s in timeline[:back] if s["imageHash"]}
    new_frames = collapse([s["imageHash"] for s in timeline[back:] if s["imageHash"] not in seen])
    assert len(new_frames) >= 3, f"no live frames after the restart: {new_frames}"
    assert timeline[back]["progress"] < 100, "the job was over before the client reconnected"

    # The server agrees (the DOM checks above are the test; this names the culprit if not).
    req = urllib.request.Request(f"{realtime_server.url}/v1/jobs/{job_id}")
    req.add_header("Authorization", f"token {realtime_server.token}")
    with urllib.request.urlopen(req, timeout=10) as resp:
        record = json.load(resp)
    assert record["status"] == "completed", record
    assert record["frames_done"] == FRAMES, record

    assert console.unexpected_errors() == [], console.unexpected_errors()
