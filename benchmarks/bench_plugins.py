"""Plugins the benchmark server loads (``realtime-nb serve --plugins-from bench_plugins``).

- ``bench_noop_0`` .. ``bench_noop_49``: return ~170 bytes at once, so one frame of a tiny
  synthetic clip turns into 50 frame messages of ~300 bytes each (the throughput figures).
- ``bench_pace``: sleeps until ``frame_index / BENCH_PACE_HZ`` seconds after the first frame (an
  absolute schedule, so the rate holds however long each sleep overshoots), then returns
  ``time.time()``: when the event was created, for the latency figure.
- ``bench_pace_<F>`` for each F in :data:`PACE_LADDER`: the same at F frames per second (the
  zero-loss fan-out search runs one job per rate on one server).
"""

from __future__ import annotations

import os
import time
from typing import Any

from realtime_nb.core.protocol import PluginMetadata
from realtime_nb.plugins import Frame, Plugin, PluginContext, register_plugin

META = PluginMetadata(
    version="1",
    model="bench",
    input_shape=[None, None, 3],
    output_format="json",
    confidence_default=1.0,
    capabilities=["benchmark"],
)
PAD = "x" * 160
NOOP_NAMES = [f"bench_noop_{i}" for i in range(50)]
PACE_HZ = float(os.environ.get("BENCH_PACE_HZ", "1000"))
PACE_LADDER = (4, 6, 9, 14, 20, 30, 45, 68, 100, 150, 225, 340)
"""Frame rates of the ``bench_pace_<F>`` plugins, each about 1.5 times the one before."""


def noop_result(index: int) -> dict[str, Any]:
    """What every ``bench_noop_*`` plugin returns (the bare baseline sends the same)."""
    return {"i": index, "pad": PAD}


def _make(name: str) -> type[Plugin]:
    def process(self: Plugin, frame: Frame, ctx: PluginContext) -> dict[str, Any]:
        return noop_result(ctx.frame_index)

    return register_plugin(
        type(name, (Plugin,), {"name": name, "metadata": META, "process": process})
    )


NOOP_PLUGINS = [_make(name) for name in NOOP_NAMES]


def _paced(name: str, hz: float) -> type[Plugin]:
    def process(self: Plugin, frame: Frame, ctx: PluginContext) -> dict[str, Any]:
        start = ctx.state.setdefault("t0", time.perf_counter())
        delay = start + ctx.frame_index / hz - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        return {"t": time.time(), "pad": PAD[:120]}

    doc = (
        f"Holds the job to {hz:g} frames per second and returns the wall clock taken as the "
        "event is created (after the wait), for the latency figures."
    )
    attrs = {"name": name, "metadata": META, "process": process, "__doc__": doc}
    return register_plugin(type(name, (Plugin,), attrs))


BenchPace = _paced("bench_pace", PACE_HZ)
PACED_PLUGINS = [_paced(f"bench_pace_{hz}", hz) for hz in PACE_LADDER]
