"""Tests of realtime_nb.vision.plugins.pitch_evidence: one frame's line evidence."""

from __future__ import annotations

import numpy as np

from realtime_nb.vision.plugins.pitch_evidence import LineEvidence


def test_pixels_are_every_line_pixel_row_by_row_and_none_on_an_empty_mask() -> None:
    rng = np.random.default_rng(4)
    lines = np.where(rng.random((90, 160)) < 0.05, 255, 0).astype(np.uint8)
    inside = np.full_like(lines, 255)
    ys, xs = np.nonzero(lines)
    evidence = LineEvidence(lines, inside, max_pixels=10_000)
    assert np.array_equal(evidence.pixels, np.column_stack([xs, ys]).astype(np.float64))
    assert np.array_equal(evidence.all_pixels, evidence.pixels)
    sampled = LineEvidence(lines, inside, max_pixels=100)
    step = len(xs) // 100
    assert np.array_equal(sampled.pixels, np.column_stack([xs[::step], ys[::step]]))
    empty = LineEvidence(np.zeros_like(lines), inside)
    assert empty.pixels.shape == (0, 2) and empty.all_pixels.shape == (0, 2)
    assert not empty.near.any() and evidence.near[lines > 0].all()
