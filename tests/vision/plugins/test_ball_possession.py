"""Tests of the ball held at a player's feet: the holder linked frame to frame, and the ball's
track predicted at the holder's feet until the ball shows again."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from realtime_nb.vision.plugins.ball import BallDetection
from realtime_nb.vision.plugins.ball_possession import Possession, feet_of
from realtime_nb.vision.plugins.ball_scene import BallScene
from realtime_nb.vision.plugins.ball_tracks import Candidate, TrackSet
from realtime_nb.vision.plugins.base import PluginContext, VideoInfo


def ball_at(x: float, y: float, confidence: float = 0.9) -> Candidate:
    return (x, y), 2.0, confidence


def test_the_ball_moves_with_its_holder_and_scales_with_the_box() -> None:
    possession = Possession.at((55.0, 98.0), [[40.0, 20.0, 60.0, 100.0]])
    assert possession is not None
    assert possession.follow([[50.0, 20.0, 70.0, 100.0]]) == (65.0, 98.0)
    # Half as tall again (the holder came nearer): half as far again from the bottom centre.
    x, y = possession.follow([[45.0, -20.0, 75.0, 100.0]]) or (0.0, 0.0)
    assert (x, y) == pytest.approx((67.5, 97.0))
    assert possession.frames == 2


def test_the_nearest_feet_hold_the_ball() -> None:
    feet = [[0.0, 0.0, 40.0, 100.0], [30.0, 10.0, 50.0, 110.0]]
    possession = Possession.at((36.0, 108.0), feet)
    assert possession is not None and possession.box == (30.0, 10.0, 50.0, 110.0)
    assert Possession.at((36.0, 108.0), []) is None


@pytest.mark.parametrize(
    "people",
    [
        [],
        [[200.0, 20.0, 220.0, 100.0]],  # nobody where the holder was
        [[38.0, 20.0, 58.0, 100.0], [42.0, 20.0, 62.0, 100.0]],  # two alike: which one?
    ],
    ids=["nobody", "elsewhere", "ambiguous"],
)
def test_a_lost_or_ambiguous_holder_ends_the_possession(people: list[list[float]]) -> None:
    possession = Possession.at((52.0, 99.0), [[40.0, 20.0, 60.0, 100.0]])
    assert possession is not None and possession.follow(people) is None


def confirmed_ball(tracks: TrackSet, x: float, y: float) -> None:
    for i in range(4):
        ball, seen = tracks.step([ball_at(x + i, y)])
    assert ball is not None and seen is not None


def test_a_held_ball_lives_unseen_at_its_holder_and_is_caught_there_again() -> None:
    tracks = TrackSet(gate_px=10.0)
    confirmed_ball(tracks, 100, 50)
    first = tracks.ball
    for i in range(3 * tracks.max_missed):  # far longer than a coasting track lives
        ball, seen = tracks.step([], held=(200.0 + i, 80.0))
        assert ball is first and seen is None and ball.centre == (200.0 + i, 80.0)
    # Back at the holder's feet: the same track, seen at once and still trusted.
    ball, seen = tracks.step([ball_at(232, 82)], held=(230.0, 80.0))
    assert ball is first and seen is not None
    assert ball.quality >= tracks.keep_quality
    # Not held any more: it coasts and dies as any track.
    for _ in range(tracks.max_missed + 1):
        ball, _ = tracks.step([])
    assert ball is None


def test_a_ball_seen_elsewhere_takes_over_from_a_held_guess() -> None:
    tracks = TrackSet(gate_px=10.0, sure=2.0)
    confirmed_ball(tracks, 100, 50)
    held = tracks.ball
    for i in range(4):  # passed away from the feet, seen in flight
        at = (100.0, 50.0) if tracks.ball is held else None  # the caller holds the held one
        ball, _ = tracks.step([ball_at(300 + 3 * i, 200)], held=at)
    assert ball is not None and ball is not held and ball.last is not None


def test_a_held_ball_takes_the_ball_leaving_the_feet_over_a_sock_nearer_them() -> None:
    # Held at a player's feet, the ball rolls off them; a sock stays right where the holder's
    # feet are. Both lie within the held track's gate: the more ball-like one away from the
    # feet is the ball, not the sock nearer the prediction. At the feet, the nearest still.
    at_feet = lambda points: [95 <= x <= 105 for x, _ in points]  # noqa: E731
    for ball_x, expected in ((108.0, 108.0), (104.0, 100.0)):
        tracks = TrackSet(gate_px=12.0)
        confirmed_ball(tracks, 100, 50)
        ball, seen = tracks.step(
            [ball_at(100, 49, 0.45), ball_at(ball_x, 53, 0.7)], held=(100.0, 50.0), at_feet=at_feet
        )
        assert ball is not None and seen is not None and seen[0][0] == expected


def context(
    state: dict[str, Any], results: dict[str, Any], index: int, fps: float = 25.0
) -> PluginContext:
    return PluginContext(index, f"f-{index:06d}", results, state, VideoInfo(640, 360, fps, None))


def run_past_a_player(
    plugin: BallDetection, frames: int, shown: int, fps: float = 25.0
) -> list[Any]:
    """The plugin's ball on each of ``frames`` frames of a player running right on plain
    grass, with the ball at their feet in the first ``shown`` frames and lost in the boots
    after; the video's rate said to be ``fps``."""
    grass = np.full((360, 640, 3), (50, 140, 60), np.uint8)
    state: dict[str, Any] = {}
    reports = []
    for i in range(frames):
        box = [220.0 + 2 * i, 100.0, 250.0 + 2 * i, 180.0]
        frame = grass.copy()
        if i < shown:
            cx, cy = 236 + 2 * i, 178
            frame[cy - 2 : cy + 3, cx - 2 : cx + 3] = 245
        results = {"player_detection": {"detections": [{"box": box}]}}
        reports.append(plugin.process(frame, context(state, results, i, fps))["ball"])
    return reports


def test_the_plugin_predicts_a_ball_hidden_at_a_players_feet_for_its_hold() -> None:
    plugin = BallDetection()
    reports = run_past_a_player(plugin, 70, 5)
    seen = [r for r in reports[:5] if r is not None and not r["predicted"]]
    assert seen, "the ball at the feet was never seen"
    after = reports[5:]
    n = next((k for k, r in enumerate(after) if r is None), len(after))
    held = after[:n]
    # Held past a plain coast, never past hold_seconds, and only while it is sure enough.
    assert plugin.max_coast < n <= plugin.hold_seconds * 25
    assert all(r is not None and r["predicted"] for r in held)
    confidences = [r["confidence"] for r in held if r is not None]
    assert min(confidences) >= plugin.min_confidence
    assert confidences == sorted(confidences, reverse=True)
    last = held[-1]
    assert last is not None and abs(last["center"][0] - (236 + 2 * (4 + n))) <= 1.0
    assert last["confidence"] < seen[-1]["confidence"]
    assert all(r is None for r in after[n:])  # once let go, not guessed again


def test_a_ball_named_on_its_first_sighting_is_not_held_before_it_is_confirmed() -> None:
    # Seen once at the feet, as the one clear ball of its frame (or a sock taken for it),
    # then lost: it coasts as any unseen ball does, and is not held at the holder's feet.
    plugin = BallDetection()
    reports = run_past_a_player(plugin, 30, 1)
    first = reports[0]
    assert first is not None and not first["predicted"], "the ball was not named at once"
    n = next((k for k, r in enumerate(reports[1:]) if r is None), len(reports) - 1)
    assert n <= plugin.max_coast
    assert all(r is None for r in reports[1 + n :])


def test_feet_of_gives_the_box_whose_deeper_feet_zone_holds_the_ball() -> None:
    # 10 px a metre from above: a person standing there is 18 px tall; this box is 24 px, so
    # its feet zone reaches higher than a plain box's, and the ball there is at its feet.
    top_down = [[10.0, 0.0, 0.0], [0.0, 10.0, 0.0], [0.0, 0.0, 1.0]]
    box = [100, 100, 104, 124]
    results = {"pitch_detection": {"homography": top_down, "quality": 0.99},
               "player_detection": {"detections": [{"box": box}]}}  # fmt: skip
    scene = BallScene.of(PluginContext(0, "f-000000", results, {}, VideoInfo(1050, 680, 25, None)))
    point = (102.0, 117.0)
    assert scene.places(np.array([point]))[1].tolist() == [True]
    assert feet_of(scene, point) == [box]
    assert feet_of(scene, (102.0, 105.0)) == []  # on the kit


@pytest.mark.parametrize("fps", [0.0, math.nan, math.inf])
def test_a_rate_not_known_holds_the_ball_as_at_25_fps(fps: float) -> None:
    # A NaN hold hid the ball lost in the boots at once; an infinite one guessed it for ever.
    assert run_past_a_player(BallDetection(), 70, 5, fps) == run_past_a_player(
        BallDetection(), 70, 5
    )
