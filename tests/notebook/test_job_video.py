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


def test_a_job_without_annotate_video_gets_its_video_drawn_when_asked(
    client: RealtimeClient, tmp_path: Path
) -> None:
    job = client.submit(SOURCE, PLUGINS)
    path = job.video(tmp_path / "drawn.mp4", timeout=120)
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        frames = [f.to_ndarray(format="bgr24") for f in container.decode(stream)]
    assert len(frames) == job.record()["frames_done"] == 12
    again = job.video(tmp_path / "again.mp4")  # drawn once, kept
    assert again.read_bytes() == path.read_bytes()


def test_a_video_while_the_job_runs_or_of_a_gone_source_is_refused_clearly(
    client: RealtimeClient, tmp_path: Path
) -> None:
    running = client.submit("synthetic://match?seconds=600&fps=10&width=64&height=64", PLUGINS)
    with pytest.raises(ApiError) as info:
        client.rest.download_video(running.job_id, tmp_path / "early.mp4")
    assert info.value.status == 409 and "annotate_video" in info.value.message
    running.cancel()
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(Path(job_video(client, tmp_path)).read_bytes())
    job = client.submit(str(clip), PLUGINS)
    job.wait(timeout=120)
    clip.unlink()
    out = tmp_path / "videos"
    out.mkdir()
    with pytest.raises(ApiError) as gone:
        job.video(out / "gone.mp4")
    assert gone.value.status == 404 and "cannot be read any more" in gone.value.message
    assert not list(out.iterdir())  # nothing half-written left behind


def job_video(client: RealtimeClient, tmp_path: Path) -> Path:
    """A short annotated clip to use as a source."""
    job = client.submit(SOURCE, PLUGINS, {"annotate_video": True})
    return job.video(tmp_path / "source.mp4", timeout=120)


def test_binary_endpoints_through_request_say_what_to_use(client: RealtimeClient) -> None:
    job = client.submit(SOURCE, PLUGINS, {"annotate_video": True})
    job.wait(timeout=120)
    with pytest.raises(ApiError) as info:
        client.request("GET", f"/v1/jobs/{job.job_id}/video")
    assert info.value.code == "NOT_JSON" and "job.video()" in info.value.message
