"""Tests of the radar plugin: pitch coordinates from the homography, and the mini-map."""

from __future__ import annotations

from typing import Any

import msgspec
import numpy as np
import pytest

from realtime_nb.core.geometry import box_iou
from realtime_nb.vision.plugins import PipelineError, PluginContext, VideoInfo, default_registry
from realtime_nb.vision.plugins.ball import BallDetection
from realtime_nb.vision.plugins.pipeline import run_plugins
from realtime_nb.vision.plugins.pitch import PitchDetection
from realtime_nb.vision.plugins.players import PlayerDetection
from realtime_nb.vision.plugins.radar import Radar, ground_point, to_pitch
from realtime_nb.vision.synthetic import synthetic_match

INFO = VideoInfo(640, 360, 25, None)


def test_players_placed_by_the_whole_pipeline() -> None:
    """pitch_detection's own homography (no truth anywhere in the pipeline) places the
    detected players within a metre of where they stand."""
    clip = synthetic_match(seconds=1.2, seed=14, ball_hidden_fraction=0)
    plugins = [PitchDetection(), PlayerDetection(), BallDetection(), Radar()]
    available, errors = 0, []
    for run in run_plugins(plugins, clip, clip.info):
        truth, per_frame = clip.truth[run.index], run.results
        radar = per_frame["radar"]
        available += radar["available"]
        detections = per_frame["player_detection"]["detections"]
        for person in truth.players:
            x1, _, x2, y2 = person.box
            ((true_x, true_y),) = to_pitch(truth.homography, [((x1 + x2) / 2, y2)])
            scored = [(box_iou(person.box, d["box"]), k) for k, d in enumerate(detections)]
            overlap, best = max(scored, default=(0.0, -1))
            if overlap >= 0.5 and radar["players"] is not None:
                x, y = radar["players"][best]["position"]
                errors.append(np.hypot(x - true_x, y - true_y))
    assert available >= 0.9 * len(clip)  # measured 30/30
    assert len(errors) > 200
    assert np.median(errors) < 1.0  # measured 0.41 m (mostly where the box puts the feet)
    assert np.percentile(errors, 95) < 3.0  # measured 0.65 m


def test_players_within_a_few_metres_of_truth_with_the_homography() -> None:
    """The true homography stands in for pitch_detection's, so the radar (and the detection
    boxes) are measured on their own."""
    clip = synthetic_match(seconds=1.2, seed=13, ball_hidden_fraction=0)
    plugins = [PitchDetection(), PlayerDetection(), BallDetection(), Radar()]
    states: list[dict[str, Any]] = [{} for _ in plugins]
    errors, ball_errors = [], []
    for index, frame in enumerate(clip):
        truth = clip.truth[index]
        per_frame: dict[str, Any] = {}
        for plugin, state in zip(plugins, states, strict=True):
            ctx = PluginContext(index, f"f-{index:06d}", per_frame, state, clip.info)
            per_frame[plugin.name] = plugin.process(frame, ctx)
            if plugin.name == "pitch_detection":
                per_frame[plugin.name]["homography"] = truth.homography
        radar = per_frame["radar"]
        assert radar["available"]
        assert msgspec.json.decode(msgspec.json.encode(radar)) == radar
        detections = per_frame["player_detection"]["detections"]
        assert len(radar["players"]) == len(detections)
        for person in truth.players:
            x1, _, x2, y2 = person.box
            ((true_x, true_y),) = to_pitch(truth.homography, [((x1 + x2) / 2, y2)])
            best = max(
                range(len(detections)), key=lambda k: box_iou(person.box, detections[k]["box"])
            )
            if box_iou(person.box, detections[best]["box"]) >= 0.5:
                x, y = radar["players"][best]["position"]
                errors.append(np.hypot(x - true_x, y - true_y))
        if truth.ball is not None and radar["ball"] is not None:
            cx, cy = truth.ball.center
            ((true_x, true_y),) = to_pitch(truth.homography, [(cx, cy + truth.ball.radius)])
            ball_errors.append(np.hypot(radar["ball"][0] - true_x, radar["ball"][1] - true_y))
    assert len(errors) > 200
    assert np.median(errors) < 1.0  # measured 0.3 m
    assert np.percentile(errors, 95) < 3.0  # measured 0.6 m; a far pixel spans metres
    assert len(ball_errors) > 20 and np.median(ball_errors) < 1.0  # measured 0.1 m


def test_no_homography_no_positions_and_a_marked_minimap() -> None:
    results = {
        "pitch_detection": {"homography": None},
        "player_detection": {"detections": [{"box": [1, 1, 5, 20], "class": "player"}]},
        "ball_detection": {"ball": None},
    }
    ctx = PluginContext(0, "f-000000", results, {}, INFO)
    result = Radar().process(np.zeros((360, 640, 3), np.uint8), ctx)
    assert result["available"] is False
    assert result["players"] is None and result["ball"] is None
    frame = np.zeros((360, 640, 3), np.uint8)
    Radar().draw(frame, result)
    assert frame[300:, 460:].any() and not frame[:200, :400].any()  # bottom-right corner only


def test_minimap_dots_in_team_colours() -> None:
    h = [[4.0, 0, 110], [0, 4.0, 44], [0, 0, 1]]  # 4 px per metre, seen from straight above
    results = {
        "pitch_detection": {"homography": h},
        "player_detection": {
            "detections": [
                {"box": [108, 40, 112, 44], "class": "player", "team": 0},  # at (0, 0) m
                {"box": [318, 170, 322, 180], "class": "player", "team": 1},  # (52.5, 34)
            ],
            "team_colors": [[0, 0, 250], [250, 0, 0]],
        },
        "ball_detection": {"ball": {"center": [530.0, 314.0], "box": [528, 312, 532, 316]}},
    }
    ctx = PluginContext(0, "f-000000", results, {}, INFO)
    result = Radar().process(np.zeros((360, 640, 3), np.uint8), ctx)
    assert [p["position"] for p in result["players"]] == [[0.0, 0.0], [52.5, 34.0]]
    assert [p["team"] for p in result["players"]] == [0, 1]
    assert result["ball"] == [105.0, 68.0]
    frame = np.zeros((360, 640, 3), np.uint8)
    Radar().draw(frame, result)
    map_w = round(640 * Radar.map_fraction)
    x0, y0 = 640 - map_w - 4, 360 - round(map_w * 68 / 105) - 4
    centre = frame[y0 + round(34 * map_w / 105), x0 + round(52.5 * map_w / 105)]
    assert tuple(centre) == (250, 0, 0)  # team 1's colour at the centre spot
    Radar().draw(frame, {})  # an empty result draws nothing and does not fail


def test_pipeline_order_and_requirements() -> None:
    ordered = default_registry.resolve(
        ["radar", "ball_detection", "pitch_detection", "player_detection"]
    )
    assert [c.name for c in ordered][-1] == "radar"
    with pytest.raises(PipelineError, match="requires"):
        default_registry.resolve(["radar", "pitch_detection"])
    assert default_registry.get("radar") is Radar
    assert Radar.metadata.output_format == "json"


def test_to_pitch_round_trip() -> None:
    h = [[3.0, 0.5, 40], [0.1, 2.0, 30], [0.0, 0.001, 1]]
    pitch = [(0.0, 0.0), (105.0, 68.0), (30.0, 10.0)]
    m = np.asarray(h)
    image = []
    for x, y in pitch:
        u, v, w = m @ (x, y, 1)
        image.append((u / w, v / w))
    assert np.allclose(to_pitch(h, image), pitch, atol=1e-6)
    assert to_pitch(h, []) == []


def test_a_point_above_the_horizon_is_not_placed() -> None:
    """A camera looking along the pitch: its horizon is at y = 100, and a person whose feet
    are above it (a false detection in the stands) is not placed, while the others are."""
    h = [[300.0, 3.2, 320.0], [0.0, 1.0, 300.0], [0.0, 0.01, 1.0]]  # pitch y is depth
    assert np.isnan(to_pitch(h, [(320.0, 50.0)])).all()
    assert np.allclose(to_pitch(h, [(320.0, 150.0)]), [(0.0, 300.0)])
    people = [{"box": [310, 20, 330, 50], "class": "player", "team": 0},
              {"box": [310, 100, 330, 150], "class": "player", "team": 1}]  # fmt: skip
    results = {"pitch_detection": {"homography": h}, "player_detection": {"detections": people},
               "ball_detection": {"ball": {"center": [320, 45], "box": [318, 43, 322, 47]}}}  # fmt: skip
    result = Radar().process(None, PluginContext(0, "f-000000", results, {}, INFO))
    assert [p["position"] is None for p in result["players"]] == [True, False]
    assert result["available"] and result["ball"] is None
    frame = np.zeros((360, 640, 3), np.uint8)
    Radar().draw(frame, result)  # an unplaced person is simply not drawn
    assert frame.any()


@pytest.mark.parametrize(
    ("box", "expected"),
    [([318, 150, 322, 180], (320.0, 180.0)), ([0, 0, 5, 9], (2.5, 9.0))],
)
def test_ground_point_is_the_bottom_middle(box: list[float], expected: tuple[float, float]) -> None:
    assert ground_point(box) == expected


def test_a_widened_box_is_placed_by_the_body_that_stood_out() -> None:
    # player_detection widened a 4 px body to 9 px, the odd pixel on the right: the feet are
    # under the body's middle (x 320), not the box's (320.5).
    h = [[4.0, 0, 110], [0, 4.0, 44], [0, 0, 1]]  # a camera straight above
    people = [{"box": [316, 150, 325, 180], "body": [318, 150, 322, 180], "team": 0},
              {"box": [316, 150, 325, 180], "team": 1}]  # fmt: skip
    results = {"pitch_detection": {"homography": h}, "player_detection": {"detections": people}}
    result = Radar().process(None, PluginContext(0, "f-000000", results, {}, INFO))
    assert [p["position"] for p in result["players"]] == [[52.5, 34.0], [52.62, 34.0]]
