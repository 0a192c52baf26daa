"""The camera behind a pitch homography: a pinhole with square pixels, its principal point at
the image centre, standing somewhere off the pitch and turning (pan, tilt, zoom) to follow play.

A pitch-to-image homography of such a camera is ``K [r1 r2 t]``: its first two columns, once
the principal point is moved to the origin, are two orthogonal directions of equal length
scaled by the focal length. A homography fitted to the wrong markings rarely is, so how far it
is from that tells a wrong fit from a right one; and a broadcast camera does not move between
frames, only turns and zooms, so tracking from frame to frame fits three or four numbers
(focal length and rotation) instead of eight. Pure geometry: arrays in, arrays out.

Example:
    >>> import numpy as np
    >>> cam = Camera.looking_at((52.5, -20.0, 12.0), (40.0, 30.0), 900.0, 640, 360)
    >>> again = Camera.from_homography(cam.homography(), 640, 360)
    >>> np.round(again.centre, 3).tolist(), round(again.focal, 3)
    ([52.5, -20.0, 12.0], 900.0)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from realtime_nb.vision.plugins.pitch_model import ModelFeatures, pair_markings

__all__ = ["Camera", "camera_distortion", "camera_distortions", "fit_camera"]

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Camera:
    """A pinhole camera over the pitch plane (z = 0, z up), in pitch metres.

    Attributes:
        focal: Focal length in pixels.
        rotation: ``(3, 3)`` world-to-camera rotation (camera x right, y down, z forward).
        centre: ``(3,)`` where the camera is.
        width: Image width (the principal point is the image centre).
        height: Image height.
    """

    focal: float
    rotation: FloatArray
    centre: FloatArray
    width: int
    height: int

    @classmethod
    def looking_at(
        cls,
        centre: tuple[float, float, float],
        target: tuple[float, float],
        focal: float,
        width: int,
        height: int,
    ) -> Camera:
        """A camera at ``centre`` looking at pitch point ``target``, level (no roll)."""
        c = np.asarray(centre, np.float64)
        forward = np.array([target[0], target[1], 0.0]) - c
        forward /= np.linalg.norm(forward)
        right = np.cross(forward, [0.0, 0.0, 1.0])
        right /= np.linalg.norm(right)
        down = np.cross(forward, right)
        return cls(focal, np.stack([right, down, forward]), c, width, height)

    @classmethod
    def from_homography(cls, h: FloatArray, width: int, height: int) -> Camera | None:
        """The camera that best explains a pitch-to-image homography, or None when no camera
        with a positive focal length does (see :func:`camera_distortion` for how well it does).
        """
        a = _centred(h, width, height)
        inv_f2 = float(_inverse_focal_squared(a[None])[0])
        if inv_f2 <= 0:
            return None
        focal = 1 / math.sqrt(inv_f2)
        m = np.diag([1 / focal, 1 / focal, 1.0]) @ a
        scale = math.sqrt(np.linalg.norm(m[:, 0]) * np.linalg.norm(m[:, 1]))
        m /= scale
        r1, r2 = _orthonormal(m[:, 0], m[:, 1])
        rotation = np.column_stack([r1, r2, np.cross(r1, r2)])
        centre = -rotation.T @ m[:, 2]
        if centre[2] < 0:  # the same homography from below the pitch: take the camera above
            rotation = np.column_stack([-r1, -r2, np.cross(r1, r2)])
            centre = -rotation.T @ -m[:, 2]
        return cls(focal, rotation, centre, width, height)

    def homography(self) -> FloatArray:
        """The pitch-to-image homography of this camera (unit norm)."""
        k = np.array(
            [[self.focal, 0, self.width / 2], [0, self.focal, self.height / 2], [0, 0, 1.0]]
        )
        r = self.rotation
        h: FloatArray = k @ np.column_stack([r[:, 0], r[:, 1], -r @ self.centre])
        return h / np.linalg.norm(h)

    def turned(self, params: FloatArray) -> Camera:
        """This camera turned by the rotation vector ``params[:3]`` (camera axes) and zoomed
        by ``exp(params[3])``: what a camera on a fixed head can do between frames."""
        turn, _ = cv2.Rodrigues(np.asarray(params[:3], np.float64).reshape(3, 1))
        return Camera(
            self.focal * math.exp(float(params[3])),
            np.asarray(turn, np.float64) @ self.rotation,
            self.centre,
            self.width,
            self.height,
        )

    def moved(self, centre: FloatArray) -> Camera:
        """This camera, looking the same way, from ``centre``."""
        return Camera(self.focal, self.rotation, np.asarray(centre, np.float64), self.width,
                      self.height)  # fmt: skip

    def moved_keeping_view(self, centre: FloatArray) -> Camera:
        """A level camera at ``centre`` looking at the pitch point this one looks at, zoomed
        so that the view there keeps its scale: about the same image of the pitch, from
        another place (a dolly and zoom). Just :meth:`moved` when this camera looks above the
        horizon."""
        forward = self.rotation[2]
        if forward[2] >= -1e-6:
            return self.moved(centre)
        target = self.centre - self.centre[2] / forward[2] * forward
        new_centre = np.asarray(centre, np.float64)
        far = float(np.linalg.norm(target - new_centre))
        focal = self.focal * far / float(np.linalg.norm(target - self.centre))
        return Camera.looking_at(
            (float(new_centre[0]), float(new_centre[1]), float(new_centre[2])),
            (float(target[0]), float(target[1])),
            focal,
            self.width,
            self.height,
        )


def camera_distortion(h: FloatArray, width: int, height: int) -> float:
    """How far a homography is from any pinhole camera with square pixels and its principal
    point at the image centre: ``|cos|`` of the angle between the two pitch axes' rotated
    directions plus their relative difference in length, at the focal length that fits best.
    0 for a true camera; ``inf`` when no positive focal length fits.

    Example:
        >>> cam = Camera.looking_at((52.5, -20.0, 12.0), (40.0, 30.0), 900.0, 640, 360)
        >>> camera_distortion(cam.homography(), 640, 360) < 1e-9
        True
    """
    return float(camera_distortions(np.asarray(h, np.float64)[None], width, height)[0])


def camera_distortions(hs: FloatArray, width: int, height: int) -> FloatArray:
    """:func:`camera_distortion` of many homographies ``(n, 3, 3)`` at once."""
    shift = np.array([[1.0, 0, -width / 2], [0, 1.0, -height / 2], [0, 0, 1.0]])
    a = shift @ np.asarray(hs, np.float64)
    a = a / np.linalg.norm(a, axis=(1, 2))[:, None, None]
    inv_f2 = _inverse_focal_squared(a)
    ok = inv_f2 > 0
    k_inv = np.sqrt(np.where(ok, inv_f2, 1.0))
    r1, r2 = a[:, :, 0].copy(), a[:, :, 1].copy()
    r1[:, :2] *= k_inv[:, None]
    r2[:, :2] *= k_inv[:, None]
    n1, n2 = np.linalg.norm(r1, axis=1), np.linalg.norm(r2, axis=1)
    cos = np.abs(np.einsum("ij,ij->i", r1, r2)) / (n1 * n2)
    out: FloatArray = np.where(ok, cos + np.abs(n1 - n2) / np.maximum(n1, n2), np.inf)
    return out


def _inverse_focal_squared(a: FloatArray) -> FloatArray:
    """``1 / f**2`` that best makes each centred homography ``a[i]``'s first two columns,
    through ``inv(K)``, orthogonal and of equal length (least squares over the two
    conditions); zero or less when no focal length does."""
    a1, a2 = a[:, :, 0], a[:, :, 1]
    c1 = a1[:, 0] * a2[:, 0] + a1[:, 1] * a2[:, 1]
    c2 = a1[:, 0] ** 2 + a1[:, 1] ** 2 - a2[:, 0] ** 2 - a2[:, 1] ** 2
    r1, r2 = -a1[:, 2] * a2[:, 2], -(a1[:, 2] ** 2 - a2[:, 2] ** 2)
    denom = c1 * c1 + c2 * c2
    out: FloatArray = np.where(denom > 0, (c1 * r1 + c2 * r2) / np.maximum(denom, 1e-300), -1.0)
    return out


def _centred(h: FloatArray, width: int, height: int) -> FloatArray:
    """``h`` with the principal point moved to the origin, scaled to unit norm."""
    shift = np.array([[1.0, 0, -width / 2], [0, 1.0, -height / 2], [0, 0, 1.0]])
    a: FloatArray = shift @ np.asarray(h, np.float64)
    return a / np.linalg.norm(a)


def _orthonormal(u: FloatArray, v: FloatArray) -> tuple[FloatArray, FloatArray]:
    """The orthonormal pair nearest to ``(u, v)`` (the symmetric split of their angle)."""
    u, v = u / np.linalg.norm(u), v / np.linalg.norm(v)
    a, b = u + v, u - v
    a /= np.linalg.norm(a)
    b /= np.linalg.norm(b)
    s = math.sqrt(0.5)
    return s * (a + b), s * (a - b)


def fit_camera(
    cam: Camera,
    pixels: FloatArray,
    features: ModelFeatures,
    radii: tuple[float, ...],
    *,
    move: bool = False,
    steps: int = 2,
) -> tuple[Camera, int]:
    """Fit a camera to line pixels: at each pairing radius (px), pair the pixels with the
    markings the camera projects near them and take ``steps`` Gauss-Newton steps on the
    pixels' distances to their markings' image lines (Huber-weighted). The camera only turns
    and zooms, unless ``move`` lets its centre move too.

    Returns:
        ``(fitted camera, pixels paired at the last radius)``; the camera unchanged when too
        few pixels pair.
    """
    paired_count = 0
    for radius in radii:
        paired = pair_markings(cam.homography(), pixels, features, radius)
        if paired is None:
            return cam, 0
        pts, _, lines = paired
        paired_count = len(pts)
        for _ in range(steps):
            cam = _gauss_newton_step(cam, pts, lines, move, max(1.0, radius / 3))
    return cam, paired_count


def _vary(cam: Camera, params: FloatArray) -> Camera:
    turned = cam.turned(params[:4])
    return turned.moved(cam.centre + params[4:]) if len(params) > 4 else turned


def _distances(cam: Camera, pts: FloatArray, lines: FloatArray) -> FloatArray:
    """Signed pixel distances of ``pts`` to the image lines of pitch ``lines`` (one each)."""
    try:
        h_inv = np.linalg.inv(cam.homography())
    except np.linalg.LinAlgError:
        return np.full(len(pts), np.inf)
    image_lines = lines @ h_inv
    norm = np.maximum(np.hypot(image_lines[:, 0], image_lines[:, 1]), 1e-12)
    out: FloatArray = (np.einsum("ij,ij->i", pts, image_lines[:, :2]) + image_lines[:, 2]) / norm
    return out


def _gauss_newton_step(
    cam: Camera, pts: FloatArray, lines: FloatArray, move: bool, huber: float
) -> Camera:
    n_params = 7 if move else 4
    base = _distances(cam, pts, lines)
    if not np.isfinite(base).all():
        return cam
    eps = 1e-5
    jac = np.empty((len(pts), n_params))
    for k in range(n_params):
        step = np.zeros(n_params)
        step[k] = eps if k < 4 else 1e-3
        jac[:, k] = (_distances(_vary(cam, step), pts, lines) - base) / step[k]
    weight = np.minimum(1.0, huber / np.maximum(np.abs(base), 1e-12))
    jw = jac * weight[:, None]
    normal = jw.T @ jac
    normal += 1e-6 * np.trace(normal) * np.eye(n_params)
    try:
        delta = np.asarray(-np.linalg.solve(normal, jw.T @ base), np.float64)
    except np.linalg.LinAlgError:
        return cam
    return _vary(cam, delta)
