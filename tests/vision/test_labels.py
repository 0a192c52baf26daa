"""Labels and legend of the annotated video."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from realtime_nb.vision.labels import box_label, find_boxes, label_frame, plugin_colour


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        (
            {"detections": [{"box": [1, 2, 3, 4], "class": "player"}]},
            [([1, 2, 3, 4], "detections")],
        ),
        ({"ball": {"box": [5.6, 6, 7, 8], "center": [6, 7]}}, [([5, 6, 7, 8], "ball")]),
        ({"ball": None, "count": 0}, []),
        ({"detections": [{"box": [1, 2, 3]}, {"box": ["a", 1, 2, 3]}]}, []),
        ({"a": {"b": {"c": {"d": {"e": {"box": [1, 2, 3, 4]}}}}}}, []),  # deeper than results go
        (None, []),
    ],
)
def test_find_boxes(result: Any, expected: list[tuple[list[int], str]]) -> None:
    assert [(box, key) for box, _, key in find_boxes(result)] == expected


@pytest.mark.parametrize(
    ("holder", "key", "expected"),
    [
        ({"class": "player", "team": 0}, "detections", "p: player"),
        ({"track_id": 495}, "detections", "p: detection #495"),
        ({"label": "face", "track_id": 2}, "detections", "p: face #2"),
        ({}, "ball", "p: ball"),
    ],
)
def test_box_label(holder: dict[str, Any], key: str, expected: str) -> None:
    assert box_label("p", holder, key) == expected


def test_label_frame_draws_a_tag_under_each_box_and_a_legend() -> None:
    canvas = np.zeros((200, 320, 3), np.uint8)
    results = {
        "people": {"detections": [{"box": [150, 60, 200, 120], "track_id": 3}]},
        "balls": {"ball": {"box": [250, 150, 260, 160]}},
    }
    counts = label_frame(canvas, ["people", "balls", "pitch"], results)
    assert counts == {"people": 1, "balls": 1, "pitch": 0}
    under_person = canvas[121:140, 150:200].reshape(-1, 3)
    assert (under_person == plugin_colour(0)).all(axis=1).sum() > 50
    under_ball = canvas[161:180, 200:320].reshape(-1, 3)
    assert (under_ball == plugin_colour(1)).all(axis=1).sum() > 50
    legend = canvas[4:60, 180:316].reshape(-1, 3)  # top right
    for i in range(3):
        assert (legend == plugin_colour(i)).all(axis=1).sum() > 20  # one swatch per plugin
    assert not canvas[100:120, 20:120].any() and not canvas[:60, :100].any()  # nor elsewhere
