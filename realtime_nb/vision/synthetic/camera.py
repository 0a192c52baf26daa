"""The pitch and the broadcast camera: a pinhole behind the near touchline, panning slowly.

Pitch coordinates are metres, x along the 105 m length, y across the 68 m width, z up.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

__all__ = [
    "PAN_PERIOD_S",
    "PITCH_LENGTH",
    "PITCH_WIDTH",
    "FloatArray",
    "camera_projection",
    "clip_box",
    "focal_length",
    "project",
]

FloatArray = npt.NDArray[np.float64]

PITCH_LENGTH = 105.0
PITCH_WIDTH = 68.0
PAN_PERIOD_S = 24.0
"""Seconds of one swing of the camera's pan (the play follows the same swing)."""


def focal_length(width: int, height: int) -> float:
    """Focal length in pixels of the camera for a ``width`` x ``height`` frame."""
    # 40 degrees across, but never more than 26 degrees tall: a taller view would reach above the
    # horizon, where the ground-plane warp has nothing sensible to show.
    return max((width / 2) / math.tan(math.radians(20)), (height / 2) / math.tan(math.radians(13)))


def camera_projection(target_x: float, focal: float, width: int, height: int) -> FloatArray:
    """3x4 projection of a camera behind the near touchline, 16 m up, looking at target_x."""
    centre = np.array([PITCH_LENGTH / 2, -28.0, 16.0])
    forward = np.array([target_x, 30.0, 0.0]) - centre
    forward /= np.linalg.norm(forward)
    right = np.cross(forward, [0.0, 0.0, 1.0])
    right /= np.linalg.norm(right)
    down = np.cross(forward, right)
    rotation = np.stack([right, down, forward])
    k = np.array([[focal, 0, width / 2], [0, focal, height / 2], [0, 0, 1]])
    proj: FloatArray = k @ np.column_stack([rotation, -rotation @ centre])
    return proj


def project(proj: FloatArray, x: float, y: float, z: float) -> tuple[tuple[float, float], float]:
    """Image point of pitch point ``(x, y, z)`` and its depth (<= 0: behind the camera)."""
    u, v, w = proj @ np.array([x, y, z, 1.0])
    if w <= 1e-6:
        return (0.0, 0.0), float(w)
    return (float(u / w), float(v / w)), float(w)


def clip_box(
    box: tuple[float, float, float, float], width: int, height: int
) -> tuple[int, int, int, int] | None:
    """Clip to the frame; None when less than half of the box is inside or it is tiny."""
    x1, y1, x2, y2 = box
    cx1, cy1 = max(0.0, x1), max(0.0, y1)
    cx2, cy2 = min(width - 1.0, x2), min(height - 1.0, y2)
    if cx2 <= cx1 or cy2 <= cy1 or cy2 - cy1 < 4:
        return None
    if (cx2 - cx1) * (cy2 - cy1) < 0.5 * (x2 - x1) * (y2 - y1):
        return None
    return round(cx1), round(cy1), round(cx2), round(cy2)
