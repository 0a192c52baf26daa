"""Plugins: the API (:class:`Plugin`, :class:`PluginContext`), the registry, and built-ins."""

from __future__ import annotations

from realtime_nb.core.frame import Frame, VideoInfo
from realtime_nb.vision.plugins.base import Plugin, PluginContext, PluginWarning
from realtime_nb.vision.plugins.builtins import builtin_plugins
from realtime_nb.vision.plugins.pipeline import FrameRun, PluginPipeline, run_plugins
from realtime_nb.vision.plugins.registry import (
    PipelineError,
    PluginRegistry,
    default_registry,
    register_plugin,
)

__all__ = [
    "Frame",
    "FrameRun",
    "PipelineError",
    "Plugin",
    "PluginContext",
    "PluginPipeline",
    "PluginRegistry",
    "PluginWarning",
    "VideoInfo",
    "builtin_plugins",
    "default_registry",
    "register_plugin",
    "run_plugins",
]
