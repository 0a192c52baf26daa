"""Tests of player_detection's line-paint test (realtime_nb.vision.plugins.players_markings):
a box on a projected marking in the paint's colour is paint; a person on a line, and pale
things off the markings, are not."""

from __future__ import annotations

import numpy as np

from realtime_nb.vision.plugins.players_markings import (
    BAND_SLACK_PX,
    BAND_WIDTH_M,
    marking_band,
    on_paint,
)

GRASS = np.array([60.0, 120.0, 60.0])
PAINT = (170, 200, 170)  # the grass blended with white, as JPEG leaves a thin line
SCALE = 10.0  # pixels a metre
# Pitch metres to pixels: the halfway line (x = 52.5 m) is column 100, the far touchline row 10.
HOMOGRAPHY = np.array([[SCALE, 0.0, 100.0 - 52.5 * SCALE], [0.0, SCALE, 10.0], [0.0, 0.0, 1.0]])
HALFWAY = 100


def _frame() -> np.ndarray:
    frame = np.empty((720, 1200, 3), np.uint8)
    frame[:] = GRASS.astype(np.uint8)
    frame[:, HALFWAY - 1 : HALFWAY + 2] = PAINT
    return frame


def _stand_out(frame: np.ndarray, box: list[int]) -> np.ndarray:
    x1, y1, x2, y2 = box
    crop = frame[y1 : y2 + 1, x1 : x2 + 1].astype(np.int16)
    return np.asarray(np.abs(crop - GRASS.astype(np.int16)).max(axis=2) >= 30)


def _paint(frame: np.ndarray, boxes: list[list[int]]) -> list[bool]:
    return on_paint(
        frame,
        boxes,
        lambda box: _stand_out(frame, box),
        HOMOGRAPHY,
        GRASS,
        [1.8 * SCALE] * len(boxes),
    )


def test_a_box_on_a_marking_in_the_paints_colour_is_paint() -> None:
    frame = _frame()
    assert _paint(frame, [[HALFWAY - 3, 200, HALFWAY + 3, 215]]) == [True]


def test_a_person_standing_on_a_line_is_not_paint() -> None:
    frame = _frame()
    frame[200:208, HALFWAY - 2 : HALFWAY + 3] = (40, 30, 200)  # a red shirt over the line
    frame[208:215, HALFWAY - 1 : HALFWAY + 2] = (30, 30, 30)  # dark shorts and legs
    assert _paint(frame, [[HALFWAY - 3, 198, HALFWAY + 3, 215]]) == [False]


def test_pale_pixels_off_every_marking_are_not_paint() -> None:
    frame = _frame()
    frame[300:316, 400:404] = PAINT  # a white kit where no line runs
    assert _paint(frame, [[399, 299, 404, 316]]) == [False]


def test_a_box_with_nothing_standing_out_is_not_paint() -> None:
    frame = _frame()
    assert _paint(frame, [[500, 300, 505, 316]]) == [False]


def test_each_box_is_judged_on_its_own() -> None:
    frame = _frame()
    frame[300:316, 400:404] = PAINT
    boxes = [[399, 299, 404, 316], [HALFWAY - 3, 200, HALFWAY + 3, 215]]
    assert _paint(frame, boxes) == [False, True]


def test_pale_pixels_beside_a_line_but_off_its_paint_are_not_paint() -> None:
    frame = _frame()
    frame[300:316, HALFWAY + 6 : HALFWAY + 10] = PAINT  # a white kit a few pixels off the line
    box = [HALFWAY + 5, 299, HALFWAY + 10, 316]
    middle = (box[0] + box[2]) / 2
    assert middle - HALFWAY < 0.5 * np.hypot(6, 18)  # near enough to be measured
    assert _paint(frame, [box]) == [False]


def test_a_box_near_a_line_with_nothing_standing_out_is_not_paint() -> None:
    frame = _frame()
    assert _paint(frame, [[HALFWAY + 3, 300, HALFWAY + 8, 316]]) == [False]


def _band_rows(band: np.ndarray, column: int) -> np.ndarray:
    return np.flatnonzero(band[:, column])


def test_the_band_follows_each_marking_as_wide_as_a_metre_makes_it_there() -> None:
    # From above, 10 px a metre, but people drawn 9 px tall at the top row and 36 at the
    # bottom: the band is read by the people's scale, so it widens down the frame.
    rows, heights = np.array([0.0, 719.0]), np.array([9.0, 36.0])
    band = marking_band((720, 1200), HOMOGRAPHY, rows, heights)
    # The far touchline (row 10) at the top: a metre is about 5 px there.
    far = _band_rows(band[:60], 600)
    assert far.min() <= 10 <= far.max()
    # (OpenCV draws a thick line a pixel or two wider than asked.)
    assert len(far) <= BAND_WIDTH_M * 5.2 + 2 * BAND_SLACK_PX + 3
    # The halfway line near the bottom is wider than near the top, and both hold it.
    top = np.flatnonzero(band[40, :200])
    bottom = np.flatnonzero(band[680, :200])
    assert top.min() <= HALFWAY - 1 and top.max() >= HALFWAY + 1
    assert len(bottom) > len(top)
    # Far from every marking: nothing.
    assert not band[300:400, 300:400].any()
    # Every point of the centre circle is inside, where its chords meet too.
    angles = np.linspace(0.0, 2 * np.pi, 720)
    x = np.rint(HOMOGRAPHY[0, 0] * (52.5 + 9.15 * np.cos(angles)) + HOMOGRAPHY[0, 2])
    y = np.rint(HOMOGRAPHY[1, 1] * (34.0 + 9.15 * np.sin(angles)) + HOMOGRAPHY[1, 2])
    assert band[y.astype(int), x.astype(int)].all()


def test_no_band_where_no_marking_is_in_view() -> None:
    # The camera looks at grass between the penalty arc (out to 20.15 m) and the centre
    # circle (from 43.35 m): 10 px a metre, the top-left pixel at (21 m, 20 m).
    homography = np.array([[SCALE, 0.0, -210.0], [0.0, SCALE, -200.0], [0.0, 0.0, 1.0]])
    band = marking_band((200, 200), homography, np.array([0.0, 199.0]), np.array([18.0, 18.0]))
    assert not band.any()


def test_a_band_drawn_into_a_used_buffer_is_the_new_bands() -> None:
    rows, heights = np.array([0.0, 719.0]), np.array([9.0, 36.0])
    used = np.full((720, 1200), 7, np.uint8)
    band = marking_band((720, 1200), HOMOGRAPHY, rows, heights, out=used)
    assert band is used
    np.testing.assert_array_equal(band, marking_band((720, 1200), HOMOGRAPHY, rows, heights))
