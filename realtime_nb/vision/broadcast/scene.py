"""Scene geometry of the broadcast renderer: pitch size, kits, clip knobs, camera, markings.

Pitch coordinates are metres: x along the 105 m length (0 = left goal line), y across the
68 m width (0 = near touchline, the camera's side), z up. Pixel centres sit at integer
coordinates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

__all__ = [
    "BGR",
    "DT",
    "FPS",
    "HAIRS",
    "KEEPER_KITS",
    "KITS",
    "PITCH_LENGTH",
    "PITCH_WIDTH",
    "REF_KITS",
    "SKINS",
    "Camera",
    "ClipConfig",
    "FloatArray",
    "Kit",
    "line_coverage",
    "marking_segments",
]

FloatArray = npt.NDArray[np.float64]
"""A float64 array (points, rays, ground coordinates)."""
BGR = tuple[int, int, int]
"""A colour, blue-green-red, 0-255."""
Kit = tuple[BGR, BGR, BGR]
"""Shirt, shorts and socks colours."""

PITCH_LENGTH = 105.0
"""Goal line to goal line, metres."""
PITCH_WIDTH = 68.0
"""Touchline to touchline, metres."""
FPS = 25.0
"""Frame rate of every clip."""
DT = 1.0 / FPS
"""Seconds between frames (the simulation's step)."""

L, W = PITCH_LENGTH, PITCH_WIDTH

KITS: dict[str, Kit] = {
    "red/white": ((40, 30, 200), (245, 245, 245), (40, 30, 200)),
    "blue": ((170, 70, 20), (170, 70, 20), (245, 245, 245)),
    "yellow/black": ((20, 220, 245), (25, 25, 25), (20, 220, 245)),
    "white/dkgreen": ((240, 240, 240), (40, 80, 20), (240, 240, 240)),
    "dkgreen": ((40, 90, 25), (240, 240, 240), (40, 90, 25)),
    "skyblue/white": ((230, 180, 110), (250, 250, 250), (230, 180, 110)),
    "black/white": ((30, 30, 30), (240, 240, 240), (30, 30, 30)),
    "orange": ((20, 120, 250), (250, 250, 250), (20, 120, 250)),
    "claret": ((60, 20, 120), (235, 235, 235), (200, 160, 90)),
    "white": ((240, 240, 240), (240, 240, 240), (240, 240, 240)),
}
"""Outfield kits by name (``ClipConfig.kits`` picks two)."""
KEEPER_KITS: list[Kit] = [
    ((60, 200, 60), (20, 20, 20), (60, 200, 60)),
    ((200, 40, 170), (200, 40, 170), (200, 40, 170)),
    ((30, 30, 30), (30, 30, 30), (30, 30, 30)),
    ((0, 140, 255), (0, 0, 0), (0, 140, 255)),
    ((130, 230, 170), (60, 60, 60), (130, 230, 170)),
]
"""Goalkeeper kits; each clip draws two different ones."""
REF_KITS: list[Kit] = [
    ((20, 20, 20), (20, 20, 20), (20, 20, 20)),
    ((40, 240, 230), (20, 20, 20), (20, 20, 20)),
    ((150, 60, 230), (20, 20, 20), (20, 20, 20)),
]
"""Referee kits."""
SKINS: list[BGR] = [(190, 210, 245), (140, 175, 225), (100, 140, 195), (60, 90, 140), (40, 60, 95)]
"""Skin tones, light to dark."""
HAIRS: list[BGR | None] = [(20, 20, 25), (30, 45, 70), (90, 170, 215), None]
"""Hair colours; None is a shaved head."""


@dataclass
class ClipConfig:
    """The knobs of one broadcast clip; a knob left None is drawn at random from ``seed``.

    Attributes:
        seed: Seed of everything random in the clip (look, play, per-frame noise).
        width: Frame width in pixels.
        height: Frame height in pixels.
        frames: Number of frames (at :data:`FPS`).
        kits: The two outfield kits, names from :data:`KITS`.
        cam_height: Camera height above the pitch, metres.
        cam_back: Camera distance behind the near touchline, metres.
        hfov: Horizontal field of view, degrees (before the slow zoom).
        noise: Standard deviation of the added pixel noise.
        blur: Gaussian blur sigma, pixels.
        jpeg: JPEG quality the frame is passed through (0: none).
        stripes: Mowing pattern: ``"x"``, ``"y"``, ``"diag"`` or ``"none"``.
        shadow: Whether a stand's roof shades the far part of the pitch.
        narrow: Diagnostic: arms close to the body and short strides.
        bright_ball: Diagnostic: a plain white ball without dark patches.
    """

    seed: int
    width: int = 640
    height: int = 360
    frames: int = 100
    kits: tuple[str, str] | None = None
    cam_height: float | None = None
    cam_back: float | None = None
    hfov: float | None = None
    noise: float | None = None
    blur: float | None = None
    jpeg: int | None = None
    stripes: str | None = None
    shadow: bool | None = None
    narrow: bool = False
    bright_ball: bool = False


@dataclass
class Camera:
    """A pinhole camera at ``pos`` looking at the ground point ``target``, horizon level.

    Attributes:
        pos: Camera centre in pitch coordinates.
        target: The point on the image centre.
        f: Focal length in pixels.
        width: Image width.
        height: Image height.
        R: World-to-camera rotation; rows are right, down and forward.
        K: Intrinsic matrix.
    """

    pos: FloatArray
    target: FloatArray
    f: float
    width: int
    height: int
    R: FloatArray = field(init=False)
    K: FloatArray = field(init=False)

    def __post_init__(self) -> None:
        fwd = self.target - self.pos
        fwd = fwd / np.linalg.norm(fwd)
        right = np.cross(fwd, [0.0, 0.0, 1.0])
        right /= np.linalg.norm(right)
        down = np.cross(fwd, right)
        self.R = np.stack([right, down, fwd])
        self.K = np.array([[self.f, 0, self.width / 2], [0, self.f, self.height / 2], [0, 0, 1.0]])

    def project(self, pts: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
        """(N, 3) world points to (N, 2) pixels and (N,) depths along the optical axis."""
        pc = (np.asarray(pts, float) - self.pos) @ self.R.T
        z = pc[:, 2]
        uv = pc[:, :2] / z[:, None] * self.f + [self.width / 2, self.height / 2]
        return uv, z

    def homography(self) -> FloatArray:
        """The ground (x, y, 1) to pixel homography, normalised so that ``H[2, 2] == 1``."""
        t = -self.R @ self.pos
        h = self.K @ np.column_stack([self.R[:, 0], self.R[:, 1], t])
        result: FloatArray = h / h[2, 2]
        return result

    def rays(self) -> FloatArray:
        """(H, W, 3) world directions of the rays through each pixel centre."""
        u, v = np.meshgrid(np.arange(self.width, dtype=np.float64), np.arange(self.height))
        d = np.stack(
            [(u - self.width / 2) / self.f, (v - self.height / 2) / self.f, np.ones_like(u)], -1
        )
        result: FloatArray = d @ self.R  # R^T d for row vectors
        return result


def marking_segments() -> list[tuple[float, float, float, float]]:
    """The straight pitch markings as ``(xa, ya, xb, yb)`` in metres: touchlines, goal lines,
    halfway line, penalty and goal areas."""
    s = [(0, 0, L, 0), (0, W, L, W), (0, 0, 0, W), (L, 0, L, W), (L / 2, 0, L / 2, W)]
    for x0, sg in ((0.0, 1), (L, -1)):
        for depth, half in ((16.5, 20.16), (5.5, 9.16)):
            xa = x0 + sg * depth
            s.append((xa, W / 2 - half, xa, W / 2 + half))
            s.append((x0, W / 2 - half, xa, W / 2 - half))
            s.append((x0, W / 2 + half, xa, W / 2 + half))
    return [(float(a), float(b), float(c), float(d)) for a, b, c, d in s]


def _cov1(d: FloatArray, half: float, fp: FloatArray) -> FloatArray:
    """Box-filter coverage of |t| <= half by a pixel of footprint fp centred at offset d."""
    lo = np.maximum(d - fp / 2, -half)
    hi = np.minimum(d + fp / 2, half)
    return np.clip((hi - lo) / fp, 0.0, 1.0)


def line_coverage(X: FloatArray, Y: FloatArray, J: FloatArray, lw: float) -> FloatArray:
    """Anti-aliased coverage (0-1) of the markings at ground points ``X``, ``Y``.

    Args:
        X: Ground x of each pixel, metres.
        Y: Ground y of each pixel, metres.
        J: (..., 2, 2) Jacobian d(X, Y)/d(u, v), giving each pixel's footprint on the ground.
        lw: Line width, metres.

    Returns:
        Coverage, the shape of ``X``.
    """
    fpx = np.abs(J[..., 0, 0]) + np.abs(J[..., 0, 1]) + 1e-6
    fpy = np.abs(J[..., 1, 0]) + np.abs(J[..., 1, 1]) + 1e-6
    cov = np.zeros_like(X)
    h = lw / 2
    for xa, ya, xb, yb in marking_segments():
        if ya == yb:  # along x
            c = _cov1(Y - ya, h, fpy) * _cov1(X - (xa + xb) / 2, abs(xb - xa) / 2 + h, fpx)
        else:
            c = _cov1(X - xa, h, fpx) * _cov1(Y - (ya + yb) / 2, abs(yb - ya) / 2 + h, fpy)
        np.maximum(cov, c, out=cov)
    r = 9.15
    arcs: tuple[tuple[float, float, float], ...] = (
        (L / 2, W / 2, 0),
        (11.0, W / 2, 1),
        (L - 11.0, W / 2, -1),
    )
    for cx, cy, side in arcs:
        dx, dy = X - cx, Y - cy
        rr = np.sqrt(dx * dx + dy * dy) + 1e-9
        fpr = (np.abs(dx) * fpx + np.abs(dy) * fpy) / rr
        c = _cov1(rr - r, h, fpr)
        # the penalty arcs only show outside the penalty area
        if side == 1:
            c = c * (X > 16.5)
        elif side == -1:
            c = c * (X < L - 16.5)
        np.maximum(cov, c, out=cov)
    for sx in (L / 2, 11.0, L - 11.0):  # spots of radius 0.11 m, as squares of equal area
        hs = 0.11 * math.sqrt(math.pi) / 2
        c = _cov1(X - sx, hs, fpx) * _cov1(Y - W / 2, hs, fpy)
        np.maximum(cov, c, out=cov)
    return cov
