"""Tests of the centre circle's ellipse (realtime_nb.vision.plugins.pitch_circle)."""

from __future__ import annotations

import cv2
import numpy as np

from realtime_nb.vision.plugins.pitch_circle import _ellipses
from realtime_nb.vision.plugins.pitch_evidence import LineEvidence


def _arcs(width: int, height: int, spans: list[tuple[int, int]]) -> LineEvidence:
    """A frame's line evidence holding only these spans (degrees) of one ellipse: centre
    (width / 2, height / 2), half axes width / 8 and width / 24, a pixel thick."""
    mask = np.zeros((height, width), np.uint8)
    centre, axes = (width // 2, height // 2), (width // 8, width // 24)
    for start, end in spans:
        cv2.ellipse(mask, centre, axes, 0, start, end, 255, 1)
    return LineEvidence(mask, np.full((height, width), 255, np.uint8))


def _centre(conic: np.ndarray) -> np.ndarray:
    """The centre of a conic: where its gradient vanishes."""
    return np.linalg.solve(conic[:2, :2], -conic[:2, 2])


def test_a_circle_seen_whole_gives_its_ellipse() -> None:
    found = _ellipses(_arcs(352, 198, [(0, 360)]), [])
    assert len(found) == 1
    assert np.allclose(_centre(found[0]), (176, 99), atol=1.0)


def test_a_circle_seen_only_as_short_arcs_either_side_gives_its_ellipse() -> None:
    # A small frame shows the circle only at its left and right ends: neither arc alone is
    # wide enough for an ellipse; the two together are.
    evidence = _arcs(352, 198, [(150, 210), (-30, 30)])
    found = _ellipses(evidence, [])
    assert len(found) == 1
    assert np.allclose(_centre(found[0]), (176, 99), atol=1.5)
    # One arc alone gives none.
    assert _ellipses(_arcs(352, 198, [(150, 210)]), []) == []
