"""Tests of the grass helpers shared by the football plugins."""

from __future__ import annotations

import cv2
import numpy as np

from realtime_nb.vision.plugins.grass import (
    GREEN_HI,
    GREEN_LO,
    green_mask,
    green_of_planes,
    hsv_planes,
)


def test_hsv_planes_are_the_channels_and_green_of_planes_is_green_mask() -> None:
    rng = np.random.default_rng(5)
    for _ in range(20):
        bgr = rng.integers(0, 256, (37, 53, 3), np.uint8)
        hsv = cv2.cvtColor(bgr, cv2.COLOR_BGR2HSV)
        planes = hsv_planes(hsv)
        for k, plane in enumerate(planes):
            assert plane.flags.c_contiguous
            np.testing.assert_array_equal(plane, hsv[:, :, k])
        np.testing.assert_array_equal(green_of_planes(*planes), green_mask(hsv))
        # The reference itself: the three-channel range over the grass's bounds.
        np.testing.assert_array_equal(green_mask(hsv), cv2.inRange(hsv, GREEN_LO, GREEN_HI))
