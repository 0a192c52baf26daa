"""Plugins: the API (:class:`Plugin`, :class:`PluginContext`), the registry, and built-ins."""

from __future__ import annotations

from realtime_nb.plugins.base import Frame, Plugin, PluginContext, PluginWarning, VideoInfo
from realtime_nb.plugins.registry import (
    PipelineError,
    PluginRegistry,
    default_registry,
    register_plugin,
)

__all__ = [
    "Frame",
    "PipelineError",
    "Plugin",
    "PluginContext",
    "PluginRegistry",
    "PluginWarning",
    "VideoInfo",
    "builtin_plugins",
    "default_registry",
    "register_plugin",
]


def builtin_plugins() -> list[type[Plugin]]:
    """The plugin classes that ship with realtime_nb."""
    from realtime_nb.plugins.ball import BallDetection
    from realtime_nb.plugins.general import FaceDetection, MotionDetection, PeopleDetection
    from realtime_nb.plugins.pitch import PitchDetection
    from realtime_nb.plugins.players import PlayerDetection
    from realtime_nb.plugins.radar import Radar

    return [
        PitchDetection,
        PlayerDetection,
        BallDetection,
        Radar,
        MotionDetection,
        PeopleDetection,
        FaceDetection,
    ]
