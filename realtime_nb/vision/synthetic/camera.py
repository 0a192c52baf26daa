"""The pitch and the broadcast camera: a pinhole behind the near touchline, panning slowly.

Pitch coordinates are metres, x along the 105 m length, y across the 68 m width, z up.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = [
    "PAN_PERIOD_S",
    "PITCH_LENGTH",
    "PITCH_WIDTH",
    "CameraRig",
    "FloatArray",
    "camera_projection",
    "camera_rig",
    "clip_box",
    "focal_length",
    "intrinsics",
    "project",
]

FloatArray = npt.NDArray[np.float64]

PITCH_LENGTH = 105.0
PITCH_WIDTH = 68.0
PAN_PERIOD_S = 24.0
"""Seconds of one swing of the camera's pan (the play follows the same swing)."""


@dataclass(frozen=True)
class CameraRig:
    """Where the broadcast camera stands and how it is aimed, in pitch metres.

    Attributes:
        height: Metres above the grass.
        distance: Metres behind the near touchline (the camera is at pitch y = -distance).
        target_y: Pitch y the camera looks at (on the halfway line's row when panned there).
        focal: Focal length in pixels.
    """

    height: float
    distance: float
    target_y: float
    focal: float


_HORIZON_MARGIN_DEG = math.degrees(math.atan(16.0 / 58.0)) - 13.0
"""How far below the horizon the frame's top edge stays (the classic camera: 16 m up, 28 m back,
looking at y = 30, never more than 26 degrees tall)."""


def camera_rig(width: int, height: int, fov_deg: float = 40.0, camera_height: float = 16.0,
               distance: float = 28.0) -> CameraRig:  # fmt: skip
    """A camera ``camera_height`` m up, ``distance`` m behind the near touchline, ``fov_deg``
    degrees across.

    The frame's top edge stays a little below the horizon (above it the ground-plane warp has
    nothing sensible to show): the camera tilts down further (looks at a nearer row) when the
    field of view is tall, and only when that is not enough is the view narrowed.
    """
    half_h = math.radians(fov_deg / 2)
    half_v = math.atan(math.tan(half_h) * height / width)
    margin = math.radians(_HORIZON_MARGIN_DEG)
    target_y = 30.0
    tilt = math.atan2(camera_height, distance + target_y)
    if tilt < half_v + margin:
        wanted = min(math.radians(60), half_v + margin)
        target_y = max(-distance * 0.5, camera_height / math.tan(wanted) - distance)
        tilt = math.atan2(camera_height, distance + target_y)
    focal = max((width / 2) / math.tan(half_h), (height / 2) / math.tan(max(tilt - margin, 0.02)))
    return CameraRig(camera_height, distance, target_y, focal)


def focal_length(width: int, height: int) -> float:
    """Focal length in pixels of the classic camera for a ``width`` x ``height`` frame."""
    return camera_rig(width, height).focal


def camera_projection(
    target_x: float, focal: float, width: int, height: int, rig: CameraRig | None = None
) -> FloatArray:
    """3x4 projection of a camera behind the near touchline looking at ``target_x``: the
    classic one (16 m up, 28 m back) unless ``rig`` says otherwise."""
    cam_h, dist, target_y = (16.0, 28.0, 30.0) if rig is None else (
        rig.height, rig.distance, rig.target_y)  # fmt: skip
    centre = np.array([PITCH_LENGTH / 2, -dist, cam_h])
    forward = np.array([target_x, target_y, 0.0]) - centre
    forward /= np.linalg.norm(forward)
    right = np.cross(forward, [0.0, 0.0, 1.0])
    right /= np.linalg.norm(right)
    down = np.cross(forward, right)
    rotation = np.stack([right, down, forward])
    proj: FloatArray = intrinsics(focal, width, height) @ np.column_stack(
        [rotation, -rotation @ centre]
    )
    return proj


def intrinsics(focal: float, width: int, height: int) -> FloatArray:
    """The camera's intrinsic matrix: ``focal`` pixels, the principal point at the middle of a
    ``width`` x ``height`` image. :func:`camera_projection` is it times ``[rotation |
    translation]``, the rotation's rows the camera's right, down and forward."""
    k: FloatArray = np.array([[focal, 0, width / 2], [0, focal, height / 2], [0, 0, 1]], float)
    return k


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
