"""Plugins that misbehave as a user's own code might: exit, hang, raise SystemExit, return what
JSON cannot hold, eat memory, raise. Loaded into a standalone server the way a user loads theirs:
``realtime-nb serve --plugins-from fault_plugins``.
"""

from __future__ import annotations

import os
import time
from typing import Any

from realtime_nb.core.protocol import PluginMetadata
from realtime_nb.plugins import Frame, Plugin, PluginContext, register_plugin

META = PluginMetadata(
    version="1",
    model="fault",
    input_shape=[None, None, 3],
    output_format="json",
    confidence_default=1.0,
    capabilities=["fault-injection"],
)


@register_plugin
class ExitOnFrame5(Plugin):
    """Ends its process on frame 5, as a C extension's abort or ``os._exit`` would."""

    name = "fault_exit"
    metadata = META

    def process(self, frame: Frame, ctx: PluginContext) -> dict[str, Any]:
        if ctx.frame_index == 5:
            os._exit(1)
        return {"i": ctx.frame_index}


@register_plugin
class HangOnFrame2(Plugin):
    """Sleeps for an hour on frame 2."""

    name = "fault_hang"
    metadata = META

    def process(self, frame: Frame, ctx: PluginContext) -> dict[str, Any]:
        if ctx.frame_index == 2:
            time.sleep(3600)
        return {"i": ctx.frame_index}


@register_plugin
class SystemExitOnFrame3(Plugin):
    """Raises SystemExit (not an Exception) on frame 3."""

    name = "fault_system_exit"
    metadata = META

    def process(self, frame: Frame, ctx: PluginContext) -> dict[str, Any]:
        if ctx.frame_index == 3:
            raise SystemExit(7)
        return {"i": ctx.frame_index}


@register_plugin
class NotJsonOnFrame2(Plugin):
    """Returns a value JSON cannot hold on frame 2 only."""

    name = "fault_not_json"
    metadata = META

    def process(self, frame: Frame, ctx: PluginContext) -> dict[str, Any]:
        if ctx.frame_index == 2:
            return {"oops": object()}
        return {"i": ctx.frame_index}


@register_plugin
class MemoryHogOnFrame4(Plugin):
    """Allocates 3 GB on frame 4."""

    name = "fault_mem_hog"
    metadata = META

    def process(self, frame: Frame, ctx: PluginContext) -> dict[str, Any]:
        if ctx.frame_index == 4:
            hog = bytearray(3 * 10**9)
            return {"size": len(hog)}
        return {"i": ctx.frame_index}


@register_plugin
class RaiseOnFrame1(Plugin):
    """Raises ValueError on frame 1 only: the job goes on."""

    name = "fault_raise"
    metadata = META

    def process(self, frame: Frame, ctx: PluginContext) -> dict[str, Any]:
        if ctx.frame_index == 1:
            raise ValueError("bad frame")
        return {"i": ctx.frame_index}
