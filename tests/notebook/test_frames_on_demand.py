"""A finished job's frames on demand: the server decodes any processed frame again and sends it
with its stored results, so a reattached job's scrubber covers every frame and its report picks
thumbnails over the whole clip."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from realtime_nb.notebook.client import ApiError, RealtimeClient
from realtime_nb.vision.synthetic import synthetic_match
from realtime_nb.vision.video import FileSource
from realtime_nb.vision.video_writer import write_video

FRAMES = 40
PLUGINS = ["player_detection", "ball_detection"]


@pytest.fixture
def server(server_factory: Any) -> Any:
    return server_factory(executor="thread")


@pytest.fixture
def finished_job_id(server: Any, tmp_path: Path) -> str:
    clip = synthetic_match(seconds=FRAMES / 10, fps=10, width=320, height=180, seed=6)
    path = write_video(clip, tmp_path / "clip.mp4", 10)
    with RealtimeClient(server.url, server.token).start() as client:
        job = client.submit(str(path), PLUGINS)  # live previews at the default 10 a second
        assert job.wait(timeout=120)["status"] == "completed"
        return job.job_id


def test_a_reattached_finished_jobs_scrubber_covers_every_frame(
    server: Any, finished_job_id: str, tmp_path: Path
) -> None:
    with RealtimeClient(server.url, server.token).start() as client:
        job = client.job(finished_job_id)
        job.wait(timeout=30)
        assert len(job.frames) < FRAMES  # live, only some frames were previewed and kept
        overlay = job.overlay()
        viewer = overlay.frame
        assert (viewer.scrubber.min, viewer.scrubber.max) == (0, FRAMES - 1)
        assert not viewer.scrubber.disabled
        stored = {(r["frame_index"], r["plugin"]): r["data"] for r in job.results()}
        with FileSource(tmp_path / "clip.mp4") as source:
            originals = list(source)
        for index in range(FRAMES):
            viewer.scrubber.value = index  # as a user drags the slider
            shown = viewer.shown
            assert shown is not None and shown.frame_index == index
            assert dict(shown.results) == {p: stored[index, p] for p in PLUGINS}
            assert list(shown.results) == PLUGINS  # pipeline order: drawn in that order
            if index % 13 == 0:  # the pixels are that frame's, not a neighbour's
                image = cv2.imdecode(np.frombuffer(shown.jpeg, np.uint8), cv2.IMREAD_COLOR)
                assert image.shape == originals[index].shape
                errors = [np.abs(image.astype(int) - o.astype(int)).mean() for o in originals]
                assert int(np.argmin(errors)) == index
        assert f"f-{FRAMES - 1:06d}" in viewer.caption.value


def test_the_report_of_a_reattached_job_spreads_thumbnails_over_the_clip(
    server: Any, finished_job_id: str
) -> None:
    with RealtimeClient(server.url, server.token, max_frames=1).start() as client:
        job = client.job(finished_job_id)
        job.wait(timeout=30)
        assert len(job.frames) <= 1
        html = job.report(thumbnails=6).data
    thumbnails = re.search(r'<div class="rnb-report-thumbnails">(.*?)</div>', html, re.S)
    assert thumbnails is not None
    assert thumbnails.group(1).count("<img") == 6


def test_a_frame_the_job_did_not_process_is_not_found(server: Any, finished_job_id: str) -> None:
    with RealtimeClient(server.url, server.token).start() as client:
        for index in (FRAMES, 10**6):
            with pytest.raises(ApiError) as info:
                client.rest.frame(finished_job_id, index)
            assert info.value.status == 404 and f"processed {FRAMES}" in info.value.message
        with pytest.raises(ApiError) as missing:
            client.rest.frame("j-nope", 0)
        assert missing.value.status == 404


def test_a_frame_whose_source_is_gone_says_so(
    server: Any, finished_job_id: str, tmp_path: Path
) -> None:
    (tmp_path / "clip.mp4").unlink()
    with (
        RealtimeClient(server.url, server.token).start() as client,
        pytest.raises(ApiError) as info,
    ):
        client.rest.frame(finished_job_id, 3)
    assert info.value.status == 404 and "cannot be read any more" in info.value.message
