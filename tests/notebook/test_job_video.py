"""``job.video()``: the annotated video downloaded as H.264 in MP4, every frame there, boxes
labelled by plugin, through a real server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest

from realtime_nb.notebook.client import ApiError, RealtimeClient
from realtime_nb.vision.labels import plugin_colour
from realtime_nb.vision.video import FileSource

SOURCE = "synthetic://match?seconds=1.2&fps=10&width=320&height=180&seed=4"
PLUGINS = ["player_detection", "ball_detection"]


@pytest.fixture
def client(server_factory: Any) -> Any:
    server = server_factory(executor="thread")
    with RealtimeClient(server.url, server.token).start() as c:
        yield c


def test_video_is_h264_with_every_frame(client: RealtimeClient, tmp_path: Path) -> None:
    job = client.submit(SOURCE, PLUGINS, {"annotate_video": True})
    path = job.video(tmp_path / "out.mp4", timeout=120)
    record = job.record()
    assert path == tmp_path / "out.mp4" and record["status"] == "completed"
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert stream.codec_context.pix_fmt == "yuv420p"
        frames = [f.to_ndarray(format="bgr24") for f in container.decode(stream)]
    assert len(frames) == record["frames_done"] == record["frames_total"] == 12
    # The legend: a swatch in the first plugin's colour in the top-right corner of every frame.
    for frame in frames:
        corner = frame[4:40, -150:].reshape(-1, 3).astype(int)
        distance = np.abs(corner - np.array(plugin_colour(0))).sum(axis=1)
        assert (distance < 60).sum() >= 20
    with FileSource(path) as source:  # and OpenCV reads it back too
        assert source.info.frame_count == 12


def test_video_of_a_job_without_one_says_how_to_get_it(
    client: RealtimeClient, tmp_path: Path
) -> None:
    job = client.submit(SOURCE, PLUGINS)
    out = tmp_path / "videos"
    out.mkdir()
    with pytest.raises(ApiError) as info:
        job.video(out / "none.mp4", timeout=120)
    assert info.value.status == 404 and "annotate_video" in info.value.message
    assert not list(out.iterdir())  # nothing half-written left behind


def test_binary_endpoints_through_request_say_what_to_use(client: RealtimeClient) -> None:
    job = client.submit(SOURCE, PLUGINS, {"annotate_video": True})
    job.wait(timeout=120)
    with pytest.raises(ApiError) as info:
        client.request("GET", f"/v1/jobs/{job.job_id}/video")
    assert info.value.code == "NOT_JSON" and "job.video()" in info.value.message
