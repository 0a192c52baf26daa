"""Tests of the plugin pipeline (realtime_nb.vision.plugins.pipeline) and of the images a frame's
plugins share through their context (realtime_nb.vision.plugins.base.PluginContext.images)."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
import pytest

from realtime_nb.vision.plugins import Plugin, PluginContext, VideoInfo
from realtime_nb.vision.plugins.pipeline import PluginPipeline, run_plugins

INFO = VideoInfo(32, 24, 25, None)


class Sharer(Plugin):
    """Shares the frame's HSV image; returns what it saw in ``ctx.images`` first."""

    name = "sharer"

    def process(self, frame: np.ndarray, ctx: PluginContext) -> dict[str, Any]:
        """Share ``"hsv"``."""
        seen = sorted(ctx.images)
        ctx.share_image("hsv", np.asarray(cv2.cvtColor(frame, cv2.COLOR_BGR2HSV), np.uint8))
        return {"seen": seen, "images": id(ctx.images)}


class Reader(Plugin):
    """Reads the shared HSV image when it has the frame's shape."""

    name = "reader"

    def process(self, frame: np.ndarray, ctx: PluginContext) -> dict[str, Any]:
        """Report the shared image's mean hue, or None."""
        hsv = ctx.shared_image("hsv", frame.shape)
        hue = None if hsv is None else float(hsv[..., 0].mean())
        return {"hue": hue, "images": id(ctx.images)}


def _frames(n: int) -> list[np.ndarray]:
    return [np.full((24, 32, 3), (60 + 40 * i, 140, 50), np.uint8) for i in range(n)]


def test_every_plugin_of_a_frame_shares_one_dict_of_images_and_the_next_frame_starts_empty() -> (
    None
):
    runs = list(run_plugins([Sharer(), Reader()], _frames(2), INFO))
    for run, frame in zip(runs, _frames(2), strict=True):
        sharer, reader = run.results["sharer"], run.results["reader"]
        assert sharer["seen"] == []  # nothing left from the frame before
        assert sharer["images"] == reader["images"]
        hsv = cv2.cvtColor(frame, cv2.COLOR_BGR2HSV)
        assert reader["hue"] == pytest.approx(float(hsv[..., 0].mean()))
    assert runs[0].results["reader"]["hue"] != runs[1].results["reader"]["hue"]


def test_a_plugin_alone_finds_no_shared_image_and_skipped_sharers_share_nothing() -> None:
    pipeline = PluginPipeline([Sharer(), Reader()], INFO, catch=False)
    run = pipeline.process(0, _frames(1)[0], skip={"sharer"})
    assert run.results["reader"]["hue"] is None


def test_a_shared_image_is_read_only_and_found_only_at_its_shape() -> None:
    ctx = PluginContext(0, "f-000000", {}, {}, INFO)
    image = np.zeros((24, 32, 3), np.uint8)
    ctx.share_image("hsv", image)
    with pytest.raises(ValueError):
        image[0, 0, 0] = 1
    with pytest.raises(cv2.error):
        cv2.bitwise_not(np.zeros_like(image), dst=image)
    assert ctx.shared_image("hsv", (24, 32, 3)) is image
    assert ctx.shared_image("hsv", (24, 32)) is None
    assert ctx.shared_image("value", (24, 32)) is None
