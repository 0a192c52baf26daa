"""Tests of realtime_nb.vision.plugins.pitch_model: the pitch's markings, points and lines, homography
fits and the ICP refit, on made-up inputs with known answers."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from realtime_nb.vision.plugins.pitch_model import (
    ACROSS_X,
    ALONG_Y,
    OFF_PITCH_M,
    batch_homographies,
    beyond_pitch,
    clip_pieces,
    clip_pieces_where,
    homography_from_points,
    intersect,
    line_through,
    model_features,
    model_intersections,
    model_samples,
    orient,
    project,
    project_pieces,
    refit,
)


def pinhole(centre: tuple[float, float, float], target: tuple[float, float]) -> np.ndarray:
    """Pitch-to-image homography (640x360, focal 900 px) of a camera at ``centre`` looking at
    ``target`` on the ground."""
    c = np.array(centre)
    forward = np.array([*target, 0.0]) - c
    forward /= np.linalg.norm(forward)
    right = np.cross(forward, [0.0, 0.0, 1.0])
    right /= np.linalg.norm(right)
    down = np.cross(forward, right)
    rotation = np.stack([right, down, forward])
    k = np.array([[900.0, 0, 320], [0, 900, 180], [0, 0, 1]])
    p = k @ np.column_stack([rotation, -rotation @ c])
    h = p[:, [0, 1, 3]]
    return h / h[2, 2]


# A camera behind the near touchline looking at the left penalty area and the centre circle.
BROADCAST = pinhole((40.0, -30.0, 18.0), (35.0, 34.0))


def test_model_markings() -> None:
    assert ALONG_Y == (0.0, 13.84, 24.84, 43.16, 54.16, 68.0)
    assert ACROSS_X == (0.0, 5.5, 16.5, 52.5, 88.5, 99.5, 105.0)
    junctions = {tuple(p) for p in model_intersections().tolist()}
    corners = {(0.0, 0.0), (105.0, 0.0), (0.0, 68.0), (105.0, 68.0)}
    assert corners <= junctions
    assert {(52.5, 0.0), (52.5, 68.0), (16.5, 13.84), (99.5, 43.16)} <= junctions
    assert (52.5, 13.84) not in junctions  # the halfway line meets no penalty-area side
    assert len(junctions) == 4 + 2 + 8 + 8  # corners, halfway, 4 per box, 4 per goal area


def test_model_features_and_samples_lie_on_markings() -> None:
    features = model_features()
    straight = ~np.isnan(features.lines[:, 0])
    for (p, q), line in zip(features.ends[straight], features.lines[straight], strict=True):
        assert line[:2] @ p + line[2] == pytest.approx(0) and line[:2] @ q + line[2] == 0
    for (p, q), (cx, cy, r) in zip(
        features.ends[~straight], features.circles[~straight], strict=True
    ):
        assert math.dist(p, (cx, cy)) == pytest.approx(r)
        assert math.dist(q, (cx, cy)) == pytest.approx(r)
    points, chained = model_samples(1.0)
    assert len(points) == len(chained) and 600 < len(points) < 900
    steps = np.linalg.norm(np.diff(points, axis=0), axis=1)[chained[:-1]]
    assert steps.max() <= 1.05  # consecutive points of one marking are ~1 m apart


@pytest.mark.parametrize(
    ("p", "q", "r", "s", "meet"),
    [
        ((0, 0), (10, 0), (5, -5), (5, 5), (5.0, 0.0)),
        ((0, 0), (1, 1), (0, 2), (2, 0), (1.0, 1.0)),
        ((0, 0), (10, 0), (0, 3), (10, 3), None),  # parallel
    ],
)
def test_lines_and_intersections(
    p: tuple[float, float],
    q: tuple[float, float],
    r: tuple[float, float],
    s: tuple[float, float],
    meet: tuple[float, float] | None,
) -> None:
    a, b = line_through(p, q), line_through(r, s)
    assert math.hypot(a[0], a[1]) == pytest.approx(1.0)
    assert a @ (*p, 1) == pytest.approx(0) and a @ (*q, 1) == pytest.approx(0)
    found = intersect(a, b)
    if meet is None:
        assert found is None
    else:
        assert found is not None and found == pytest.approx(meet)


def test_line_through_one_point_twice_fails() -> None:
    with pytest.raises(ValueError):
        line_through((1, 1), (1, 1))


def test_project_marks_points_behind_the_camera() -> None:
    h = np.array([[1.0, 0, 0], [0, 1, 0], [0, -0.01, 1]])  # w <= 0 from y = 100 on
    out = project(h, np.array([[0.0, 0.0], [0.0, 150.0]]))
    assert out[0].tolist() == [0.0, 0.0] and np.isnan(out[1]).all()


def test_homography_from_known_correspondences() -> None:
    pitch = np.array([[0, 0], [105, 0], [105, 68], [0, 68], [52.5, 34], [16.5, 13.84]])
    image = project(BROADCAST, pitch)
    found = homography_from_points(pitch, image)
    assert found is not None
    assert unit(found) == pytest.approx(unit(BROADCAST), rel=1e-6, abs=1e-9)
    rng = np.random.default_rng(1)
    noisy = homography_from_points(pitch, image + rng.normal(0, 0.3, image.shape))
    assert noisy is not None
    grid = np.array([[x, y] for x in range(0, 106, 15) for y in range(0, 69, 17)], float)
    assert np.abs(project(noisy, grid) - project(BROADCAST, grid)).max() < 3


def unit(h: np.ndarray) -> np.ndarray:
    """A homography scaled to unit norm with h[2, 2] > 0, to compare two up to scale."""
    out: np.ndarray = h / np.linalg.norm(h) * np.sign(h[2, 2])
    return out


def test_fitted_homographies_put_what_they_fit_in_front_of_the_camera() -> None:
    """A camera that sees the far corner but has the near one (0, 0) behind it: the fit must
    give w > 0 at the points it was fitted on, whatever the sign of h[2, 2]."""
    h = pinhole((52.5, -28.0, 16.0), (100.0, 30.0))
    seen = np.array([[105, 68], [88.5, 54.16], [88.5, 13.84], [105, 0], [94, 34]], float)
    assert (seen @ h[2, :2] + h[2, 2] > 0).all() != (h[2, 2] > 0)  # (0, 0) is behind
    mapped = np.column_stack([seen, np.ones(len(seen))]) @ h.T
    image = mapped[:, :2] / mapped[:, 2:]  # by hand: project() would call these behind
    for found in (
        homography_from_points(seen, image),
        orient(-h, seen),
        batch_homographies(seen[None, :4], image[None, :4])[0],
    ):
        assert found is not None
        assert (seen @ found[2, :2] + found[2, 2] > 0).all()
        assert np.linalg.norm(found) == pytest.approx(1.0)
        assert np.isnan(project(found, np.array([[0.0, 0.0]]))).all()


def test_pieces_behind_the_camera_are_cut_not_dropped() -> None:
    h = pinhole((52.5, -28.0, 16.0), (100.0, 30.0))
    h = orient(h, np.array([[105.0, 68.0]]))
    touchline = np.array([[[0.0, 0.0], [105.0, 0.0]], [[-50.0, 0.0], [-10.0, 0.0]]])
    ends = project_pieces(h, touchline)
    assert np.isfinite(ends[0]).all() and np.isnan(ends[1]).all()
    assert ends[0, 1] == pytest.approx(project(h, np.array([[105.0, 0.0]]))[0])


def test_homography_from_degenerate_points_is_none() -> None:
    on_a_line = np.array([[0, 0], [10, 0], [20, 0], [30, 0]], float)
    assert homography_from_points(on_a_line, on_a_line * 2) is None
    assert homography_from_points(on_a_line[:3], on_a_line[:3]) is None


def test_batch_homographies_match_one_at_a_time() -> None:
    quads = np.array(
        [
            [[0, 0], [105, 0], [0, 68], [105, 68]],
            [[16.5, 13.84], [52.5, 13.84], [16.5, 68], [52.5, 68]],
            [[0, 0], [10, 0], [20, 0], [30, 0]],  # degenerate: left out
        ],
        float,
    )
    images = np.array([project(BROADCAST, q) for q in quads])
    hs = batch_homographies(quads, images)
    assert len(hs) == 2
    for h in hs:
        assert unit(h) == pytest.approx(unit(BROADCAST), rel=1e-6, abs=1e-9)


def pixels_of_markings(h: np.ndarray, step: float = 0.5) -> np.ndarray:
    points, _ = model_samples(step)
    pix = project(h, points)
    keep = np.isfinite(pix).all(axis=1)
    keep &= (pix[:, 0] >= 0) & (pix[:, 0] < 640) & (pix[:, 1] >= 0) & (pix[:, 1] < 360)
    return pix[keep]


@settings(max_examples=25, deadline=None)
@given(
    dx=st.floats(-4, 4),
    dy=st.floats(-3, 3),
    zoom=st.floats(0.97, 1.03),
)
def test_refit_recovers_a_perturbed_homography(dx: float, dy: float, zoom: float) -> None:
    """From a start a few pixels off, ICP on the markings' pixels returns to the truth."""
    pixels = pixels_of_markings(BROADCAST)
    shift = np.array(
        [[zoom, 0, dx + (1 - zoom) * 320], [0, zoom, dy + (1 - zoom) * 180], [0, 0, 1]]
    )
    h = shift @ BROADCAST
    features = model_features()
    for radius in (10.0, 6.0, 3.0, 2.0):
        h, paired = refit(h, pixels, features, radius)
        assert paired > 100
    grid = np.array([[x, y] for x in range(0, 106, 5) for y in range(0, 69, 4)], float)
    truth = project(BROADCAST, grid)
    seen = (truth[:, 0] >= 0) & (truth[:, 0] < 640) & (truth[:, 1] >= 0) & (truth[:, 1] < 360)
    assert np.abs(project(h, grid[seen]) - truth[seen]).max() < 0.5


def test_refit_keeps_the_homography_without_pixels() -> None:
    h, paired = refit(BROADCAST, np.zeros((0, 2)), model_features(), 5.0)
    assert paired == 0 and h is BROADCAST


@pytest.mark.parametrize(
    ("piece", "expected"),
    [
        ([[5, 5], [15, 15]], [[5, 5], [15, 15]]),  # inside: unchanged
        ([[-10, 5], [30, 25]], [[0, 10], [20, 20]]),  # through: cut, direction kept
        ([[5, -50], [5, 50]], [[5, 0], [5, 20]]),  # vertical through
        ([[-10, 5], [-3, 25]], None),  # wholly outside
        ([[25, -5], [25, 40]], None),  # parallel to a side, outside it
        ([[math.nan, 1], [2, 3]], None),  # behind the camera
    ],
)
def test_clip_pieces(piece: list[list[float]], expected: list[list[float]] | None) -> None:
    out = clip_pieces(np.array([piece], np.float64), 20, 20)[0]
    if expected is None:
        assert np.isnan(out).all()
    else:
        np.testing.assert_allclose(out, expected, atol=1e-9)
        d_in, d_out = np.subtract(*piece[::-1]), out[1] - out[0]
        assert abs(d_in[0] * d_out[1] - d_in[1] * d_out[0]) < 1e-6  # not bent


def test_clip_pieces_where_tells_the_pieces_inside_without_a_warning() -> None:
    pieces = np.array(
        [
            [[5, 5], [15, 15]],
            [[math.inf, 5], [math.inf, 6]],  # infinite: no arithmetic on it may warn
            [[math.nan, 1], [2, 3]],
            [[-10, 5], [-3, 25]],
            [[5, 5], [5, 5]],  # a point inside
        ],
        np.float64,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out, inside = clip_pieces_where(pieces, 20, 20)
    assert inside.tolist() == [True, False, False, False, True]
    np.testing.assert_allclose(out[inside], pieces[inside])
    assert np.isnan(clip_pieces(pieces, 20, 20)[~inside]).all()


def test_beyond_pitch_is_past_the_margin_around_the_lines() -> None:
    points = np.array(
        [[52.5, 34.0], [-2.9, 34.0], [-3.1, 34.0], [105.0 + 3.1, 10.0], [50.0, -3.5],
         [50.0, 68.0 + 2.0], [50.0, 68.0 + 6.0], [np.nan, 5.0]]
    )  # fmt: skip
    assert beyond_pitch(points).tolist() == [False, False, True, True, True, False, True, False]
    assert beyond_pitch(points, margin=0.0)[[1, 5]].tolist() == [True, True]
    assert OFF_PITCH_M == 3.0
