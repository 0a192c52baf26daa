"""Tests of the synthetic match's domain randomisation: every knob changes what is drawn, the
camera never shows the sky, kits stay apart, and a person's truth box is the person drawn."""

from __future__ import annotations

import math

import cv2
import numpy as np
import numpy.typing as npt
import pytest

from realtime_nb.vision.plugins.grass import green_mask
from realtime_nb.vision.synthetic import SyntheticParamError, synthetic_match
from realtime_nb.vision.synthetic.camera import camera_projection, camera_rig
from realtime_nb.vision.synthetic.render import draw_ball, random_kits, rolled

VARIATIONS = [
    {"camera_height": 28.0},
    {"camera_distance": 12.0},
    {"fov": 55.0},
    {"kits": 3},
    {"white_shorts": True},
    {"grass_kit": True},
    {"skin_tones": True},
    {"spots": True, "pan": 0.0},
    {"line_width": 0.3},
    {"line_fade": 0.8},
    {"stripe_width": 3.0},
    {"stripe_angle": 45.0},
    {"grass_texture": 0.8},
    {"shadows": 0.8},
    {"motion_blur": 7},
    {"jpeg_quality": 20},
    {"true_ball": True},
    {"patched_ball": True},
]


@pytest.mark.parametrize("knobs", VARIATIONS, ids=lambda k: next(iter(k)))
def test_every_variation_changes_the_frame(knobs: dict[str, object]) -> None:
    base = {"pan": knobs.get("pan", 25.0)}
    plain = synthetic_match(seconds=0.04, seed=4, noise=0, **base).frame(0)  # type: ignore[arg-type]
    varied = synthetic_match(seconds=0.04, seed=4, noise=0, **knobs).frame(0)  # type: ignore[arg-type]
    changed = int(np.any(plain != varied, axis=2).sum())
    assert changed >= 3, f"{knobs} changed only {changed} pixels"  # the 3 spots are the least


def test_a_true_size_ball_is_fifas_size_with_no_least_pixels() -> None:
    shared: dict[str, object] = {"seconds": 2, "seed": 5, "ball_hidden_fraction": 0.0}
    classic = synthetic_match(camera_height=28.0, **shared)  # type: ignore[arg-type]
    true = synthetic_match(camera_height=28.0, true_ball=True, **shared)  # type: ignore[arg-type]
    both = zip(classic.truth, true.truth, strict=True)
    pairs = [(a.ball, b.ball) for a, b in both if a.ball and b.ball]
    assert len(pairs) > 25
    assert min(a.radius for a, _ in pairs) >= 2.0  # the classic look's floor
    assert min(b.radius for _, b in pairs) < 1.5  # a far ball, true to its size
    for a, b in pairs:
        if a.radius > 2.05:  # above the floor, the same ball 0.11 m across instead of 0.13
            assert b.radius == pytest.approx(a.radius * 0.11 / 0.13, rel=0.02)
    # Drawn where its truth says: brighter than the grass around it at 2 px or less.
    frame, ball = true.frame(0), true.truth[0].ball
    assert ball is not None
    x, y = round(ball.center[0]), round(ball.center[1])
    grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY).astype(int)
    assert (
        grey[y - 1 : y + 2, x - 1 : x + 2].max()
        > np.median(grey[y - 8 : y + 9, x - 8 : x + 9]) + 20
    )


@pytest.mark.parametrize("radius", [0.5, 1.0, 1.7])
def test_a_ball_under_2_px_inks_its_discs_area(radius: float) -> None:
    # By coverage: OpenCV's antialiased circle inks some 6.8 px for a 1 px radius.
    img = np.zeros((20, 20, 3), np.uint8)
    draw_ball(img, (10.3, 9.6, radius, 1.0), 1.0)
    ink = img[:, :, 0].sum() / 245  # the ball's colour in full
    assert ink == pytest.approx(math.pi * radius**2, rel=0.02)
    weight = img[:, :, 0].astype(float)
    rows, cols = np.indices(weight.shape)
    centroid = [(rows * weight).sum() / weight.sum(), (cols * weight).sum() / weight.sum()]
    assert centroid == pytest.approx([9.6, 10.3], abs=0.05)  # where it was put


@pytest.mark.parametrize("radius", [1.0, 6.0])
def test_a_patched_ball_is_a_grey_disc_of_its_size_that_turns(radius: float) -> None:
    def drawn(turn: tuple[float, float]) -> npt.NDArray[np.float64]:
        img = np.zeros((30, 30, 3), np.uint8)
        draw_ball(img, (15.3, 14.6, radius, 1.0), 1.0, rolled(*turn, 1.0))
        return img.astype(np.float64)

    img = drawn((0.4, 1.1))
    # Lit from above and patched, it inks 0.5 to 0.7 of a white disc of its size; nothing
    # outside the disc's pixels.
    share = img[:, :, 0].sum() / 245 / (math.pi * radius**2)
    assert 0.5 < share < 0.7
    rows, cols = np.nonzero(img.any(axis=2))
    assert np.hypot(rows - 14.6, cols - 15.3).max() <= radius + 1.0
    # Where it was put, within a fifth of its radius (the light's side is the brighter).
    weight = img[:, :, 1]
    r, c = np.indices(weight.shape)
    centroid = [(r * weight).sum() / weight.sum(), (c * weight).sum() / weight.sum()]
    assert centroid == pytest.approx([14.6, 15.3], abs=0.2 * radius + 0.1)
    assert np.array_equal(drawn((0.4, 1.1)), img)  # the same turn draws the same
    if radius > 3:  # its patches move as it rolls
        assert np.abs(drawn((1.0, 1.1)) - img).max() > 100


def test_a_patched_ball_cut_by_the_frame_or_of_no_size_draws_only_what_shows() -> None:
    turn = rolled(0.3, 0.2, 1.0)
    img = np.zeros((20, 20, 3), np.uint8)
    draw_ball(img, (1.0, 18.5, 3.0, 1.0), 1.0, turn)  # part of it past two edges
    whole = np.zeros((60, 60, 3), np.uint8)
    draw_ball(whole, (21.0, 38.5, 3.0, 1.0), 1.0, turn)  # the same, 20 px right and down
    assert img.any() and np.array_equal(img, whole[20:40, 20:40])  # its part in the frame
    assert whole[20:40, 20:40].sum() < whole.sum()
    before = img.copy()
    draw_ball(img, (10.0, 10.0, 0.0, 1.0), 1.0, turn)
    draw_ball(img, (-40.0, 10.0, 5.0, 1.0), 1.0, turn)  # wholly outside
    assert np.array_equal(img, before)


def test_a_near_patched_ball_still_inks_its_discs_share() -> None:
    # Sampled more coarsely when large (a few samples a pixel across), still its size.
    img = np.zeros((200, 200, 3), np.uint8)
    draw_ball(img, (100.0, 100.0, 60.0, 1.0), 1.0, rolled(1.0, 2.0, 1.0))
    share = img[:, :, 0].sum() / 245 / (math.pi * 60.0**2)
    assert 0.5 < share < 0.7


def test_a_ball_rolled_from_rest_turns_about_the_axis_across_its_path() -> None:
    up = np.array([0.0, 0.0, 1.0])
    quarter = 0.11 * math.pi / 2
    np.testing.assert_allclose(rolled(quarter, 0.0, 0.11) @ up, [1.0, 0.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(rolled(0.0, quarter, 0.11) @ up, [0.0, 1.0, 0.0], atol=1e-12)
    turn = rolled(0.7, -1.3, 0.11)
    np.testing.assert_allclose(turn @ turn.T, np.eye(3), atol=1e-12)
    # Not rolled (at the pitch's corner), seen from the camera above the pitch: the ball's top
    # faces up the image (y < 0) and towards the camera (z > 0).
    clip = synthetic_match(seconds=0.04, patched_ball=True)
    top = clip._drawn_turn(clip._projection(0.0), 0.0, 0.0) @ up
    assert top[1] < 0 < top[2]


def test_a_patched_ball_changes_the_ball_only() -> None:
    shared: dict[str, object] = {"seconds": 0.2, "seed": 4, "ball_hidden_fraction": 0.0}
    plain = synthetic_match(**shared)  # type: ignore[arg-type]
    patched = synthetic_match(patched_ball=True, **shared)  # type: ignore[arg-type]
    assert list(plain.truth) == list(patched.truth)
    changed = balls = 0
    for index, truth in enumerate(plain.truth):
        balls += truth.ball is not None
        a, b = plain.frame(index), patched.frame(index)
        differs = np.argwhere(np.any(a != b, axis=2))
        changed += len(differs)
        if len(differs) and truth.ball is not None:
            # Only around the ball (its centre and radius in the truth).
            x, y = truth.ball.center
            reach = truth.ball.radius + 2.0  # the plain disc's antialiased rim
            assert np.abs(differs[:, 1] - x).max() <= reach
            assert np.abs(differs[:, 0] - y).max() <= reach
    assert balls >= 3 and changed > 0


def test_defaults_written_out_draw_the_classic_frame() -> None:
    classic = synthetic_match(seconds=0.04, seed=4).frame(0)
    spelled = synthetic_match(
        seconds=0.04, seed=4, camera_height=16.0, camera_distance=28.0, fov=40.0, kits=0,
        line_width=0.12, stripe_width=105 / 18, jpeg_quality=0, true_ball=False,
    ).frame(0)  # fmt: skip
    assert np.array_equal(classic, spelled)


@pytest.mark.parametrize(
    ("name", "value"), [("camera_height", 45.0), ("fov", 5.0), ("line_fade", 1.0), ("kits", -1)]
)
def test_variation_bounds_are_checked(name: str, value: float) -> None:
    with pytest.raises(SyntheticParamError) as err:
        synthetic_match(seconds=1, **{name: value})  # type: ignore[arg-type]
    assert err.value.param == name


@pytest.mark.parametrize("height", [10.0, 16.0, 30.0])
@pytest.mark.parametrize("fov", [25.0, 40.0, 60.0])
@pytest.mark.parametrize("size", [(320, 180), (1920, 1080), (640, 480)])
def test_the_horizon_stays_above_the_frame(
    height: float, fov: float, size: tuple[int, int]
) -> None:
    width, rows = size
    rig = camera_rig(width, rows, fov, height)
    proj = camera_projection(52.5, rig.focal, width, rows, rig)
    # The far end of the pitch's depth direction (its vanishing point) is the horizon.
    _, v, w = proj @ np.array([0.0, 1.0, 0.0, 0.0])
    assert w > 0 and v / w < 0
    across = 2 * math.degrees(math.atan(width / 2 / rig.focal))
    assert across <= fov + 1e-6  # narrowed only when the horizon forces it


@pytest.mark.parametrize("seed", range(8))
def test_random_kits_keep_the_teams_apart(seed: int) -> None:
    kits = random_kits(np.random.default_rng(seed), white_shorts=True, grass_kit=seed % 2 == 0)
    lab = cv2.cvtColor(np.array([[k.shirt for k in kits]], np.uint8), cv2.COLOR_BGR2LAB)[0]
    lab = lab.astype(np.float64)
    assert np.linalg.norm(lab[0] - lab[1]) > 60
    for i in range(5):
        for j in range(i + 1, 5):
            assert np.linalg.norm(lab[i] - lab[j]) > 45
    assert kits[1].shorts == kits[1].socks == (240, 240, 240)


@pytest.mark.parametrize(
    "knobs",
    [{}, {"kits": 2, "skin_tones": True, "white_shorts": True}, {"kits": 5, "fov": 25.0}],
    ids=["classic", "styled", "near"],
)
def test_truth_box_is_the_person_drawn(knobs: dict[str, object]) -> None:
    """The box definition the detector follows: from the top of the head to the soles, arms
    included, one pixel of tolerance for rounding."""
    clip = synthetic_match(seconds=0.2, seed=11, noise=0, **knobs)  # type: ignore[arg-type]
    checked = 0
    for index in (0, 4):
        frame, truth = clip.frame(index), clip.truth[index]
        person = cv2.bitwise_not(green_mask(cv2.cvtColor(frame, cv2.COLOR_BGR2HSV)))
        h, w = person.shape
        for k, p in enumerate(truth.players):
            x1, y1, x2, y2 = p.box
            pad = 3
            if x1 < pad or y1 < pad or x2 >= w - pad or y2 >= h - pad or y2 - y1 < 12:
                continue
            near = [
                q for j, q in enumerate(truth.players)
                if j != k and q.box[0] <= x2 + 2 * pad and q.box[2] >= x1 - 2 * pad
                and q.box[1] <= y2 + 2 * pad and q.box[3] >= y1 - 2 * pad
            ]  # fmt: skip
            window = person[y1 - pad : y2 + pad + 1, x1 - pad : x2 + pad + 1]
            ring = window.copy()
            ring[pad:-pad, pad:-pad] = 0
            if near or ring.any():  # someone else, a line or the ball touches it
                continue
            ys, xs = np.nonzero(window)
            drawn = (xs.min() - pad + x1, ys.min() - pad + y1, xs.max() - pad + x1,
                     ys.max() - pad + y1)  # fmt: skip
            assert np.allclose(drawn, p.box, atol=1), (drawn, p.box)
            checked += 1
    assert checked >= 3
