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
    evidence = _arcs(352, 198, [(140, 220), (-40, 40)])
    found = _ellipses(evidence, [])
    assert len(found) == 1
    assert np.allclose(_centre(found[0]), (176, 99), atol=1.5)
    # One arc alone gives none.
    assert _ellipses(_arcs(352, 198, [(140, 220)]), []) == []


def _dotted_arc(width: int, height: int, a: int, b: int, dots: int) -> LineEvidence:
    """Line evidence of ``dots`` single pixels along the left half of an ellipse of half axes
    ``a`` and ``b`` at the frame's centre: one curved piece once grown, of ``dots`` pixels."""
    mask = np.zeros((height, width), np.uint8)
    for t in np.linspace(0.55 * np.pi, 1.45 * np.pi, dots):
        mask[round(height // 2 + b * np.sin(t)), round(width // 2 + a * np.cos(t))] = 255
    return LineEvidence(mask, np.full((height, width), 255, np.uint8))


def test_a_piece_needs_30_pixels_from_640_wide_and_fewer_below() -> None:
    assert _ellipses(_dotted_arc(640, 360, 70, 24, 25), []) == []
    assert len(_ellipses(_dotted_arc(640, 360, 70, 24, 35), [])) == 1
    assert len(_ellipses(_dotted_arc(352, 198, 40, 14, 25), [])) == 1  # 30 x 352 / 640 = 16
    assert _ellipses(_dotted_arc(352, 198, 40, 14, 12), []) == []
