"""Where a person's box ends: top of the head and soles of the boots, from how far each pixel's
colour is from the grass.

The blob mask of :mod:`realtime_nb.vision.plugins.players` keeps pixels clearly unlike the grass,
so on blurred or compressed footage it loses what fades into the grass: a few pixels of hair, a
dark boot one pixel tall, white socks that look like line paint. Each box's rows are grown up and
down over rows whose pixels within its columns stand out from the grass, together, by 0.6 times
as much as one pixel clearly unlike it (a motion streak spreads a head's contrast over more
columns), and no further than a person's height allows; a box short of a person's height
grows its top past up to two faded rows (a neck below a head) and its bottom past a fifth of
a person's height of them (shins or socks above boots, not a line under the feet that
stands out on both sides, even a few rows apart), and below a box about a person
tall rows are measured from the grass darkened to their brightness (a person's shadow is not
the person); a bottom not grown is cut back over up to four rows that do not stand out,
when they take in plain grass in the box's own columns (the blob mask's closing joins a
small person's feet to a line's fringe a few rows below; a longer run, or rows with no
plain grass, are people beside the box or a line the person stands on). Its sides
are cut to the columns whose pixel a quarter of a person's height from
their brightest stands out clearly (a horizontal motion streak widens a blob with a faint
halo, a line the person stands on with a few bright rows); a box under a quarter of a
person's height wide (blur and JPEG left the blob a few of the person's columns) is widened
over such columns beside it, up to 0.55 of a person's height in all, those that also stand out
from the grass lit or shaded to their own brightness (textured grass and shadows beside it are
the grass, not the person). Last, arms held out (:meth:`GrassDistance.with_arms`): a run of up
to 0.12 of a person's height of columns beside the box, each with pixels that stand out between
the shoulders and the hands, is taken in; a longer run is a neighbour or a line across. A box
still shorter than :data:`SHORT_SHARE` of a person standing at its feet is reported grown to
that person's height (:func:`as_tall_as_a_person`), above and below it by how far the rows
there differ from the grass (:meth:`GrassDistance.share_below`), a head or boots the blur
faded; one still narrower than a person's shoulders (:data:`SHOULDERS_SHARE`) is reported
widened evenly to them (:func:`as_wide_as_shoulders`, against the grown box's height), arms
the blur faded into the grass.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np
import numpy.typing as npt

from realtime_nb.vision.plugins.arrays import clip
from realtime_nb.vision.plugins.base import Frame
from realtime_nb.vision.plugins.grass import Mask

__all__ = [
    "SHORT_SHARE",
    "SHOULDERS_SHARE",
    "GrassDistance",
    "as_tall_as_a_person",
    "as_wide_as_shoulders",
    "every_fourth",
]

ARM_REACH = 0.12
"""How far beside a fitted box, as a share of a lone person's height, arms held out are looked
for: a running person's box is about 0.4 of their height wide, their body about 0.25."""

SHOULDERS_SHARE = 0.30
"""The least width of a person's reported box as a share of a person's height there (rounded
to whole pixels): a person standing upright spans about a quarter of their height across the
shoulders, and the arms hang beside them. Where blur fades the arms into the grass, the box
fitted to what stands out is the body alone: on broadcast tuning clips (random seeds
300-305) the fitted boxes were a median 0.78 of the truth's width, its arms included (the
truth is a median 0.36 of the height wide there, 0.28 on the synthetic match's clips).
Player P / R on broadcast tuning clips 300-309 went from 0.731 / 0.703 to 0.796 / 0.765, on
310-319 from 0.843 / 0.814 to 0.924 / 0.892; on eight synthetic looks (classic, camera 20 m,
white shorts, near 9.5 m on random seeds 13-20; 320x180 JPEG 55, 376x212 JPEG 45, motion blur
8 + JPEG 40 on 80-87; the defaults on 4-6) no row fell and four rose by 0.001 to 0.003.
0.28 gave the same synthetic rows and 0.789 / 0.758 and 0.914 / 0.882 on broadcast; 0.33
0.807 / 0.775 and 0.932 / 0.900, but four synthetic rows fell by 0.001 to 0.002. The box's
own height as the person's (without the lone person's height at its feet) cost the tuning
unit test's clip of the defaults P 0.969 -> 0.949: a box over two people one above the other
grew twice a person's shoulders. The synthetic match draws people a little slimmer (a median
0.28 of their height), so there a reported box is often a pixel wider than the truth: both
sides exact for 42 to 62 % of matched people of the 640x360 looks instead of 91 to 94 %, and
for 15 % instead of 93 % at the near camera (9.5 m up); widening only people under 30 px tall
kept that camera's sides (no other look's) for 0.004 less broadcast P. IoU with the truth
stays well over 0.5."""


SHORT_SHARE = 0.9
"""A reported box shorter than this share of a lone person's height at its feet is grown to that
person's height (:func:`as_tall_as_a_person`). Where blur or JPEG fades a small player's head,
hair or boots into the grass, the box fitted to what stands out is short of the person at one
end or the other: on broadcast tuning clips the near misses were mostly short at the bottom
(boots faded), on the synthetic match at 320x180 with JPEG 30 mostly at the top (head faded).
The missing rows are shared above and below by how far the rows there are from the grass (the
faded part still differs from it a little). Player P / R (on 9db0635) on broadcast tuning clips
(4 s) 300-309 went from 0.849 / 0.760 to 0.893 / 0.799, 310-319 from 0.928 / 0.892 to 0.952 /
0.916 (2 s: 0.892 / 0.817 and 0.959 / 0.926), and on the fresh clips 320-325 from 0.914 / 0.818
to 0.945 / 0.845; eleven synthetic tuning looks moved by 0 to +0.009 (320x180 with JPEG 30,
random seeds 20-27, 0.896 / 0.871 to 0.904 / 0.879; fresh seeds 80-89 with motion blur 8 + JPEG
40 0.937 / 0.897 to 0.954 / 0.914). Half the missing rows each way gave 0.885 / 0.810 and 0.953
/ 0.921 on broadcast tuning clips (2 s; 0.849 / 0.777 and 0.935 / 0.903 before) and 0.901 /
0.876 at 320x180 with JPEG 30; all of them to the side whose rows differ more from the grass
(at least 1.3 times) 0.887 / 0.812, 0.958 / 0.925 and 0.908 / 0.883. On a first version (boxes
at the frame's edge grown too): all the missing rows above gave 0.854 / 0.782 and 0.939 / 0.907
on broadcast, all below 0.873 / 0.799 and 0.953 / 0.920 but 320x180 with JPEG 30 -0.006;
growing boxes under 0.8 of a person to 0.9 of one, +0.013 / +0.011 and +0.009 / +0.009; under
0.95 to a whole person, the same as under 0.9 within 0.002."""


def as_tall_as_a_person(
    box: list[int], height: int, tall: float | None, away: GrassDistance | None = None
) -> list[int]:
    """``box`` (``[x1, y1, x2, y2]``, inclusive pixels) grown to ``tall`` rows (a lone person's
    height at its feet, rounded; cut where the frame ends) when it is shorter than
    :data:`SHORT_SHARE` of that. The missing rows go above and below it in proportion to how
    far the rows there differ from the grass (``away``: :meth:`GrassDistance.share_below`; a
    faded head or boots still differ a little), else half each way; an odd row, or a half,
    goes above. A box already as tall, one touching the frame's top or bottom edge (``height``
    rows: a person the frame cuts off is short for that), or a ``tall`` that is None, not
    positive or not finite, leaves the box as it is.

    Example:
        >>> as_tall_as_a_person([10, 20, 13, 29], 360, 14.0)
        [10, 18, 13, 31]
        >>> as_tall_as_a_person([10, 20, 13, 29], 360, 11.0)  # 10 rows: at least 0.9 of 11
        [10, 20, 13, 29]
        >>> as_tall_as_a_person([10, 0, 13, 9], 360, 14.0)  # cut off by the frame's top
        [10, 0, 13, 9]
    """
    x1, y1, x2, y2 = box
    if tall is None or not 0 < tall < math.inf or y1 <= 0 or y2 >= height - 1:
        return box
    rows = y2 - y1 + 1
    if rows >= SHORT_SHARE * tall:
        return box
    missing = round(tall) - rows
    share = 0.5 if away is None else away.share_below(box, missing)
    below = math.ceil(share * missing - 0.5)  # to the nearest row, a half row above
    return [x1, max(0, y1 - (missing - below)), x2, min(height - 1, y2 + below)]


def as_wide_as_shoulders(
    box: list[int], width: int, tall: float | None = None, away: GrassDistance | None = None
) -> list[int]:
    """``box`` (``[x1, y1, x2, y2]``, inclusive pixels) widened evenly about its middle until
    ``x2 - x1`` is :data:`SHOULDERS_SHARE` of a person's height there (rounded): ``y2 - y1``,
    or ``tall`` (a lone person's height at its feet) when that is less (a box over two people,
    one above the other, is no wider for it); a ``tall`` that is None, not positive or not
    finite is not used. An odd pixel goes to the side whose column it would take (one beyond
    the even widening), over the box's rows, differs more from the grass (``away``:
    :meth:`GrassDistance.column_difference`; an arm or a shoulder the blur faded still differs
    a little), to the right on a tie or without ``away``. A box already as wide, or touching
    the frame's left or right edge (``width`` px wide: a person the frame cuts off is narrow
    for that), is returned as it is.

    Always to the right, as before, on tuning clips (4 s each, random seeds 30-35) at 320x180
    and 376x212 with JPEG 45: 7,595 and 7,847 people matched, 887 and 660 boxes of no one;
    by the side that differs more, 7,617 and 7,860, 865 and 647 (broadcast tuning clips 300-311,
    60 frames: 7,376 -> 7,392 and 816 -> 800; 640x360 synthetic looks as before). Always to
    the left: 7,561 and 7,828, 921 and 679.

    Example:
        >>> as_wide_as_shoulders([10, 0, 12, 20], 640), as_wide_as_shoulders([0, 0, 2, 20], 640)
        ([8, 0, 14, 20], [0, 0, 2, 20])
        >>> as_wide_as_shoulders([10, 0, 12, 40], 640, tall=20.0)
        [8, 0, 14, 40]
    """
    x1, y1, x2, y2 = box
    if x1 <= 0 or x2 >= width - 1:
        return box
    person = float(y2 - y1)
    if tall is not None and 0 < tall < person:  # NaN and inf fail the comparisons
        person = tall
    missing = round(SHOULDERS_SHARE * person) - (x2 - x1)
    if missing <= 0:
        return box
    left = missing // 2
    right = missing - left
    if left < right and away is not None:
        rows = (y1, y2)
        if away.column_difference(x1 - right, *rows) > away.column_difference(x2 + right, *rows):
            left, right = right, left
    return [max(0, x1 - left), y1, min(width - 1, x2 + right), y2]


_LINE_TILT = 0.05
"""How many rows (a share of a lone person's height, at least two) each side of a box short of
a person may stand out above or below a row under it, for that row to be a line rather than
boots (so the two sides may be up to twice that apart: a line that climbs or falls across the
box): at a near, low camera (10.5 m up, 12.5 m back, a 26 degree view) a pitch line a few
rows under a player's feet was taken for boots, and the box grew over the ball at the feet
down to the line, so that ball detection took the ball for kit. Only rows brighter than the
grass count (a line across a small player's faded shins, under motion blur, leaves dark boots
within a few rows below it). On fresh random seeds 80-87 x 4 s at that camera the ball was
found in 468 -> 482 of 507 visible frames (one seed 52 -> 66 of 68); broadcast tuning clips
553 -> 561 of 1158, wrong reports (visible or hidden) 485 -> 472; near cameras 9.5 m up, 11 m
back, 24 degrees (random seeds 33-64) 1292 -> 1289 of 1355, wrong 42 -> 45; player P and R on
nine tuning looks within 0.001 of before."""

_LIT_GRASS = 1.3
"""How much brighter than its mean colour grass beside a narrow box may be and still be grass
to the box's widening: a lighter mowing stripe (about 1.1 times) on a lighter patch."""


@dataclass(frozen=True)
class GrassDistance:
    """How far a pixel's colour is from the grass's mean colour (the largest of the three
    channel differences, 0 to 255), and the distance above which a pixel stands out.

    Attributes:
        frame: The BGR frame.
        grass: The mean BGR (and a fourth 0) of its grass pixels.
        threshold: The grass pixels' mean distance plus three spreads, at least 20.
        floor: The grass pixels' mean distance plus one spread: a row's pixels count by how
            far they stand above it.
    """

    frame: Frame
    grass: tuple[float, float, float, float]
    threshold: float
    floor: float
    # The grass's colour as an image at least as large as any part of the frame measured so
    # far (grown as needed): cv2.absdiff of two 8-bit images is about three times as fast as
    # against a scalar.
    _plain: list[Frame] = field(default_factory=list, init=False, repr=False, compare=False)
    # Tables of each distance's excess over ``floor`` (as an 8-bit level) for
    # :meth:`_massive`, and of how many of two marks it earns toward an arm
    # (:meth:`_with_arms`), and the least sum of a row's excess: the same for every box of
    # the frame, worked out once (a look-up costs less than numpy's arithmetic on a crop).
    _excess: npt.NDArray[np.uint8] = field(
        default_factory=lambda: np.zeros(256, np.uint8), init=False, repr=False, compare=False
    )
    _least_mass: float = field(default=0.0, init=False, repr=False, compare=False)
    _arm_marks: npt.NDArray[np.uint8] = field(
        default_factory=lambda: np.zeros(256, np.uint8), init=False, repr=False, compare=False
    )
    # The distances :meth:`fit` measured around each box it returned (with their top row and
    # left column), by the box: :meth:`standing_out` asks about most of those boxes again.
    _measured: dict[tuple[int, int, int, int], tuple[npt.NDArray[np.uint8], int, int]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        """Work out the frame's constants for the boxes' tests."""
        floor8 = min(255, round(self.floor))
        levels = np.arange(256)
        marks = (levels >= self.threshold).astype(np.uint8) + (levels >= 2 * self.threshold)
        object.__setattr__(self, "_excess", np.maximum(levels - floor8, 0).astype(np.uint8))
        object.__setattr__(self, "_least_mass", 0.6 * (self.threshold - floor8))
        object.__setattr__(self, "_arm_marks", np.asarray(marks, np.uint8))

    @classmethod
    def of(cls, frame: Frame, sample_green: Mask, sample: Frame | None = None) -> GrassDistance:
        """Measure ``frame`` against the mean colour of its grass, ``sample_green`` being the
        grass mask of ``every_fourth(frame)`` (``sample``, when already taken)."""
        sample = every_fourth(frame) if sample is None else sample
        grass = cv2.mean(sample, mask=sample_green)
        # The grass's image as large as the sample is kept for the boxes' crops, which are
        # mostly smaller: fewer images of it made as they grow.
        plain = _plain_grass(grass, *sample.shape[:2])
        distance = _channel_max(cv2.absdiff(sample, plain))
        mean, spread = cv2.meanStdDev(distance, mask=sample_green)
        mean_, spread_ = float(mean[0, 0]), float(spread[0, 0])
        found = cls(frame, grass, max(20.0, mean_ + 3.0 * spread_), mean_ + spread_)
        found._plain[:] = [plain]
        return found

    def fit(self, box: list[int], expected: float | None) -> list[int]:
        """``box`` with its top and bottom grown over the rows of the person the blob missed,
        and its sides cut to the columns of the person.

        A row counts when its pixels within the box's columns stand out, together, 0.6 times as
        much as one pixel at the threshold (their excess over ``floor`` summed), unless pixels on
        both sides of the columns stand out too (a line across, not a person); the top of a box
        under 0.8 of ``expected`` grows past up to two rows that do not (a faded neck below a
        head), and its bottom past up to a fifth of ``expected`` of them to a few rows of boots
        under its middle columns (faded shins above boots; rows brighter than the grass under
        the middle, with something on both sides within :data:`_LINE_TILT` of ``expected``
        rows, are a line, passed over as neither boots nor a gap), but never ends on one.
        Below a box already 0.8 of ``expected`` tall, rows must also stand out from the grass
        darkened to their own brightness, so the box stops at the feet, not at the end of the
        person's shadow. A box not grown at its bottom is cut back over the rows below its last
        row that stands out, when they are at most four and take in plain grass in the box's
        own columns, keeping at least four rows (the blob may reach rows of grass below the
        feet).
        A column counts when its pixel a quarter of a person's height from its brightest (in
        those rows) is at the threshold, or at least half as far from the grass as the box's
        strongest such pixel; a column beside a narrow box counts the same way, and must also
        stand out from the grass lit (up to 1.3 times) or shaded to each pixel's brightness.

        Args:
            box: ``[x1, y1, x2, y2]``, inclusive pixels.
            expected: A lone person's height (px) standing at the box's bottom, when known;
                the grown box stays within 1.15 times it.

        Returns:
            ``[x1, y1, x2, y2]``, the rows grown (or the bottom cut) and the columns cut
            (or, for a box under a quarter of ``expected`` wide, widened over the person's
            columns beside it), then widened over arms held out (:meth:`with_arms`).
        """
        h, w = self.frame.shape[:2]
        x1, y1, x2, y2 = box
        reach = max(2, round(0.45 * (expected or y2 - y1 + 1)))
        top, bottom = max(0, y1 - reach), min(h - 1, y2 + reach)
        left, right, halo = self._beside(x1, x2)
        crop = self.frame[top : bottom + 1, left : right + 1]
        distance = self._distance(crop)
        inside = slice(x1 - left, x2 - left + 1)
        massive = self._massive(distance, inside)
        rows = massive & ~self._across(distance, inside, halo)
        up, down = self._grown(rows, distance, crop, (inside, halo), (y1 - top, y2 - top), expected)
        new_top, new_bottom = y1 - up, y2 + down
        if not down:
            kept = slice(new_top - top, new_bottom - top + 1)
            new_bottom -= _faded_below(rows[kept], ~massive[kept])
        # Beside a box under a quarter of a person's height wide (a person standing is about
        # a quarter to a third as wide as tall, 0.4 with arms out), columns up to 0.4 of their
        # height in all are looked at too, and one more each side: blur and JPEG leave the
        # blob a few of a person's columns. (Beside a wider box they would be the fringe of a
        # person the blob already covers.)
        room = 0
        if expected is not None and x2 - x1 + 1 < 0.25 * expected:
            room = max(0, round(0.4 * expected) - (x2 - x1 + 1))
        looked = None
        if room:
            first, last = max(0, x1 - room - 1), min(w - 1, x2 + room + 1)
            looked = self.frame[new_top : new_bottom + 1, first : last + 1]
            rows_in = self._distance(looked)
        else:
            first, last = x1, x2
            rows_in = distance[new_top - top : new_bottom - top + 1, x1 - left : x2 - left + 1]
        bounded = (first > 0, last < w - 1)
        cut_left, cut_right = self._sides(
            rows_in, (x1 - first, x2 - first), expected, bounded, looked
        )
        fitted = [first + cut_left, new_top, first + cut_right, new_bottom]
        fitted = self._with_arms(fitted, expected, (distance, top, left))
        if left <= fitted[0] and fitted[2] <= right and top <= fitted[1] and fitted[3] <= bottom:
            self._measured[(fitted[0], fitted[1], fitted[2], fitted[3])] = (distance, top, left)
        return fitted

    def with_arms(self, box: list[int], expected: float | None) -> list[int]:
        """``box`` widened over the columns beside it where a person's arms stand out: a run
        of columns from each side, each with two pixels at the threshold (or one at twice it)
        in the rows from the shoulders to the hands (0.1 to 0.65 of the box's height down), of
        at most :data:`ARM_REACH` of ``expected`` (a lone person's height there; ``box`` as it
        is when None). A longer run is not arms (a neighbour, a line across), nor is one that
        reaches the frame's edge (it may go on past it): they widen nothing.
        """
        return self._with_arms(box, expected, None)

    def _with_arms(
        self,
        box: list[int],
        expected: float | None,
        measured: tuple[npt.NDArray[np.uint8], int, int] | None,
    ) -> list[int]:
        """:meth:`with_arms`, reading the distances from ``measured`` (distances from the grass
        of a part of the frame, with its top row and left column) where they cover the
        columns and rows looked at: :meth:`fit` has measured them around most boxes."""
        if expected is None:
            return box
        w = self.frame.shape[1]
        x1, y1, x2, y2 = box
        tall = y2 - y1 + 1
        reach = max(1, round(ARM_REACH * expected))
        rows = slice(y1 + round(0.1 * tall), y1 + max(1, round(0.65 * tall)))
        # One column past the reach is looked at too, to tell a run that ends from one that
        # goes on.
        first, last = max(0, x1 - reach - 1), min(w - 1, x2 + reach + 1)
        distance = None
        if measured is not None:
            known, top, left = measured
            r0, r1, c0, c1 = rows.start - top, rows.stop - top, first - left, last + 1 - left
            if min(r0, c0) >= 0 and r1 <= known.shape[0] and c1 <= known.shape[1]:
                distance = known[r0:r1, c0:c1]
        if distance is None:
            distance = self._distance(self.frame[rows, first : last + 1])
        # A pixel at the threshold earns a column one mark, one at twice it two: two marks are
        # two pixels at the threshold or one at twice it. A table look-up and one sum per
        # column cost less than the two tests and their counts.
        marks = cv2.reduce(cv2.LUT(distance, self._arm_marks), 0, cv2.REDUCE_SUM, dtype=cv2.CV_32S)
        hit = (marks.ravel() >= 2).tobytes()
        left = _run_of(hit[: x1 - first][::-1])
        right = _run_of(hit[x2 - first + 1 :])
        # A run to the frame's edge may go on past it.
        if left > reach or (left and x1 - left == 0):
            left = 0
        if right > reach or (right and x2 + right == w - 1):
            right = 0
        return [x1 - left, y1, x2 + right, y2]

    def cut_below(self, box: list[int]) -> list[int]:
        """``box`` with its bottom cut back over the rows of grass below its last row that
        stands out (as in :meth:`fit`: at most four, keeping at least four): for a box whose
        rows come from the blob mask alone (a piece of a split blob), which may reach rows of
        grass below the feet.

        Args:
            box: ``[x1, y1, x2, y2]``, inclusive pixels.

        Returns:
            ``[x1, y1, x2, y2]`` with ``y2`` cut back, or ``box`` as it was.
        """
        x1, y1, x2, y2 = box
        left, right, halo = self._beside(x1, x2)
        distance = self._distance(self.frame[y1 : y2 + 1, left : right + 1])
        inside = slice(x1 - left, x2 - left + 1)
        massive = self._massive(distance, inside)
        rows = massive & ~self._across(distance, inside, halo)
        return [x1, y1, x2, y2 - _faded_below(rows, ~massive)]

    def standing_out(self, box: list[int]) -> npt.NDArray[np.bool_]:
        """Which pixels of ``box`` (``[x1, y1, x2, y2]``, inclusive; rows by columns) are at
        the threshold from the grass."""
        x1, y1, x2, y2 = box
        # A box as :meth:`fit` returned it: its distances are read from those measured there
        # (each pixel's distance is its own).
        known = self._measured.get((x1, y1, x2, y2))
        if known is None:
            distance = self._distance(self.frame[y1 : y2 + 1, x1 : x2 + 1])
        else:
            around, top, left = known
            distance = around[y1 - top : y2 - top + 1, x1 - left : x2 - left + 1]
        found: npt.NDArray[np.bool_] = distance >= self.threshold
        return found

    def off_shade(
        self, ys: npt.NDArray[np.intp], xs: npt.NDArray[np.intp]
    ) -> npt.NDArray[np.uint8]:
        """How far the frame's pixels at rows ``ys`` and columns ``xs`` are from the grass
        darkened (down to half) or lit (up to its mean) to each one's own brightness: the
        largest of the three channel differences, near 0 on a shadow on the grass."""
        return np.asarray(_shaded_distance(self.frame[ys, xs][None], self.grass)[0], np.uint8)

    def share_below(self, box: list[int], rows: int) -> float:
        """Of how far the ``rows`` rows above ``box`` and the ``rows`` below it (within the
        frame, over the box's columns) are from the grass, on average, the share below it:
        0.5 when neither differs from the grass at all. A pixel counts up to :attr:`threshold`
        (a line's bright pixels no more than a boot's); a shadow under the feet counts as
        differing, as it does from the grass's mean."""
        x1, y1, x2, y2 = box
        frame_rows = self.frame.shape[0]
        above = self.frame[max(0, y1 - rows) : y1, x1 : x2 + 1]
        under = self.frame[y2 + 1 : min(frame_rows, y2 + 1 + rows), x1 : x2 + 1]
        over = self._capped_mean(above) if above.size else 0.0
        down = self._capped_mean(under) if under.size else 0.0
        return 0.5 if over + down <= 0 else down / (over + down)

    def column_difference(self, x: int, y1: int, y2: int) -> float:
        """How far column ``x``'s pixels from row ``y1`` to ``y2`` (inclusive, within the
        frame) are from the grass, on average; a pixel counts up to :attr:`threshold`, as in
        :meth:`share_below`. 0.0 for a column outside the frame."""
        rows, cols = self.frame.shape[:2]
        if not 0 <= x < cols:
            return 0.0
        column = self.frame[max(0, y1) : min(rows, y2 + 1), x : x + 1]
        return self._capped_mean(column) if column.size else 0.0

    def _capped_mean(self, pixels: Frame) -> float:
        """The mean distance from the grass of ``pixels`` (a part of the frame, not empty),
        each pixel counted up to :attr:`threshold`."""
        cap = min(255, round(self.threshold))
        return float(cv2.mean(np.minimum(self._distance(pixels), cap))[0])

    def _distance(self, pixels: Frame) -> npt.NDArray[np.uint8]:
        """Per pixel of ``pixels``, a part of the frame, the largest of its three channel
        differences from the grass (rounded to 8 bits as cv2.absdiff rounds a scalar), against
        the grass's image kept for the frame."""
        h, w = pixels.shape[:2]
        plain = self._plain[0] if self._plain else None
        if plain is None or plain.shape[0] < h or plain.shape[1] < w:
            # Grown to at least twice its size each way (within the frame): a frame's boxes
            # ask for crops of every size, and each growth is a new image.
            rows, cols = h, w
            if plain is not None:
                fh, fw = self.frame.shape[:2]
                rows, cols = max(h, min(fh, 2 * len(plain))), max(w, min(fw, 2 * plain.shape[1]))
            plain = _plain_grass(self.grass, rows, cols)
            self._plain[:] = [plain]
        return _channel_max(cv2.absdiff(pixels, plain[:h, :w]))

    def _beside(self, x1: int, x2: int) -> tuple[int, int, int]:
        """The first and last columns looked at for a box's columns ``x1`` to ``x2`` (the box,
        its motion halo and the sides looked at for a line), and the halo's width."""
        # The sides looked at for a line start half a box width out: a horizontal motion
        # streak smears a person that far beyond the box, and would pass for a line.
        halo = (x2 - x1 + 1) // 2
        margin = halo + max(2, (x2 - x1 + 1) // 2)
        return max(0, x1 - margin), min(self.frame.shape[1] - 1, x2 + margin), halo

    def _grown(
        self,
        rows: npt.NDArray[np.bool_],
        distance: npt.NDArray[np.uint8],
        crop: Frame,
        columns: tuple[slice, int],
        box_rows: tuple[int, int],
        expected: float | None,
    ) -> tuple[int, int]:
        """How many rows :meth:`fit` grows a box by at its top and at its bottom: ``rows``
        (which rows of the ``crop``, at ``distance`` from the grass, stand out), ``columns``
        (the box's columns in the crop and their motion halo), ``box_rows`` (the box's top
        and bottom rows in the crop)."""
        inside, halo = columns
        y1, y2 = box_rows
        # Rows stand out from the box's top up and from its bottom down: grow over each run,
        # up first, the whole within 1.15 times a lone person's height. Above a box short of
        # a lone person's height the run goes on past up to two rows that do not stand out:
        # blur and JPEG fade a small player's neck or chin into the grass below a head that
        # still does (a box already a person tall would climb into the feet of one behind).
        # Below it the run goes on past a fifth of a person's height of such rows: heavy blur
        # and JPEG fade shins or socks, and the boots below still stand out.
        below_from = y2 + 1
        short = expected is not None and y2 - y1 + 1 < 0.8 * expected
        marks = rows.tobytes()  # the rows' tests as bytes, for the runs and the gaps below
        up = _run_of(marks[:y1][::-1], gap=2 if short else 0)
        down = _run_of(marks[below_from:])
        if short and expected is not None:
            # The middle's sides looked at for a line (past the halo and the quarter) are the
            # box's own, whose test ``rows`` has made: its mass is all that is left to test.
            middle = _middle(inside)
            feet = rows & self._massive(distance, middle)
            # A tilted line under the feet stands out beside the box at rows a little apart
            # on either side, so no one row of it is across; for boots, rows brighter than
            # the grass under the box's middle with something on both sides within a few
            # rows are a line too, and are passed over as if not there: neither boots nor a
            # gap (a line crossing faded shins leaves the boots below it).
            tilt = max(2, round(_LINE_TILT * expected))
            paint = self._brighter(crop[:, middle]) & self._across(distance, inside, halo, tilt)
            unpainted = np.flatnonzero(~paint[below_from:])
            reached = _boots(feet[below_from:][unpainted], expected)
            down = max(down, int(unpainted[reached - 1]) + 1 if reached else 0)
        # A person's shadow is the grass darkened. Below a box already about a whole person
        # tall, rows count by how far they stand from the grass darkened to their own
        # brightness, so the box stops at the feet; a shorter box (blur faded its socks and
        # boots, which then look like darkened grass too) grows as before.
        if down and expected is not None and not short:
            shade = _shaded_distance(crop[below_from:], self.grass)
            down = min(down, _run(self._standing(shade, inside, halo)))
        if expected is not None:
            room = max(0, int(1.15 * expected) - (y2 - y1 + 1))
            up = min(up, room)
            down = min(down, room - up)
        while up and not marks[y1 - up]:  # the room ended inside a bridged gap
            up -= 1
        while down and not marks[below_from + down - 1]:  # so did the feet's
            down -= 1
        return up, down

    def _sides(
        self,
        distance: npt.NDArray[np.uint8],
        box: tuple[int, int],
        expected: float | None,
        bounded: tuple[bool, bool] = (True, True),
        looked: Frame | None = None,
    ) -> tuple[int, int]:
        """The box's columns ``box`` (first and last, in ``distance``: the grown box's
        distances from the grass, with any columns beside it) cut to the person's, or widened
        over the columns beside it that stand out as theirs. ``bounded``: whether the columns
        looked at stop before the frame's left and right edges (a run of columns that goes on
        to such a stop is more than this person). ``looked``: the frame's pixels of
        ``distance`` when it has columns beside the box."""
        # A horizontal motion streak widens the blob with a fading halo, and a line the person
        # stands on widens it with a few bright rows: a column counts by its pixel a quarter of
        # a person's height from its brightest (a line's rows are fewer, an arm's more; the
        # blob may be two people one behind the other), and columns under half the person's
        # strongest are cut from the sides, unless they stand out on their own (white socks
        # would cut a dark shirt). Columns beside the box count much the same way (below), as
        # far as they run on from it.
        x1, x2 = box
        person = min(len(distance), expected or len(distance))
        rank = len(distance) - max(1, round(0.25 * person))
        counts = self._counting(distance, rank, box)
        # The box's first and last columns that count, searched for in the tests' bytes.
        flags = counts.tobytes()
        inside = flags[x1 : x2 + 1]
        keep = inside.find(1)
        if keep < 0:
            return x1, x2
        first, last = x1 + keep, x1 + inside.rfind(1)
        # Most boxes have grass (or a cut) at both sides: no run to look for.
        on_left = first == x1 and x1 > 0 and bool(flags[x1 - 1])
        on_right = last == x2 and x2 < len(flags) - 1 and bool(flags[x2 + 1])
        if not (on_left or on_right):
            return first, last
        # A column beside the box must also stand out from the grass lit or shaded to its own
        # brightness (against the box's own such columns): textured grass and shadows beside a
        # narrow box are the grass brighter or darker, and stand out from its mean colour as
        # much as a person's faded side. Only a veto: beside a kit close to darkened grass the
        # box's own shaded distances are small, and half of them would let plain grass in.
        beside = counts
        if looked is not None:
            beside = counts & self._counting(
                _shaded_distance(looked, self.grass, _LIT_GRASS), rank, box
            )
            on_left = on_left and bool(beside[x1 - 1])
            on_right = on_right and bool(beside[x2 + 1])
            if not (on_left or on_right):
                return first, last
        wide_first = first - _run(beside[:x1][::-1]) if on_left else first
        wide_last = last + _run(beside[x2 + 1 :]) if on_right else last
        # Widened to at most 0.55 of a person's height (a person is about a third as wide,
        # arms out and with a motion streak's halo more), and not to the end of the columns
        # looked at, else the columns beside it are someone else's (or a shadow) as well.
        runs_on = (bounded[0] and wide_first == 0) or (bounded[1] and wide_last == len(beside) - 1)
        too_wide = expected is None or wide_last - wide_first + 1 > max(
            x2 - x1 + 1, 0.55 * expected
        )
        if runs_on or too_wide:
            return first, last
        return wide_first, wide_last

    def _counting(
        self, distance: npt.NDArray[np.uint8], rank: int, box: tuple[int, int]
    ) -> npt.NDArray[np.bool_]:
        """Which columns of ``distance`` count as a person's: their pixel at ``rank`` (of
        each column's, growing) at the threshold, or at least half as far from the grass as
        the strongest such pixel of the box's columns ``box`` (first and last)."""
        # Each column's pixels made a contiguous row, then partitioned in place: np.partition
        # along the columns of a part of the frame costs more.
        columns = np.ascontiguousarray(distance.T)
        columns.partition(rank, axis=1)
        profile = columns[:, rank]
        # The largest of the box's few bytes, in Python: less than a numpy reduction.
        strongest = max(profile[box[0] : box[1] + 1].tobytes())
        counted: npt.NDArray[np.bool_] = profile >= min(0.5 * strongest, self.threshold)
        return counted

    def _standing(
        self, distance: npt.NDArray[np.uint8], inside: slice, halo: int
    ) -> npt.NDArray[np.bool_]:
        """Which rows of ``distance`` (the box's columns ``inside``, ``halo`` columns of motion
        streak each side, then the sides looked at for a line) stand out as a person's."""
        return self._massive(distance, inside) & ~self._across(distance, inside, halo)

    def _across(
        self, distance: npt.NDArray[np.uint8], inside: slice, halo: int, tilt: int = 0
    ) -> npt.NDArray[np.bool_]:
        """Which rows of ``distance`` have something at the threshold on both sides, past
        ``halo`` columns of motion streak beside the box's columns ``inside``: a line across
        (or people either side). With ``tilt``, each side may stand out up to that many rows
        above or below the row instead (a tilted line). No row when a side is off the
        frame."""
        first, last = inside.start - halo, inside.stop - 1 + halo
        if first <= 0 or distance.shape[1] - 1 <= last:
            return np.zeros(distance.shape[0], bool)
        if not len(distance):
            return np.zeros(0, bool)
        # Something at the threshold on both sides: the lesser of the two sides' largest
        # distances is. A row's largest by cv2.reduce costs less than numpy's test and any().
        left = cv2.reduce(distance[:, :first], 1, cv2.REDUCE_MAX)
        right = cv2.reduce(distance[:, last + 1 :], 1, cv2.REDUCE_MAX)
        if tilt:
            rows_near = np.ones((2 * tilt + 1, 1), np.uint8)
            left, right = cv2.dilate(left, rows_near), cv2.dilate(right, rows_near)
        across: npt.NDArray[np.bool_] = np.minimum(left, right).ravel() >= self.threshold
        return across

    def _brighter(self, pixels: Frame) -> npt.NDArray[np.bool_]:
        """Which rows of ``pixels`` (a part of the frame) are brighter, on average over their
        columns and channels, than the grass."""
        if not pixels.size:
            return np.zeros(len(pixels), bool)
        row_means = cv2.reduce(pixels, 1, cv2.REDUCE_AVG, dtype=cv2.CV_32F).reshape(len(pixels), -1)
        brighter: npt.NDArray[np.bool_] = row_means.sum(axis=1) > sum(self.grass[:3])
        return brighter

    def _massive(self, distance: npt.NDArray[np.uint8], inside: slice) -> npt.NDArray[np.bool_]:
        """Which rows of ``distance`` stand out in the box's columns ``inside`` alone (no test
        of the sides for a line)."""
        # A row counts by its pixels' sum above the floor, 0.6 times one pixel at the
        # threshold: a horizontal motion streak spreads a head or a boot over more columns at
        # a fraction of its contrast, and keeps the sum; part of it falls outside the box's
        # columns, hence 0.6.
        columns = distance[:, inside]
        if not columns.size:
            return np.zeros(len(distance), bool)  # no pixel: no mass (cv2.LUT takes none)
        above = cv2.LUT(columns, self._excess)
        mass = cv2.reduce(above, 1, cv2.REDUCE_SUM, dtype=cv2.CV_32S).ravel()
        massive: npt.NDArray[np.bool_] = mass >= self._least_mass
        return massive


_BRIDGED_ROWS = 4
"""Most rows of grass the blob mask's closing (5 rows tall) carries a blob over."""


def _faded_below(rows: npt.NDArray[np.bool_], plain: npt.NDArray[np.bool_]) -> int:
    """How many of a box's last rows to cut, given whether each stands out as a person's
    (``rows``, top to bottom) and whether it is plain grass in the box's own columns
    (``plain``): the rows after its last row that stands out, when they are at most
    :data:`_BRIDGED_ROWS` and take in plain grass, keeping at least four rows. The blob mask's
    closing joins a small person's feet to a line's JPEG fringe a few rows below them, over
    rows of plain grass. A longer run, or one with no plain grass, is not that: a row with
    someone on both sides, or a line the person stands on, fails the person test too."""
    # The run of False rows at the end: after the last True byte (-1 when there is none).
    run = len(rows) - 1 - rows.tobytes().rfind(1)
    if not run or run > _BRIDGED_ROWS or not plain[len(rows) - run :].any():
        return 0
    return min(run, max(0, len(rows) - 4))


def _quarter(columns: slice) -> int:
    """A quarter of the width of ``columns`` (a slice with start and stop), rounded down."""
    return int((columns.stop - columns.start) // 4)


def _middle(columns: slice) -> slice:
    """The middle half of ``columns``: boots stand under the middle of a box, while a
    neighbour's head beside the feet reaches only its side columns."""
    return slice(columns.start + _quarter(columns), columns.stop - _quarter(columns))


def _boots(feet: npt.NDArray[np.bool_], expected: float) -> int:
    """How many rows below a box short of a person ``expected`` px tall reach its boots: over
    faded shins or socks (gaps of up to a fifth of ``expected`` rows where ``feet``, the rows
    standing out under the box's middle, is False), when the last run is boots (at most 0.15
    of ``expected`` rows, else it is someone else); 0 when none are reached."""
    reached = _run(feet, gap=max(2, round(0.2 * expected)))
    return reached if _run(feet[:reached][::-1]) <= max(2, 0.15 * expected) else 0


def _run(rows: npt.NDArray[np.bool_], gap: int = 0) -> int:
    """How many of ``rows`` lead up to the last True reached over runs of at most ``gap``
    False rows. ``rows`` is a boolean array (one byte a row: its bytes are searched)."""
    return _run_of(rows.tobytes(), gap)


def _run_of(data: bytes, gap: int = 0) -> int:
    """:func:`_run` of a boolean array's bytes ``data`` (slices and reversals of which cost
    less as bytes than as arrays, on a box's few rows)."""
    # The first False byte, or none when every row is True (or there is no row): one copy and
    # one search, for less than argmin and the tests of its 0 on a box's few rows.
    end = data.find(0)
    if end < 0:
        return len(data)
    if gap == 0:
        return end
    # Over the gaps: from the end of each run of True bytes (the run before the first one
    # may be empty), the next True byte, when at most ``gap`` False ones come first, and the
    # end of its run. A few searches of the bytes cost less than numpy's diff and tests
    # (0.6 us against np.diff's 7.8 on 30 rows).
    while True:
        after = data.find(1, end)
        if after < 0 or after - end > gap:
            return end
        end = data.find(0, after)
        if end < 0:
            return len(data)


def _shaded_distance(
    frame: Frame, grass: tuple[float, float, float, float], brightest: float = 1.0
) -> npt.NDArray[np.uint8]:
    """Per pixel, the largest of the three channel differences from ``grass`` scaled to the
    pixel's own brightness (by 0.5 to ``brightest``, least squares): near 0 on a shadow on
    grass, and with ``brightest`` over 1 on grass lit brighter than its mean."""
    g = np.asarray(grass[:3], np.float32)
    p = frame.astype(np.float32)
    scale = clip((p @ g) / max(float(g @ g), 1.0), 0.5, brightest)
    off = np.abs(p - scale[..., None] * g)
    # np.maximum of the channels: a max along a last axis of three is several times slower.
    largest = np.maximum(np.maximum(off[..., 0], off[..., 1]), off[..., 2])
    return np.asarray(np.minimum(largest, 255), np.uint8)


def _plain_grass(grass: tuple[float, float, float, float], rows: int, cols: int) -> Frame:
    """A ``rows`` x ``cols`` BGR image of ``grass``'s colour as cv2.absdiff rounds a scalar for
    an 8-bit image (so the differences from it are those from the scalar)."""
    level = cv2.absdiff(np.zeros((1, 1, 3), np.uint8), np.asarray(grass, np.float64))
    return np.repeat(np.repeat(level, cols, axis=1), rows, axis=0)


def _channel_max(difference: cv2.typing.MatLike) -> npt.NDArray[np.uint8]:
    """Per pixel, the largest of a BGR image's three channels (8-bit)."""
    # np.maximum over the channels' views: cv2.split's three copies cost more than the
    # strided reads.
    image = np.asarray(difference, np.uint8)
    largest = np.maximum(image[..., 0], image[..., 1])
    return np.maximum(largest, image[..., 2], out=largest)


def every_fourth(image: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """Every fourth pixel of ``image`` each way: plenty for a mean or a spread over the grass,
    at a sixteenth of the cost."""
    h, w = image.shape[:2]
    if h % 4 == 0 and w % 4 == 0:
        # Nearest-neighbour at a quarter takes pixel 4 * i exactly when the sides divide by 4,
        # at a fifth of the cost of numpy's strided copy; given every fourth row already (a
        # view), it only picks columns: less again on a large frame.
        return np.asarray(
            cv2.resize(image[::4], (w // 4, h // 4), interpolation=cv2.INTER_NEAREST), np.uint8
        )
    return np.ascontiguousarray(image[::4, ::4])
