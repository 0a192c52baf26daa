"""What a new user trips over, through the public API against a real server: relative paths, a
video that breaks part-way, an unreadable file, a plugin that lives only in the kernel, a
cancelled job's inspector, and a client that closes while its socket is busy."""

from __future__ import annotations

import gc
import logging
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import TEST_METADATA

from realtime_nb.notebook.client import ApiError, RealtimeClient
from realtime_nb.server.app import EmbeddedServer
from realtime_nb.vision.plugins.base import Plugin, PluginContext
from realtime_nb.vision.plugins.registry import PluginRegistry, default_registry
from realtime_nb.vision.synthetic import synthetic_match
from realtime_nb.vision.video_writer import write_video

CLIP_FRAMES = 40


class Brightness(Plugin):
    """Mean brightness of the frame."""

    name = "brightness"
    metadata = TEST_METADATA

    def process(self, frame: np.ndarray, ctx: PluginContext) -> dict[str, Any]:
        return {"mean": float(frame.mean())}


class Slow(Plugin):
    """50 ms a frame: a job long enough to cancel."""

    name = "slow"
    metadata = TEST_METADATA

    def process(self, frame: np.ndarray, ctx: PluginContext) -> dict[str, Any]:
        time.sleep(0.05)
        return {}


def make_registry() -> PluginRegistry:
    registry = PluginRegistry()
    registry.register(Brightness)
    registry.register(Slow)
    return registry


def write_clip(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    clip = synthetic_match(seconds=CLIP_FRAMES / 10, fps=10, width=320, height=180, seed=1)
    return write_video(clip, path, 10)


def damage_middle(path: Path) -> None:
    """Overwrite 40-70 % of the file with zeros: the container still announces every frame,
    but decoding stops where the damage starts."""
    data = bytearray(path.read_bytes())
    start, end = len(data) * 4 // 10, len(data) * 7 // 10
    data[start:end] = bytes(end - start)
    path.write_bytes(bytes(data))


@pytest.fixture
def client(server_factory: Any) -> Any:
    server: EmbeddedServer = server_factory(make_registry(), executor="thread")
    with RealtimeClient(server.url, server.token).start() as c:
        yield c


def test_a_relative_path_is_found_from_the_clients_working_directory(
    client: RealtimeClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clip = write_clip(tmp_path / "clips" / "street.mp4")
    monkeypatch.chdir(tmp_path)
    job = client.submit("clips/street.mp4", ["brightness"])
    assert job.wait(timeout=60)["status"] == "completed"
    assert job.record()["source"] == str(clip.resolve())
    monkeypatch.chdir(tmp_path / "clips")
    for source in ("street.mp4", "./street.mp4"):
        assert client.submit(source, ["brightness"]).wait(timeout=60)["status"] == "completed"


def test_a_missing_file_says_where_the_server_looked(
    client: RealtimeClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ApiError) as info:
        client.submit("clips/nope.mp4", ["brightness"])
    assert info.value.code == "SOURCE_NOT_FOUND"
    assert f"looked for {tmp_path.resolve() / 'clips' / 'nope.mp4'}" in info.value.message


def test_random_bytes_are_unreadable_not_missing(client: RealtimeClient, tmp_path: Path) -> None:
    junk = tmp_path / "x.mp4"
    junk.write_bytes(np.random.default_rng(1).bytes(200_000))
    with pytest.raises(ApiError) as info:
        client.submit(str(junk), ["brightness"])
    assert info.value.code == "SOURCE_UNREADABLE"
    assert str(junk) in info.value.message and "exists" in info.value.message


def test_a_video_that_breaks_part_way_says_so(client: RealtimeClient, tmp_path: Path) -> None:
    clip = write_clip(tmp_path / "broken.mp4")
    damage_middle(clip)
    job = client.submit(str(clip), ["brightness"])
    record = job.wait(timeout=60)
    done, total = record["frames_done"], record["frames_total"]
    assert total == CLIP_FRAMES and 0 < done < total, record
    warnings = [w for w in job.state.warnings if w.plugin == "source"]
    assert len(warnings) == 1 and warnings[0].severity == "high"
    assert f"after {done} of the {total} frames" in warnings[0].message
    assert job.state.progress == done * 100 // total
    assert job.state.stage == f"Completed: {done} of {total} frames decoded"
    assert len(job.results("brightness")) == done


def test_a_whole_video_still_ends_at_100(client: RealtimeClient, tmp_path: Path) -> None:
    job = client.submit(str(write_clip(tmp_path / "whole.mp4")), ["brightness"])
    record = job.wait(timeout=60)
    assert record["frames_done"] == record["frames_total"] == CLIP_FRAMES
    assert job.state.progress == 100 and not job.state.warnings


def test_a_cancelled_jobs_plugins_show_cancelled(client: RealtimeClient) -> None:
    job = client.submit("synthetic://match?seconds=60&fps=10&width=64&height=64", ["slow"])
    deadline = time.monotonic() + 30
    while job.state.frames_received < 3:
        assert time.monotonic() < deadline, "the job never started"
        time.sleep(0.05)
    job.cancel()
    assert job.wait(timeout=30)["status"] == "cancelled"
    assert dict(job.state.plugin_status) == {"slow": "cancelled"}
    assert job.state.stage == "Cancelled"
    table = job.overlay().inspector.table.value  # what the inspector shows
    assert ">cancelled<" in table and "running" not in table


def test_a_plugin_only_in_this_kernel_is_named_as_such(server_factory: Any) -> None:
    """The server has its own registry (as a remote one would); the kernel registered a plugin
    in the default registry that the server never loaded."""

    class KernelOnly(Plugin):
        name = "kernel_only_test_plugin"
        metadata = TEST_METADATA

        def process(self, frame: np.ndarray, ctx: PluginContext) -> dict[str, Any]:
            return {}

    server: EmbeddedServer = server_factory(make_registry(), executor="thread")
    default_registry.register(KernelOnly)
    try:
        with RealtimeClient(server.url, server.token).start() as client:
            with pytest.raises(ApiError) as info:
                client.submit("synthetic://match?seconds=1", ["kernel_only_test_plugin"])
            with pytest.raises(ApiError) as typo:
                client.submit("synthetic://match?seconds=1", ["brightnes"])
    finally:
        default_registry.unregister("kernel_only_test_plugin")
    message = info.value.message
    assert info.value.code == "PLUGIN_UNKNOWN"
    assert "registered in this Python process but not on the server" in message
    assert "--plugins-from" in message
    # A plain typo is not blamed on the kernel: the server's own list of names is enough.
    assert typo.value.code == "PLUGIN_UNKNOWN" and "this Python process" not in typo.value.message
    assert "brightness" in typo.value.message


def test_clients_that_close_at_once_leave_nothing_behind(
    server_factory: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """A ``run`` that fails right after connecting closes its client while the server's first
    messages are still arriving: no exception in the client thread, no task left pending."""
    server: EmbeddedServer = server_factory(make_registry(), executor="thread", ping_interval=0.01)
    thread_errors: list[BaseException | None] = []
    previous_hook = threading.excepthook
    threading.excepthook = lambda args: thread_errors.append(args.exc_value)
    caplog.set_level(logging.ERROR, logger="asyncio")
    try:
        for _ in range(25):
            client = RealtimeClient(server.url, server.token).start()
            client.follow("j-nothing")
            time.sleep(0.02)  # pings arrive; the client answers them as it closes
            client.close()
        gc.collect()  # a task destroyed while pending is reported when it is collected
    finally:
        threading.excepthook = previous_hook
    assert thread_errors == []
    assert not [r for r in caplog.records if r.name == "asyncio"], caplog.text
