"""Tests of realtime_nb.notebook.frames: the bounded store of kept frames and drawing over them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import cv2
import msgspec
import numpy as np
import pytest
from conftest import TEST_METADATA as META

from realtime_nb.core import protocol as p
from realtime_nb.notebook.client import RealtimeClient
from realtime_nb.notebook.frames import (
    MAX_DRAWING_PLUGINS,
    FrameDrawer,
    FrameStore,
    KeptFrame,
    nearest,
)
from realtime_nb.vision.plugins import Plugin, PluginRegistry, default_registry
from realtime_nb.vision.plugins.base import Frame
from realtime_nb.vision.video_writer import encode_jpeg


class Dot(Plugin):
    name = "dot"
    metadata = META

    def process(self, frame: Frame, ctx: Any) -> dict[str, Any]:
        return {}

    def draw(self, frame: Frame, result: dict[str, Any]) -> None:
        x, y = result["at"]
        cv2.circle(frame, (x, y), 10, (255, 255, 255), -1)


class Broken(Dot):
    name = "broken"

    def draw(self, frame: Frame, result: dict[str, Any]) -> None:
        raise RuntimeError("draw bug")


def registry() -> PluginRegistry:
    reg = PluginRegistry()
    reg.register(Dot)
    reg.register(Broken)
    return reg


def kept(index: int, jpeg: bytes = b"j", **kw: Any) -> KeptFrame:
    fields: dict[str, Any] = {"width": 8, "height": 8, "results": {}, "timings_ms": {}}
    fields.update(kw)
    return KeptFrame(
        f"f-{index:06d}",
        index,
        jpeg,
        fields["width"],
        fields["height"],
        fields["results"],
        fields["timings_ms"],
        (),
    )


def grey(jpeg: bytes) -> Any:
    return cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_GRAYSCALE)


def test_store_keeps_the_newest_frames_within_count_and_bytes() -> None:
    store = FrameStore(max_frames=3, max_bytes=25)
    assert store.latest is None and store.frames() == ()
    for i in range(5):
        store.add(kept(i, b"x" * 10))
    assert [f.frame_index for f in store.frames()] == [3, 4]  # 30 bytes > 25: one more goes
    assert store.added == 5 and len(store) == 2
    store.add(kept(9, b"x" * 100))  # a frame bigger than the bound is still kept, alone
    assert [f.frame_index for f in store.frames()] == [9]
    assert store.latest is not None and store.latest.frame_index == 9


def test_store_ignores_replayed_or_older_frames() -> None:
    store = FrameStore(max_frames=5)
    store.add(kept(4))
    store.add(kept(4))
    store.add(kept(2))
    assert [f.frame_index for f in store.frames()] == [4]
    with pytest.raises(ValueError):
        FrameStore(max_frames=0)


def test_nearest_prefers_the_earlier_frame_on_a_tie() -> None:
    frames = [kept(i) for i in (2, 6, 10)]
    assert nearest([], 3) is None
    assert [nearest(frames, i).frame_index for i in (0, 4, 5, 8, 99)] == [2, 2, 6, 6, 10]  # type: ignore[union-attr]


def test_kept_frame_from_a_decoded_preview() -> None:
    warning = p.WarningPayload(plugin="dot", message="m", severity="low", frame_id="f-000007")
    header = p.PreviewHeader(
        job_id="j",
        frame_id="f-000007",
        frame_index=7,
        width=64,
        height=48,
        results={"dot": {"at": [3, 4]}},
        timings_ms={"dot": 1.5},
        warnings=[warning],
    )
    got_header, jpeg = p.decode_preview(p.encode_preview(header, b"\xff\xd8x"))
    frame = KeptFrame.from_preview(got_header, jpeg)
    assert (frame.frame_id, frame.frame_index, frame.width, frame.height) == ("f-000007", 7, 64, 48)
    assert frame.results == {"dot": {"at": [3, 4]}} and frame.timings_ms == {"dot": 1.5}
    assert frame.warnings == (warning,) and frame.jpeg == b"\xff\xd8x"


def test_drawer_draws_chosen_plugins_at_the_frames_own_size() -> None:
    drawer = FrameDrawer(registry())
    # A 1280x720 frame previewed at 400x225: results are in 1280x720 pixels.
    jpeg = encode_jpeg(np.zeros((720, 1280, 3), np.uint8), quality=90, max_width=400)
    frame = kept(0, jpeg, width=1280, height=720, results={"dot": {"at": [1000, 600]}})
    drawn = drawer.draw(frame, ["dot"])
    image = grey(drawn)
    assert image.shape == (225, 400)  # shrunk back to the preview's own size
    assert image[187, 312] > 200  # (1000, 600) at 400/1280
    assert image[20, 20] < 30
    assert drawer.draw(frame, []) is jpeg  # nothing chosen: the preview itself


def test_drawer_skips_unknown_and_failing_plugins(caplog: pytest.LogCaptureFixture) -> None:
    drawer = FrameDrawer(registry())
    jpeg = encode_jpeg(np.zeros((48, 64, 3), np.uint8), quality=90)
    results = {"broken": {"at": [5, 5]}, "elsewhere": {}, "dot": {"at": [40, 20]}}
    frame = kept(0, jpeg, width=64, height=48, results=results)
    assert drawer.can_draw("dot") and not drawer.can_draw("elsewhere")
    image = grey(drawer.draw(frame, results))
    assert image[20, 40] > 200 and image[5, 5] < 30
    assert "broken.draw failed" in caplog.text
    assert drawer.draw(kept(1, b"not a jpeg", results=results), ["dot"]) == b"not a jpeg"


def test_default_drawer_draws_the_builtin_football_plugins() -> None:
    from realtime_nb.vision.synthetic import synthetic_match

    clip = synthetic_match(seconds=1, fps=5, width=320, height=180, seed=4)
    frame = clip.frame(2)
    ball = clip.truth[2].ball
    assert ball is not None
    x, y = ball.center
    result = {
        "ball": {"box": [x - 6, y - 6, x + 6, y + 6], "center": [x, y], "radius": 6.0,
                 "confidence": 0.9, "predicted": False},
    }  # fmt: skip
    kept_frame = kept(
        2, encode_jpeg(frame, quality=90), width=320, height=180, results={"ball_detection": result}
    )
    drawer = FrameDrawer(default_registry)
    assert drawer.can_draw("ball_detection")
    drawn = grey(drawer.draw(kept_frame, ["ball_detection"]))
    assert np.abs(drawn.astype(int) - grey(kept_frame.jpeg).astype(int)).max() > 60


def test_store_charges_results_memory_from_the_header_size() -> None:
    store = FrameStore(max_frames=100, max_bytes=1000)
    for i in range(5):
        store.add(KeptFrame(f"f-{i}", i, b"x" * 10, 8, 8, {}, {}, (), header_bytes=40))
    # Each frame costs 10 + 6 x 40 = 250 bytes: four fit in 1,000.
    assert [f.frame_index for f in store.frames()] == [1, 2, 3, 4]
    assert kept(0, b"x" * 10).cost_bytes == 10


def test_a_plugin_registered_after_a_first_draw_becomes_drawable() -> None:
    reg = PluginRegistry()
    drawer = FrameDrawer(reg)
    assert not drawer.can_draw("dot")
    reg.register(Dot)
    assert drawer.can_draw("dot")


class DiscOptions(msgspec.Struct, forbid_unknown_fields=True):
    radius: int = 2


class Disc(Plugin):
    """Draws a white disc of the job's ``radius`` where it found one."""

    name = "test_disc"
    metadata = META
    Options = DiscOptions

    def process(self, frame: Frame, ctx: Any) -> dict[str, Any]:
        return {"at": [32, 24]}

    def draw(self, frame: Frame, result: dict[str, Any]) -> None:
        assert isinstance(self.options, DiscOptions)
        x, y = result["at"]
        cv2.circle(frame, (x, y), self.options.radius, (255, 255, 255), -1)


@pytest.fixture
def disc_in_the_kernel() -> Iterator[None]:
    """Disc registered in this process's default registry, as a notebook registers its own
    plugin (the kernel draws with the default registry)."""
    default_registry.register(Disc)
    yield
    default_registry.unregister(Disc.name)


def drawn_area(drawn: bytes, undrawn: bytes) -> int:
    """Pixels the drawing changed."""
    return int((np.abs(grey(drawn).astype(int) - grey(undrawn).astype(int)) > 60).sum())


def test_drawer_makes_each_plugin_with_the_options_it_is_given() -> None:
    reg = PluginRegistry()
    reg.register(Disc)
    drawer = FrameDrawer(reg)
    jpeg = encode_jpeg(np.zeros((48, 64, 3), np.uint8), quality=90)
    frame = kept(0, jpeg, width=64, height=48, results={"test_disc": {"at": [32, 24]}})
    small = drawn_area(drawer.draw(frame, ["test_disc"]), jpeg)
    large = drawn_area(drawer.draw(frame, ["test_disc"], {"test_disc": {"radius": 12}}), jpeg)
    assert 5 < small < 40 and 350 < large < 550  # pi r^2: 13 and 452
    assert not drawer.can_draw("test_disc", {"radius": "big"})  # options it does not take


def test_drawer_keeps_a_bounded_number_of_plugin_instances() -> None:
    reg = PluginRegistry()
    reg.register(Disc)
    drawer = FrameDrawer(reg)
    for radius in range(MAX_DRAWING_PLUGINS + 40):  # a notebook sweeping an option
        assert drawer.can_draw("test_disc", {"radius": radius})
    assert len(drawer._plugins) == MAX_DRAWING_PLUGINS
    assert ("test_disc", '{"radius": 0}') not in drawer._plugins  # the least recently used
    assert drawer.can_draw("test_disc", {"radius": 0})  # made again when asked


def test_the_kernel_draws_a_jobs_frames_with_the_jobs_plugin_options(
    server_factory: Any, disc_in_the_kernel: None
) -> None:
    server = server_factory(default_registry, executor="thread")
    clip = "synthetic://match?seconds=1&fps=10&width=64&height=64&players_per_team=0&noise=0"
    options = {"plugin_options": {"test_disc": {"radius": 12}}}
    with RealtimeClient(server.url, server.token).start() as client:
        job = client.submit(clip, ["test_disc"], options)
        assert job.wait(timeout=60)["status"] == "completed"
        job_id = job.job_id
        latest = job.frames[-1]
        preview = client.preview(job_id)
        assert preview is not None and 350 < drawn_area(preview, latest.jpeg) < 550
    with RealtimeClient(server.url, server.token).start() as client:  # another kernel
        job = client.job(job_id)
        job.wait(timeout=30)
        viewer = job.overlay().frame
        shown = viewer.shown
        assert shown is not None
        assert 350 < drawn_area(viewer.image.value, shown.jpeg) < 550
