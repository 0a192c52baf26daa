"""Drawing a synthetic frame's parts: the pitch texture, the people and the ball.

Colours are BGR. ``lighting`` multiplies every colour drawn (see :func:`lit`).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from realtime_nb.vision.plugins.base import Frame
from realtime_nb.vision.synthetic.camera import PITCH_LENGTH, PITCH_WIDTH
from realtime_nb.vision.synthetic.truth import Role

__all__ = ["STANDS", "Body", "draw_ball", "draw_body", "draw_pitch", "jersey", "lit"]

_TEAM_JERSEYS = ((40, 40, 200), (190, 90, 30))  # BGR: red, blue
_GK_JERSEYS = ((20, 210, 230), (200, 50, 190))  # yellow, magenta
_REFEREE = (25, 25, 25)
_SKIN = (110, 150, 200)
_BALL = (245, 245, 245)
_GRASS = (50, 135, 60)
STANDS = (70, 62, 58)
"""The colour around the pitch, also what the frame shows beyond the warped texture."""
_BOARDS = ((30, 30, 160), (160, 90, 20), (20, 160, 200), (90, 90, 90))


@dataclass(frozen=True)
class Body:
    """A person as drawn in one frame: depth from the camera, box in pixels, who they are."""

    depth: float
    box: tuple[float, float, float, float]
    role: Role
    team: int | None
    jersey: tuple[int, int, int]

    def parts(self) -> list[tuple[float, float, float, float]]:
        """Torso, shorts and both legs as rectangles (the head is a circle on top)."""
        x1, y1, x2, y2 = self.box
        w, h = x2 - x1, y2 - y1
        return [
            (x1, y1 + 0.15 * h, x2, y1 + 0.52 * h),
            (x1, y1 + 0.52 * h, x2, y1 + 0.66 * h),
            (x1 + 0.05 * w, y1 + 0.66 * h, x1 + 0.42 * w, y2),
            (x2 - 0.42 * w, y1 + 0.66 * h, x2 - 0.05 * w, y2),
        ]

    def head(self) -> tuple[float, float, float]:
        """Centre and radius of the head."""
        x1, y1, x2, y2 = self.box
        return (x1 + x2) / 2, y1 + 0.08 * (y2 - y1), 0.08 * (y2 - y1)

    def covers(self, x: float, y: float) -> bool:
        """True when the point lies on the drawn body."""
        hx, hy, hr = self.head()
        if (x - hx) ** 2 + (y - hy) ** 2 <= hr * hr:
            return True
        return any(a <= x <= c and b <= y <= d for a, b, c, d in self.parts())


def jersey(role: Role, team: int | None) -> tuple[int, int, int]:
    """The shirt colour of a player or goalkeeper of ``team``, or of the referee."""
    if role == "referee":
        return _REFEREE
    palette = _GK_JERSEYS if role == "goalkeeper" else _TEAM_JERSEYS
    return palette[team or 0]


def lit(bgr: tuple[int, ...], lighting: float) -> tuple[int, ...]:
    """A colour under ``lighting`` (a brightness multiplier), clipped to 255."""
    return tuple(min(255, round(c * lighting)) for c in bgr)


def draw_body(img: Frame, body: Body, lighting: float) -> None:
    """Draw a person: shirt, shorts, legs and head."""
    shirt = lit(body.jersey, lighting)
    shorts = tuple(round(c * 0.55) for c in shirt)
    colours = (shirt, shorts, shirt, shirt)
    for (a, b, c, d), colour in zip(body.parts(), colours, strict=True):
        cv2.rectangle(img, (round(a), round(b)), (round(c), round(d)), colour, -1)
    hx, hy, hr = body.head()
    cv2.circle(img, (round(hx), round(hy)), max(1, round(hr)), lit(_SKIN, lighting), -1)


def draw_ball(img: Frame, ball: tuple[float, float, float, float], lighting: float) -> None:
    """Draw the ball, given as ``(x, y, radius, depth)`` in pixels, antialiased."""
    cx, cy, radius, _ = ball
    centre = (round(cx * 16), round(cy * 16))
    cv2.circle(img, centre, round(radius * 16), lit(_BALL, lighting), -1, cv2.LINE_AA, shift=4)


def draw_pitch(scale: float, x0: float, y0: float, stripes: bool, focal: float) -> Frame:
    """The pitch seen from above, ``scale`` pixels per metre, origin at pitch (x0, y0)."""
    width, height = round((PITCH_LENGTH - 2 * x0) * scale), round((PITCH_WIDTH + 24 - y0) * scale)
    tex = np.empty((height, width, 3), np.uint8)
    tex[:] = STANDS

    def px(x: float, y: float) -> tuple[int, int]:
        return round((x - x0) * scale * 16), round((y - y0) * scale * 16)

    def rect(x1: float, y1: float, x2: float, y2: float, colour: Any) -> None:
        cv2.rectangle(tex, px(x1, y1), px(x2, y2), colour, -1, cv2.LINE_AA, shift=4)

    for k, x in enumerate(np.arange(-8.0, PITCH_LENGTH + 8.0, 4.0)):
        rect(x, 80.0, x + 4.0, 81.5, _BOARDS[k % len(_BOARDS)])
    rect(-6.0, -5.0, PITCH_LENGTH + 6.0, 78.0, _GRASS)
    if stripes:
        band = PITCH_LENGTH / 18
        lighter = tuple(min(255, round(c * 1.1)) for c in _GRASS)
        for k in range(-1, 19, 2):
            rect(max(-6.0, k * band), -5.0, min(PITCH_LENGTH + 6.0, (k + 1) * band), 78.0, lighter)
    _draw_lines(tex, px, lambda y: (y + 28.0) ** 2 / (16.0 * focal))
    return tex


def _draw_lines(
    tex: Frame, px: Callable[[float, float], tuple[int, int]], pixel_m: Callable[[float], float]
) -> None:
    """Pitch markings, 0.12 m wide, but wider where far away (``pixel_m(y)`` is the depth one
    image pixel spans at pitch row y): seen at a grazing angle a 0.12 m line shrinks below a
    pixel and breaks into dashes, where a broadcast camera still shows a faint continuous line."""
    white = (255, 255, 255)

    def deep(y: float) -> float:  # half-width of a line running along the pitch's length
        return max(0.06, pixel_m(y) / 2)

    def wide(y: float) -> float:  # half-width of a line running across the pitch
        return max(0.06, 0.17 * pixel_m(y))

    def hline(x1: float, x2: float, y: float) -> None:
        half = deep(y)
        cv2.rectangle(tex, px(x1 - wide(y), y - half), px(x2 + wide(y), y + half), white, -1,
                      cv2.LINE_AA, shift=4)  # fmt: skip

    def vline(x: float, y1: float, y2: float) -> None:
        ys = np.linspace(y1, y2, 9)
        for a, b in itertools.pairwise(ys):
            quad = [px(x - wide(a), a), px(x + wide(a), a), px(x + wide(b), b), px(x - wide(b), b)]
            cv2.fillConvexPoly(tex, np.array(quad, np.int32), white, cv2.LINE_AA, shift=4)

    def arc(cx: float, cy: float, r: float, a0: float, a1: float) -> None:
        outer, inner = [], []
        for a in np.radians(np.linspace(a0, a1, 48)):
            c, s = math.cos(a), math.sin(a)
            y = cy + r * s
            outer.append(px(cx + (r + wide(y)) * c, cy + (r + deep(y)) * s))
            inner.append(px(cx + (r - wide(y)) * c, cy + (r - deep(y)) * s))
        cv2.fillPoly(tex, [np.array(outer + inner[::-1], np.int32)], white, cv2.LINE_AA, shift=4)

    mid = PITCH_LENGTH / 2
    for y in (0.0, PITCH_WIDTH):
        hline(0.0, PITCH_LENGTH, y)
    for x in (0.0, mid, PITCH_LENGTH):
        vline(x, 0.0, PITCH_WIDTH)
    for goal_x, sign in ((0.0, 1.0), (PITCH_LENGTH, -1.0)):
        for depth, half in ((16.5, 20.16), (5.5, 9.16)):
            inner_x = goal_x + sign * depth
            hline(min(goal_x, inner_x), max(goal_x, inner_x), 34 - half)
            hline(min(goal_x, inner_x), max(goal_x, inner_x), 34 + half)
            vline(inner_x, 34 - half, 34 + half)
        start = -53.13 if sign > 0 else 126.87
        arc(goal_x + sign * 11.0, 34.0, 9.15, start, start + 106.26)
    arc(mid, 34.0, 9.15, 0, 180)
    arc(mid, 34.0, 9.15, 180, 360)
    for (cx, cy), angle in (((0, 0), 0), ((PITCH_LENGTH, 0), 90), ((0, 68), 270), ((105, 68), 180)):
        arc(cx, cy, 1.0, angle, angle + 90)
