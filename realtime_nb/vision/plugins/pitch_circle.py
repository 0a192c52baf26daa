"""Pitch registration from the centre circle: its ellipse in the image, and the homographies
it gives with the halfway line and the far touchline, or with the far touchline alone.

Example:
    >>> conic = _conic(320.0, 200.0, 90.0, 30.0, 0.0)
    >>> [p.round(1).tolist() for p in _cut(conic, np.array([1.0, 0.0, -320.0]))]
    [[320.0, 170.0], [320.0, 230.0]]
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from realtime_nb.vision.plugins.grass import kernel
from realtime_nb.vision.plugins.pitch_camera import camera_distortion
from realtime_nb.vision.plugins.pitch_evidence import LineEvidence
from realtime_nb.vision.plugins.pitch_lines import ImageLine
from realtime_nb.vision.plugins.pitch_model import intersect, line_through, orient

__all__ = ["circle_hypotheses"]


def circle_hypotheses(
    img: LineEvidence, lines: list[ImageLine], along: list[int], across: list[int]
) -> list[npt.NDArray[np.float64]]:
    """Homographies from the centre circle, the halfway line through it and the far touchline:
    the halfway line cuts the circle at y = 34 -+ 9.15 and meets the touchline at y = 68, which
    fixes where the circle's centre is on it (a cross-ratio); the pole of the halfway line with
    respect to the circle's ellipse is the vanishing point of the along lines, so the line from
    there through the centre is y = 34, cutting the circle at x = 52.5 -+ 9.15. With the
    circle and only one of those lines, the homographies of real cameras among the one-way
    family they leave (:func:`_circle_touchline_homographies`,
    :func:`_circle_halfway_homographies`)."""
    if not along or not across:
        return []
    ellipses = _ellipses(img, lines)
    far = min(along, key=lambda k: lines[k].midpoint[1])
    out = []
    for conic in ellipses:
        for k in across:
            h = _circle_homography(conic, lines[k].line, lines[far].line)
            if h is not None:
                out.append(h)
            out += _circle_halfway_homographies(conic, lines[k].line, img)
        out += _circle_touchline_homographies(conic, lines[far].line, img)
    return out


def _least_distorted(
    family: Callable[[float], npt.NDArray[np.float64] | None],
    ts: npt.NDArray[np.float64],
    img: LineEvidence,
) -> list[npt.NDArray[np.float64]]:
    """Of a one-way family of homographies, those at local minima of
    :func:`camera_distortion` below 0.2 (the members a real camera could make): sampled at
    ``ts``, each minimum below 0.5 narrowed down twice between its neighbours."""

    def sample(t: float) -> tuple[float, npt.NDArray[np.float64] | None]:
        h = family(t)
        return (math.inf, None) if h is None else (camera_distortion(h, img.w, img.h), h)

    scores = [sample(float(t))[0] for t in ts]
    out = []
    for k in range(1, len(ts) - 1):
        if not scores[k] <= min(scores[k - 1], scores[k + 1]) or not scores[k] < 0.5:
            continue
        lo, hi = float(ts[k - 1]), float(ts[k + 1])
        for _ in range(2):
            fine = [(t, sample(t)) for t in np.linspace(lo, hi, 5)]
            t_best, best = min(fine, key=lambda f: f[1][0])
            step = (hi - lo) / 4
            lo, hi = t_best - step, t_best + step
        if best[0] < 0.2 and best[1] is not None:
            out.append(best[1])
    return out


def _pole(conic: npt.NDArray[np.float64], line: npt.NDArray[np.float64]) -> Any:
    """The pole of a line with respect to a conic, or None when it is at infinity."""
    try:
        pole_h = np.linalg.solve(conic, line)
    except np.linalg.LinAlgError:
        return None
    return None if abs(pole_h[2]) < 1e-12 else pole_h[:2] / pole_h[2]


def _circle_touchline_homographies(
    conic: npt.NDArray[np.float64], touchline: npt.NDArray[np.float64], img: LineEvidence
) -> list[npt.NDArray[np.float64]]:
    """Homographies from the centre circle and the far touchline alone (a near camera that
    sees neither the halfway line nor a corner). The touchline's pole with respect to the
    circle lies on the halfway line, so each point of the image touchline taken for the
    halfway line's end gives one homography (:func:`_circle_homography`)."""
    pole = _pole(conic, touchline)
    if pole is None:
        return []
    foot = -touchline[2] * touchline[:2]
    d = np.array([-touchline[1], touchline[0]])
    reach = 3.0 * max(img.w, img.h)
    ts = float((pole - foot) @ d) + np.linspace(-reach, reach, 31)

    def family(t: float) -> npt.NDArray[np.float64] | None:
        end = foot + t * d
        if np.linalg.norm(end - pole) < 1e-6:
            return None
        return _circle_homography(conic, line_through(end, pole), touchline)

    return _least_distorted(family, ts, img)


def _circle_halfway_homographies(
    conic: npt.NDArray[np.float64], halfway: npt.NDArray[np.float64], img: LineEvidence
) -> list[npt.NDArray[np.float64]]:
    """Homographies from the centre circle and the halfway line alone (no touchline in view).
    The halfway line cuts the circle at y = 34 -+ 9.15; its pole is the along lines' vanishing
    point, so each point between the cuts taken for the circle's centre gives the line y = 34
    (through it and the pole), which cuts the circle at x = 52.5 -+ 9.15: one homography."""
    cuts = _cut(conic, halfway)
    pole = _pole(conic, halfway)
    if len(cuts) != 2 or pole is None:
        return []
    far, near = sorted(cuts, key=lambda p: p[1])
    pitch = np.array([[52.5, 43.15], [52.5, 24.85], [52.5, 34.0], [43.35, 34.0], [61.65, 34.0]])

    def family(t: float) -> npt.NDArray[np.float64] | None:
        centre = far + t * (near - far)
        if np.linalg.norm(centre - pole) < 1e-6:
            return None
        side = _cut(conic, line_through(centre, pole))
        if len(side) != 2:
            return None
        left, right = sorted(side, key=lambda p: p[0])
        return _homography(pitch, np.array([far, near, centre, left, right]))

    return _least_distorted(family, np.linspace(0.05, 0.95, 13), img)


def _ellipses(img: LineEvidence, lines: list[ImageLine]) -> list[npt.NDArray[np.float64]]:
    """Conics (3x3) of the curved line pieces that are left once the straight lines are erased:
    the centre circle, mostly. Each of the two largest pieces gives one; where neither does,
    the two together: a circle that a small or degraded frame shows only as short arcs either
    side."""
    curves = img.mask.copy()
    for ln in lines:
        p, q = ln.ends
        a = p - 2 * (q - p)
        b = q + 2 * (q - p)
        cv2.line(curves, (round(a[0]), round(a[1])), (round(b[0]), round(b[1])), 0,
                 max(3, round(5 * img.s)))  # fmt: skip
    grown = cv2.dilate(curves, kernel(max(3, round(9 * img.s))))
    _, labels, stats, _ = cv2.connectedComponentsWithStats(grown, connectivity=8)
    least = max(_LEAST_ARC_PIXELS, round(30 * min(img.s, 1.0)))
    largest = np.argsort(-stats[1:, cv2.CC_STAT_AREA])[:2] + 1
    found = []
    for k in largest:
        if stats[k, cv2.CC_STAT_WIDTH] < img.w / 12:
            continue
        ys, xs = np.nonzero((labels == k) & (curves > 0))
        if len(xs) >= least and (conic := _conic_of(xs, ys, img)) is not None:
            found.append(conic)
    if not found and len(largest) == 2:
        ys, xs = np.nonzero(np.isin(labels, largest) & (curves > 0))
        wide = len(xs) >= 2 * least and xs.max() - xs.min() >= img.w / 12
        if wide and (conic := _conic_of(xs, ys, img)) is not None:
            found.append(conic)
    return found


_LEAST_ARC_PIXELS = 12
"""The fewest line pixels a curved piece needs to be fitted an ellipse (two pieces together,
twice as many): 30 from 640 wide, in proportion to the width under it, never fewer than this."""


def _conic_of(
    xs: npt.NDArray[np.intp], ys: npt.NDArray[np.intp], img: LineEvidence
) -> npt.NDArray[np.float64] | None:
    """The conic of the ellipse fitted to these line pixels and refitted to all of the mask's
    near it (:func:`_refit_ellipse`), or None when it is implausible."""
    first = cv2.fitEllipse(np.column_stack([xs, ys]).astype(np.float32))
    ellipse = _refit_ellipse(_as_ellipse(first), img)
    if ellipse is None:
        return None
    (cx, cy), (d1, d2), angle = ellipse
    return _conic(cx, cy, d1 / 2, d2 / 2, math.radians(angle))


Ellipse = tuple[tuple[float, float], tuple[float, float], float]


def _as_ellipse(box: Any) -> Ellipse:
    """cv2's rotated rectangle as plain floats."""
    (cx, cy), (d1, d2), angle = box
    return (float(cx), float(cy)), (float(d1), float(d2)), float(angle)


def _refit_ellipse(ellipse: Ellipse, img: LineEvidence, rounds: int = 2) -> Ellipse | None:
    """Refit an ellipse to every line pixel near it: erasing the straight lines also erases
    the stretches of the circle that look straight (its flattest part, seen from low down),
    which bends the first fit. None when the ellipse is implausible."""
    for _ in range(rounds):
        _, (d1, d2), _ = ellipse
        if min(d1, d2) < 4 or max(d1, d2) > 2 * img.w:
            return None
        drawn = np.zeros((img.h, img.w), np.uint8)
        cv2.ellipse(drawn, ellipse, 255, 2 * max(1, round(4 * img.s)) + 1)
        ys, xs = np.nonzero(cv2.bitwise_and(drawn, img.mask))
        if len(xs) < 30:
            return ellipse
        ellipse = _as_ellipse(cv2.fitEllipse(np.column_stack([xs, ys]).astype(np.float32)))
    (_, _), (d1, d2), _ = ellipse
    return None if min(d1, d2) < 4 or max(d1, d2) > 2 * img.w else ellipse


def _conic(cx: float, cy: float, a: float, b: float, theta: float) -> npt.NDArray[np.float64]:
    c, s = math.cos(theta), math.sin(theta)
    to_axes = np.array([[c, s, -(c * cx + s * cy)], [-s, c, s * cx - c * cy], [0, 0, 1]])
    out: npt.NDArray[np.float64] = to_axes.T @ np.diag([1 / a**2, 1 / b**2, -1.0]) @ to_axes
    return out


def _cut(conic: npt.NDArray[np.float64], line: npt.NDArray[np.float64]) -> list[Any]:
    """Where a line cuts a conic: zero or two points, in order along the line's direction."""
    foot = -line[2] * line[:2]
    d = np.array([-line[1], line[0]])
    p0, p1 = np.array([*foot, 1.0]), np.array([*d, 0.0])
    qa, qb, qc = p1 @ conic @ p1, 2 * (p0 @ conic @ p1), p0 @ conic @ p0
    disc = qb * qb - 4 * qa * qc
    if abs(qa) < 1e-15 or disc <= 0:
        return []
    roots = sorted(((-qb - math.sqrt(disc)) / (2 * qa), (-qb + math.sqrt(disc)) / (2 * qa)))
    return [foot + t * d for t in roots]


def _circle_homography(
    conic: npt.NDArray[np.float64],
    halfway: npt.NDArray[np.float64],
    touchline: npt.NDArray[np.float64],
) -> npt.NDArray[np.float64] | None:
    cuts = _cut(conic, halfway)
    top = intersect(halfway, touchline)
    if len(cuts) != 2 or top is None:
        return None
    far, near = sorted(cuts, key=lambda p: p[1])
    d = np.array([-halfway[1], halfway[0]])
    t = [float(p @ d) for p in (far, near, top)]
    # 1-D homography pitch y -> position along the image line, from three pairs.
    ys = [34 + 9.15, 34 - 9.15, 68.0]
    a_mat = np.array([[y, 1, -y * ti] for y, ti in zip(ys, t, strict=True)])
    try:
        p, q, r = np.linalg.solve(a_mat, np.array(t))
    except np.linalg.LinAlgError:
        return None
    if abs(r * 34 + 1) < 1e-9:
        return None
    foot = -halfway[2] * halfway[:2]
    centre = foot + ((p * 34 + q) / (r * 34 + 1)) * d
    try:
        vp = np.linalg.solve(conic, halfway)
    except np.linalg.LinAlgError:
        return None
    diameter = np.cross([centre[0], centre[1], 1.0], vp)
    if math.hypot(diameter[0], diameter[1]) < 1e-12:
        return None
    side = _cut(conic, diameter / math.hypot(diameter[0], diameter[1]))
    if len(side) != 2:
        return None
    left, right = sorted(side, key=lambda p: p[0])
    pitch = np.array([[52.5, 43.15], [52.5, 24.85], [52.5, 68.0], [43.35, 34.0], [61.65, 34.0]])
    image = np.array([far, near, top, left, right])
    return _homography(pitch, image)


def _homography(
    pitch: npt.NDArray[np.float64], image: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64] | None:
    """Least-squares homography from five pitch points to their image points, oriented
    (:func:`orient`); cv2's, as the families above ask for hundreds of them."""
    h, _ = cv2.findHomography(pitch.astype(np.float64), image.astype(np.float64), 0)
    if h is None or not np.isfinite(h).all() or abs(np.linalg.det(h)) < 1e-12:
        return None
    return orient(np.asarray(h, np.float64), pitch)
