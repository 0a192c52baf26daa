"""The plugin API for your own plugins: subclass :class:`Plugin`, register it, run it.

This is the stable import path for third-party plugins (``from realtime_nb.plugins import
Plugin``) and for entry points in the ``realtime_nb.plugins`` group. The code lives in
:mod:`realtime_nb.vision.plugins`, beside the built-in plugins.

Example:
    >>> from realtime_nb.plugins import Plugin, PluginMetadata, register_plugin
    >>> @register_plugin
    ... class Brightness(Plugin):
    ...     name = "doc_brightness"
    ...     metadata = PluginMetadata(version="1.0", model="mean", input_shape=[None, None, 3],
    ...                               output_format="json", confidence_default=1.0,
    ...                               capabilities=["stats"])
    ...     def process(self, frame, ctx):
    ...         return {"brightness": float(frame.mean())}
"""

from __future__ import annotations

from realtime_nb.core.frame import Frame, VideoInfo
from realtime_nb.core.protocol import PluginMetadata
from realtime_nb.vision.plugins import (
    FrameRun,
    PipelineError,
    Plugin,
    PluginContext,
    PluginPipeline,
    PluginRegistry,
    PluginWarning,
    builtin_plugins,
    default_registry,
    register_plugin,
    run_plugins,
)

__all__ = [
    "Frame",
    "FrameRun",
    "PipelineError",
    "Plugin",
    "PluginContext",
    "PluginMetadata",
    "PluginPipeline",
    "PluginRegistry",
    "PluginWarning",
    "VideoInfo",
    "builtin_plugins",
    "default_registry",
    "register_plugin",
    "run_plugins",
]
