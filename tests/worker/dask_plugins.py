"""Plugins the Dask tests run on their workers (sent by value: see test_dask.py)."""

from __future__ import annotations

import os
import time
from typing import Any

import cv2
import numpy as np

from realtime_nb.core.protocol import PluginMetadata
from realtime_nb.vision.plugins.base import Frame, Plugin, PluginContext
from realtime_nb.vision.plugins.registry import PluginRegistry

# Not conftest's TEST_METADATA: this module is unpickled by the scheduler and workers of the
# tests' own cluster processes, where conftest is not importable.
METADATA = PluginMetadata(
    version="1",
    model="test",
    input_shape=[None, None, 3],
    output_format="json",
    confidence_default=1.0,
    capabilities=["test"],
)


class Edges(Plugin):
    """Stateless: edge pixels and mean colour of the frame (floats, to compare bytes)."""

    name = "dask_edges"
    metadata = METADATA

    def process(self, frame: Frame, ctx: PluginContext) -> dict[str, Any]:
        gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        edges = cv2.Canny(gray, 50, 150)
        if ctx.frame_index % 7 == 3:
            ctx.warn(f"frame {ctx.frame_index} is a multiple of 7 plus 3", "low")
        return {
            "edges": int(np.count_nonzero(edges)),
            "mean": [float(v) for v in frame.reshape(-1, 3).mean(axis=0)],
        }


class Delta(Plugin):
    """Keeps one frame of history: the change of mean brightness since the previous frame."""

    name = "dask_delta"
    metadata = METADATA
    history_frames = 1

    def setup(self, info: Any) -> None:
        self.previous: float | None = None

    def process(self, frame: Frame, ctx: PluginContext) -> dict[str, Any]:
        mean = float(frame.mean())
        delta = None if self.previous is None else mean - self.previous
        self.previous = mean
        return {"delta": delta}


class Counter(Plugin):
    """Depends on the whole past: the number of frames it has seen."""

    name = "dask_counter"
    metadata = METADATA
    history_frames = None

    def process(self, frame: Frame, ctx: PluginContext) -> dict[str, Any]:
        ctx.state["n"] = ctx.state.get("n", 0) + 1
        return {"n": ctx.state["n"]}


class Where(Plugin):
    """Stateless: which process ran the frame (results differ by worker: not compared)."""

    name = "dask_where"
    metadata = METADATA

    def process(self, frame: Frame, ctx: PluginContext) -> dict[str, Any]:
        return {"pid": os.getpid()}


class Slow(Plugin):
    """Stateless and slow: 20 ms a frame, so a job runs long enough to watch or break."""

    name = "dask_slow"
    metadata = METADATA

    def process(self, frame: Frame, ctx: PluginContext) -> dict[str, Any]:
        time.sleep(0.02)
        return {"index": ctx.frame_index}


def registry() -> PluginRegistry:
    """The default plugins and these."""
    reg = PluginRegistry()
    reg.load_entry_points()
    for cls in (Edges, Delta, Counter, Where, Slow):
        reg.register(cls)
    return reg
