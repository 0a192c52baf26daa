"""The radar: players and ball seen from above, in pitch metres, drawn as a mini-map.

It reads the same frame's results of ``pitch_detection`` (the pitch-to-image homography),
``player_detection`` and ``ball_detection``, and maps each person's feet (the bottom centre of
the box, or of its ``"body"``, what stood out, where player_detection widened the box to a
person's shoulders: the widening's odd pixel goes to one side, so the box's middle is not
the body's) and the ball's ground point to pitch coordinates: x along the 105 m length, y across
the 68 m width, origin at a corner. ``pitch_detection`` fits its homography to whatever
markings are in view (touchlines, halfway line, penalty and goal areas, centre circle), so a
broadcast camera that never sees four corners still gets one; on a frame where it finds none
nothing can be placed and the positions are None.

Example:
    >>> from realtime_nb.vision.plugins import PluginContext, VideoInfo
    >>> h = [[4.0, 0, 110], [0, 4.0, 44], [0, 0, 1]]  # a camera straight above
    >>> results = {"pitch_detection": {"homography": h},
    ...            "player_detection": {"detections": [{"box": [318, 150, 322, 180],
    ...                                                 "class": "player", "team": 0}]},
    ...            "ball_detection": {"ball": None}}
    >>> ctx = PluginContext(0, "f-000000", results, {}, VideoInfo(640, 360, 25, None))
    >>> Radar().process(None, ctx)["players"][0]["position"]
    [52.5, 34.0]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import cv2
import numpy as np

from realtime_nb.vision.plugins.base import Frame, Plugin, PluginContext, bgr_metadata
from realtime_nb.vision.plugins.pitch_model import (
    FINE_FEATURES,
    PITCH_LENGTH,
    PITCH_WIDTH,
    project,
)

__all__ = ["Radar", "ground_point", "to_pitch"]

_ROLE_COLOURS = {"goalkeeper": (0, 220, 255), "referee": (20, 20, 20)}
_DEFAULT_TEAMS = ((60, 60, 230), (230, 120, 40))
_MARKINGS = FINE_FEATURES.ends
"""The pitch's markings as pieces (the same model pitch_detection fits), for the mini-map."""


def ground_point(box: Sequence[float]) -> tuple[float, float]:
    """Where a box ``(x1, y1, x2, y2)`` touches the ground: the middle of its bottom edge (a
    person's feet, the ball's ground point below its centre).

    Example:
        >>> ground_point([318, 150, 322, 180])
        (320.0, 180.0)
    """
    return (box[0] + box[2]) / 2, float(box[3])


def to_pitch(
    homography: list[list[float]], points: list[tuple[float, float]]
) -> list[tuple[float, float]]:
    """Map image points to pitch metres with the inverse of a pitch-to-image homography.

    Args:
        homography: 3x3 matrix mapping pitch metres to image pixels, with the sign that puts
            the pitch in front of the camera (as pitch_detection reports it).
        points: Image points ``(x, y)``.

    Returns:
        Pitch points ``(x, y)`` in metres, one per input point; NaN for an image point that
        is not on the ground plane in front of the camera (above the horizon).

    Raises:
        numpy.linalg.LinAlgError: The homography is singular.
    """
    if not points:
        return []
    inverse = np.linalg.inv(np.asarray(homography, np.float64))
    mapped = project(inverse, np.asarray(points, np.float64))
    return [(float(x), float(y)) for x, y in mapped]


class Radar(Plugin):
    """Players and ball in pitch coordinates, for a top-down mini-map.

    Result::

        {"available": True, "pitch_size": [105.0, 68.0],
         "players": [{"position": [x, y] | None, "class": "player", "team": 0}, ...] | None,
         "ball": [x, y] | None, "team_colors": [[b, g, r], [b, g, r]]}

    ``available`` is False and ``players`` None when ``pitch_detection`` found no homography.
    A person (or the ball) whose ground point the homography puts behind the camera is not
    placed: its ``position`` (or ``ball``) is None.
    """

    name = "radar"
    metadata = bgr_metadata("homography-projection", 0.5, ["pitch_coordinates", "minimap"])
    requires = ("pitch_detection", "player_detection", "ball_detection")
    map_fraction = 0.28
    """Width of the drawn mini-map as a share of the frame's width."""

    def process(self, frame: Frame, ctx: PluginContext) -> dict[str, Any]:
        """Map the same frame's players and ball to pitch metres."""
        homography = (ctx.results.get("pitch_detection") or {}).get("homography")
        people = (ctx.results.get("player_detection") or {}).get("detections") or []
        ball = (ctx.results.get("ball_detection") or {}).get("ball")
        colours = (ctx.results.get("player_detection") or {}).get("team_colors") or []
        result: dict[str, Any] = {
            "available": False,
            "pitch_size": [PITCH_LENGTH, PITCH_WIDTH],
            "players": None,
            "ball": None,
            "team_colors": colours,
        }
        if homography is None:
            return result
        feet = [ground_point(d.get("body") or d["box"]) for d in people]
        if ball:
            feet.append(ground_point(ball["box"]))
        try:
            mapped = [_placed(p) for p in to_pitch(homography, feet)]
        except np.linalg.LinAlgError:
            return result
        result["available"] = True
        result["players"] = [
            {"position": position, "class": d.get("class"), "team": d.get("team")}
            for d, position in zip(people, mapped, strict=False)
        ]
        if ball:
            result["ball"] = mapped[-1]
        return result

    def draw(self, frame: Frame, result: dict[str, Any]) -> None:
        """Paint a mini-map in the frame's bottom-right corner: the pitch, a dot per person in
        their team's colour, and the ball in white. Says "no homography" when unavailable."""
        if not result:
            return
        h, w = frame.shape[:2]
        map_w = max(40, round(w * self.map_fraction))
        map_h = round(map_w * PITCH_WIDTH / PITCH_LENGTH)
        if map_w + 4 > w or map_h + 4 > h:
            return
        x0, y0 = w - map_w - 4, h - map_h - 4
        scale = map_w / PITCH_LENGTH

        def at(x: float, y: float) -> tuple[int, int]:
            x = min(max(x, 0.0), PITCH_LENGTH)
            y = min(max(y, 0.0), PITCH_WIDTH)
            return round(x0 + x * scale), round(y0 + y * scale)

        roi = frame[y0 : y0 + map_h, x0 : x0 + map_w]
        roi[:] = (roi * 0.3 + np.array((40, 110, 40)) * 0.7).astype(np.uint8)
        _draw_markings(frame, at)
        if not result.get("available"):
            cv2.putText(
                frame, "no homography", (x0 + 4, y0 + map_h // 2),
                cv2.FONT_HERSHEY_SIMPLEX, 0.35, (255, 255, 255), 1, cv2.LINE_AA,
            )  # fmt: skip
            return
        palette = [tuple(int(v) for v in c) for c in result.get("team_colors") or []]
        palette = palette or list(_DEFAULT_TEAMS)
        dot = max(2, round(map_w / 90))
        for person in result.get("players") or []:
            team, role = person.get("team"), person.get("class")
            if team is not None and team < len(palette):
                colour = palette[team]
            else:
                colour = _ROLE_COLOURS.get(role or "", (200, 200, 200))
            if person.get("position") is not None:
                cv2.circle(frame, at(*person["position"]), dot, colour, -1, cv2.LINE_AA)
        if result.get("ball"):
            cv2.circle(frame, at(*result["ball"]), dot, (255, 255, 255), -1, cv2.LINE_AA)


def _placed(point: tuple[float, float]) -> list[float] | None:
    """A pitch point rounded to centimetres, or None when it has none (behind the camera)."""
    x, y = point
    return [round(x, 2), round(y, 2)] if math.isfinite(x) and math.isfinite(y) else None


def _draw_markings(frame: Frame, at: Any) -> None:
    """The pitch's markings, from pitch_model's pieces, in pitch metres via ``at``."""
    white = (235, 235, 235)
    for a, b in _MARKINGS:
        cv2.line(frame, at(*a), at(*b), white, 1)
