"""Pitch registration: the pitch-to-image homography from a frame's white-line mask.

The full search hypothesises correspondences between straight lines in the image
(:mod:`realtime_nb.vision.plugins.pitch_lines`) and the pitch's markings
(:mod:`realtime_nb.vision.plugins.pitch_model`), scores them all at once against the line mask grown
by a few pixels, and polishes the best few by fitting the markings to the line pixels. A
tracked homography is only polished. Nothing here knows how the footage was made.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from realtime_nb.vision.plugins.grass import Mask, kernel
from realtime_nb.vision.plugins.pitch_camera import Camera, camera_distortion, fit_camera
from realtime_nb.vision.plugins.pitch_lines import (
    ImageLine,
    group_families,
    merge_segments,
    sagitta,
)
from realtime_nb.vision.plugins.pitch_model import (
    ACROSS_X,
    ALONG_Y,
    batch_homographies,
    clip_pieces,
    homography_from_points,
    in_view,
    intersect,
    line_through,
    model_features,
    model_intersections,
    model_samples,
    project,
    project_pieces,
    refit,
)

__all__ = [
    "FEATURES",
    "PITCH_CORNERS",
    "LineEvidence",
    "corner_homography",
    "forget",
    "junctions",
    "register",
]

FEATURES = model_features()
"""The pitch's markings as pieces (what :func:`refit` fits and the plugin draws)."""
PITCH_CORNERS = np.array([[0, 0], [105, 0], [105, 68], [0, 68]], np.float64)
"""The pitch corners in metres, near left first, counter-clockwise seen from above."""
_JUNCTIONS = model_intersections()
_COARSE, _COARSE_CHAINED = model_samples(2.0)
_FINE, _FINE_CHAINED = model_samples(0.5)
_TRACK_QUALITY = 0.6
"""A tracked homography at least this good is kept without a search."""
_ACCEPT_QUALITY = 0.5
"""Below this no homography is reported. On tuning seeds 7 to 9 (five knob settings) the true
homography scores 0.99 or more (5th percentile, frames with enough markings in view) and
polished candidates within 1.5 m of it 0.89, wrong ones a median of 0.58; but in dim light
(seed 4, lighting 0.3, 320x180) right fits score only 0.56 to 0.62, so neither threshold
can rise."""
_QUALITY_DROP = 0.1
"""A tracked homography this far below the quality found by the last full search is searched
again even above ``_TRACK_QUALITY``: the view may have changed under it."""
_FRESH_QUALITY = 0.65
"""Below this a fit found afresh, before the camera's position is known, is not reported: on
tuning views from 9 to 14 m up, wrong fits that still are a camera scored up to 0.6."""
_MAX_DISTORTION = 0.05
"""A fit further than this from any camera (:func:`camera_distortion`) is taken for wrong."""
_FREE_DISTORTION = 0.02
"""A free refit of a camera's homography further than this from any camera is not reported."""
_CENTRE_QUALITY = 0.8
"""A searched fit at least this good tells where the camera stands."""
_CENTRES_KEPT = 15
"""How many such fits the camera's position is the median of."""
_CENTRE_TOLERANCE = 0.15
"""A searched camera further than this share of its distance to the pitch's centre from the
known position is taken for wrong."""
_PENDING_QUALITY = 0.4
"""A fit rejected as no camera but at least this good is refitted on the next frame (tracking
from a roughly right start often ends at the right one), and reported only once it passes."""
_FORGET_CENTRE_AFTER = 50
"""Frames in a row without a homography after which the camera's position is forgotten."""


class LineEvidence:
    """One frame's line evidence, at the frame's scale (``s`` = width / 640)."""

    def __init__(self, lines: Mask, inside: Mask, max_pixels: int = 800) -> None:
        self.mask, self.inside = lines, inside
        self.h, self.w = lines.shape
        self.s = self.w / 640
        ys, xs = np.nonzero(lines)
        # At most about max_pixels line pixels: enough for fitting and scoring.
        step = max(1, len(xs) // max_pixels)
        self.pixels = np.column_stack([xs[::step], ys[::step]]).astype(np.float64)
        # Pixels within ~3 px (at 640 wide) of a line: a dilation by a disc, cheaper than a
        # distance transform and all the scoring asks of one.
        r = max(1, round(3 * self.s))
        disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
        self.near = np.asarray(cv2.dilate(lines, disc), np.uint8) > 0

    @cached_property
    def all_pixels(self) -> npt.NDArray[np.float64]:
        """Every line pixel ``(n, 2)``; only the full search's straightness test needs them."""
        ys, xs = np.nonzero(self.mask)
        return np.column_stack([xs, ys]).astype(np.float64)

    def visible(self, pts: npt.NDArray[np.float64]) -> npt.NDArray[np.bool_]:
        """Image points inside the frame and on the pitch."""
        ok = np.isfinite(pts).all(axis=-1)
        x = np.where(ok, pts[..., 0], -1).astype(np.int64)
        y = np.where(ok, pts[..., 1], -1).astype(np.int64)
        ok &= (x >= 0) & (x < self.w) & (y >= 0) & (y < self.h)
        ok[ok] = self.inside[y[ok], x[ok]] > 0
        out: npt.NDArray[np.bool_] = ok
        return out


def _quality(h: npt.NDArray[np.float64], img: LineEvidence) -> float:
    """How well the projected markings match the line mask, 0 to 1: the F-measure of the
    markings' visible length lying on line pixels and of the line pixels lying on markings.
    Zero when less than a few hundred pixels of markings are in view (too little to trust)."""
    pts = project(h, _FINE)
    seg = np.linalg.norm(np.diff(pts, axis=0, append=pts[-1:]), axis=1)
    length = np.where(_FINE_CHAINED, np.nan_to_num(np.minimum(seg, 20.0)), 0.0)
    vis = img.visible(pts)
    if length[vis].sum() < 300 * img.s or len(img.pixels) < 20:
        return 0.0
    xs, ys = pts[vis, 0].astype(np.int64), pts[vis, 1].astype(np.int64)
    on_line = img.near[ys, xs]
    precision = float(length[vis][on_line].sum() / length[vis].sum())
    ends = project_pieces(h, FEATURES.ends)
    ends = ends[in_view(ends, img.pixels, 3.0 * img.s)]
    if len(ends) == 0:
        return 0.0
    # Clipped to the frame (plus the stroke) so cv2 can draw a piece that reaches far outside.
    ends = clip_pieces(ends, img.w, img.h, 8 * img.s)
    ends = ends[np.isfinite(ends).all(axis=(1, 2))].round().astype(np.int32)
    drawn = np.zeros((img.h, img.w), np.uint8)
    cv2.polylines(drawn, list(ends), False, 255, 2 * round(3 * img.s) + 1)
    px = img.pixels.astype(np.int64)
    recall = float((drawn[px[:, 1], px[:, 0]] > 0).mean())
    return 2 * precision * recall / max(precision + recall, 1e-9)


def _polish(
    h: npt.NDArray[np.float64], img: LineEvidence, radii: tuple[float, ...]
) -> npt.NDArray[np.float64]:
    """ICP steps (:func:`refit`) at shrinking pairing radii (pixels at 640 wide)."""
    for r in radii:
        h, _ = refit(h, img.pixels, FEATURES, r * img.s)
    return h


@dataclass(frozen=True)
class _Fit:
    """A candidate: the camera, the homography reported for it, and how well that fits."""

    quality: float
    camera: Camera
    homography: npt.NDArray[np.float64]
    tracked: bool


def register(
    img: LineEvidence, state: dict[str, Any], corners: list[tuple[float, float]]
) -> tuple[npt.NDArray[np.float64] | None, float, bool]:
    """The pitch-to-image homography, the best by quality of up to three candidates: the last
    frame's camera turned and zoomed to fit (tracking), the four outer corners' homography
    refitted, and the full search's. The search is skipped when tracking still fits (at least
    ``_TRACK_QUALITY`` and no more than ``_QUALITY_DROP`` below the quality at the last
    search) or the corners give an acceptable fit. Every candidate must be a camera
    (:func:`_as_camera`). Returns ``(homography or None, quality, tracked)``."""
    centre = _known_centre(state)
    best = _tracked(img, state, centre)
    floor = max(_TRACK_QUALITY, float(state.get("searched_quality", 0.0)) - _QUALITY_DROP)
    settled = best is not None and best.tracked and best.quality >= floor
    fresh: list[npt.NDArray[np.float64]] = []
    from_corners = corner_homography(corners) if len(corners) == 4 else None
    if from_corners is not None:
        # Four outer corners pin the pitch down on their own, even with no inner markings.
        fresh.append(_polish(from_corners, img, (4.0, 3.0)))
    pending = state.pop("pending", None)
    if best is None and pending is not None:
        # Last frame's best fit was no camera: refitted, it may have become one.
        fresh.append(_polish(np.asarray(pending, np.float64), img, (8.0, 5.0, 3.0)))
    raw: tuple[float, npt.NDArray[np.float64] | None] = (0.0, None)
    for searched in (False, True):
        if searched and settled:
            break
        for k, candidate in enumerate(_search(img) if searched else fresh):
            cam = _as_camera(candidate, img, centre)
            if cam is None:
                q_raw = _quality(candidate, img)
                raw = (q_raw, candidate) if q_raw > raw[0] else raw
                continue
            fit = _finished(cam, img, tracked=False)
            if not searched and k == 0 and from_corners is not None:
                settled |= fit.quality >= _ACCEPT_QUALITY
            if best is None or fit.quality > best.quality + 0.02:
                best = fit
    if not settled or best is None or not best.tracked:
        state["searched_quality"] = 0.0 if best is None else best.quality
    # A camera found afresh, with no position known to check it against, must fit better.
    floor = _ACCEPT_QUALITY if centre is not None or (best and best.tracked) else _FRESH_QUALITY
    if best is None or best.quality < floor:
        _lost(state)
        if raw[1] is not None and raw[0] >= _PENDING_QUALITY:
            state["pending"] = raw[1].tolist()
        return None, 0.0 if best is None else best.quality, False
    state["camera"] = _camera_state(best.camera)
    state["lost_frames"] = 0
    if not best.tracked and best.quality >= _CENTRE_QUALITY:
        _remember_centre(state, best.camera.centre)
    return best.homography, best.quality, best.tracked


def _tracked(
    img: LineEvidence, state: dict[str, Any], centre: npt.NDArray[np.float64] | None
) -> _Fit | None:
    """The last frame's camera, from where the camera is known to stand, turned and zoomed
    to fit this frame's lines; None when there was none."""
    previous = state.get("camera")
    if previous is None:
        return None
    cam = _camera_from_state(previous, img)
    if centre is not None:
        cam = cam.moved(centre)
    cam, _ = fit_camera(cam, img.pixels, FEATURES, _radii(img, (8.0, 5.0, 3.0)), steps=1)
    return _finished(cam, img, tracked=True)


def _finished(cam: Camera, img: LineEvidence, tracked: bool) -> _Fit:
    """The fit to report for a camera: one free step of fitting away from its homography when
    that stays a camera (``_FREE_DISTORTION``), else its own. Where distance and focal length
    trade off (a narrow view) the camera's fit settles anywhere along that valley, a little
    off; the free step takes up the rest, while the camera, tracked on, keeps it from
    drifting."""
    h = cam.homography()
    free, _ = refit(h, img.pixels, FEATURES, 3.0 * img.s)
    if camera_distortion(free, img.w, img.h) <= _FREE_DISTORTION:
        h = free
    return _Fit(_quality(h, img), cam, h, tracked)


def forget(state: dict[str, Any]) -> None:
    """Drop the camera :func:`register` tracks in ``state``, so the next frame searches
    afresh (say, after a frame with no pitch in it)."""
    state["camera"] = None
    state.pop("searched_quality", None)


def _lost(state: dict[str, Any]) -> None:
    """A frame without a homography: forget the camera's view; after ``_FORGET_CENTRE_AFTER``
    such frames in a row forget where it stands too (another camera, maybe)."""
    forget(state)
    state["lost_frames"] = int(state.get("lost_frames", 0)) + 1
    if state["lost_frames"] >= _FORGET_CENTRE_AFTER:
        state.pop("centres", None)


def _radii(img: LineEvidence, radii: tuple[float, ...]) -> tuple[float, ...]:
    return tuple(r * img.s for r in radii)


def _camera_state(cam: Camera) -> dict[str, Any]:
    return {"focal": cam.focal, "rotation": cam.rotation.tolist(), "centre": cam.centre.tolist()}


def _camera_from_state(saved: dict[str, Any], img: LineEvidence) -> Camera:
    return Camera(
        float(saved["focal"]),
        np.asarray(saved["rotation"], np.float64),
        np.asarray(saved["centre"], np.float64),
        img.w,
        img.h,
    )


def _known_centre(state: dict[str, Any]) -> npt.NDArray[np.float64] | None:
    """Where the camera stands, from the fits found so far (their median), or None."""
    centres = state.get("centres") or []
    if not centres:
        return None
    out: npt.NDArray[np.float64] = np.median(np.asarray(centres, np.float64), axis=0)
    return out


def _remember_centre(state: dict[str, Any], centre: npt.NDArray[np.float64]) -> None:
    centres = state.setdefault("centres", [])
    centres.append([float(v) for v in centre])
    del centres[:-_CENTRES_KEPT]


def _as_camera(
    h: npt.NDArray[np.float64], img: LineEvidence, centre: npt.NDArray[np.float64] | None
) -> Camera | None:
    """The camera of a fitted homography, refitted to the line pixels as a camera; None when
    no camera fits it (a wrong fit, usually: see ``_MAX_DISTORTION``), or when it stands more
    than ``_CENTRE_TOLERANCE`` (a share of its distance to the pitch) from where the camera
    is known to stand."""
    if camera_distortion(h, img.w, img.h) > _MAX_DISTORTION:
        return None
    cam = Camera.from_homography(h, img.w, img.h)
    if cam is None or cam.centre[2] <= 0:
        return None
    cam, _ = fit_camera(cam, img.pixels, FEATURES, _radii(img, (4.0, 3.0)), move=True)
    if cam.centre[2] <= 0:
        return None
    if centre is not None:
        reach = float(np.linalg.norm(cam.centre[:2] - (52.5, 34.0)))
        if np.linalg.norm(cam.centre - centre) > _CENTRE_TOLERANCE * reach:
            return None
        cam, _ = fit_camera(cam.moved(centre), img.pixels, FEATURES, _radii(img, (3.0,)))
    return cam


def _search(img: LineEvidence) -> list[npt.NDArray[np.float64]]:
    """Hypothesise line-to-marking correspondences, keep the few whose markings best cover the
    line mask, and polish them. Returns candidate homographies, best first."""
    s = img.s
    segs = cv2.HoughLinesP(
        img.mask, 1, np.pi / 360, max(20, round(30 * s)),
        minLineLength=max(15, round(25 * s)), maxLineGap=max(3, round(6 * s)),
    )  # fmt: skip
    if segs is None:
        return []
    lines = [
        ln
        for ln in merge_segments(np.asarray(segs[:, 0, :], np.float64), 2.0, 5.0 * s)[:12]
        if ln.support >= 40 * s and sagitta(ln, img.all_pixels, 4.0 * s) <= 0.9 * s
    ]
    along, across = group_families(lines)
    out = []
    # The circle's few hypotheses are ranked apart from the lines' thousands, so that a view
    # whose lines are ambiguous still tries its circle.
    for hyps, kept in (
        (_line_hypotheses(lines, along[:4], across[:3], img), 6),
        (_circle_hypotheses(img, lines, along[:2], across[:3]), 2),
    ):
        if not hyps:
            continue
        hs = np.asarray(hyps)
        scores = _coarse_scores(hs, img)
        order = np.argsort(-scores)[:kept]
        out += [(scores[k], hs[k]) for k in order if scores[k] > 0]
    out.sort(key=lambda pair: -pair[0])
    return [_polish(h, img, (6.0, 4.0, 3.0, 2.5)) for _, h in out]


def _line_hypotheses(
    lines: list[ImageLine], along: list[int], across: list[int], img: LineEvidence
) -> list[npt.NDArray[np.float64]]:
    """Homographies from two along and two across lines matched, in image order, to marking
    pairs in pitch order: the far (upper) along line has the larger y, the left across line
    the smaller x."""
    if len(along) < 2 or len(across) < 2:
        return []

    def row_at_centre(k: int) -> float:
        a, b, c = lines[k].line
        return float(-(a * img.w / 2 + c) / b) if abs(b) > 1e-9 else math.inf

    def col_at_row(k: int) -> float:
        a, b, c = lines[k].line
        return float(-(b * 0.75 * img.h + c) / a) if abs(a) > 1e-9 else math.inf

    along = sorted(along, key=row_at_centre)
    across = sorted(across, key=col_at_row)
    meet = {(i, k): intersect(lines[i].line, lines[k].line) for i in along for k in across}
    src, dst = [], []
    for i, j in itertools.combinations(along, 2):
        for k, m in itertools.combinations(across, 2):
            if len({i, j, k, m}) < 4:
                continue
            quad = [meet[i, k], meet[i, m], meet[j, k], meet[j, m]]
            if any(p is None for p in quad):
                continue
            image = np.asarray(quad)
            for y_far, y_near in itertools.combinations(reversed(ALONG_Y), 2):
                for x_left, x_right in itertools.combinations(ACROSS_X, 2):
                    src.append(
                        [[x_left, y_far], [x_right, y_far], [x_left, y_near], [x_right, y_near]]
                    )
                    dst.append(image)
    if not src:
        return []
    return list(batch_homographies(np.asarray(src, np.float64), np.asarray(dst, np.float64)))


def _coarse_scores(hs: npt.NDArray[np.float64], img: LineEvidence) -> npt.NDArray[np.float64]:
    """Batch score: pixels of projected marking lying on line pixels minus half those that
    do not (points behind the camera count for nothing)."""
    # float32 and one batched matmul: thousands of hypotheses times hundreds of points.
    samples = np.column_stack([_COARSE, np.ones(len(_COARSE))]).T.astype(np.float32)
    pts_h = np.matmul(hs.astype(np.float32), samples)  # (n, 3, m)
    w = pts_h[:, 2]
    ahead = w > 1e-9
    safe_w = np.where(ahead, w, 1.0)
    xs_f, ys_f = pts_h[:, 0] / safe_w, pts_h[:, 1] / safe_w
    seg = np.hypot(
        np.diff(xs_f, axis=1, append=xs_f[:, -1:]), np.diff(ys_f, axis=1, append=ys_f[:, -1:])
    )
    chained = _COARSE_CHAINED[None] & ahead & np.roll(ahead, -1, axis=1)
    length = np.where(chained, np.minimum(seg, 40.0), 0.0)
    vis = ahead & (xs_f >= 0) & (xs_f < img.w) & (ys_f >= 0) & (ys_f < img.h)
    xs = np.where(vis, xs_f, 0).astype(np.int32)
    ys = np.where(vis, ys_f, 0).astype(np.int32)
    vis &= img.inside[ys, xs] > 0
    on = img.near[ys, xs]
    score = np.where(vis, np.where(on, length, -0.5 * length), 0.0).sum(axis=1).astype(np.float64)
    out: npt.NDArray[np.float64] = score
    return out


def _circle_hypotheses(
    img: LineEvidence, lines: list[ImageLine], along: list[int], across: list[int]
) -> list[npt.NDArray[np.float64]]:
    """Homographies from the centre circle, the halfway line through it and the far touchline:
    the halfway line cuts the circle at y = 34 -+ 9.15 and meets the touchline at y = 68, which
    fixes where the circle's centre is on it (a cross-ratio); the pole of the halfway line with
    respect to the circle's ellipse is the vanishing point of the along lines, so the line from
    there through the centre is y = 34, cutting the circle at x = 52.5 -+ 9.15."""
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
        out += _circle_touchline_homographies(conic, lines[far].line, img)
    return out


def _circle_touchline_homographies(
    conic: npt.NDArray[np.float64], touchline: npt.NDArray[np.float64], img: LineEvidence
) -> list[npt.NDArray[np.float64]]:
    """Homographies from the centre circle and the far touchline alone (a near camera that
    sees neither the halfway line nor a corner). The touchline's pole with respect to the
    circle lies on the halfway line, so each point of the image touchline taken for the
    halfway line's end gives one homography (:func:`_circle_homography`); of that family,
    only a real camera's fits (:func:`camera_distortion` near 0), so the points where the
    distortion is least are kept."""
    try:
        pole_h = np.linalg.solve(conic, touchline)
    except np.linalg.LinAlgError:
        return []
    if abs(pole_h[2]) < 1e-12:
        return []
    pole = pole_h[:2] / pole_h[2]
    foot = -touchline[2] * touchline[:2]
    d = np.array([-touchline[1], touchline[0]])
    centre_t = float((pole - foot) @ d)
    reach = 3.0 * max(img.w, img.h)
    ts = centre_t + np.linspace(-reach, reach, 121)
    found: list[tuple[float, npt.NDArray[np.float64]]] = []
    for t in ts:
        end = foot + t * d
        if np.linalg.norm(end - pole) < 1e-6:
            continue
        h = _circle_homography(conic, line_through(end, pole), touchline)
        if h is not None:
            found.append((camera_distortion(h, img.w, img.h), h))
    scores = np.array([f[0] for f in found])
    out = []
    for k in range(1, len(found) - 1):
        if scores[k] <= min(scores[k - 1], scores[k + 1]) and scores[k] < 0.2:
            out.append(found[k][1])
    return out


def _ellipses(img: LineEvidence, lines: list[ImageLine]) -> list[npt.NDArray[np.float64]]:
    """Conics (3x3) of the curved line pieces that are left once the straight lines are erased:
    the centre circle, mostly."""
    curves = img.mask.copy()
    for ln in lines:
        p, q = ln.ends
        a = p - 2 * (q - p)
        b = q + 2 * (q - p)
        cv2.line(curves, (round(a[0]), round(a[1])), (round(b[0]), round(b[1])), 0,
                 max(3, round(5 * img.s)))  # fmt: skip
    grown = cv2.dilate(curves, kernel(max(3, round(9 * img.s))))
    _, labels, stats, _ = cv2.connectedComponentsWithStats(grown, connectivity=8)
    found = []
    for k in np.argsort(-stats[1:, cv2.CC_STAT_AREA])[:2] + 1:
        if stats[k, cv2.CC_STAT_WIDTH] < img.w / 12:
            continue
        ys, xs = np.nonzero((labels == k) & (curves > 0))
        if len(xs) < 30:
            continue
        first = cv2.fitEllipse(np.column_stack([xs, ys]).astype(np.float32))
        ellipse = _refit_ellipse(_as_ellipse(first), img)
        if ellipse is None:
            continue
        (cx, cy), (d1, d2), angle = ellipse
        found.append(_conic(cx, cy, d1 / 2, d2 / 2, math.radians(angle)))
    return found


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
    return homography_from_points(pitch, image)


def junctions(h: npt.NDArray[np.float64], img: LineEvidence) -> list[dict[str, list[float]]]:
    """The markings' junctions that land on line pixels in view."""
    image = project(h, _JUNCTIONS)
    vis = img.visible(image)
    out = []
    for (x, y), (px, py), ok in zip(image, _JUNCTIONS, vis, strict=True):
        if ok and img.near[int(y), int(x)]:
            out.append(
                {"image": [round(float(x), 1), round(float(y), 1)], "pitch": [float(px), float(py)]}
            )
    return out


def corner_homography(corners: list[tuple[float, float]]) -> npt.NDArray[np.float64] | None:
    """Pitch (metres) to image homography from four corners, the nearer two being lower; None
    when three of them are on a line."""
    by_y = sorted(corners, key=lambda p: p[1])
    far_left, far_right = sorted(by_y[:2])
    near_left, near_right = sorted(by_y[2:])
    image = np.array([near_left, near_right, far_right, far_left], np.float64)
    return homography_from_points(PITCH_CORNERS, image)
