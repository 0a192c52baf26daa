"""Tests of ball_detection's parts: the candidates, the tracks and floors on
clips rendered with tuning-like knobs (never the held-out variations or their random seeds)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import cv2
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from realtime_nb.vision.plugins import PluginContext, VideoInfo
from realtime_nb.vision.plugins.ball import (
    BallDetection,
    _feet_test,
    _fixtures_near,
    _judged,
    _not_static,
    _ScenePitch,
)
from realtime_nb.vision.plugins.ball_candidates import (
    above_something_dark,
    find_candidates,
    grass_tint,
    streak_of,
    under_something_dark,
    warmth,
    whiteness,
    width_across_a_line,
)
from realtime_nb.vision.plugins.ball_scene import BallScene
from realtime_nb.vision.plugins.ball_tracks import Candidate, Track, TrackSet, _near_pairs
from realtime_nb.vision.plugins.pipeline import run_plugins
from realtime_nb.vision.plugins.pitch import PitchDetection
from realtime_nb.vision.plugins.players import PlayerDetection
from realtime_nb.vision.synthetic import synthetic_match

GRASS = (50, 140, 60)
WHITE = (245, 245, 245)


def pitch(width: int = 120, height: int = 80) -> np.ndarray:
    return np.full((height, width, 3), GRASS, np.uint8)


@pytest.mark.parametrize(
    ("colour", "white"),
    [(WHITE, True), (GRASS, False), ((150, 180, 230), False), ((40, 40, 200), False)],
    ids=["white", "grass", "skin", "red kit"],
)
def test_whiteness_is_high_on_white_only(colour: tuple[int, int, int], white: bool) -> None:
    img = np.full((4, 4, 3), colour, np.uint8)
    assert bool(whiteness(img).min() > 200) is white
    assert bool(whiteness(img).max() < 80) is not white


@pytest.mark.parametrize("radius", [1.5, 2.0, 3.0, 5.0])
def test_a_round_ball_is_found_where_it_is(radius: float) -> None:
    img = pitch()
    centre = (60.3, 40.6)
    cv2.circle(img, (round(centre[0] * 16), round(centre[1] * 16)), round(radius * 16), WHITE,
               -1, cv2.LINE_AA, shift=4)  # fmt: skip
    found = find_candidates(whiteness(img), None, max(1.5, 1.6 * radius))
    assert len(found) == 1
    assert math.dist(found[0].centre, centre) < 0.6
    assert found[0].roundness > 0.7
    assert found[0].touching == 0


@pytest.mark.parametrize("streak", [(0, 0), (4, 4), (5, 7), (9, 0)])
@pytest.mark.parametrize("corner", [(1, 1), (118, 78), (1, 78), (118, 1)])
def test_a_blob_at_the_frame_edge_under_any_streak_is_judged_safely(
    streak: tuple[int, int], corner: tuple[int, int]
) -> None:
    """Equal streak steps are longer than the border margin the peaks keep (an IndexError,
    or the opposite edge read, before)."""
    img = pitch()
    cv2.circle(img, corner, 3, WHITE, -1, cv2.LINE_AA)
    for found in find_candidates(whiteness(img), None, 2.0, streak=streak):
        assert 0 <= found.centre[0] < img.shape[1] and 0 <= found.centre[1] < img.shape[0]
        assert 0.0 <= found.roundness <= 1.0


@pytest.mark.parametrize(
    "draw",
    [
        lambda img: cv2.line(img, (5, 10), (115, 70), WHITE, 2, cv2.LINE_AA),  # a line
        lambda img: cv2.rectangle(img, (30, 20), (90, 60), WHITE, -1),  # a broad white area
        lambda img: cv2.line(img, (0, 40), (119, 40), WHITE, 1),  # a thin line to the edges
    ],
    ids=["line", "broad area", "thin line"],
)
def test_lines_and_broad_areas_are_not_candidates(draw: Any) -> None:
    img = pitch()
    draw(img)
    found = find_candidates(whiteness(img), None, 3.0)
    assert all(c.roundness < 0.5 for c in found)  # a line's end at most, never a round peak


def smeared(img: np.ndarray, length: int) -> np.ndarray:
    """``img`` as a sideways pan of ``length`` px during the exposure draws it."""
    return np.asarray(cv2.filter2D(img, -1, np.full((1, length), 1.0 / length)), np.uint8)


@pytest.mark.parametrize("length", [5, 7, 9])
def test_a_sideways_streak_is_measured(length: int) -> None:
    rng = np.random.default_rng(3)
    texture = np.asarray(cv2.GaussianBlur(rng.integers(0, 255, (180, 320), np.uint8), (3, 3), 0))
    assert streak_of(texture) == (0, 0)
    along, across = streak_of(smeared(texture, length))
    assert abs(along - length) <= 1
    assert across == 0


@pytest.mark.parametrize("seed", [5, 30])
def test_a_streak_under_pixel_noise_is_measured(seed: int) -> None:
    # The synthetic match adds its pixel noise after the pan's smear, as an uncompressed
    # camera would: the noise's derivative, anti-correlated at one pixel, hid this 10 px
    # streak from the one-pixel test alone (the two-pixel test finds it).
    knobs = {"kits": 1, "spots": True, "skin_tones": True}

    def green(**more: Any) -> np.ndarray:
        frame = np.asarray(
            next(iter(synthetic_match(0.04, 25, 640, 360, seed=seed, **knobs, **more)))
        )
        return np.ascontiguousarray(frame[:, :, 1])

    assert streak_of(green(motion_blur=10)) == (10, 0)
    assert streak_of(green()) == (0, 0)
    assert streak_of(green(noise=8.0)) == (0, 0)  # noise alone is no streak


@pytest.mark.parametrize("seed", range(4))
def test_the_streak_is_the_one_of_np_diffs_derivative(seed: int) -> None:
    # The derivative written straight into the zero-padded rows: the same lags' correlations
    # as np.diff's, on rows and on a transposed view of columns, smeared or not.
    from realtime_nb.vision.plugins.ball_candidates import _streak

    def plain(rows: np.ndarray, longest: int = 15) -> int:
        d = np.zeros((rows.shape[0], rows.shape[1] - 1 + longest), np.float32)
        d[:, : rows.shape[1] - 1] = np.diff(rows.astype(np.float32), axis=1)
        flat = d.ravel()
        energy = float(flat @ flat)
        if energy <= 0:
            return 0
        if (
            float(flat[1:] @ flat[:-1]) / energy < 0.4
            and float(flat[2:] @ flat[:-2]) / energy < 0.2
        ):
            return 0
        r = np.array([float(flat[k:] @ flat[:-k]) for k in range(1, longest + 1)]) / energy
        return int(np.argmin(r[1:])) + 2

    rng = np.random.default_rng(seed)
    noise = rng.integers(0, 255, (180, 320), np.uint8)
    texture = np.asarray(cv2.GaussianBlur(noise, (3, 3), 0))
    found = []
    for grey in (texture, smeared(texture, 5 + 2 * seed)):
        for rows in (grey[3::7], grey[:, 5::9].T):
            found.append(_streak(rows, 15))
            assert found[-1] == plain(rows)
    assert found[0] == 0 and found[2] > 0


def test_a_ball_smeared_by_a_pan_is_round_along_its_streak() -> None:
    img = pitch()
    cv2.circle(img, (60, 40), 2, WHITE, -1, cv2.LINE_AA)
    white = whiteness(smeared(img, 7))
    still = find_candidates(white, None, 3.2)
    assert all(c.roundness < 0.45 for c in still)  # judged as still, a short dash
    found = find_candidates(white, None, 3.2, streak=(7, 0))
    assert len(found) == 1
    assert found[0].roundness > 0.7
    assert math.dist(found[0].centre, (60, 40)) < 1.0


def test_nothing_is_found_outside_the_region() -> None:
    img = pitch()
    cv2.circle(img, (30, 40), 3, WHITE, -1)
    region = np.zeros(img.shape[:2], np.uint8)
    region[:, 60:] = 255
    assert find_candidates(whiteness(img), region, 3.0) == []


def ball_at(x: float, y: float, confidence: float = 0.9) -> Candidate:
    return (x, y), 2.0, confidence


def test_a_moving_ball_is_elected_and_followed() -> None:
    tracks = TrackSet(sure=2.0)  # no first-sight election here
    reported = []
    for i in range(10):
        _, seen = tracks.step([ball_at(100 + 6 * i, 50), ball_at(300, 200 + (i % 2) * 40, 0.5)])
        reported.append(None if seen is None else seen[0])
    assert reported[:2] == [None, None]  # three sightings first (two at the sure level)
    assert reported[2:] == [(100 + 6 * i, 50) for i in range(2, 10)]


def test_a_clear_first_sighting_is_the_ball_at_once() -> None:
    ball, seen = TrackSet().step([ball_at(10, 10, 0.9), ball_at(90, 90, 0.5)])
    assert ball is not None and seen == ball_at(10, 10, 0.9)
    ball, seen = TrackSet().step([ball_at(10, 10, 0.9), ball_at(90, 90, 0.8)])
    assert ball is None and seen is None  # two alike: wait


def test_a_flickering_blob_never_becomes_the_ball() -> None:
    tracks = TrackSet()
    for i in range(30):
        ball, _ = tracks.step([ball_at(50, 50, 0.6)] if i % 3 == 0 else [])  # below sure
        assert ball is None


def test_the_ball_is_kept_over_a_slightly_better_rival_and_coasts() -> None:
    tracks = TrackSet(sure=2.0)
    for i in range(6):
        ball, _ = tracks.step([ball_at(100 + 5 * i, 50, 0.7)])
    first = ball
    for i in range(6, 12):
        ball, _ = tracks.step([ball_at(100 + 5 * i, 50, 0.7), ball_at(400, 300, 0.8)])
        assert ball is first
    for _ in range(tracks.max_missed):
        ball, seen = tracks.step([])
        assert ball is first and seen is None
    x, _ = first.centre
    assert x > 100 + 5 * 11  # predicted on along its way
    ball, _ = tracks.step([])
    assert ball is None


def test_a_new_track_of_a_kicked_ball_catches_its_second_sighting() -> None:
    tracks = TrackSet(gate_px=10.0, sure=0.65)
    step = 15.0  # more than the gate a frame: a track born at rest must still catch it
    reported = [tracks.step([ball_at(100 + step * i, 50, 0.8), ball_at(400, 300, 0.8)])[1]
                for i in range(4)]  # fmt: skip
    assert reported[2] is not None and reported[2][0] == (100 + 2 * step, 50)
    assert len(tracks.tracks) == 2  # one track for the ball, one for the rival
    weak = TrackSet(gate_px=10.0, sure=0.65)
    for i in range(4):
        weak.step([ball_at(100 + step * i, 50, 0.5)])  # below sure: the narrow gate
    assert len(weak.tracks) > 1


def test_a_faint_blob_continues_a_track_only_near_its_prediction() -> None:
    tracks = TrackSet(gate_px=12.0)
    for i in range(6):
        ball, _ = tracks.step([ball_at(100 + 2 * i, 50)])
    assert ball is not None
    # The ball is lost; a faint fleck 8 px (4 radii) off its way, inside the gate, is not it.
    ball, seen = tracks.step([ball_at(112 + 8, 50, 0.3)])
    assert ball is not None and seen is None
    # Nearer than 3 radii (a ball half hidden in the legs), a faint blob still continues it.
    ball, seen = tracks.step([ball_at(114 + 3, 50, 0.3)])
    assert seen == ball_at(117, 50, 0.3)
    # A blob strong enough to start a track of its own may be anywhere in the gate.
    ball, seen = tracks.step([ball_at(119 + 9, 50, 0.5)])
    assert seen == ball_at(128, 50, 0.5)


def test_a_ball_seen_now_and_then_at_someone_s_feet_is_confirmed() -> None:
    # Seen one frame in three, as a ball in the legs is: its misses there keep its score.
    def run(at_feet: Any) -> Any:
        tracks = TrackSet(sure=2.0)  # no first-sight election here
        for i in range(9):
            ball, _ = tracks.step([ball_at(50, 50, 0.6)] if i % 3 == 0 else [], None, at_feet)
        return ball

    feet = (40.0, 45.0, 60.0, 55.0)

    def at_feet(points: list[tuple[float, float]]) -> list[bool]:
        return [feet[0] <= x <= feet[2] and feet[1] <= y <= feet[3] for x, y in points]

    assert run(at_feet) is not None
    assert run(None) is None  # the same sightings anywhere else flicker
    assert run(lambda points: [False] * len(points)) is None


def test_a_missed_track_away_from_the_feet_still_loses_score() -> None:
    tracks = TrackSet()
    tracks.step([ball_at(50, 50, 0.6)])
    track = tracks.tracks[0]
    tracks.step([], None, lambda points: [True] * len(points))
    assert track.quality == pytest.approx(0.6)  # excused
    tracks.step([], None, lambda points: [False] * len(points))
    assert track.quality < 0.6


def test_only_two_misses_running_are_excused_at_the_feet() -> None:
    tracks = TrackSet()
    tracks.step([ball_at(50, 50, 0.6)])
    track = tracks.tracks[0]
    for _ in range(tracks.excused_misses):
        tracks.step([], None, lambda points: [True] * len(points))
    assert track.quality == pytest.approx(0.6)
    tracks.step([], None, lambda points: [True] * len(points))
    assert track.quality < 0.6


def test_the_feet_test_is_asked_about_the_last_sighting_not_the_prediction() -> None:
    # A moving ball last seen at the feet: its prediction has left them, its sighting has not.
    tracks = TrackSet()
    tracks.step([ball_at(50, 50, 0.6)])
    tracks.step([ball_at(56, 50, 0.6)])
    track = tracks.tracks[0]
    asked: list[list[tuple[float, float]]] = []

    def at_feet(points: list[tuple[float, float]]) -> list[bool]:
        asked.append(points)
        return [abs(x - 56) < 1 and abs(y - 50) < 1 for x, y in points]

    quality = track.quality
    tracks.step([], None, at_feet)
    assert asked == [[(56, 50)]]
    assert track.quality == pytest.approx(quality)


def test_a_sighting_starts_the_excused_misses_again() -> None:
    tracks = TrackSet()
    feet = lambda points: [True] * len(points)  # noqa: E731
    tracks.step([ball_at(50, 50, 0.6)])
    track = tracks.tracks[0]
    for _ in range(3):
        for _ in range(tracks.excused_misses):
            tracks.step([], None, feet)
        quality = track.quality
        tracks.step([ball_at(50, 50, 0.6)], None, feet)
        assert track.missed == 0
        assert track.quality >= quality


def test_a_faint_track_at_the_feet_is_not_excused() -> None:
    tracks = TrackSet()
    tracks.step([ball_at(50, 50, 0.42)])  # starts a track, but less ball-like than least_quality
    track = tracks.tracks[0]
    tracks.step([], None, lambda points: [True] * len(points))
    assert track.quality < 0.42


def test_a_white_blob_on_a_dark_boot_is_a_sock() -> None:
    img = pitch()
    cv2.rectangle(img, (58, 36), (61, 40), WHITE, -1)  # a sock
    cv2.rectangle(img, (58, 41), (61, 42), (30, 30, 30), -1)  # its boot
    cv2.circle(img, (90, 40), 2, WHITE, -1)  # a ball on grass
    ground = float(np.median(img.max(axis=2)))
    assert above_something_dark(img, (59.5, 38.0), 2.0, ground)
    assert not above_something_dark(img, (90.0, 40.0), 2.0, ground)
    blurred = smeared(img, 7)  # a pan smears the boot with the grass beside it
    assert above_something_dark(blurred, (59.5, 38.0), 2.0, ground)
    assert not above_something_dark(blurred, (90.0, 40.0), 2.0, ground)


def test_a_ball_in_a_player_s_shadow_is_not_a_sock_but_a_sock_on_its_boot_is() -> None:
    img = pitch()
    shadow = tuple(round(0.6 * c) for c in GRASS)  # the grass, darkened: its tint kept
    cv2.ellipse(img, (40, 42), (12, 3), 20.0, 0, 360, shadow, -1)
    cv2.circle(img, (34, 40), 2, WHITE, -1)  # a ball at the feet, in the shadow
    cv2.ellipse(img, (84, 43), (12, 3), 20.0, 0, 360, shadow, -1)
    cv2.rectangle(img, (78, 36), (81, 40), WHITE, -1)  # a sock, in its player's shadow
    cv2.rectangle(img, (78, 41), (81, 42), (30, 30, 30), -1)  # its boot
    ground = float(np.median(img.max(axis=2)))
    tint = grass_tint(img)
    assert tint == pytest.approx((140 - 60) / 140, abs=0.01)
    assert above_something_dark(img, (34.0, 40.0), 2.0, ground)  # without the tint: dark
    assert not above_something_dark(img, (34.0, 40.0), 2.0, ground, tint)
    assert above_something_dark(img, (79.5, 38.0), 2.0, ground, tint)
    # A boot smeared with the grass keeps less of its tint than a shadow.
    assert above_something_dark(smeared(img, 7), (79.5, 38.0), 2.0, ground, tint)
    # One tinted like the grass (JPEG smears colour) but darker than any shadow is a boot.
    dim = tuple(round(0.3 * c) for c in GRASS)
    cv2.rectangle(img, (58, 41), (61, 42), dim, -1)
    cv2.rectangle(img, (58, 36), (61, 40), WHITE, -1)
    assert above_something_dark(img, (59.5, 38.0), 2.0, ground, tint)


def test_a_large_light_blob_under_dark_hair_is_a_face() -> None:
    img = pitch()
    cv2.rectangle(img, (52, 30), (66, 34), (40, 40, 40), -1)  # hair
    cv2.circle(img, (59, 40), 6, (200, 220, 250), -1)  # the face under it
    cv2.circle(img, (100, 40), 6, WHITE, -1)  # a near ball on grass
    ground = float(np.median(img.max(axis=2)))
    assert under_something_dark(img, (59.0, 40.0), 6.0, ground)
    assert not under_something_dark(img, (100.0, 40.0), 6.0, ground)
    assert not under_something_dark(img, (100.0, 0.0), 6.0, ground)  # nothing over the top row


def test_the_second_search_drops_a_face_under_hair_but_keeps_a_ball_under_boots() -> None:
    # Near the camera: a player (boxed) with the ball against their boots, and the face of
    # someone cut off by the frame's bottom (no box) under dark hair. Both are as dark over
    # their top; only the face is dropped.
    img = pitch(160, 100)
    cv2.rectangle(img, (30, 20), (44, 70), (40, 40, 200), -1)  # the player's kit
    cv2.rectangle(img, (30, 71), (44, 74), (25, 25, 25), -1)  # the boots
    cv2.circle(img, (37, 81), 6, WHITE, -1)  # the ball under them
    cv2.rectangle(img, (112, 74), (126, 79), (40, 40, 40), -1)  # hair
    cv2.circle(img, (119, 86), 6, (200, 220, 250), -1)  # the face under it
    scene = BallScene(None, [[28, 18, 46, 86]])
    ball, face = (37.0, 81.0), (119.0, 86.0)
    scored = [(0.9, ball, 6.0, 1), (0.9, face, 6.0, 1)]
    bright = np.asarray(img.max(axis=2), np.uint8)
    ground = float(np.median(bright))
    assert under_something_dark(img, ball, 6.0, ground, bright)
    assert under_something_dark(img, face, 6.0, ground, bright)
    kept = _judged(img, bright, scored, scene, 6.0)
    assert [c[0] for c in kept] == [ball]


TOP_DOWN = np.array([[10.0, 0, 0], [0, 10.0, 0], [0, 0, 1.0]])  # 10 px a metre, from above


def test_a_light_face_is_not_the_ball_where_the_ball_has_pixels_of_its_own() -> None:
    # 40 px a metre from above: the ball is 4.4 px in radius. The face of someone cut off by
    # the frame's bottom (no box), under fair hair, and a ball on the grass; both as round.
    img = pitch(160, 100)
    cv2.rectangle(img, (112, 74), (126, 80), (110, 185, 225), -1)  # fair hair
    cv2.circle(img, (119, 86), 5, (185, 215, 250), -1)  # light skin under it
    cv2.circle(img, (40, 50), 5, WHITE, -1)  # the ball
    face, ball = (119.0, 86.0), (40.0, 50.0)
    assert warmth(img, face) > 40.0
    assert abs(warmth(img, ball)) < 1.0
    assert abs(warmth(img, (40.0, 45.0))) < 20.0  # the ball's edge, blended with the grass
    assert warmth(img, (500.0, 50.0)) == 0.0  # outside the frame
    bright = np.asarray(img.max(axis=2), np.uint8)
    scored = [(0.9, face, 4.4, 0), (0.9, ball, 4.4, 0)]
    near = BallScene(np.diag([40.0, 40.0, 1.0]), [])
    assert [c[0] for c in _judged(img, bright, scored, near, 4.4)] == [ball]
    # From 3 px through the homography (28 px a metre: 3.08 px); under it (27: 2.97 px) a
    # ball has no pixel of its own, and colour is not read.
    for scale, kept in ((28.0, [ball]), (27.0, [face, ball])):
        scene = BallScene(np.diag([scale, scale, 1.0]), [])
        assert [c[0] for c in _judged(img, bright, scored, scene, 2.0)] == kept
    # Without a homography, three people 60 px tall measure the ball (3.7 px): colour is
    # read, whatever the typical ball passed in. Three 45 px tall measure it 2.75 px: not
    # read, though a 1920 px width's guess (6 px) is over 3; nor with no one to measure by.
    guess = BallScene(None, []).typical_radius(1920, 1080)
    assert guess == pytest.approx(6.0)
    people = [[3.0, 5.0, 10.0, 65.0], [12.0, 5.0, 19.0, 65.0], [21.0, 5.0, 28.0, 65.0]]
    tall = BallScene(None, people)
    assert tall.measured_radius(160, 100) == pytest.approx(60 * 0.11 / 1.8)
    assert [c[0] for c in _judged(img, bright, scored, tall, 2.0)] == [ball]
    short = BallScene(None, [[x1, 20.0, x2, 65.0] for x1, _, x2, _ in people])
    assert short.measured_radius(160, 100) == pytest.approx(45 * 0.11 / 1.8)
    assert [c[0] for c in _judged(img, bright, scored, short, guess)] == [face, ball]
    blind = BallScene(None, [])
    assert math.isnan(blind.measured_radius(160, 100))
    assert [c[0] for c in _judged(img, bright, scored, blind, guess)] == [face, ball]


def test_a_piece_of_a_line_is_not_the_ball_where_the_ball_is_wider_than_the_line() -> None:
    # 40 px a metre from above, the touchline (y = 0 m) along row 50, 30 m from the corner
    # at the left edge: the ball is 4.4 px in radius, the line 0.12 m (4.8 px) wide. A dark
    # leg cuts the line; the white beside it runs on one way. A ball lies on the line further
    # along. Both are candidates on the marking of about the ball's size.
    img = pitch(200, 100)
    cv2.rectangle(img, (0, 48), (199, 52), WHITE, -1)
    cv2.rectangle(img, (88, 48), (112, 52), GRASS, -1)  # worn away, but for a fleck
    cv2.circle(img, (100, 50), 2, WHITE, -1)
    cv2.rectangle(img, (60, 30), (65, 56), (30, 30, 30), -1)  # the leg
    cv2.circle(img, (150, 50), 4, WHITE, -1, cv2.LINE_AA)  # the ball
    piece, ball = (69.0, 50.0), (150.0, 50.0)
    bright = np.asarray(img.max(axis=2), np.uint8)
    scored = [(0.9, piece, 4.0, 0), (0.9, ball, 4.4, 0)]
    along = BallScene(np.array([[40.0, 0.0, -1200.0], [0.0, 40.0, 50.0], [0.0, 0.0, 1.0]]), [])
    assert along.near_markings_listed(np.array([piece, ball]))[0] < 0.5
    assert [c[0] for c in _judged(img, bright, scored, along, 4.4)] == [ball]
    # A fleck of the line under 0.8 of the ball's radius is dropped where no line runs on
    # from it (a worn line), by its size alone; of the ball's size it is kept.
    fleck = (100.0, 50.0)
    assert width_across_a_line(img, fleck, 4.4) == math.inf
    assert [c[0] for c in _judged(img, bright, [(0.9, fleck, 3.4, 0)], along, 4.4)] == []
    assert [c[0] for c in _judged(img, bright, [(0.9, fleck, 4.0, 0)], along, 4.4)] == [fleck]
    # Under 3 px through the homography (25 px a metre: 2.75 px) the ball has no width of
    # its own to tell it from the line by; nor without a homography where no one measures it.
    for scene in (
        BallScene(np.array([[25.0, 0.0, -750.0], [0.0, 25.0, 50.0], [0.0, 0.0, 1.0]]), []),
        BallScene(None, []),
    ):
        assert [c[0] for c in _judged(img, bright, scored, scene, 4.4)] == [piece, ball]
    # Without a homography no marking is known, and any candidate may lie on one: where three
    # people 70 px tall measure the ball (4.3 px), the piece is dropped and the ball kept.
    people = BallScene(None, [[x, 5.0, x + 7.0, 75.0] for x in (3.0, 12.0, 21.0)])
    assert people.measured_radius(200, 100) == pytest.approx(70 * 0.11 / 1.8)
    assert [c[0] for c in _judged(img, bright, scored, people, 2.0)] == [ball]


def test_a_sock_under_the_leg_of_someone_no_box_covers_is_at_the_feet() -> None:
    # 30 m into a pitch seen from above (far from any marking): a person player detection
    # missed, a white sock under his shin, and a ball on the grass beside him. Both are
    # kept as candidates; only the sock has a body over it, which the feet test for telling
    # a track seen away from the feet reads.
    img = pitch(400, 400)
    cv2.rectangle(img, (297, 262), (303, 280), (40, 40, 200), -1)  # shirt
    cv2.rectangle(img, (298, 281), (302, 296), (150, 180, 230), -1)  # legs
    cv2.circle(img, (300, 298), 1, WHITE, -1)  # the sock
    cv2.circle(img, (340, 300), 1, WHITE, -1)  # the ball
    scene = BallScene(TOP_DOWN, [])
    sock, ball = (300.0, 298.0), (340.0, 300.0)
    bright = np.asarray(img.max(axis=2), np.uint8)
    kept = _judged(img, bright, [(0.9, sock, 1.1, 0), (0.8, ball, 1.1, 0)], scene, 1.1)
    assert [c[0] for c in kept] == [sock, ball]
    assert scene.under_bodies == {sock}
    assert _feet_test(scene, legs=True)([sock, ball]) == [True, False]
    assert _feet_test(scene)([sock, ball]) == [False, False]  # no box: at nobody's feet


def test_while_pitch_detection_has_no_homography_no_sighting_is_away_from_the_feet() -> None:
    # The kit of someone no box covers is told only with the markings, which need the
    # homography: while pitch_detection finds none, no sighting makes a track one seen away
    # from the feet. Without pitch_detection at all, the boxes say where the feet are.
    scene = BallScene(None, [[40.0, 10.0, 50.0, 50.0]])
    points = [(45.0, 50.0), (100.0, 20.0)]
    assert _feet_test(scene, legs=True, blind=True)(points) == [True, True]
    assert _feet_test(scene, legs=True)(points) == [True, False]
    assert _feet_test(scene)(points) == [True, False]


def test_the_off_feet_test_reaches_beside_the_legs() -> None:
    # A box 40 px tall ending at y 50: 8 px above its bottom and just past its side is beside
    # the legs (a striding leg's sock), not in the feet zone.
    scene = BallScene(None, [[40.0, 10.0, 50.0, 50.0]])
    points = [(52.0, 42.0), (52.0, 30.0)]
    assert _feet_test(scene, legs=True)(points) == [True, False]
    assert _feet_test(scene)(points) == [False, False]


def test_the_plugin_gives_its_tracks_the_off_feet_test(monkeypatch: pytest.MonkeyPatch) -> None:
    tests: list[Any] = []
    step = TrackSet.step

    def recording(self: TrackSet, candidates: Any, held: Any, *feet: Any) -> Any:
        tests.append(feet)
        return step(self, candidates, held, *feet)

    monkeypatch.setattr(TrackSet, "step", recording)
    box = [40.0, 10.0, 50.0, 50.0]
    for results in (
        {"player_detection": {"detections": [{"box": box}]}},
        {"player_detection": {"detections": [{"box": box}]}, "pitch_detection": {}},
    ):
        context = PluginContext(0, "f-000000", results, {}, VideoInfo(120, 80, 25, None))
        BallDetection().process(pitch(), context)
    (at_feet, by_feet, view), (_, blind, _) = tests
    assert at_feet([(52.0, 42.0)]) == [False] and by_feet([(52.0, 42.0)]) == [True]
    assert by_feet([(100.0, 20.0)]) == [False] and blind([(100.0, 20.0)]) == [True]
    # No homography: nowhere on the pitch, so no track is the ball for how it moves.
    assert all(math.isnan(v) for v in view.places([(100.0, 20.0)])[0])
    assert math.isnan(view.metres_a_pixel((100.0, 20.0)))


def test_the_plugin_places_sightings_on_the_pitch_with_the_metres_a_pixel_spans() -> None:
    # A homography of 10 px a metre, the pitch's origin at the image's: a point's place is
    # its pixels over 10, and a pixel spans a tenth of a metre (the 0.11 m ball is 1.1 px).
    homography = [[10.0, 0.0, 0.0], [0.0, 10.0, 0.0], [0.0, 0.0, 1.0]]
    pitch = _ScenePitch(BallScene(np.array(homography), []))
    assert pitch.places([(300.0, 150.0)]) == [pytest.approx((30.0, 15.0))]
    assert pitch.metres_a_pixel((300.0, 150.0)) == pytest.approx(0.1)


def score_ball(clip: Any) -> tuple[float, float]:
    """Share of visible-ball frames found within 6 px, and share of reports that are another
    object (more than 10 px away, or a seen ball while the real one is hidden)."""
    plugins = [PitchDetection(), PlayerDetection(), BallDetection()]
    found = visible = wrong = reported = 0
    for run in run_plugins(plugins, clip, clip.info):
        truth = clip.truth[run.index].ball
        ball = run.results["ball_detection"]["ball"]
        reported += ball is not None
        if truth is None:
            wrong += ball is not None and not ball["predicted"]
            continue
        visible += 1
        if ball is not None:
            error = math.dist(ball["center"], truth.center)
            found += error <= 6
            wrong += error > 10
    return found / visible, wrong / max(reported, 1)


STYLED = {"kits": 1, "spots": True}
WHITE_KITS = {**STYLED, "white_shorts": True, "skin_tones": True, "camera_height": 18.0}
WORN_PITCH = {**STYLED, "line_width": 0.1, "line_fade": 0.5, "stripe_angle": 30.0,
              "stripe_width": 5.0, "grass_texture": 0.5, "shadows": 0.5}  # fmt: skip


@pytest.mark.parametrize(
    ("knobs", "seed", "least_found", "most_wrong"),
    [
        ({}, 5, 0.9, 0.03),  # measured 1.000 found, 0.000 wrong
        (WHITE_KITS, 5, 0.88, 0.03),  # measured 1.000, 0.000
        # Measured 0.936, 0.061 (3 of 49 reports) with the whole-person boxes of the second
        # pass on player_detection, 0.022 wrong before: over the 5 % target on this clip.
        (WORN_PITCH, 4, 0.88, 0.08),
        # Measured 0.880, 0.000; 0.620, 0.000 with the search sized for the 0.7 px ball the
        # homography gives there, not the 1.6 px it is sized for now.
        ({**STYLED, "width": 320, "height": 180, "jpeg_quality": 40}, 3, 0.8, 0.05),
    ],
    ids=["classic", "white kits", "worn pitch", "320x180 jpeg 40"],
)
def test_ball_floors_on_tuning_like_clips(
    knobs: dict[str, Any], seed: int, least_found: float, most_wrong: float
) -> None:
    found, wrong = score_ball(synthetic_match(seconds=2, seed=seed, **knobs))
    assert found >= least_found
    assert wrong <= most_wrong


def balls_on_a_close_camera(
    seed: int, seconds: float, camera: tuple[float, float, float]
) -> dict[int, tuple[Any, Any]]:
    """By frame, ball_detection's ball (after pitch and player detection) and the true ball,
    on a styled clip with skin tones from ``camera`` (height, distance back, field of view)."""
    height, distance, fov = camera
    clip = synthetic_match(
        seconds, 25, seed=seed, kits=1, spots=True, skin_tones=True,
        camera_height=height, camera_distance=distance, fov=fov,
    )  # fmt: skip
    plugins = [PitchDetection(), PlayerDetection(), BallDetection()]
    return {
        run.index: (run.results["ball_detection"]["ball"], clip.truth[run.index].ball)
        for run in run_plugins(plugins, clip, clip.info)
    }


def test_a_ball_near_a_close_cameras_bottom_edge_is_found() -> None:
    # A close camera 12 m up, 10 m back, 23 degrees: the ball is 3.7 px in radius at the
    # frame's middle and 5.9 to 6.2 px where it rolls near the bottom edge (random seed 40).
    # The first search's filters, sized for the middle, dropped it there as touching
    # something larger (frames 0 to 2 and 10 to 12 unreported); the second search, sized for
    # the bottom's ball, finds it.
    errors = {}
    for i, (ball, truth) in balls_on_a_close_camera(40, 0.8, (12.0, 10.0, 23.0)).items():
        if i in (0, 1, 2, 10, 11, 12):
            assert truth is not None and truth.radius > 5.5
            errors[i] = None if ball is None else math.dist(ball["center"], truth.center)
    assert len(errors) == 6
    assert all(e is not None and e <= 6 for e in errors.values()), errors


def test_a_fair_haired_face_at_a_close_cameras_bottom_edge_is_not_followed() -> None:
    # A close camera 11 m up, 11 m back, 24 degrees (random seed 21): the ball is out of view
    # for the clip's first 1.4 s, and a player cut off by the frame's bottom edge shows only a
    # fair-haired head and shoulders, with no box; the face was reported as the ball in
    # frames 25 to 33.
    balls = balls_on_a_close_camera(21, 1.4, (11.0, 11.0, 24.0))
    assert len(balls) == 35
    assert all(truth is None for _, truth in balls.values())
    reported = {i: ball for i, (ball, _) in balls.items() if ball is not None}
    assert not reported, reported


def test_a_piece_of_a_line_beside_a_players_boots_is_not_followed() -> None:
    # A close camera 12 m up, 10 m back, 23 degrees (random seed 11): the ball is out of view
    # from frame 54 on, and a player running along a slanted line cuts it with his legs; the
    # line's piece beside his boots, about the ball's size along the line but only the line's
    # width across it, was reported as the ball in frames 54 to 62.
    balls = balls_on_a_close_camera(11, 2.6, (12.0, 10.0, 23.0))
    assert len(balls) == 65
    assert all(balls[i][1] is None for i in range(54, 65))
    reported = {i: ball for i, (ball, _) in balls.items() if i >= 54 and ball is not None}
    assert not reported, reported


def test_the_feet_test_is_asked_only_about_tracks_that_could_be_excused() -> None:
    tracks = TrackSet()
    tracks.step([ball_at(50, 50, 0.6), ball_at(150, 50, tracks.least_start)])
    asked: list[list[tuple[float, float]]] = []

    def at_feet(points: list[tuple[float, float]]) -> list[bool]:
        asked.append(points)
        return [True] * len(points)

    tracks.step([], None, at_feet)  # the faint track is not ball-like enough to be excused
    assert asked == [[(50, 50)]]
    for _ in range(tracks.excused_misses):
        tracks.step([], None, at_feet)
    # Missed excused_misses times running, the ball-like one is no longer asked about either.
    assert asked == [[(50, 50)]] * tracks.excused_misses


def test_a_track_seen_only_at_someone_s_feet_needs_a_better_score() -> None:
    # A sock or a boot at the feet, as ball-like as a faint ball: not the ball there.
    feet = lambda points: [True] * len(points)  # noqa: E731
    confidence = (TrackSet.least_quality + TrackSet.feet_quality) / 2
    at_feet, elsewhere = TrackSet(), TrackSet()
    for i in range(8):
        ball, _ = at_feet.step([ball_at(50, 50 + i, confidence)], None, feet)
        assert ball is None
        other, _ = elsewhere.step([ball_at(50, 50 + i, confidence)], None, feet if i else None)
    assert other is not None  # seen once away from the feet, it is ball enough
    assert not at_feet.tracks[0].off_feet and elsewhere.tracks[0].off_feet


def test_a_sock_beside_a_striding_leg_does_not_take_the_ball_from_a_free_one() -> None:
    # A faint free ball, and a bright white sock on a leg stretched out past its player's
    # box: at_feet says the sock is away from anyone's feet, by_feet that it is beside
    # someone's legs. Read so, its track is one seen only at the feet, and the free ball's
    # track is the ball whatever the scores; read as free, the sock takes the ball by score.
    at_feet = lambda points: [False] * len(points)  # noqa: E731
    by_feet = lambda points: [200 <= x < 220 for x, _ in points]  # noqa: E731
    legs, free = TrackSet(), TrackSet()
    balls = []
    for i in range(10):
        frame = [ball_at(300 + 2 * i, 60, 0.6), ball_at(210, 90 + 0.2 * i, 0.9)]
        ball, _ = legs.step(frame, None, at_feet, by_feet)
        balls.append(None if ball is None else round(ball.centre[0]))
        other, _ = free.step(frame, None, at_feet)
    # The free ball's track, once seen TrackSet.confirm times, every frame after.
    assert all(x is not None and x >= 300 for x in balls[TrackSet.confirm - 1 :])
    assert other is not None and round(other.centre[0]) == 210
    sock = next(t for t in legs.tracks if round(t.centre[0]) == 210)
    assert not sock.off_feet


def test_a_track_seen_away_from_the_feet_takes_the_ball_from_one_seen_only_at_them() -> None:
    # A team's white socks at someone's feet score higher than a faint free ball: the ball's
    # track is the free one once it is confirmed, at once, whatever the scores.
    tracks = TrackSet()
    at_feet = lambda points: [x < 100 for x, _ in points]  # noqa: E731
    free_least = TrackSet.least_quality + 0.02
    balls = []
    for i in range(8):
        sock = ball_at(50, 60 + i, 0.9)
        free = ball_at(200 + 3 * i, 80, free_least) if i >= 3 else None
        ball, _ = tracks.step([sock] if free is None else [sock, free], None, at_feet)
        balls.append(None if ball is None else round(ball.centre[0]))
    assert balls[2] == 50  # the sock, alone, became the ball
    assert balls[-1] is not None and balls[-1] >= 200  # then the free ball took it
    sock_track = next(t for t in tracks.tracks if round(t.centre[0]) == 50)
    assert sock_track.quality > tracks.ball.quality + TrackSet.switch_margin  # by the rule


class _MarkedPitch:
    """A pitch view whose markings are every point right of x = 100 (nowhere with
    ``marked`` False); places and spans unknown."""

    def __init__(self, marked: bool = True) -> None:
        self.marked = marked

    def places(self, points: list[tuple[float, float]]) -> list[tuple[float, float]]:
        return [(math.nan, math.nan)] * len(points)

    def on_markings(self, candidates: list[Candidate]) -> list[bool]:
        return [self.marked and c[0][0] > 100 for c in candidates]

    def metres_a_pixel(self, point: tuple[float, float]) -> float:
        return math.nan


def test_a_track_away_from_the_feet_only_on_a_marking_does_not_take_the_ball_for_it() -> None:
    # A clear ball at a player's feet, and a fleck of a pitch line across the frame: off the
    # markings the fleck's track would take the ball (seen away from the feet, whatever the
    # scores); on one, being away from the feet is not enough, and the better track keeps it.
    at_feet = lambda points: [x < 100 for x, _ in points]  # noqa: E731
    taken = {}
    for marked in (False, True):
        tracks = TrackSet()
        for i in range(8):
            frame = [
                ball_at(50 + i, 60, 0.9),
                ball_at(200 + 2 * i, 80, TrackSet.least_quality + 0.1),
            ]
            ball, _ = tracks.step(frame, None, at_feet, None, _MarkedPitch(marked))
        assert ball is not None
        taken[marked] = round(ball.centre[0]) >= 200
        fleck = next(t for t in tracks.tracks if t.centre[0] >= 200)
        assert fleck.off_feet and fleck.free is not marked
    assert taken == {False: True, True: False}


def test_a_better_fleck_on_a_marking_does_not_take_the_ball_from_a_ball_at_the_feet() -> None:
    # The ball, seen at someone's feet, is the ball; then a line's fleck away from the feet
    # scores a little higher, within the switch margin. Seen away from the feet only on a
    # marking, it is not free: it takes the ball only by the margin, which it lacks.
    at_feet = lambda points: [x < 100 for x, _ in points]  # noqa: E731
    tracks = TrackSet()
    balls = []
    for i in range(10):
        fleck = [ball_at(200 + 2 * i, 80, 0.6)] if i >= 4 else []
        ball, _ = tracks.step(
            [ball_at(50 + i, 60, 0.55), *fleck], None, at_feet, None, _MarkedPitch()
        )
        balls.append(None if ball is None else round(ball.centre[0]))
    # The ball at the feet from its third sighting on, every frame after.
    assert all(x is not None and x < 100 for x in balls[TrackSet.confirm - 1 :])
    assert ball is not None
    fleck_track = next(t for t in tracks.tracks if t.centre[0] >= 200)
    assert fleck_track.quality > ball.quality and fleck_track.off_feet and not fleck_track.free


def test_of_two_tracks_ready_at_once_a_fleck_on_a_marking_does_not_come_first() -> None:
    # Both seen from the first frame, neither surely the ball at first sight: when both are
    # confirmed, the ball at the feet (the better) is taken, not the fleck off the feet.
    at_feet = lambda points: [x < 100 for x, _ in points]  # noqa: E731
    tracks = TrackSet(sure=2.0)
    balls = []
    for i in range(6):
        frame = [ball_at(50 + i, 60, 0.9), ball_at(200 + 2 * i, 80, 0.6)]
        ball, _ = tracks.step(frame, None, at_feet, None, _MarkedPitch())
        balls.append(None if ball is None else round(ball.centre[0]))
    first = next(x for x in balls if x is not None)
    assert first < 100 and all(x is not None and x < 100 for x in balls[balls.index(first) :])


def test_a_track_seen_away_from_the_feet_only_on_a_marking_needs_a_better_score() -> None:
    # As ball-like as a faint ball, away from the feet: the ball off the markings, not on one.
    confidence = (TrackSet.least_quality + TrackSet.feet_quality) / 2
    elected = {}
    for marked in (False, True):
        tracks = TrackSet()
        for i in range(8):
            ball, _ = tracks.step(
                [ball_at(200, 50 + i, confidence)], None, None, None, _MarkedPitch(marked)
            )
        elected[marked] = ball is not None
    assert elected == {False: True, True: False}


def test_the_plugin_tells_which_sightings_lie_on_a_marking() -> None:
    # 10 px a metre, the pitch's origin at the image's: the halfway line is x = 525 px.
    homography = [[10.0, 0.0, 0.0], [0.0, 10.0, 0.0], [0.0, 0.0, 1.0]]
    pitch = _ScenePitch(BallScene(np.array(homography), []))
    on, beside, off = (
        ((525.0, 150.0), 2.0, 0.5),
        ((529.0, 150.0), 2.0, 0.5),
        ((300.0, 150.0), 2.0, 0.5),
    )
    assert pitch.on_markings([on, beside, off]) == [True, False, False]
    # A wider blob 4 px from the line still lies on it: its radius reaches the paint.
    assert pitch.on_markings([((529.0, 150.0), 6.0, 0.5)]) == [True]
    # Without a homography nothing is known to be on a marking.
    assert _ScenePitch(BallScene(None, [])).on_markings([on]) == [False]


def test_a_ball_seen_away_from_the_feet_is_not_swapped_back_and_forth_with_a_sock() -> None:
    # A free ball whose score hovers at the least a ball needs, and a sock at someone's feet
    # scoring higher: once the free one has the ball, the sock does not take it back.
    tracks = TrackSet()
    at_feet = lambda points: [x < 100 for x, _ in points]  # noqa: E731
    held = []
    for i in range(30):
        free = ball_at(200 + i, 80, 0.55 if i % 2 else 0.35)
        ball, _ = tracks.step([ball_at(50, 60, 0.7), free], None, at_feet)
        held.append(None if ball is None else ball.off_feet)
    first = held.index(True)
    assert all(held[first:])  # the free ball's track, every frame after


def test_a_ball_at_someone_s_feet_takes_the_ball_back_from_a_free_track_that_is_lost() -> None:
    # A fleck taken for a free ball (seen away from the feet) vanishes; the real ball, at a
    # player's feet and seen every frame, scores far higher and becomes the ball again.
    tracks = TrackSet()
    at_feet = lambda points: [x < 100 for x, _ in points]  # noqa: E731
    balls = []
    for i in range(16):
        fleck = [ball_at(200, 80, TrackSet.least_quality + 0.05)] if 4 <= i < 8 else []
        ball, _ = tracks.step([ball_at(50 + i, 60, 0.9), *fleck], None, at_feet)
        balls.append(None if ball is None else round(ball.centre[0]))
    assert balls[3] == 53  # the ball at the feet, alone, is the ball
    assert balls[7] == 200  # the free fleck took it while seen
    assert balls[8] == 58  # missed once, it gives the ball back
    assert balls[-1] == 65


def test_a_free_ball_handed_to_a_sock_takes_the_ball_back_when_seen_again() -> None:
    # A free ball missed now and then beside a white sock seen every frame: an isolated
    # miss costs nothing, two running hand the ball to the sock for one frame only, and the
    # free ball takes it back the frame it shows again (seen less often, it would not win
    # it back by score for several frames).
    at_feet = lambda points: [x < 100 for x, _ in points]  # noqa: E731

    def run(missed: set[int]) -> str:
        tracks = TrackSet()
        out = ""
        for i in range(20):
            free = [] if i in missed else [ball_at(200 + 2 * i, 80, 0.6)]
            ball, _ = tracks.step([ball_at(50, 60, 0.8), *free], None, at_feet)
            out += "-" if ball is None else "S" if ball.centre[0] < 100 else "B"
        return out

    assert run({8, 10})[3:] == "B" * 7 + "S" + "B" * 9
    assert run({8, 9})[3:] == "B" * 6 + "S" + "B" * 10


def test_a_ball_back_from_behind_a_player_is_the_ball_again_at_once() -> None:
    # Hidden for four frames, the ball shows again where its track said: its score counts
    # the misses, but a ball-like sighting there keeps it the ball.
    def run(revive: float) -> list[bool]:
        tracks = TrackSet(revive=revive)
        reported = []
        for i in range(16):
            hidden = 8 <= i < 12
            ball, seen = tracks.step([] if hidden else [ball_at(100 + 4 * i, 80, 0.6)])
            reported.append(ball is not None and seen is not None)
        return reported

    back = run(TrackSet.revive)
    assert all(back[2:8]) and all(back[12:])
    assert not run(0.7)[12]  # a sighting under ``revive`` after the misses is not trusted


def test_a_sighting_far_from_where_a_lapsed_ball_was_predicted_does_not_keep_it() -> None:
    # Back after four misses, but further from its track's prediction than gate_px: within
    # the track's grown gate, yet not where a ball back from behind a player would be.
    tracks = TrackSet()
    reported = []
    for i in range(13):
        hidden = 8 <= i < 12
        x = 100 + 4 * i + (15 if i == 12 else 0)
        ball, seen = tracks.step([] if hidden else [ball_at(x, 80, 0.6)])
        reported.append(ball is not None and seen is not None)
    assert all(reported[2:8]) and not reported[12]


def test_a_clear_sighting_of_a_lapsed_track_is_the_ball_at_once() -> None:
    # The ball's track lapses on faint sightings (lost in the legs, at someone's feet); when
    # the ball shows clearly again, alone in its frame, it is the ball at once, not when the
    # track's smoothed confidence has climbed back.
    def at_feet(points: list[tuple[float, float]]) -> list[bool]:
        return [x >= 112 for x, _ in points]  # the faint sightings, from frame 6 on

    tracks = TrackSet()
    reported = []
    for i in range(13):
        confidence = 0.1 if 6 <= i < 12 else 0.8
        ball, seen = tracks.step([ball_at(100 + 2 * i, 80, confidence)], None, at_feet)
        reported.append(ball is not None and seen is not None)
    assert all(reported[:6]) and not reported[11]
    assert tracks.tracks[0].confidence < TrackSet.sure  # smoothed, it has not climbed back
    assert reported[12]


def test_a_clear_sighting_far_from_a_held_ball_does_not_take_it() -> None:
    # The ball held at a player's feet and missed this frame can only be where a kick takes
    # it from there: a clear sighting across the frame is another object; one a frame's kick
    # away is the ball.
    def run(x: float) -> bool:
        tracks = TrackSet()
        held_ball = None
        for _ in range(4):
            held_ball, _ = tracks.step([ball_at(100, 80, 0.8)])
        assert held_ball is not None
        ball, seen = tracks.step([ball_at(x, 80, 0.9)], held=(100.0, 80.0))
        return ball is not held_ball and seen == ball_at(x, 80, 0.9)

    assert not run(400.0)
    assert run(100.0 + 1.5 * TrackSet.gate_px)  # outside the held track's gate, in a kick's reach


def test_a_faint_ball_seen_every_frame_where_its_track_said_stays_the_ball() -> None:
    # A ball rolling along a line: its sightings turn faint (scaled down on the marking) but
    # come every frame, right where its track said, away from anyone's feet. It stays the
    # ball; the same faint sightings a frame missed now and then, or off the track's path,
    # do not keep it.
    def run(path: Callable[[int], float], missed: set[int], faint: float = 0.2) -> list[bool]:
        tracks = TrackSet()
        reported = []
        for i in range(20):
            confidence = faint if i >= 8 else 0.8
            sighting = [] if i in missed else [ball_at(path(i), 80, confidence)]
            ball, seen = tracks.step(sighting)
            reported.append(ball is not None and seen is not None)
        return reported

    def rolling(i: int) -> float:
        return 100.0 + 3 * i

    def shaking(i: int) -> float:
        return 100.0 + 3 * i + (4 if i % 2 and i >= 8 else 0)

    assert all(run(rolling, set())[2:])
    assert not any(run(rolling, set(range(9, 20, 2)))[11:])  # lapsed once seen too seldom
    assert not all(run(shaking, set())[2:])
    # Under steady_least (a line's fleck moving with a blurred pan): lapsed, not kept.
    assert not any(run(rolling, set(), TrackSet.steady_least - 0.05)[16:])


def test_a_lapsed_ball_s_track_seen_every_frame_where_it_said_is_the_ball_again() -> None:
    # The ball rolls along a line, its sightings faint, and is missed now and then: its track
    # lapses. Once seen TrackSet.confirm frames running again, right where its track said, the
    # track that was the ball is the ball again; the same faint track that never was one is not.
    def run(first: float) -> list[bool]:
        tracks = TrackSet()
        reported = []
        for i in range(30):
            confidence = first if i < 8 else 0.2
            sighting = [] if i in {9, 13} else [ball_at(100.0 + 3 * i, 80, confidence)]
            ball, seen = tracks.step(sighting)
            reported.append(ball is not None and seen is not None)
        return reported

    was_ball = run(0.8)
    assert all(was_ball[:9]) and not any(was_ball[13 : 13 + TrackSet.confirm])  # lapsed
    assert all(was_ball[13 + TrackSet.confirm :])  # seen confirm times running: the ball again
    # Started (over least_start) but never elected (under least_quality), then as faint and
    # as steady: never the ball.
    assert not any(run((TrackSet.least_start + TrackSet.least_quality) / 2))


def test_only_a_track_that_was_the_ball_lately_is_taken_back() -> None:
    # The ball's track lapses, then is seen every other frame for a while (no steady run):
    # once it has not been the ball for more than TrackSet.recent frames, a steady run of
    # faint sightings no longer makes it the ball (a fleck that was the ball long ago).
    def run(recent: int) -> list[bool]:
        tracks = TrackSet(recent=recent)
        reported = []
        for i in range(36):
            confidence = 0.8 if i < 8 else 0.2
            missed = 9 <= i <= 25 and i % 2 == 1
            sighting = [] if missed else [ball_at(100.0 + 3 * i, 80, confidence)]
            ball, seen = tracks.step(sighting)
            reported.append(ball is not None and seen is not None)
        return reported

    assert all(run(TrackSet.recent)[:9]) and not any(run(TrackSet.recent)[12:])
    assert all(run(100)[26 + TrackSet.confirm :])  # without the limit: taken back


def test_a_faint_track_that_moves_like_a_ball_is_the_ball_when_there_is_none() -> None:
    # A real-size ball under JPEG: seen every frame where its track said, away from the feet,
    # under least_quality (first over least_start, which starts its track). It is the ball
    # once it has moved over a whole window, on the pitch (0.3 m a frame here) and by more
    # than moving_px pixels' worth there (a pixel spans 0.1 m). A line's fleck that slides in
    # the image as the camera pans stays put on the pitch: never the ball.
    def run(
        metres_a_frame: float,
        feet: range | set[int] = range(0),
        with_ground: bool = True,
        tracks: TrackSet | None = None,
        missed: set[int] | None = None,
    ) -> list[bool]:
        tracks = TrackSet() if tracks is None else tracks
        reported = []
        for i in range(14):
            x = 100.0 + 3 * i
            pitch = _Pitch((20.0 + metres_a_frame * i, 30.0), 0.1)

            def at_feet(points: list[tuple[float, float]], i: int = i) -> list[bool]:
                return [i in feet] * len(points)

            sighting = [] if missed and i in missed else [ball_at(x, 80, 0.42 if i == 0 else 0.35)]
            ball, seen = tracks.step(sighting, None, at_feet, None, pitch if with_ground else None)
            reported.append(ball is not None and seen is not None)
        return reported

    window = TrackSet.window
    moving = run(0.3)
    assert not any(moving[: window - 1]) and all(moving[window - 1 :])  # from its 6th sighting
    assert not any(run(0.0))  # put on the pitch: a fleck of a line during a pan
    assert not any(run(0.09))  # 0.45 m over the window: 4.5 px, but under moving_m
    assert not any(run(0.3, feet=range(14)))  # at someone's feet a sock moves as a ball does
    assert not any(run(0.3, with_ground=False))  # without the pitch's geometry
    # Missed once: not until seen in each frame of a window again (frames 4 to 9).
    once = run(0.3, missed={3})
    assert not any(once[:9]) and all(once[9:])
    # Every sighting of the window away from the feet: at them in frames 0 to 4, then away,
    # it is the ball once six running are (frame 10), not at frame 5.
    late = run(0.3, feet=range(window - 1))
    assert not any(late[: 2 * window - 2]) and all(late[2 * window - 2 :])
    # Under moving_least: not the ball, however it moves.
    assert not any(run(0.3, tracks=TrackSet(moving_least=0.4)))


def test_a_track_that_moves_like_a_ball_takes_the_ball_from_one_that_does_not() -> None:
    # A white sock at someone's feet, bright and seen every frame, is the ball while a faint
    # ball (under least_quality, never ready by score) crosses the pitch away from the feet:
    # once that one moves like a ball (a whole window, here its sixth sighting), it is the
    # ball. Not when the sock is seen more ball-like than the faint one by more than
    # 1 / overtake_share, nor while the sock's track is held at its player's feet and unseen
    # there, nor when the faint one lies on a pitch marking (not free).
    def run(sock: float, held: bool = False, lined: bool = False) -> list[int | None]:
        tracks = TrackSet()
        ground = _Ground(0.1, lined_x=range(100, 200) if lined else range(0))
        at_feet = lambda points: [x >= 290 for x, _ in points]  # noqa: E731
        balls = []
        for i in range(12):
            faint = ball_at(100.0 + 3 * i, 80, 0.4)
            hold = (300.0, 200.0) if held and i >= TrackSet.confirm else None
            seen = [faint] if hold else [ball_at(300, 200, sock), faint]
            ball, _ = tracks.step(seen, hold, at_feet, None, ground)
            balls.append(None if ball is None else round(ball.centre[0]))
        return balls

    window = TrackSet.window
    overtaken = run(sock=0.6)
    assert overtaken[TrackSet.confirm - 1 : window - 1] == [300] * (window - TrackSet.confirm)
    assert all(x is not None and x < 300 for x in overtaken[window - 1 :])
    assert TrackSet.overtake_share * 0.9 > 0.4  # a sock seen at 0.9 keeps the ball
    assert all(x == 300 for x in run(sock=0.9)[TrackSet.confirm - 1 :])
    assert all(x == 300 for x in run(sock=0.6, held=True)[TrackSet.confirm - 1 :])
    assert all(x == 300 for x in run(sock=0.6, lined=True)[TrackSet.confirm - 1 :])


def test_a_ball_that_moves_like_one_is_not_handed_back_by_score() -> None:
    # The sock's track was seen free once (its first sighting, away from the feet), so by
    # score it may take the ball from a free track: it scores 0.65, the faint mover 0.4, more
    # than switch_margin apart. Once the mover has the ball it keeps it; handed back by score,
    # it would be taken again by moving, and the two would swap every frame. A sock seen at
    # 0.9 could not be taken from (0.4 is under overtake_share of it), but it is missed in
    # frame 6, where the mover takes the ball; seen at the feet again, it does not take it
    # back.
    def run(sock: float, missed: int | None = None) -> list[int | None]:
        tracks = TrackSet()
        ground = _Ground(0.1, lined_x=range(0))
        balls = []
        for i in range(14):
            at_feet = lambda points, i=i: [x >= 290 and i > 0 for x, _ in points]  # noqa: E731
            seen = [ball_at(100.0 + 3 * i, 80, 0.4)]
            seen += [] if i == missed else [ball_at(300, 200, sock)]
            ball, _ = tracks.step(seen, None, at_feet, None, ground)
            balls.append(None if ball is None else round(ball.centre[0]))
        sock_track = next(t for t in tracks.tracks if round(t.centre[0]) == 300)
        assert sock_track.free
        assert sock_track.quality > tracks.ball.quality + TrackSet.switch_margin
        return balls

    balls = run(0.65)
    assert balls[TrackSet.confirm - 1] == 300
    assert all(x is not None and x < 300 for x in balls[TrackSet.window - 1 :])
    assert TrackSet.overtake_share * 0.9 > 0.4
    bright = run(0.9, missed=TrackSet.window)
    assert bright[TrackSet.window - 1] == 300  # not taken while seen
    assert all(x is not None and x < 300 for x in bright[TrackSet.window :])


def test_a_ball_that_moves_like_one_may_pass_the_feet_once_and_keep_the_ball() -> None:
    # The mover of the test above has the ball from frame 5 and passes someone's feet in
    # frame 8: there it is not steady, and the sock (seen free once) takes the ball by score
    # for that frame; from the next frame the mover moves like a ball again with that one
    # sighting at the feet in its window (overtake_unclean), not six frames later.
    tracks = TrackSet()
    ground = _Ground(0.1, lined_x=range(0))
    balls = []
    for i in range(16):
        at_feet = lambda points, i=i: [  # noqa: E731
            (x >= 290 and i > 0) or (x < 290 and i == 8) for x, _ in points
        ]
        seen = [ball_at(300, 200, 0.65), ball_at(100.0 + 3 * i, 80, 0.4)]
        ball, _ = tracks.step(seen, None, at_feet, None, ground)
        balls.append(None if ball is None else round(ball.centre[0]))
    assert all(x is not None and x < 300 for x in balls[TrackSet.window - 1 : 8])
    assert balls[8] == 300
    assert all(x is not None and x < 300 for x in balls[9:])


def test_a_track_taking_the_ball_by_moving_may_have_passed_the_feet_once() -> None:
    # A faint ball passing a player's feet on its way: one sighting of its window at them
    # (overtake_unclean) does not keep it from taking the ball from a sock; two do, until
    # the first of them leaves the window. Its first and last sightings are away from the
    # feet here.
    def run(feet_frames: set[int]) -> list[int | None]:
        tracks = TrackSet()
        ground = _Ground(0.1, lined_x=range(0))
        balls = []
        for i in range(14):
            at_feet = lambda points, i=i: [  # noqa: E731
                x >= 290 or (i in feet_frames and x < 290) for x, _ in points
            ]
            seen = [ball_at(300, 200, 0.6), ball_at(100.0 + 3 * i, 80, 0.4)]
            ball, _ = tracks.step(seen, None, at_feet, None, ground)
            balls.append(None if ball is None else round(ball.centre[0]))
        return balls

    window = TrackSet.window
    assert TrackSet.overtake_unclean == 1
    once = run({2})
    assert once[window - 2] == 300 and once[window - 1] is not None and once[window - 1] < 300
    twice = run({2, 3})
    # Frame 2's sighting leaves the window (the last six sightings) at frame 2 + window.
    assert all(x == 300 for x in twice[TrackSet.confirm - 1 : 2 + window])
    assert twice[2 + window] is not None and twice[2 + window] < 300


class _Ground:
    """A PitchView of a camera looking straight down: ``metres`` a pixel everywhere, a
    marking under every point whose x is in ``lined_x``."""

    def __init__(self, metres: float, lined_x: range) -> None:
        self.metres, self.lined_x = metres, lined_x

    def places(self, points: list[tuple[float, float]]) -> list[tuple[float, float]]:
        return [(x * self.metres, y * self.metres) for x, y in points]

    def on_markings(self, candidates: list[Candidate]) -> list[bool]:
        return [round(c[0][0]) in self.lined_x for c in candidates]

    def metres_a_pixel(self, point: tuple[float, float]) -> float:
        return self.metres


def test_a_track_that_moves_like_a_ball_is_judged_by_the_pixels_it_crossed_too() -> None:
    # Far away a pixel spans a metre: a fleck jittering by a pixel or two "moves" metres
    # there, but not moving_px pixels' worth.
    tracks = TrackSet()
    track = Track(100.0, 80.0, 1.0, 0.35)
    track.seen, track.last, track.jump = [True] * TrackSet.window, ((100.0, 80.0), 1.0, 0.35), 0.0
    track.clean = [True] * TrackSet.window
    track.places = [(0.0, 0.0)] * (TrackSet.window - 1) + [(3.0, 0.0)]
    far = _Pitch((0.0, 0.0), 1.0)  # a metre a pixel
    assert not tracks._moving(track, far)  # 3 m, 3 px: under moving_px (4)
    track.places[-1] = (4.5, 0.0)
    assert tracks._moving(track, far)
    assert not tracks._moving(track, None)
    assert not tracks._moving(track, _Pitch((0.0, 0.0), math.nan))  # no span known there
    track.jump = TrackSet.steady_px + 1  # this frame off its prediction: not steady
    assert not tracks._moving(track, far)
    track.jump = 0.0
    track.clean = [True] * TrackSet.window
    assert tracks._moving(track, far)
    track.clean[0] = False  # off its prediction, or at the feet, earlier in the window
    assert not tracks._moving(track, far)
    track.clean[0] = True
    track.places[0] = (math.nan, math.nan)
    assert not tracks._moving(track, far)


class _Pitch:
    """A PitchView that puts every point at one place, ``metres`` a pixel."""

    def __init__(self, place: tuple[float, float], metres: float) -> None:
        self.place, self.metres = place, metres

    def places(self, points: list[tuple[float, float]]) -> list[tuple[float, float]]:
        return [self.place for _ in points]

    def on_markings(self, candidates: list[Candidate]) -> list[bool]:
        return [False] * len(candidates)

    def metres_a_pixel(self, point: tuple[float, float]) -> float:
        return self.metres


def test_a_track_missed_this_frame_is_not_steady() -> None:
    # A miss excused at the feet is not recorded in ``seen``: the track is not steady then.
    tracks = TrackSet()
    track = Track(100.0, 80.0, 2.0, 0.3)
    track.seen, track.last, track.jump = [True] * TrackSet.window, None, 0.0
    assert not tracks._steady(track)
    track.last = ((100.0, 80.0), 2.0, 0.3)
    assert tracks._steady(track)


def test_the_feet_test_is_asked_once_a_frame_about_tracks_and_candidates() -> None:
    tracks = TrackSet()
    asked: list[list[tuple[float, float]]] = []

    def at_feet(points: list[tuple[float, float]]) -> list[bool]:
        asked.append(points)
        return [x < 100 for x, _ in points]

    tracks.step([ball_at(50, 50, 0.6), ball_at(150, 50, 0.6)], None, at_feet)
    assert asked == [[(50, 50), (150, 50)]]  # no track yet: the candidates
    tracks.step([ball_at(51, 50, 0.6), ball_at(151, 50, 0.6)], None, at_feet)
    assert asked[1] == [(50, 50), (150, 50), (51, 50), (151, 50)]  # last sightings, candidates
    off_feet = {round(t.centre[0]): t.off_feet for t in tracks.tracks}
    assert off_feet == {51: False, 151: True}


def test_a_track_tells_where_it_will_be_without_moving() -> None:
    track = Track(100.0, 50.0, 2.0, 0.9)
    track.update(104.0, 53.0)  # it moves right and down
    ahead = track.ahead()
    assert track.ahead() == ahead  # asking does not advance it
    assert ahead[0] > 100.0 and ahead[1] > 50.0
    assert track.predict() == ahead


_SPOT = st.one_of(st.floats(-3.0, 3.0), st.just(math.nan), st.just(math.inf))


@pytest.mark.parametrize(
    ("pixels_a_metre", "step_px", "dropped_from"),
    [
        (10.0, 0.0, 12),  # a pixel spans 0.1 m: a blob jittering by one stays within 0.3 m
        (0.8, 0.0, 12),  # a pixel spans 1.25 m (the boards from a low camera): it does too
        (0.8, 2.0, None),  # 2.5 m a frame there: a ball, never a fixture
        (10.0, 2.0, None),
    ],
)
def test_a_blob_jittering_by_a_pixel_stays_put_however_much_ground_the_pixel_spans(
    pixels_a_metre: float, step_px: float, dropped_from: int | None
) -> None:
    # The blob's centre wanders by a pixel from frame to frame (the homography and the blob
    # under noise); where a pixel spans more ground than FIXTURE_REACH_M that had never been
    # staying put, and a board's letter was the ball for a whole clip.
    h = [[pixels_a_metre, 0.0, 20.0], [0.0, pixels_a_metre, 10.0], [0.0, 0.0, 1.0]]
    info = VideoInfo(width=640, height=360, fps=25.0, frame_count=None)
    state: dict[str, Any] = {}
    kept = []
    for i in range(20):
        ctx = PluginContext(i, "f", {"pitch_detection": {"homography": h}}, {}, info)
        scene = BallScene.of(ctx)
        x = 60.0 + step_px * i + (1.0 if i % 2 else 0.0)
        kept.append(bool(_not_static([((x, 40.0), 1.5, 0.9)], scene, state, 12)))
    first_dropped = next((i for i, k in enumerate(kept) if not k), None)
    assert first_dropped == (None if dropped_from is None else dropped_from - 1)
    if dropped_from is not None:
        assert not any(kept[dropped_from - 1 :])


@given(
    st.lists(st.tuples(_SPOT, _SPOT, st.sampled_from([0.0, 1.0])), max_size=12),
    st.lists(st.tuples(_SPOT, _SPOT), max_size=8),
    st.sampled_from([0.0, 1.0]),
)
def test_fixtures_near_are_those_near_along_both_axes(
    fixtures: list[tuple[float, float, float]],
    places: list[tuple[float, float]],
    unit: float,
) -> None:
    # Every fixture within reach by distance is among them, in order; NaN and infinite
    # places (off the pitch) are near nothing.
    seen = [[x, y, 1.0, u] for x, y, u in fixtures]
    near = _fixtures_near(seen, np.array(places, np.float64).reshape(-1, 2), unit, 0.3)
    for k, (x, y) in enumerate(places):
        expected = [
            i
            for i, (fx, fy, _, u) in enumerate(seen)
            if u == unit and abs(fx - x) <= 0.3 and abs(fy - y) <= 0.3
        ]
        assert near.get(k, []) == expected
        within = [i for i in expected if math.hypot(seen[i][0] - x, seen[i][1] - y) <= 0.3]
        assert within == [
            i
            for i, (fx, fy, _, u) in enumerate(seen)
            if u == unit and math.hypot(fx - x, fy - y) <= 0.3
        ]


@given(
    st.lists(st.tuples(st.floats(0, 30), st.floats(0, 30)), max_size=8),
    st.lists(st.tuples(st.floats(0, 30), st.floats(0, 30)), max_size=8),
    st.floats(0.5, 12.0),
)
def test_near_pairs_hold_every_pair_within_reach(
    predictions: list[tuple[float, float]], centres: list[tuple[float, float]], reach: float
) -> None:
    candidates: list[Candidate] = [(c, 2.0, 0.5) for c in centres]
    near = _near_pairs(predictions, candidates, reach)
    assert near == sorted(near)
    assert {
        (ti, ci)
        for ti, p in enumerate(predictions)
        for ci, c in enumerate(centres)
        if math.dist(c, p) <= reach
    } <= set(near)
    for ti, ci in near:
        assert abs(predictions[ti][0] - centres[ci][0]) <= reach
        assert abs(predictions[ti][1] - centres[ci][1]) <= reach


def test_a_ball_missed_for_one_frame_is_reported_at_its_track_s_score(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A faint ball's track (score 0.35) missed for one frame is reported where it predicts, at
    # that score: one frame's miss is common for a small or compressed ball. Decayed then, as
    # after a second miss, it fell under min_confidence (0.35 x 0.8 = 0.28 < 0.3).
    plugin = BallDetection()
    track = Track(100.0, 50.0, 2.0, 0.35)
    monkeypatch.setattr(TrackSet, "step", lambda self, *args, **kwargs: (track, None))
    grass = np.full((360, 640, 3), (50, 140, 60), np.uint8)
    state: dict[str, Any] = {}
    reports = []
    for missed in (1, 2):
        track.missed = missed
        ctx = PluginContext(missed, f"f-{missed:06d}", {}, state, VideoInfo(640, 360, 25, None))
        reports.append(plugin.process(grass, ctx)["ball"])
    first, second = reports
    assert first is not None and first["predicted"] and first["center"] == [100.0, 50.0]
    assert first["confidence"] == 0.35
    assert 0.35 * plugin.decay < plugin.min_confidence and second is None
