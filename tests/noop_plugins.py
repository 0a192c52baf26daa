"""Fifty trivial plugins for load tests: each returns ~200 bytes per frame, as fast as possible.

Loaded into a standalone server with ``realtime-nb serve --plugins-from noop_plugins``.
"""

from __future__ import annotations

import time
from typing import Any

from realtime_nb.core.protocol import PluginMetadata
from realtime_nb.plugins import Frame, Plugin, PluginContext, register_plugin

META = PluginMetadata(
    version="1",
    model="noop",
    input_shape=[None, None, 3],
    output_format="json",
    confidence_default=1.0,
    capabilities=["load-test"],
)
PAYLOAD = "x" * 160

NAMES = [f"noop_{i}" for i in range(50)]


def _make(name: str) -> type[Plugin]:
    def process(self: Plugin, frame: Frame, ctx: PluginContext) -> dict[str, Any]:
        return {"i": ctx.frame_index, "pad": PAYLOAD}

    cls = type(name, (Plugin,), {"name": name, "metadata": META, "process": process})
    return register_plugin(cls)


PLUGINS = [_make(name) for name in NAMES]


@register_plugin
class Pace(Plugin):
    """Sleeps 2 ms a frame: paces a load test below what a Python reader can decode on a
    shared 2-core machine, so "the reader got everything" tests delivery, not the CPU."""

    name = "pace"
    metadata = META

    def process(self, frame: Frame, ctx: PluginContext) -> dict[str, Any]:
        time.sleep(0.002)
        return {}


@register_plugin
class Tick(Plugin):
    """Sleeps 50 ms a frame: a job that takes a while but costs no CPU (soak tests run ten
    at once on two cores)."""

    name = "tick"
    metadata = META

    def process(self, frame: Frame, ctx: PluginContext) -> dict[str, Any]:
        time.sleep(0.05)
        return {"i": ctx.frame_index}
