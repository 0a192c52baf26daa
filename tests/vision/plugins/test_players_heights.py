"""Tests for players_heights: the lone person's height model and its uses."""

from __future__ import annotations

from typing import Any

import numpy as np

from realtime_nb.vision.plugins.players_heights import height_model, line_fit, tall_enough


def test_a_box_far_shorter_than_a_person_there_is_dropped() -> None:
    model = (0.1, 0.0, 0.3)  # a lone person standing at row 300 is 30 px tall
    boxes = [[10, 271, 18, 300], [40, 288, 44, 300], [60, 285, 68, 299]]
    assert tall_enough(boxes, [1, 2, 3], model) == ([boxes[0], boxes[2]], [1, 3])
    assert tall_enough(boxes, [1, 2, 3], None) == (boxes, [1, 2, 3])


def test_line_fit_is_the_least_squares_line() -> None:
    rng = np.random.default_rng(3)
    x = rng.uniform(60, 360, 50)
    y = 0.1 * x + 4 + rng.normal(0, 1, 50)
    assert np.allclose(line_fit(x, y), np.polyfit(x, y, 1), rtol=1e-12, atol=1e-12)


def test_line_fit_through_one_column_is_flat_through_the_mean() -> None:
    # Every sample at the same x: no slope can be told; polyfit warns and returns an
    # arbitrary line, this one is flat through the mean y.
    assert line_fit(np.full(5, 3.0), np.arange(5.0)) == (0.0, 2.0)


def test_the_height_model_fits_lone_people_over_frames() -> None:
    # People 0.1 px tall per row of their feet plus 4, a third as wide; a wider blob (people
    # side by side) is no sample. Eight samples are needed, from as many frames as it takes.
    def person(y2: int) -> list[int]:
        h = round(0.1 * y2 + 4)
        return [10, y2 - h + 1, 10 + round(h / 3) - 1, y2]

    state: dict[str, Any] = {}
    assert height_model([person(100), person(200), [0, 180, 30, 199]], state) is None
    model = None
    for y2 in range(120, 360, 40):
        model = height_model([person(y2)], state)
    assert model is not None
    assert np.allclose(model[:2], (0.1, 4.0), atol=0.03)
    assert 0.3 <= model[2] <= 0.36
    assert len(state["height_samples"]) == 8
