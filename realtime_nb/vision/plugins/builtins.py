"""The plugins that ship with realtime_nb, in the order ``/v1/plugins`` lists them."""

from __future__ import annotations

from realtime_nb.vision.plugins.ball import BallDetection
from realtime_nb.vision.plugins.base import Plugin
from realtime_nb.vision.plugins.general import FaceDetection, MotionDetection, PeopleDetection
from realtime_nb.vision.plugins.pitch import PitchDetection
from realtime_nb.vision.plugins.players import PlayerDetection
from realtime_nb.vision.plugins.radar import Radar

__all__ = ["builtin_plugins"]


def builtin_plugins() -> list[type[Plugin]]:
    """The plugin classes that ship with realtime_nb."""
    return [
        PitchDetection,
        PlayerDetection,
        BallDetection,
        Radar,
        MotionDetection,
        PeopleDetection,
        FaceDetection,
    ]
