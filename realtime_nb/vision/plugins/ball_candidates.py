"""Ball candidates in one frame: small bright peaks that look like a blob, not a line.

Pure image code (no plugin state). The ball is white, so it is bright in all three colour
channels, where grass and coloured kits are dark in at least one: the darkest channel of each
pixel is the image searched. A white top-hat (the image minus its opening by a square a little
wider than the ball) keeps what is narrower than the ball's size and drops the grass, its
stripes, shadows and anything broad. Peaks of the smoothed top-hat are then judged by the local
shape of the intensity around them, which works down to a ball of 1 to 2 px radius where a
thresholded mask has no shape left:

- roundness: the two curvatures (eigenvalues of the Hessian) at a blob's peak are alike; on a
  line, the curvature along it is near zero;
- isolation: the brightness falls off within about the ball's radius on every side, except on
  one side where it touches something (a sock, a boot);
- size: the pixels above half the peak's contrast measure the blob's radius.

Example:
    >>> import numpy as np, cv2
    >>> img = np.full((60, 80, 3), (40, 140, 50), np.uint8)
    >>> _ = cv2.circle(img, (40, 30), 3, (245, 245, 245), -1)
    >>> [(round(c.x), round(c.y)) for c in find_candidates(whiteness(img), None, 3.0)]
    [(40, 30)]
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from realtime_nb.vision.plugins.arrays import (
    Buffers,
    clip,
    flatnonzero,
    median,
    widened,
)

__all__ = [
    "BODY_SHARE",
    "LINE_RUNS_ON",
    "BallCandidate",
    "above_something_dark",
    "body_around",
    "brighter_in_every_channel",
    "find_candidates",
    "grass_tint",
    "inside_a_body",
    "over_someone_cut_off",
    "raised_reach",
    "search_reach",
    "streak_of",
    "under_something_dark",
    "warmth",
    "whiteness",
    "whiteness_and_brightness",
    "width_across_a_line",
]

Mask = npt.NDArray[np.uint8]
_DIRECTIONS = [(math.cos(a), math.sin(a)) for a in np.arange(8) * math.pi / 4]
_DIRECTION_X = np.array([dx for dx, _ in _DIRECTIONS])[:, None]
_DIRECTION_Y = np.array([dy for _, dy in _DIRECTIONS])[:, None]


@dataclass(frozen=True)
class BallCandidate:
    """A small bright blob that may be the ball.

    Attributes:
        x: Centre, pixels (sub-pixel).
        y: Centre, pixels (sub-pixel).
        radius: Measured radius in pixels (half-contrast area).
        contrast: Peak brightness above the local background (0 to 255) of the darkest
            channel, after smoothing.
        roundness: Smaller over larger curvature at the peak: 1 for a round blob, near 0 on
            a line.
        touching: How many of eight directions around the peak stay bright past the ball's
            size (0 for a free ball, 1 or 2 beside a sock or boot).
        touching_above: How many of those go up the image (up-left, up, up-right): a leg's
            white sock coming down onto a ball at the player's feet.
    """

    x: float
    y: float
    radius: float
    contrast: float
    roundness: float
    touching: int
    touching_above: int = 0

    @property
    def centre(self) -> tuple[float, float]:
        """``(x, y)``."""
        return self.x, self.y


def whiteness(frame: npt.NDArray[np.uint8]) -> Mask:
    """Per pixel, how white the colour is: the darkest channel less the colour's spread
    (``2 min(B, G, R) - max(B, G, R)``, clipped to 0..255). High on white and light grey,
    0 on grass, kits and skin, and it falls linearly as blur mixes the ball with grass."""
    return whiteness_and_brightness(frame)[0]


def whiteness_and_brightness(
    frame: npt.NDArray[np.uint8],
    channels: Sequence[Mask] | None = None,
    buffers: Buffers | None = None,
    brightness: Mask | None = None,
) -> tuple[Mask, Mask]:
    """:func:`whiteness`, and the brightness it is worked out from: each pixel's brightest
    channel (``max(B, G, R)``), which :func:`above_something_dark` and
    :func:`under_something_dark` read too. ``channels``: this frame's ``cv2.split``, when
    already made (then read instead of the frame); ``buffers``: where to write both (and the
    steps between), else fresh arrays; ``brightness``: the frame's brightness, when already
    worked out (the value plane of OpenCV's HSV is, for every colour), then read and
    returned, not written."""
    b, g, r = cv2.split(frame) if channels is None else channels
    into = Buffers() if buffers is None else buffers
    shape = b.shape
    low = cv2.min(cv2.min(b, g, into.get("low", shape)), r, into.get("low", shape))
    if brightness is None:
        high = cv2.max(cv2.max(b, g, into.get("high", shape)), r, into.get("high", shape))
    else:
        high = brightness
    # 2 low - high, clipped at 0, as low less the spread (high - low, never negative): two
    # saturating subtractions of whole numbers cost less than cv2.addWeighted's arithmetic.
    spread = cv2.subtract(high, low, into.get("spread", shape))
    # Over the spread, which is not needed after: a frame-sized array fewer to keep in cache.
    white = cv2.subtract(low, spread, spread)
    return np.asarray(white, np.uint8), np.asarray(high, np.uint8)


def brighter_in_every_channel(
    frame: npt.NDArray[np.uint8],
    radius: float,
    channels: Sequence[Mask] | None = None,
    buffers: Buffers | None = None,
) -> Mask:
    """Per pixel, how much brighter than its surroundings it is in its least raised channel:
    the least over B, G and R of each channel's white top-hat, by a square about four times as
    wide as a ball of ``radius`` px. A white ball mixed with the grass around it (a ball of a
    pixel or so, blurred) raises all three channels by the same share of white over grass, where
    :func:`whiteness` of the mixed colour stays near zero; a coloured kit raises only some.
    ``channels``: this frame's ``cv2.split``, when already made (then read instead of the
    frame); ``buffers``: where to write the result (and the steps before it), else fresh arrays.

    Example:
        >>> img = np.full((20, 20, 3), (35, 110, 38), np.uint8)
        >>> img[10, 10] = (80, 154, 82)  # like a 1 px ball's brightest pixel on a broadcast frame
        >>> int(whiteness(img)[10, 10]), int(brighter_in_every_channel(img, 1.0)[10, 10])
        (6, 44)
    """
    size = _raised_size(radius)
    kernel = np.ones((size, size), np.uint8)
    split = cv2.split(frame) if channels is None else channels
    into = Buffers() if buffers is None else buffers
    b, g, r = (
        cv2.morphologyEx(c, cv2.MORPH_TOPHAT, kernel, dst=into.get(f"raised {k}", c.shape))
        for k, c in enumerate(split)
    )
    return np.asarray(cv2.min(cv2.min(b, g, b), r, b), np.uint8)


def _raised_size(radius: float) -> int:
    """Side of :func:`brighter_in_every_channel`'s square for a ball of ``radius`` px."""
    return 2 * math.ceil(2.24 * max(radius, 1.1)) + 3


def raised_reach(radius: float) -> int:
    """How far (px) from a pixel :func:`brighter_in_every_channel` reads the frame for it:
    the reach of its opening (an erosion, then a dilation). Away from a rectangle's border
    by this much, its values on the rectangle alone are the whole frame's."""
    return 2 * (_raised_size(radius) // 2)


def streak_of(grey: Mask, longest: int = 15) -> tuple[int, int]:
    """How long a streak motion blur draws along x and along y, in pixels (0 when there is
    none): a pan during the exposure smears every point into a line as long as the motion.

    The derivative of a box-blurred image along the blur is correlated with itself at short
    lags and anti-correlated at the box's length, where the smear of every edge ends; across
    the blur it is not. A direction counts as streaked when the derivative's correlation at a
    lag of one pixel is at least 0.4, or at two pixels at least 0.2, and the streak is the lag
    of the strongest anti-correlation. Some 24 rows (columns) across the frame are enough.

    The second test is for noise: the derivative of pixel noise is anti-correlated at one
    pixel (-0.5 for white noise) and not at two, so on an uncompressed noisy frame it hid a
    10 px streak (lag one 0.01, lag two 0.27; unblurred tuning frames reach 0.06 at lag two).
    On a tuning look with a 10 px streak and no JPEG (random seeds 30-41 x 4 s) the ball was
    found in 7 of 1,029 visible frames; with it, 627 (wrong reports 21 of 33 -> 61 of 706).
    Every found and wrong figure of 23 other tuning sets (18 looks, two more with motion blur
    5 and 6 and JPEG, fresh random seeds 80-91 of two blurred looks, broadcast clips 300-319)
    is as before. Stronger noise still hides a streak: random seed 3 with kits only, 10 px,
    reads 0.18 at two pixels, and a 14 px streak 0.11.
    """
    h, w = grey.shape
    rows, columns = grey[h // 48 :: max(1, h // 24)], grey[:, w // 48 :: max(1, w // 24)].T
    return _streak(rows, longest), _streak(columns, longest)


def _streak(rows: Mask, longest: int) -> int:
    """:func:`streak_of` along the rows of ``rows``."""
    if rows.shape[1] <= 2 * longest:
        return 0
    rows = np.ascontiguousarray(rows)  # the columns, a transposed view, copied once
    d = np.zeros((rows.shape[0], rows.shape[1] - 1 + longest), np.float32)
    # The derivative written straight into d: whole numbers, exact in float32 (np.diff's).
    np.subtract(rows[:, 1:], rows[:, :-1], out=d[:, : rows.shape[1] - 1], dtype=np.float32)
    flat = d.ravel()  # the zeros after each row keep the lags within it
    energy = float(flat @ flat)
    if energy <= 0:
        return 0
    lag_two = float(flat[2:] @ flat[:-2])
    if float(flat[1:] @ flat[:-1]) / energy < 0.4 and lag_two / energy < 0.2:
        return 0  # not streaked: the longer lags are not needed
    # The streak is the strongest anti-correlation from two pixels on (lag two read once).
    longer = (float(flat[k:] @ flat[:-k]) for k in range(3, longest + 1))
    r = np.array([lag_two, *longer]) / energy
    return int(np.argmin(r)) + 2


def find_candidates(
    white: Mask,
    region: Mask | None,
    radius: float,
    min_contrast: float = 28.0,
    limit: int = 200,
    streak: tuple[int, int] = (0, 0),
    buffers: Buffers | None = None,
    box: Sequence[int] | None = None,
) -> list[BallCandidate]:
    """Blob-like bright peaks of about ``radius`` pixels, best first.

    Args:
        white: The frame's :func:`whiteness`.
        region: 0/255 mask of where to look (the pitch), or None for everywhere.
        radius: The largest radius the ball can have here, in pixels (sets the filter sizes).
        min_contrast: Least smoothed contrast of a peak (0 to 255).
        limit: At most this many candidates, the most contrasted first.
        streak: Motion blur's streak along x and y in pixels (:func:`streak_of`): a blob
            that much longer along it is still round, its shape judged that much wider.
        buffers: Where to write the filtered images, else fresh arrays.
        box: ``region``'s bounding rectangle ``(x, y, w, h)`` (cv2.boundingRect's), when
            already known.

    Returns:
        Candidates that are neither lines nor broad bright areas.
    """
    sigma = _sigma(radius)
    d = max(1, round(0.7 * radius))
    reach_out = _reach_out(radius)
    read = _read(radius, streak)
    into = Buffers() if buffers is None else buffers
    smooth, xy = _peaks(white, region, radius, sigma, min_contrast, read, into, box)
    if not len(xy):
        return []
    around = _around(smooth, xy, (d, d), d)
    roundness = _roundness(around)
    if any(streak):
        # A ball smeared by the pan is a blob that much longer along it: judged with the
        # longer step along the streak too, it is as round as a still ball.
        along = _around(smooth, xy, (d + streak[0] // 4, d + streak[1] // 4), d)
        roundness = np.maximum(roundness, _roundness(along))
    peak = around[0]
    # Most peaks lie on lines and are not round: only the round ones are judged further.
    kept = np.flatnonzero(roundness >= 0.35)
    touching, above = _touching(smooth, xy[kept], peak[kept], reach_out)
    isolated = touching <= 2
    kept, touching, above = kept[isolated], touching[isolated], above[isolated]
    spread, offset = _spread(around[:, kept], (d, d))
    blob = 2 * np.sqrt(np.maximum(spread - sigma**2, 0.0))
    order = np.argsort(-peak[kept], kind="stable")
    ranked = kept[order]
    x, y = xy[:, 0], xy[:, 1]
    reach = max(2.0, 1.5 * radius)
    crowded = _crowded(x[ranked], y[ranked], reach)
    # The candidates' fields as Python numbers, in rank order, in one pass each: a frame's
    # few dozen peaks are judged one by one, where a numpy call each costs more.
    fields = zip(
        crowded,
        x[ranked].tolist(),
        y[ranked].tolist(),
        (x[ranked] + offset[0, order]).tolist(),
        (y[ranked] + offset[1, order]).tolist(),
        blob[order].tolist(),
        peak[ranked].tolist(),
        roundness[ranked].tolist(),
        touching[order].tolist(),
        above[order].tolist(),
        strict=True,
    )
    out: list[BallCandidate] = []
    taken: list[tuple[int, int]] = []
    for near, px, py, *values in fields:
        if near and any(abs(px - qx) <= reach and abs(py - qy) <= reach for qx, qy in taken):
            continue  # a plateau or a second peak of a blob already taken
        taken.append((px, py))
        out.append(BallCandidate(*values))
        if len(out) >= limit:
            break
    return out


def _sigma(radius: float) -> float:
    """The smoothing's sigma (px) of :func:`find_candidates` for ``radius``."""
    return float(min(max(0.4 * radius, 0.7), 1.5))


def _reach_out(radius: float) -> int:
    """How far (px) from a peak :func:`_touching` reads."""
    return math.ceil(1.2 * radius + 1.5)


def _read(radius: float, streak: tuple[int, int]) -> int:
    """How far (px) from a peak :func:`find_candidates` reads the smoothed image
    (:func:`_around`, :func:`_touching`)."""
    return max(max(1, round(0.7 * radius)) + max(streak) // 4, _reach_out(radius), 1)


def _tophat_size(radius: float) -> int:
    """Side of the white top-hat's square for ``radius``."""
    return 2 * math.ceil(1.4 * radius) + 3


def _blur_size(sigma: float) -> int:
    """Side of the smoothing's kernel: two sigmas a side (the peaks, not the tails, matter)."""
    return 2 * math.ceil(2 * sigma) + 1


def search_reach(radius: float, streak: tuple[int, int] = (0, 0)) -> int:
    """How far (px) around ``region``'s bounding rectangle :func:`find_candidates` reads
    ``white`` for ``radius`` and ``streak``: only there need it be right."""
    reach = _read(radius, streak) + _blur_size(_sigma(radius)) // 2
    return reach + 2 * (_tophat_size(radius) // 2)


_CROWDED_AT_ONCE = 256
"""Peaks of a frame, in rank order, that :func:`_crowded` compares pairwise at once (the
rest are checked one by one)."""


_EARLIER = np.triu(np.ones((_CROWDED_AT_ONCE, _CROWDED_AT_ONCE), bool), 1)
"""``[j, i]``: whether peak ``j`` comes before peak ``i`` (read-only)."""
_EARLIER.flags.writeable = False


def _crowded(x: npt.NDArray[np.int64], y: npt.NDArray[np.int64], reach: float) -> list[bool]:
    """For each peak in rank order, whether an earlier one lies within ``reach`` px along
    both x and y: only such a peak may be a plateau or a second peak of a blob taken before
    it. True (look) past the first :data:`_CROWDED_AT_ONCE`."""
    n = min(len(x), _CROWDED_AT_ONCE)
    # near_along_both's comparisons, on whole x and y apart (no NaN to allow for).
    xs, ys = x[:n], y[:n]
    near = np.abs(xs[:, None] - xs) <= reach
    near &= np.abs(ys[:, None] - ys) <= reach
    near &= _EARLIER[:n, :n]
    crowded: list[bool] = np.asarray(near.any(axis=0), bool).tolist()
    return crowded + [True] * (len(x) - n)


def _peaks(
    white: Mask,
    region: Mask | None,
    radius: float,
    sigma: float,
    min_contrast: float,
    read: int,
    into: Buffers,
    box: Sequence[int] | None = None,
) -> tuple[Mask, npt.NDArray[np.int64]]:
    """The smoothed top-hat of ``white`` and its local maxima ``(n, 2)`` as ``x, y``, at least
    ``min_contrast`` high, in ``region`` and far enough from the border to be measured.

    The smoothed top-hat is right within ``read`` px of ``region``'s bounding rectangle (the
    rest of it is left as it was): each filter runs on that rectangle widened by the reach of
    the filters after it, so a value it gives there is the one the whole image gives (at the
    image's border the rectangle's border is the image's, and inside it the filters never
    reach the rectangle's)."""
    h, w = white.shape
    size = _tophat_size(radius)
    ksize = _blur_size(sigma)
    if box is None:
        box = (0, 0, w, h) if region is None else cv2.boundingRect(region)
    if box[2] == 0:
        return into.get("smooth", white.shape), np.zeros((0, 2), np.int64)
    blurred = read + ksize // 2
    tophat_box = widened(box, blurred + 2 * (size // 2), w, h)
    blur_box = widened(box, blurred, w, h)
    peak_box = widened(box, 1, w, h)
    kernel = np.ones((size, size), np.uint8)
    tophat = into.get("tophat", white.shape)
    cv2.morphologyEx(white[tophat_box], cv2.MORPH_TOPHAT, kernel, dst=tophat[tophat_box])
    smooth: Mask = into.get("smooth", white.shape)
    cv2.GaussianBlur(tophat[blur_box], (ksize, ksize), sigma, dst=smooth[blur_box])
    # A maximum at least min_contrast high: at least its 3x3 neighbourhood's maximum and the
    # least whole value over min_contrast - 1, in one comparison.
    least = math.floor(min_contrast - 1) + 1
    if least > 255:
        return smooth, np.zeros((0, 2), np.int64)
    near = smooth[peak_box]
    bound = np.asarray(
        # Over the top-hat, which is not needed after the blur: one frame-sized array fewer.
        cv2.dilate(near, np.ones((3, 3), np.uint8), dst=tophat[peak_box]),
        np.uint8,
    )
    # A scalar, which OpenCV takes and its stubs do not (np.maximum with a scalar measured
    # about 0.5 ms slower a frame at 1280x720).
    cv2.max(bound, float(max(0, least)), bound)  # type: ignore[call-overload]
    xy = _nonzero_xy(np.asarray(cv2.compare(near, bound, cv2.CMP_GE, bound), np.uint8))
    xy += (peak_box[1].start, peak_box[0].start)
    d = max(1, round(0.7 * radius))
    inside = (xy[:, 0] >= d) & (xy[:, 1] >= d) & (xy[:, 0] < w - d) & (xy[:, 1] < h - d)
    if region is not None:
        inside &= region[xy[:, 1], xy[:, 0]] != 0
    return smooth, xy[inside]


def _nonzero_xy(mask: Mask) -> npt.NDArray[np.int64]:
    """``(n, 2)`` ``x, y`` of the non-zero pixels of ``mask``, row by row (cv2.findNonZero's
    points and order), by :func:`~realtime_nb.vision.plugins.arrays.flatnonzero`: a frame's
    peaks are a few hundred among some 10^5 zeros."""
    at = flatnonzero(mask)
    width = mask.shape[1]
    return np.column_stack([at % width, at // width]).astype(np.int64, copy=False)


_AROUND_X = np.array([0, -1, 1, 0, 0, -1, 1, 1, -1])[:, None]
_AROUND_Y = np.array([0, 0, 0, -1, 1, -1, 1, -1, 1])[:, None]


def _around(
    values: Mask, xy: npt.NDArray[np.int64], steps: tuple[int, int], margin: int = 0
) -> npt.NDArray[np.float32]:
    """``(9, n)``: ``values`` at each point and ``steps`` px away (along x and y; the longer
    step along a motion streak), for :func:`_roundness` and :func:`_spread`: centre, left,
    right, up, down, then up-left, down-right, up-right and down-left. Clipped to the image:
    a streak lengthens the steps past the border margin the peaks keep, ``margin`` px (no
    step that short leaves the image)."""
    h, w = values.shape
    sx, sy = steps
    x, y = xy[:, 0], xy[:, 1]
    # Read by flat index (one index array, where two ask numpy for more work per value).
    if sx <= margin and sy <= margin:
        at = (y * w + x) + (_AROUND_Y * (sy * w) + _AROUND_X * sx)
    else:
        at = clip(y + _AROUND_Y * sy, 0, h - 1) * w + clip(x + _AROUND_X * sx, 0, w - 1)
    out: npt.NDArray[np.float32] = values.ravel()[at].astype(np.float32)
    return out


def _roundness(around: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
    """At each point of :func:`_around`'s samples, smaller over larger absolute Hessian
    eigenvalue (finite differences): 0 where the point is not a maximum in every direction."""
    c, left, right, up, down, up_left, down_right, up_right, down_left = around
    twice = 2 * c
    dxx, dyy = left + right - twice, up + down - twice
    dxy = (up_left + down_right - up_right - down_left) / 4
    half_trace = (dxx + dyy) / 2
    root = np.sqrt(((dxx - dyy) / 2) ** 2 + dxy**2)
    small, large = half_trace + root, half_trace - root  # both negative at a blob's peak
    # Divided only where both are negative (no division warning to silence): large is
    # never over small (root is not negative, and rounding keeps the order).
    ratio = np.zeros(len(c), small.dtype)
    np.divide(small, large, out=ratio, where=small < 0)
    return np.asarray(ratio, np.float64)


def _spread(
    around: npt.NDArray[np.float32], steps: tuple[int, int]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """At each point of :func:`_around`'s samples ``steps`` px apart: the variance (px^2) of
    a Gaussian bump with the same peak and curvature (meant for equal steps), and the
    sub-pixel offset ``(2, n)`` of the parabola's top through the three samples along x and
    along y."""
    c = around[0]
    # The rows left and up, right and down: x and y at once, in the same operations.
    first, second = around[1:5:2], around[2:5:2]
    d = min(steps)
    sums = first + second
    with np.errstate(divide="ignore", invalid="ignore"):
        # A Gaussian bump A exp(-r^2 / 2 s^2) falls to A exp(-d^2 / 2 s^2) at d px.
        fall = (sums[0] + around[3] + around[4]) / (4 * np.maximum(c, 1.0))
        spread = -(d**2) / (2 * np.log(clip(fall, 1e-3, 0.999)))
        curvature = sums - 2 * c  # dxx, dyy
        curvature *= 2
        offset = first - second
        offset *= np.array(steps, np.float32)[:, None]  # a whole step, exact in float32
        offset /= curvature
    # np.nan_to_num then np.clip, as ufuncs: an infinite offset is clipped either way.
    half = 0.5 * np.array(steps)[:, None]
    clipped: npt.NDArray[np.float64] = clip(np.where(np.isnan(offset), 0.0, offset), -half, half)
    return np.asarray(spread, np.float64), clipped


@functools.cache
def _steps_out(reach: int) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """``(8, 1)`` whole steps along x and along y ``reach`` px out in each of the eight
    directions: a whole coordinate plus one is where the coordinate plus the exact step
    rounds to (no step's fraction lies near a half), so the rounding is done once."""
    ox = np.round(_DIRECTION_X * reach).astype(np.int64)
    oy = np.round(_DIRECTION_Y * reach).astype(np.int64)
    ox.flags.writeable = oy.flags.writeable = False
    return ox, oy


def _touching(
    values: Mask, xy: npt.NDArray[np.int64], peak: npt.NDArray[np.float32], reach: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """How many of eight directions are still above half the peak ``reach`` px away, and
    how many of the three upward ones (up-left, up, up-right) are."""
    h, w = values.shape
    ox, oy = _steps_out(reach)
    px = clip(xy[:, 0] + ox, 0, w - 1)
    py = clip(xy[:, 1] + oy, 0, h - 1)
    bright = values.ravel()[py * w + px] >= 0.5 * peak
    count: npt.NDArray[np.int64] = bright.sum(axis=0, dtype=np.int64)
    above: npt.NDArray[np.int64] = bright[_UPWARD].sum(axis=0, dtype=np.int64)
    return count, above


_UPWARD = slice(5, 8)
"""Rows of :func:`_steps_out` that go up the image (angles 225, 270 and 315 degrees)."""


def above_something_dark(
    frame: npt.NDArray[np.uint8],
    centre: tuple[float, float],
    radius: float,
    ground: float,
    tint: float | None = None,
    brightness: Mask | None = None,
) -> bool:
    """True when right under the blob lies something darker than the grass (below 0.7 of its
    brightness: blur and motion smear a boot with the grass around it): a white sock stands
    on a boot, a ball on grass.

    With the grass's ``tint`` (:func:`grass_tint`), a dark pixel as green as the grass
    (:data:`_SHADOW_TINT`) and not too dark for a shadow (:data:`_SHADOW_LIGHT`) is the grass
    in a shadow, not a boot: a ball at a player's feet lies in the player's shadow. Pass no
    tint under a pan's motion blur, which mixes a boot's colour with the grass's.
    ``brightness`` is the frame's from :func:`whiteness_and_brightness`, when known.
    """
    h = frame.shape[0]
    y = round(centre[1] + 1.0)
    if not 0 <= y < h - 1:
        return False
    x, bottom = round(centre[0]), y + math.ceil(radius) + 3
    if not _dark_strip(frame, x, y, bottom, ground, brightness):
        return False
    if tint is None or tint <= 0:
        return True
    strip = frame[y:bottom, x - 1 : x + 2]
    bright = strip.max(axis=2) if brightness is None else brightness[y:bottom, x - 1 : x + 2]
    dark = strip[bright < 0.7 * ground]
    ratio = _tints(dark) / tint
    shadow = (ratio >= _SHADOW_TINT) & (ratio <= 1.0 / _SHADOW_TINT)
    shadow &= dark.max(axis=1) >= _SHADOW_LIGHT * ground
    return not bool(shadow.all())


def grass_tint(frame: npt.NDArray[np.uint8]) -> float:
    """The grass's green tint (:func:`_tints`), the median of a sparse grid over the frame
    (most of which is grass). A shadow darkens the grass but keeps its tint."""
    return float(np.median(_tints(frame[::16, ::16])))


def _tints(pixels: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
    """How green each BGR pixel is for its brightness: ``(G - max(B, R)) / max(B, G, R)``."""
    wide = pixels.astype(np.float32)
    top = np.maximum(wide.max(axis=-1), 1.0)
    out: npt.NDArray[np.float32] = (wide[..., 1] - np.maximum(wide[..., 0], wide[..., 2])) / top
    return out


def warmth(frame: npt.NDArray[np.uint8], centre: tuple[float, float]) -> float:
    """How much redder than blue (R - B, -255 to 255) the BGR pixels around ``centre`` (rounded
    to a pixel; its 3x3 neighbourhood, fewer at the frame's edge) are on average: near 0 on a
    white ball and on a white ball blended with the grass (the grass is about as blue as red),
    40 to 90 on light skin and fair hair, negative on blue. 0 when ``centre`` is outside the
    frame."""
    x, y = round(centre[0]), round(centre[1])
    height, width = frame.shape[:2]
    if not (0 <= x < width and 0 <= y < height):
        return 0.0
    patch = frame[max(0, y - 1) : y + 2, max(0, x - 1) : x + 2]
    return float(patch[..., 2].mean(dtype=np.float64) - patch[..., 0].mean(dtype=np.float64))


LINE_RUNS_ON = 0.7
"""Share of a candidate's whiteness that the white just past the ball's edge, one way or both,
must keep for :func:`width_across_a_line` to take the candidate for a piece of a line."""


_LINE_ANGLES = np.arange(32) * math.pi / 32
"""The ways :func:`width_across_a_line` tries, every 5.625 degrees of a half turn."""
_LINE_X = np.cos(_LINE_ANGLES)[:, None]
_LINE_Y = np.sin(_LINE_ANGLES)[:, None]


def width_across_a_line(
    frame: npt.NDArray[np.uint8], centre: tuple[float, float], radius: float
) -> float:
    """The width (px) of the white at ``centre`` across the way it runs on, or ``inf`` where
    it runs on no way: a blob, not a piece of a line.

    The way it runs on is the one of 32 (every 5.6 degrees) in which the :func:`whiteness`
    just past a ball of ``radius`` px (1 to 3 px past its edge, one side or the other) is
    highest; it runs on when that is at least :data:`LINE_RUNS_ON` of the whiteness at
    ``centre``. Across that way, read every 0.5 px out to about ``3 * radius + 2`` px each
    side, the width is the run of samples through the middle where the whiteness stays over
    halfway from the grass's (the least of the four samples at either end) to the centre's
    (the highest of the three middle samples); 0.5 when the middle sample itself is under
    that. A ball on a line is as wide as the ball across it; a piece of the line between a
    player's legs, or where the frame's grid breaks a slanted line up, only as wide as the
    line. Past the frame's edge the whiteness reads 0: a ball the edge cuts does not run on
    along it. ``inf`` too for a centre outside the frame, no white at the centre, or a radius
    that is not a positive finite number.

    Args:
        frame: The BGR frame.
        centre: The candidate's centre ``(x, y)``, pixels, sub-pixel.
        radius: The ball's radius there, pixels.

    Example:
        >>> import numpy as np, cv2
        >>> img = np.full((60, 80, 3), (40, 140, 50), np.uint8)
        >>> _ = cv2.line(img, (0, 20), (79, 40), (245, 245, 245), 2)
        >>> width_across_a_line(img, (40.0, 30.0), 4.0) < 4.0
        True
        >>> _ = cv2.circle(img, (40, 30), 4, (245, 245, 245), -1)
        >>> width_across_a_line(img, (40.0, 30.0), 4.0) > 7.0
        True
    """
    height, width = frame.shape[:2]
    x, y = centre
    if not (0.0 <= x < width and 0.0 <= y < height and 0.0 < radius < math.inf):
        return math.inf  # (NaN fails every comparison)
    reach = 3.0 * radius + 2.0
    side = math.ceil(reach) + 2
    left, top = max(0, round(x) - side), max(0, round(y) - side)
    patch = frame[top : min(height, round(y) + side + 1), left : min(width, round(x) + side + 1)]
    if patch.shape[0] < 2 or patch.shape[1] < 2:
        return math.inf
    white = whiteness(patch).astype(np.float32)
    cx, cy = x - left, y - top
    # The middle and every way's samples both sides of it, read at once.
    past = np.arange(radius + 1.0, radius + 3.0 + 1e-9, 0.5)
    steps = np.concatenate([[0.0], (_LINE_X * past).ravel(), (-_LINE_X * past).ravel()])
    rises = np.concatenate([[0.0], (_LINE_Y * past).ravel(), (-_LINE_Y * past).ravel()])
    read = _bilinear(white, cx + steps, cy + rises)
    centre_white = float(read[0])
    if centre_white <= 0.0:
        return math.inf
    ahead, behind = read[1:].reshape(2, len(_LINE_X), len(past)).mean(axis=2)
    runs = np.maximum(ahead, behind)
    way = int(np.argmax(runs))
    if runs[way] < LINE_RUNS_ON * centre_white:
        return math.inf
    offsets = np.arange(-reach, reach + 1e-9, 0.5)
    across_x, across_y = -float(_LINE_Y[way, 0]), float(_LINE_X[way, 0])
    profile = _bilinear(white, cx + across_x * offsets, cy + across_y * offsets)
    middle = len(offsets) // 2
    peak = max(float(profile[middle - 1 : middle + 2].max()), 1.0)
    grass = min(float(profile[:4].min()), float(profile[-4:].min()))
    over = profile >= grass + 0.5 * (peak - grass)
    low, high = middle, middle
    while low > 0 and over[low - 1]:
        low -= 1
    while high < len(offsets) - 1 and over[high + 1]:
        high += 1
    return 0.5 * (high - low + 1)


def _bilinear(
    values: npt.NDArray[np.float32], x: npt.NDArray[np.float64], y: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """``values`` at sub-pixel points ``x, y`` (any shape, the same), bilinearly; 0 at points
    past the edge (nothing known there)."""
    height, width = values.shape
    inside = (x >= 0.0) & (x <= width - 1) & (y >= 0.0) & (y <= height - 1)
    x = clip(x, 0.0, width - 1.001)
    y = clip(y, 0.0, height - 1.001)
    x0, y0 = x.astype(np.int64), y.astype(np.int64)  # whole parts: neither is negative
    fx, fy = x - x0, y - y0
    # The four pixels around each point by flat index (one index array, not two).
    flat, at = values.ravel(), y0 * width + x0
    top = flat[at] * (1 - fx) + flat[at + 1] * fx
    at += width
    bottom = flat[at] * (1 - fx) + flat[at + 1] * fx
    out: npt.NDArray[np.float64] = np.where(inside, top * (1 - fy) + bottom * fy, 0.0)
    return out


_SHADOW_LIGHT = 0.5
"""Least brightness, over the grass's, of grass in a shadow: a player's shadow on sunlit grass
leaves it at least half as bright, a boot is darker."""

_SHADOW_TINT = 0.9
"""A dark pixel under a blob is grass in a shadow when its tint is within this share of the
grass's (and at most its inverse over it): a boot smeared by a pan with the grass beside it
keeps less, and JPEG's half-resolution colour gives a small dark boot the grass's colour on
far less light, so more. 0.8 raised wrong reports on 336-400 px wide JPEG tuning rows (352x198
JPEG 55: 0.7 -> 2.1 %); 0.9 with :data:`_SHADOW_LIGHT` left them as they were."""


def under_something_dark(
    frame: npt.NDArray[np.uint8],
    centre: tuple[float, float],
    radius: float,
    ground: float,
    brightness: Mask | None = None,
) -> bool:
    """True when right over the blob lies something darker than the grass: near the camera a
    face under its hair, of someone whose feet (and box) are below the frame, is as large and
    round as the ball; a ball has grass or a light kit over it. ``brightness`` is the frame's
    from :func:`whiteness_and_brightness`, when known."""
    y = round(centre[1] - 1.0)
    if y < 1:
        return False
    top = max(0, y - math.ceil(radius) - 3)
    return _dark_strip(frame, round(centre[0]), top, y, ground, brightness)


def _dark_strip(
    frame: npt.NDArray[np.uint8],
    x: int,
    top: int,
    bottom: int,
    ground: float,
    brightness: Mask | None = None,
) -> bool:
    """True when the 3-px-wide strip of rows ``top`` to ``bottom`` (exclusive) around column
    ``x`` holds a pixel below 0.7 of the grass's brightness ``ground``; False for a column at
    the frame's side."""
    if not 1 <= x < frame.shape[1] - 1:
        return False
    if brightness is None:
        strip = frame[top:bottom, x - 1 : x + 2].max(axis=2)
    else:
        strip = brightness[top:bottom, x - 1 : x + 2]
    return bool(strip.min() < 0.7 * ground)


def inside_a_body(frame: npt.NDArray[np.uint8], centre: tuple[float, float], radius: float) -> bool:
    """True when both over and under the blob, along its column, lie mostly colours that
    are not the grass beside it (:func:`body_around`): the blob is a white part of the kit
    (shorts, a shirt's stripe) of someone player detection missed. A ball on the ground has
    grass under it: a person standing right under it in the image is nearer the camera, and
    covers it. (ball_detection reads :func:`body_around`'s shares itself, to tell a body over
    a blob as well.)

    Args:
        frame: The BGR frame.
        centre: The blob's centre ``(x, y)``, pixels.
        radius: The ball's radius there, pixels.
    """
    over, under = body_around(frame, centre, radius)
    return min(over, under) >= BODY_SHARE


def body_around(
    frame: npt.NDArray[np.uint8], centre: tuple[float, float], radius: float
) -> tuple[float, float]:
    """The shares of the blob's column over it and under it (each ``2 * radius`` px long, at
    least 3, from a pixel past the blob) whose colours are not the grass beside it: 0.0 for
    both where the frame has no room for them or no green beside the blob (nothing to tell
    kit from), 0.0 for one side with no rows. A leg over a blob reads near 1.0 over it: a
    sock, or a ball at the feet of someone player detection missed.

    Grass is told by how much greener than red and blue it is (``G - max(B, R)``): shadows,
    stripes and lighting keep its hue, kit, skin, and white do not, and a pan's blur mixes a
    body with the grass beside it, so the grass is measured beside the blob, at the same rows
    (a white marking passes too: call it away from the markings).

    Args:
        frame: The BGR frame.
        centre: The blob's centre ``(x, y)``, pixels.
        radius: The ball's radius there, pixels.
    """
    h, w = frame.shape[:2]
    gap, span = math.ceil(radius) + 1, max(3, math.ceil(2 * radius))
    x, y = round(centre[0]), round(centre[1])
    top, bottom = max(0, y - gap - span), min(h, y + gap + 1 + span)
    side = math.ceil(3 * radius) + 4
    if bottom - top < 2 * span or not side + 1 <= x < w - side - 1:
        return 0.0, 0.0
    rows = _green_excess(frame[top:bottom, x - side - 1 : x + side + 2])
    grass = max(median(rows[:, :3]), median(rows[:, -3:]))
    if grass < 10:
        return 0.0, 0.0
    column = rows[:, side : side + 3] < _BODY_GREEN * grass
    over = column[: max(0, y - gap - top)]
    under = column[y + gap + 1 - top :]
    return (
        float(over.mean()) if len(over) else 0.0,
        float(under.mean()) if len(under) else 0.0,
    )


def over_someone_cut_off(
    frame: npt.NDArray[np.uint8], centre: tuple[float, float], radius: float
) -> bool:
    """True when the blob's first row under it is within four of its radii and 2 px of the
    frame's bottom edge and, in its column from there down to that edge, mostly colours that
    are not grass: the head (or a white part of the kit) of someone whose feet are below the
    frame, whom player detection cannot box. A ball that near the edge has grass under it, lit
    or in a shadow. Call it away from the markings (a white line under a ball is not grass
    either).

    Grass is told by its tint, ``(G - max(B, R)) / G``, which a shadow keeps and kit, skin and
    white do not: a pixel is grass when its tint is at least 0.6 of the grass's, measured in
    the same rows beside the body (on each side, the nearest of three strips farther and
    farther out whose tint is a grass's: someone near is wider than one step), where there is
    room (someone coming in at a bottom corner is cut off by its side too). False for a radius
    that is not a finite number.

    Args:
        frame: The BGR frame.
        centre: The blob's centre ``(x, y)``, pixels.
        radius: The ball's radius there, pixels.
    """
    if not math.isfinite(radius):
        return False
    h, w = frame.shape[:2]
    x, y = round(centre[0]), round(centre[1])
    below = y + math.ceil(radius)  # the first row under the blob
    side = math.ceil(3 * radius) + 4
    if not 0 <= below < h or h - below > 4 * radius + 2 or not 1 <= x < w - 1:
        return False
    grass = 0.0
    for step in (-side, side):
        for a in (x - 1 + step, x - 1 + 2 * step, x - 1 + 3 * step):
            if not 0 <= a <= w - 3:
                break
            tint = float(median(_green_tint(frame[below:h, a : a + 3])))
            if tint >= _GRASS_TINT:
                grass = max(grass, tint)
                break
    if grass < _GRASS_TINT:
        return False  # no grass beside it: nothing to tell kit from
    column = _green_tint(frame[below:h, x - 1 : x + 2])
    return bool((column < _BODY_GREEN * grass).mean() >= BODY_SHARE)


_GRASS_TINT = 0.1
"""Least tint (:func:`_green_tint`) of grass beside a blob: grass is some 0.3 to 0.6."""


def _green_tint(pixels: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
    """``(G - max(B, R)) / G`` of each BGR pixel (0 where G is 0): how green a pixel is for its
    brightness, which a shadow on the grass keeps."""
    green = np.maximum(pixels[:, :, 1], 1).astype(np.float32)
    out: npt.NDArray[np.float32] = np.asarray(_green_excess(pixels) / green, np.float32)
    return out


_BODY_GREEN = 0.6
"""A pixel greener than this share of the grass beside it is grass (blur mixes a body's
colour with the grass's)."""

BODY_SHARE = 0.6
"""Least share of not-grass pixels over and under a blob for it to be inside a body, and over
it for a body (a leg) to stand over it (:func:`body_around`)."""


def _green_excess(pixels: npt.NDArray[np.uint8]) -> npt.NDArray[np.int16]:
    """``G - max(B, R)`` of each BGR pixel."""
    wide = pixels.astype(np.int16)
    out: npt.NDArray[np.int16] = wide[:, :, 1] - np.maximum(wide[:, :, 0], wide[:, :, 2])
    return out
