"""Tests for realtime_nb.core.geometry."""

from __future__ import annotations

import numpy as np

from realtime_nb.core.geometry import box_iou, box_iou_matrix


def test_the_matrix_is_box_iou_of_every_pair() -> None:
    rng = np.random.default_rng(3)
    corners = rng.integers(0, 40, (12, 2, 2))
    boxes = np.concatenate([corners.min(axis=1), corners.max(axis=1)], axis=1)
    boxes[0] = [5, 5, 4, 9]  # empty: no pixel wide
    a, b = boxes[:7], boxes[7:]
    matrix = box_iou_matrix(a, b)
    assert matrix.shape == (7, 5)
    expected = [[box_iou(list(x), list(y)) for y in b] for x in a]
    assert np.allclose(matrix, expected)
    assert matrix[0].tolist() == [0.0] * 5
    assert box_iou_matrix(np.empty((0, 4)), b).shape == (0, 5)
