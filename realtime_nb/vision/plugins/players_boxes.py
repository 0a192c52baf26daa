"""Where a person's box ends: top of the head and soles of the boots, from how far each pixel's
colour is from the grass.

The blob mask of :mod:`realtime_nb.vision.plugins.players` keeps pixels clearly unlike the grass,
so on blurred or compressed footage it loses what fades into the grass: a few pixels of hair, a
dark boot one pixel tall, white socks that look like line paint. Each box's rows are grown up and
down over rows where some pixel within its columns stands out from the grass by more than the
grass's own spread, and no further than a person's height allows; its sides are cut to the
columns that stand out clearly (a horizontal motion streak widens a blob with a faint halo).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from realtime_nb.vision.plugins.base import Frame
from realtime_nb.vision.plugins.grass import Mask

__all__ = ["GrassDistance", "every_fourth"]


@dataclass(frozen=True)
class GrassDistance:
    """How far a pixel's colour is from the grass's mean colour (the largest of the three
    channel differences, 0 to 255), and the distance above which a pixel stands out.

    Attributes:
        frame: The BGR frame.
        grass: The mean BGR (and a fourth 0) of its grass pixels.
        threshold: The grass pixels' mean distance plus three spreads, at least 20.
    """

    frame: Frame
    grass: tuple[float, float, float, float]
    threshold: float

    @classmethod
    def of(cls, frame: Frame, sample_green: Mask) -> GrassDistance:
        """Measure ``frame`` against the mean colour of its grass, ``sample_green`` being the
        grass mask of ``every_fourth(frame)``."""
        sample = every_fourth(frame)
        grass = cv2.mean(sample, mask=sample_green)
        mean, spread = cv2.meanStdDev(_distance(sample, grass), mask=sample_green)
        return cls(frame, grass, max(20.0, float(mean[0, 0]) + 3.0 * float(spread[0, 0])))

    def fit(self, box: list[int], expected: float | None) -> list[int]:
        """``box`` with its top and bottom grown over the rows of the person the blob missed,
        and its sides cut to the columns of the person.

        A row counts when a pixel within the box's columns stands out, unless pixels on both
        sides of the columns do too (a line across, not a person). A column counts when its
        strongest pixel (in those rows) is at least 0.4 times the strongest of the box.

        Args:
            box: ``[x1, y1, x2, y2]``, inclusive pixels.
            expected: A lone person's height (px) standing at the box's bottom, when known;
                the grown box stays within 1.15 times it.

        Returns:
            ``[x1, y1, x2, y2]``, the rows grown and the columns cut.
        """
        h, w = self.frame.shape[:2]
        x1, y1, x2, y2 = box
        reach = max(2, round(0.45 * (expected or y2 - y1 + 1)))
        top, bottom = max(0, y1 - reach), min(h - 1, y2 + reach)
        # The sides looked at for a line start half a box width out: a horizontal motion
        # streak smears a person that far beyond the box, and would pass for a line.
        halo = (x2 - x1 + 1) // 2
        margin = halo + max(2, (x2 - x1 + 1) // 2)
        left, right = max(0, x1 - margin), min(w - 1, x2 + margin)
        distance = _distance(self.frame[top : bottom + 1, left : right + 1], self.grass)
        window = distance >= self.threshold
        rows: npt.NDArray[np.bool_] = np.asarray(window[:, x1 - left : x2 - left + 1].any(axis=1))
        if x1 - halo > left and right > x2 + halo:
            rows &= ~(
                window[:, : x1 - halo - left].any(axis=1)
                & window[:, x2 + halo - left + 1 :].any(axis=1)
            )
        # Rows stand out from the box's top up and from its bottom down: grow over each run,
        # up first, the whole within 1.15 times a lone person's height.
        above = rows[: y1 - top][::-1]
        below = rows[y2 - top + 1 :]
        up = len(above) if above.all() else int(np.argmin(above))
        down = len(below) if below.all() else int(np.argmin(below))
        if expected is not None:
            room = max(0, int(1.15 * expected) - (y2 - y1 + 1))
            up = min(up, room)
            down = min(down, room - up)
        new_top, new_bottom = y1 - up, y2 + down
        # A horizontal motion streak widens the blob with a fading halo: columns that stand out
        # less than 0.4 times the person's strongest are cut from the sides.
        rows_in = distance[new_top - top : new_bottom - top + 1, x1 - left : x2 - left + 1]
        profile = rows_in.max(axis=0)
        keep = np.flatnonzero(profile >= 0.4 * profile.max())
        if len(keep):
            x1, x2 = x1 + int(keep[0]), x1 + int(keep[-1])
        return [x1, new_top, x2, new_bottom]


def _distance(frame: Frame, grass: tuple[float, float, float, float]) -> npt.NDArray[np.uint8]:
    """Per pixel, the largest of the three channel differences from ``grass``."""
    channels = cv2.split(cv2.absdiff(frame, np.asarray(grass, np.float64)))
    return np.asarray(cv2.max(cv2.max(channels[0], channels[1]), channels[2]), np.uint8)


def every_fourth(image: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """Every fourth pixel of ``image`` each way: plenty for a mean or a spread over the grass,
    at a sixteenth of the cost."""
    return np.ascontiguousarray(image[::4, ::4])
