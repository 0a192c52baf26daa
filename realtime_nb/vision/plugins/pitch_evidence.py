"""One frame's line evidence for pitch registration: the white-line mask, a sample of its
pixels, and the mask grown by a few pixels, at the frame's scale."""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property

import cv2
import numpy as np
import numpy.typing as npt

from realtime_nb.vision.plugins.grass import Mask

__all__ = ["LineEvidence"]


class LineEvidence:
    """One frame's line evidence, at the frame's scale (``s`` = width / 640): the line mask,
    ``inside`` (the pitch's hull, where markings are looked for), ``grass`` (solid grass;
    ``inside`` when not given) and ``straight``, which builds the mask the full search finds
    straight lines in (:attr:`straight_mask`; the line mask when not given)."""

    def __init__(
        self,
        lines: Mask,
        inside: Mask,
        max_pixels: int = 800,
        grass: Mask | None = None,
        straight: Callable[[], Mask] | None = None,
    ) -> None:
        self.mask, self.inside = lines, inside
        self.grass = inside if grass is None else grass
        self._straight = straight
        self.h, self.w = lines.shape
        self.s = self.w / 640
        points = _line_points(lines)
        # At most about max_pixels line pixels: enough for fitting and scoring.
        step = max(1, len(points) // max_pixels)
        self.pixels = points[::step].astype(np.float64)
        # Pixels within ~3 px (at 640 wide) of a line: a dilation by a disc, cheaper than a
        # distance transform and all the scoring asks of one.
        r = max(1, round(3 * self.s))
        disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
        self.near = np.asarray(cv2.dilate(lines, disc), np.uint8) > 0

    @cached_property
    def all_pixels(self) -> npt.NDArray[np.float64]:
        """Every line pixel ``(n, 2)``: :attr:`straight_pixels` where no other mask is given."""
        return _line_points(self.mask).astype(np.float64)

    @cached_property
    def straight_mask(self) -> Mask:
        """The mask the full search finds straight lines in: the line mask with the pixels it
        leaves out on the boards (where green off the grass's hue meets the grass). A far
        touchline too faint for the line mask is often seen only there, a few pixels off; fits
        are refined and scored on the line mask."""
        return self.mask if self._straight is None else self._straight()

    @cached_property
    def straight_pixels(self) -> npt.NDArray[np.float64]:
        """Every pixel of :attr:`straight_mask` ``(n, 2)``."""
        if self._straight is None:
            return self.all_pixels
        return _line_points(self.straight_mask).astype(np.float64)

    def visible(self, pts: npt.NDArray[np.float64]) -> npt.NDArray[np.bool_]:
        """Image points inside the frame and on the pitch."""
        ok = np.isfinite(pts).all(axis=-1)
        x = np.where(ok, pts[..., 0], -1).astype(np.int64)
        y = np.where(ok, pts[..., 1], -1).astype(np.int64)
        ok &= (x >= 0) & (x < self.w) & (y >= 0) & (y < self.h)
        ok[ok] = self.inside[y[ok], x[ok]] > 0
        out: npt.NDArray[np.bool_] = ok
        return out


def _line_points(mask: Mask) -> npt.NDArray[np.int32]:
    """The ``(x, y)`` of every set pixel ``(n, 2)``, row by row as ``np.nonzero`` orders them
    (``cv2.findNonZero`` is about four times as fast on a frame-sized mask)."""
    points = cv2.findNonZero(mask)
    if points is None:
        return np.zeros((0, 2), np.int32)
    return np.asarray(points, np.int32).reshape(-1, 2)
