"""Tests of realtime_nb.vision.plugins.pitch_camera: the camera behind a homography, how far a
homography is from any camera, and fitting a camera that turns and zooms to line pixels."""

from __future__ import annotations

import math

import numpy as np
import pytest

from realtime_nb.vision.plugins.pitch_camera import Camera, camera_distortion, fit_camera
from realtime_nb.vision.plugins.pitch_model import model_features, model_samples, project

FEATURES = model_features()

CAMERAS = [
    ((52.5, -28.0, 16.0), (40.0, 30.0), 880.0),  # the classic broadcast view
    ((52.5, -12.0, 10.0), (70.0, 40.0), 1450.0),  # near and low, narrow
    ((30.0, -40.0, 30.0), (52.5, 34.0), 560.0),  # far and high, wide
]


@pytest.mark.parametrize(("centre", "target", "focal"), CAMERAS)
def test_a_camera_comes_back_from_its_homography(
    centre: tuple[float, float, float], target: tuple[float, float], focal: float
) -> None:
    cam = Camera.looking_at(centre, target, focal, 640, 360)
    h = cam.homography()
    for sign in (1.0, -1.0):  # a homography's sign is arbitrary
        again = Camera.from_homography(sign * h, 640, 360)
        assert again is not None
        assert np.allclose(again.centre, centre, atol=1e-6)
        assert again.focal == pytest.approx(focal)
        assert np.allclose(again.rotation, cam.rotation, atol=1e-9)
    assert camera_distortion(h, 640, 360) < 1e-9


def test_a_homography_no_camera_makes_is_told() -> None:
    cam = Camera.looking_at((52.5, -28.0, 16.0), (40.0, 30.0), 880.0, 640, 360)
    h = cam.homography()
    centred = np.array([[1.0, 0.0, 320.0], [0.0, 1.0, 180.0], [0.0, 0.0, 1.0]])
    shear = centred @ np.array([[1.0, 0.3, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    off_centre = centred @ np.array([[1.0, 0.0, 60.0], [0.0, 1.0, -40.0], [0.0, 0.0, 1.0]])
    # (Stretching a level camera's image along x or y makes another camera's, so it passes.)
    for warp in (shear, off_centre):
        assert camera_distortion(warp @ np.linalg.inv(centred) @ h, 640, 360) > 0.05


def line_pixels(cam: Camera) -> np.ndarray:
    """Image points along every marking in view (arcs on their circles), as a line mask
    would give them."""
    samples, _ = model_samples(0.25)
    image = project(cam.homography(), samples)
    ok = np.isfinite(image).all(axis=1)
    ok &= (image[:, 0] >= 0) & (image[:, 0] < 640) & (image[:, 1] >= 0) & (image[:, 1] < 360)
    return image[ok]


@pytest.mark.parametrize("move", [False, True])
def test_fit_camera_follows_a_turn_and_a_zoom(move: bool) -> None:
    """From last frame's camera, a fit to this frame's line pixels finds the camera turned by
    a degree and zoomed by 3 % (and, with ``move``, stepped 30 cm aside)."""
    truth = Camera.looking_at((52.5, -20.0, 12.0), (60.0, 30.0), 1100.0, 640, 360)
    pixels = line_pixels(truth)
    start = truth.turned(np.array([0.0, math.radians(1.0), 0.0, -0.03]))
    if move:
        start = start.moved(truth.centre + np.array([0.3, 0.0, 0.0]))
    fitted, paired = fit_camera(start, pixels, FEATURES, (12.0, 8.0, 5.0, 3.0), move=move, steps=3)
    assert paired > 100
    corners = np.array([[0.0, 0.0], [639.0, 0.0], [639.0, 359.0], [0.0, 359.0]])
    on_pitch = project(np.linalg.inv(truth.homography()), corners)
    errors = np.linalg.norm(project(fitted.homography(), on_pitch) - corners, axis=1)
    assert errors.max() < 0.5  # pixels, at the frame's corners


def test_moving_keeps_the_view_at_the_centre_of_the_image() -> None:
    cam = Camera.looking_at((52.5, -20.0, 12.0), (60.0, 30.0), 1100.0, 640, 360)
    moved = cam.moved_keeping_view(np.array([52.5, -24.0, 13.0]))
    centre_point = np.linalg.inv(cam.homography()) @ (320.0, 180.0, 1.0)
    target = centre_point[:2] / centre_point[2]
    assert project(moved.homography(), target[None])[0] == pytest.approx((320.0, 180.0))
    assert moved.focal > cam.focal  # further away, zoomed in
