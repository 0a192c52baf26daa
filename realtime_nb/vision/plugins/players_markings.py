"""Boxes that are line paint, for player_detection: the pitch's markings through the homography.

On small, compressed frames a piece of a line (where two lines cross, where an arc runs
upright, a touchline seen steeply) is washed into pale green blotches that no longer look like
line paint by colour, and passes for a small person. With a good homography the markings' places
are known: a box is paint when nearly all its pixels that stand out from the grass lie on a
projected marking and have the colour of paint (the grass blended with white), so a person
standing on a line, whose kit, skin, hair or boots are not that colour, stays.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np
import numpy.typing as npt

from realtime_nb.vision.plugins.arrays import clip
from realtime_nb.vision.plugins.base import Frame
from realtime_nb.vision.plugins.pitch_model import (
    FINE_FEATURES,
    PERSON_HEIGHT_M,
    clip_pieces_where,
    in_view,
    lengths,
    project_pieces,
    segment_distance,
)

__all__ = [
    "BAND_SLACK_PX",
    "BAND_WIDTH_M",
    "MARKING_WIDTH_M",
    "PAINT_COLOUR",
    "PAINT_SHARE",
    "PAINT_SLACK_PX",
    "marking_band",
    "on_paint",
]

MARKING_WIDTH_M = 0.25
"""The widest line paint looked for, metres (the laws allow up to 12 cm; worn, blurred or
wide-painted lines spread further)."""
PAINT_SLACK_PX = 1.5
"""Pixels either side of a marking's paint still counted on it: the homography's error and
JPEG's ringing."""
PAINT_COLOUR = 40.0
"""Most BGR distance (Euclidean) from the grass-to-white blend for a pixel of paint."""
PAINT_SHARE = 0.9
"""Least share of a box's standing-out pixels that are paint for the box to be paint."""
_PIECES = FINE_FEATURES.ends
_last_projected: tuple[bytes, npt.NDArray[np.float64]] | None = None


def _projected(homography: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """The markings' pieces projected through ``homography``, read-only: :func:`marking_band`
    and :func:`on_paint` ask with the same homography in a frame, so the last answer is
    kept."""
    global _last_projected
    homography = np.asarray(homography, np.float64)
    key = homography.tobytes()
    last = _last_projected
    if last is not None and last[0] == key:
        return last[1]
    pieces = project_pieces(homography, _PIECES)
    pieces.setflags(write=False)
    _last_projected = (key, pieces)
    return pieces


def on_paint(
    frame: Frame,
    boxes: list[list[int]],
    stand_out: Callable[[list[int]], npt.NDArray[np.bool_]],
    homography: npt.NDArray[np.float64],
    grass_bgr: npt.NDArray[np.float64],
    person_heights: list[float],
) -> list[bool]:
    """Whether each box is line paint.

    Args:
        frame: The BGR frame.
        boxes: ``[x1, y1, x2, y2]`` each, inclusive pixels.
        stand_out: Which pixels of a box (rows by columns) stand out from the grass; asked
            only about boxes near a marking.
        homography: Pitch metres to image pixels.
        grass_bgr: The grass's mean colour.
        person_heights: Per box, a person's height (px) standing at its bottom: the scale of
            a metre there.

    Returns:
        Per box, True when at least :data:`PAINT_SHARE` of its standing-out pixels are
        within :data:`PAINT_COLOUR` of the grass blended with white and lie within half
        :data:`MARKING_WIDTH_M` (plus :data:`PAINT_SLACK_PX`) of a projected marking; False
        for a box with no standing-out pixel.
    """
    pieces = _projected(homography)
    pieces = pieces[np.isfinite(pieces).all(axis=(1, 2))]
    out = [False] * len(boxes)
    if not len(boxes) or not len(pieces):
        return out
    corners = np.asarray(boxes, np.float64)
    bands = 0.5 * MARKING_WIDTH_M * np.asarray(person_heights) / PERSON_HEIGHT_M
    bands += PAINT_SLACK_PX
    # Most boxes are nowhere near a marking: one distance from each box's middle first.
    middles = 0.5 * (corners[:, :2] + corners[:, 2:])
    half_diagonals = 0.5 * np.hypot(*(corners[:, 2:] - corners[:, :2] + 1).T)
    near = segment_distance(middles, pieces).min(axis=1) <= half_diagonals + bands
    grass = np.asarray(grass_bgr, np.float64)[:3]
    toward_white = 255.0 - grass
    reach2 = max(float(toward_white @ toward_white), 1e-9)
    for k in np.flatnonzero(near):
        box, band = boxes[k], float(bands[k])
        # The standing-out pixels by the mask (row by row, as np.nonzero finds them); their
        # places only for a box that passes the colour test.
        standing = stand_out(box)
        chosen = frame[box[1] : box[3] + 1, box[0] : box[2] + 1][standing]
        if not len(chosen):
            continue
        pixels = chosen.astype(np.float64) - grass
        share = clip((pixels @ toward_white) / reach2, 0.0, 1.0)
        off_blend = pixels - share[:, None] * toward_white
        pale = np.einsum("ij,ij->i", off_blend, off_blend) <= PAINT_COLOUR**2
        least = PAINT_SHARE * len(pixels)
        if np.count_nonzero(pale) < least:
            continue
        rows, cols = np.nonzero(standing)
        points = np.column_stack([cols[pale] + box[0], rows[pale] + box[1]]).astype(np.float64)
        close = in_view(pieces, points, band)
        if close.any():
            on_marking = segment_distance(points, pieces[close]).min(axis=1) <= band
            out[k] = bool(np.count_nonzero(on_marking) >= least)
    return out


BAND_WIDTH_M = 0.5
"""Width, metres, of the band along each marking where :func:`marking_band` allows paint:
twice the widest paint looked for (:data:`MARKING_WIDTH_M`), for blur and JPEG's ringing."""
BAND_SLACK_PX = 2.5
"""Pixels added either side of :func:`marking_band`'s band: the homography's error."""
_TURN = np.array([-1.0, 1.0])
"""``(dy, dx) * _TURN`` is ``(dx, dy)`` turned a quarter."""
_OUTWARD = np.array([[-1.0], [1.0]])
"""Per end of a piece, the sign that moves it away from the other end along the piece."""


def marking_band(
    shape: tuple[int, int],
    homography: npt.NDArray[np.float64],
    rows: npt.NDArray[np.float64],
    person_heights: npt.NDArray[np.float64],
    out: npt.NDArray[np.uint8] | None = None,
) -> npt.NDArray[np.uint8]:
    """A 0/255 mask of the image (``shape``: rows, columns) within reach of a projected
    marking: :data:`BAND_WIDTH_M` wide (plus :data:`BAND_SLACK_PX` each side), a person
    standing at image row ``rows[i]`` being ``person_heights[i]`` px tall (``rows`` growing)
    for the scale of a metre. Drawn into ``out`` (of ``shape``) when given, else into a new
    array.

    Outside it no pixel is line paint: a white kit, whose every part is as pale as a line, is
    told from the lines by where it is.

    Example:
        >>> import numpy as np
        >>> h = np.array([[5.0, 0, 10], [0, 5.0, 10], [0, 0, 1]])  # 5 px a metre, from above
        >>> band = marking_band((400, 600), h, np.array([0.0, 399]), np.array([9.0, 9.0]))
        >>> int(band[10, 300]), int(band[13, 300]), int(band[20, 300])  # the far touchline
        (255, 255, 0)
    """
    h, w = shape
    pieces, inside = clip_pieces_where(_projected(homography), w - 1, h - 1, margin=8.0)
    pieces = pieces[inside]
    if out is None:
        band = np.zeros((h, w), np.uint8)
    else:
        band = out
        band.fill(0)
    if not len(pieces):
        return band
    # Each piece as a quadrilateral, as wide at each end as the band is at that end's row (a
    # metre's pixels grow about linearly down the image), and longer by the band's half-width
    # at each end (so the chords of an arc overlap where they meet). A height model can give
    # no height, or less, near the top row: no band wider than the slack there.
    metre = np.maximum(np.interp(pieces[:, :, 1], rows, person_heights), 0.0) / PERSON_HEIGHT_M
    half = (0.5 * BAND_WIDTH_M * metre + BAND_SLACK_PX)[:, :, None]  # (pieces, 2 ends, 1)
    along = pieces[:, 1] - pieces[:, 0]
    along /= np.maximum(lengths(along)[:, None], 1e-9)
    across = (along[:, ::-1] * _TURN)[:, None]
    ends = pieces + half * along[:, None] * _OUTWARD  # each end pushed out along the piece
    # Corners: both ends on one side, then back along the other.
    quads = np.concatenate([ends + half * across, (ends - half * across)[:, ::-1]], axis=1)
    # cv2 draws with 2 fractional bits; one call per quadrilateral, as one fillPoly call
    # would leave out where two of them overlap (its scanline fill counts crossings).
    for quad in np.rint(quads * 4.0).astype(np.int32):
        cv2.fillConvexPoly(band, quad, 255, cv2.LINE_8, 2)
    return band
