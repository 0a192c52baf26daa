"""Tests of realtime_nb.vision.broadcast's renderer: its truth matches what it draws."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import pytest

from realtime_nb.core.frame import Frame
from realtime_nb.vision.broadcast import PITCH_LENGTH, PITCH_WIDTH, Clip, ClipConfig, draw_truth
from realtime_nb.vision.broadcast.pitch import draw_background
from realtime_nb.vision.broadcast.scene import Camera, marking_segments
from realtime_nb.vision.synthetic.truth import FrameTruth

# No noise, blur, JPEG, stripes or roof shadow, so that pixels can be told apart by colour.
PLAIN = ClipConfig(
    seed=3, width=320, height=180, frames=3, kits=("red/white", "blue"), hfov=25.0,
    noise=0.0, blur=0.0, jpeg=0, stripes="none", shadow=False,
)  # fmt: skip


@pytest.fixture(scope="module")
def rendered() -> list[tuple[Frame, FrameTruth]]:
    clip = Clip(PLAIN)
    return [clip.render(i) for i in range(len(clip))]


def _project(truth: FrameTruth, xy: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    h = np.asarray(truth.homography)
    p = np.column_stack([xy, np.ones(len(xy))]) @ h.T
    out: npt.NDArray[np.float64] = p[:, :2] / p[:, 2:]
    return out


def _gray(frame: Frame, uv: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    u, v = np.round(uv).astype(int).T
    out: npt.NDArray[np.float64] = frame[v, u].astype(float).mean(1)
    return out


def _in_frame(uv: npt.NDArray[np.float64]) -> npt.NDArray[np.bool_]:
    out: npt.NDArray[np.bool_] = (
        (uv[:, 0] >= 1) & (uv[:, 0] < 318) & (uv[:, 1] >= 1) & (uv[:, 1] < 178)
    )
    return out


def _grass(frame: Frame) -> npt.NDArray[np.float64]:
    """The grass colour: the median of the lower half, which is pitch."""
    out: npt.NDArray[np.float64] = np.median(frame[frame.shape[0] // 2 :].reshape(-1, 3), 0)
    return out


def test_the_truth_homography_puts_the_markings_on_the_drawn_lines(
    rendered: list[tuple[Frame, FrameTruth]],
) -> None:
    frame, truth = rendered[0]
    on, beside = [], []
    for xa, ya, xb, yb in marking_segments():
        t = np.linspace(0, 1, 200)[:, None]
        pts = np.array([xa, ya]) + t * np.array([xb - xa, yb - ya])
        normal = np.array([yb - ya, xa - xb]) / math.hypot(xb - xa, yb - ya)
        for offset, bucket in ((0.0, on), (1.5, beside), (-1.5, beside)):
            uv = _project(truth, pts + offset * normal)
            bucket.append(uv)
    on_uv, beside_uv = np.concatenate(on), np.concatenate(beside)
    on_uv, beside_uv = on_uv[_in_frame(on_uv)], beside_uv[_in_frame(beside_uv)]
    assert len(on_uv) > 50
    # thin far lines cover part of a pixel only, so compare medians, not single pixels
    assert np.median(_gray(frame, on_uv)) > np.median(_gray(frame, beside_uv)) + 25


def test_the_truth_corners_are_the_projected_pitch_corners(
    rendered: list[tuple[Frame, FrameTruth]],
) -> None:
    for _, truth in rendered:
        corners = np.array(
            [[0, 0], [PITCH_LENGTH, 0], [PITCH_LENGTH, PITCH_WIDTH], [0, PITCH_WIDTH]]
        )
        uv = _project(truth, corners)
        seen = [(float(u), float(v)) for u, v in uv if 0 <= u < 320 and 0 <= v < 180]
        assert np.allclose(
            np.array(truth.pitch_corners).reshape(-1, 2), np.array(seen).reshape(-1, 2)
        )


def test_a_person_box_holds_the_drawn_person_and_grass_around_it(
    rendered: list[tuple[Frame, FrameTruth]],
) -> None:
    frame, truth = rendered[0]
    grass = _grass(frame)
    not_grass = np.abs(frame.astype(float) - grass).sum(-1) > 60
    ring_grass, ring_total, checked = 0, 0, 0
    for person in truth.players:
        x0, y0, x1, y1 = person.box
        if x0 < 3 or y0 < 3 or x1 > 316 or y1 > 176:
            continue
        checked += 1
        inside = not_grass[y0 : y1 + 1, x0 : x1 + 1]
        assert inside.mean() > 0.2, person
        outer = not_grass[y0 - 2 : y1 + 3, x0 - 2 : x1 + 3].copy()
        outer[2:-2, 2:-2] = False
        ring = np.ones_like(outer)
        ring[2:-2, 2:-2] = False
        ring_total += int(ring.sum())
        ring_grass += int(ring.sum() - outer.sum())
    assert checked >= 5
    # lines and neighbours touch some margins; most of the margin is grass
    assert ring_grass / ring_total > 0.8


def test_a_visible_ball_is_bright_at_its_centre(rendered: list[tuple[Frame, FrameTruth]]) -> None:
    balls = [(frame, truth.ball) for frame, truth in rendered if truth.ball is not None]
    assert balls
    for frame, ball in balls:
        u, v = (round(c) for c in ball.center)
        centre = frame[v - 1 : v + 2, u - 1 : u + 2].astype(float).mean(-1).max()
        assert centre > _grass(frame).mean() + 60


def test_the_same_config_renders_the_same_frames() -> None:
    cfg = ClipConfig(seed=8, width=160, height=90, frames=2)
    first, second = Clip(cfg), Clip(cfg)
    for i in range(2):
        (fa, ta), (fb, tb) = first.render(i), second.render(i)
        assert np.array_equal(fa, fb)
        assert ta == tb
    assert not np.array_equal(
        first.render(0)[0], Clip(ClipConfig(seed=9, width=160, height=90, frames=2)).render(0)[0]
    )


def test_draw_truth_marks_the_frame(rendered: list[tuple[Frame, FrameTruth]]) -> None:
    frame, truth = rendered[0]
    marked = draw_truth(frame, truth)
    assert marked.shape == frame.shape
    assert not np.array_equal(marked, frame)
    assert np.array_equal(rendered[0][0], frame)


def test_a_ray_that_hits_nothing_is_sky_not_ground() -> None:
    # A camera 20 m up looking far along the pitch: the frame's top rows look over the stand
    # (30 m at most) at nothing. They are the sky's colour, every pixel finite; the ground,
    # argmin's first choice, once took them at an infinite distance and gave NaN.
    clip = Clip(ClipConfig(seed=8, width=160, height=90, frames=1))
    camera = Camera(np.array([52.0, -30.0, 20.0]), np.array([61.3, 150.0, 0.0]), 120.0, 160, 90)
    image = draw_background(camera, clip.look, clip.stadium)
    assert np.isfinite(image).all()
    assert np.array_equal(image[0, 0], np.array([70, 60, 55], np.float32))
    assert np.array_equal(image[0, -1], np.array([70, 60, 55], np.float32))
