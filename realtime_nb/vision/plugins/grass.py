"""The grass, shared by the football plugins: the green mask, the pitch region and small helpers.

Each football plugin reads the pitch polygon from ``pitch_detection`` when it ran first on the
same frame, and finds the grass itself otherwise (:func:`pitch_region`), so any of them can run
alone.
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from realtime_nb.core.protocol import Severity
from realtime_nb.vision.plugins.base import Frame, PluginContext

__all__ = [
    "GREEN_HI",
    "GREEN_LO",
    "POLYGON_IMAGE",
    "Mask",
    "Points",
    "green_mask",
    "green_of_planes",
    "hsv_planes",
    "kernel",
    "pitch_hull",
    "pitch_region",
    "polygon_mask",
    "warn_once",
]

Mask = npt.NDArray[np.uint8]
Points = npt.NDArray[np.int32]

GREEN_LO = np.array([35, 40, 30], np.uint8)
"""Lower HSV bound (OpenCV ranges) of grass."""
GREEN_HI = np.array([85, 255, 255], np.uint8)
"""Upper HSV bound (OpenCV ranges) of grass."""


def green_mask(hsv: Frame) -> Mask:
    """Grass pixels of an HSV image (OpenCV ranges), as a 0/255 mask."""
    return np.asarray(cv2.inRange(hsv, GREEN_LO, GREEN_HI), np.uint8)


def hsv_planes(hsv: Frame) -> tuple[Mask, Mask, Mask]:
    """The hue, saturation and value planes of an HSV image, each contiguous.

    cv2.inRange over the three channels of a frame costs about eight times as much as over
    one (and a numpy slice of one channel is copied by every cv2 call it is passed to):
    where a frame is tested against several ranges, one-channel tests on these planes,
    combined, give the same masks for less (:func:`green_of_planes`).
    """
    # cv2.split takes the three planes in one pass, for a tenth of the instructions of three
    # cv2.extractChannel calls.
    hue, saturation, value = (np.asarray(plane, np.uint8) for plane in cv2.split(hsv))
    return hue, saturation, value


def green_of_planes(hue: Mask, saturation: Mask, value: Mask) -> Mask:
    """:func:`green_mask` from an HSV image's planes (:func:`hsv_planes`)."""
    green = cv2.inRange(hue, int(GREEN_LO[0]), int(GREEN_HI[0]))
    saturated = cv2.inRange(saturation, int(GREEN_LO[1]), int(GREEN_HI[1]))
    lit = cv2.inRange(value, int(GREEN_LO[2]), int(GREEN_HI[2]))
    green = cv2.bitwise_and(green, saturated, dst=green)
    return np.asarray(cv2.bitwise_and(green, lit, dst=green), np.uint8)


def kernel(width: int, height: int | None = None) -> Mask:
    """A ``height`` x ``width`` (square when ``height`` is None) structuring element of ones."""
    return np.ones((height or width, width), np.uint8)


def pitch_hull(green: Mask) -> Points | None:
    """Convex hull of the largest grass region, or None when there is no sizeable one."""
    h, w = green.shape
    size = max(3, round(min(h, w) * 0.03)) | 1
    # Closing swallows lines and players, so the grass is one region with them inside.
    solid = cv2.morphologyEx(green, cv2.MORPH_CLOSE, kernel(size))
    solid = cv2.morphologyEx(solid, cv2.MORPH_OPEN, kernel(max(3, size // 2)))
    contours, _ = cv2.findContours(solid, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return None
    largest = max(contours, key=cv2.contourArea)
    if cv2.contourArea(largest) < 0.05 * h * w:
        return None
    return np.asarray(cv2.convexHull(largest), np.int32)


def polygon_mask(shape: tuple[int, int], polygon: Points, out: Mask | None = None) -> Mask:
    """A 0/255 mask of ``shape`` with ``polygon`` filled (written into ``out`` when given, an
    array of that shape)."""
    if out is None:
        mask = np.zeros(shape, np.uint8)
    else:
        mask = out
        mask.fill(0)
    cv2.fillPoly(mask, [polygon.reshape(-1, 1, 2)], 255)
    return mask


POLYGON_IMAGE = "pitch polygon"
"""Name of the shared image (``PluginContext.images``) of pitch_detection's pitch polygon as
a 0/255 mask of the frame's size (:func:`polygon_mask`), once a plugin drew it."""


def pitch_region(ctx: PluginContext, green: Mask) -> Mask:
    """The pitch as a mask: pitch_detection's polygon when it ran first, else found here.
    The polygon's mask is shared as ``ctx.images["pitch polygon"]`` for the plugins after
    (ball_detection draws the same), and so comes back read-only."""
    earlier = ctx.results.get("pitch_detection") or {}
    polygon = earlier.get("pitch_polygon") or []
    if len(polygon) >= 3:
        mask = polygon_mask(green.shape[:2], np.asarray(polygon, np.int32))
        ctx.share_image(POLYGON_IMAGE, mask)
        return mask
    hull = pitch_hull(green)
    if hull is None:
        return np.full(green.shape, 255, np.uint8)
    return polygon_mask(green.shape[:2], hull)


def warn_once(ctx: PluginContext, key: str, message: str, severity: Severity) -> None:
    """Warn at the start of an episode only; the caller clears ``key`` when it ends."""
    if not ctx.state.get(key):
        ctx.warn(message, severity)
        ctx.state[key] = True
