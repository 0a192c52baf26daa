"""The pitch with classic OpenCV: the largest green region, its white lines, and its corners.

Example:
    >>> from realtime_nb.plugins import PluginContext
    >>> from realtime_nb.synthetic import synthetic_match
    >>> clip = synthetic_match(seconds=1, seed=1)
    >>> ctx = PluginContext(0, "f-000000", {}, {}, clip.info)
    >>> result = PitchDetection().process(clip.frame(0), ctx)
    >>> result["coverage"] > 0.5
    True
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from realtime_nb.plugins.base import Frame, Plugin, PluginContext, bgr_metadata
from realtime_nb.plugins.grass import (
    Mask,
    Points,
    green_mask,
    kernel,
    pitch_hull,
    polygon_mask,
    warn_once,
)
from realtime_nb.plugins.pitch_model import (
    ACROSS_X,
    ALONG_Y,
    ImageLine,
    batch_homographies,
    group_families,
    homography_from_points,
    in_view,
    intersect,
    merge_segments,
    model_features,
    model_intersections,
    model_samples,
    project,
    refit,
    sagitta,
)

__all__ = ["FALLBACK_WARNING", "PitchDetection"]

FALLBACK_WARNING = "corners not detected, using fallback"
"""Warning (severity low) of pitch_detection when it cannot see four pitch corners."""

_PITCH_CORNERS_M = np.array([[0, 0], [105, 0], [105, 68], [0, 68]], np.float32)


class PitchDetection(Plugin):
    """The pitch: the largest green region's polygon, its white lines, and a homography.

    Result::

        {"pitch_polygon": [[x, y], ...], "coverage": 0.87,
         "homography": [[...], [...], [...]] | None, "quality": 0.93, "tracked": bool,
         "intersections": [{"image": [x, y], "pitch": [X, Y]}, ...],
         "corners": [[x, y], ...], "detected_corners": [[x, y], ...], "fallback": bool}

    ``homography`` maps pitch metres (x 0..105 along the length, y 0..68 across, origin at a
    corner; the camera is on the y = 0 side, so the far touchline is y = 68 and x grows to the
    right) to pixels. It comes from the pitch's markings, not only its corners: straight lines
    are found in the white-line mask, grouped by vanishing point into lines along and across the
    pitch, and matched to the markings (touchlines, goal lines, halfway line, penalty and goal
    areas, centre circle); each hypothesis is scored by how well the projected markings cover
    the line mask, and the best is refined by fitting the markings to the line pixels. Later
    frames start from the previous frame's homography and only refit it, with a full search
    when that no longer fits or every 50 frames. ``quality`` (0..1) is the final fit's
    F-measure of markings on line pixels and line pixels on markings; ``tracked`` says whether
    the homography was carried over from the previous frame.

    ``intersections`` are the markings' junctions (corners, T- and L-junctions) the homography
    puts on line pixels in view, image point with pitch point. ``detected_corners`` are corners
    of the outermost white lines found in the image; ``corners`` are the four pitch corners in
    the image through the homography (possibly outside the frame), or without one the pitch
    polygon's bounding quad. Without a homography ``fallback`` is True and the warning
    "corners not detected, using fallback" (low) is raised once per such episode.
    """

    name = "pitch_detection"
    metadata = bgr_metadata(
        "opencv-line-model-registration",
        0.5,
        ["pitch_polygon", "pitch_lines", "pitch_corners", "homography"],
    )

    def process(self, frame: Frame, ctx: PluginContext) -> dict[str, Any]:
        """Find the pitch polygon, its lines and the pitch-to-image homography."""
        h, w = frame.shape[:2]
        hsv = np.asarray(cv2.cvtColor(frame, cv2.COLOR_BGR2HSV), np.uint8)
        green = green_mask(hsv)
        hull = pitch_hull(green)
        if hull is None:
            ctx.state["homography"] = None
            warn_once(ctx, "fallback_warned", FALLBACK_WARNING, "low")
            return {
                "pitch_polygon": [],
                "coverage": 0.0,
                "homography": None,
                "quality": 0.0,
                "tracked": False,
                "intersections": [],
                "corners": [],
                "detected_corners": [],
                "fallback": True,
            }
        polygon = cv2.approxPolyDP(hull, 0.004 * cv2.arcLength(hull, True), True).reshape(-1, 2)
        inside = np.asarray(
            cv2.erode(polygon_mask((h, w), hull), kernel(max(3, w // 100))), np.uint8
        )
        lines = _line_mask(hsv, green, inside)
        detected = _outer_corners(lines, w, h)
        image = _Image(lines, inside)
        homography, quality, tracked = _register(image, ctx.state, detected)
        if homography is not None:
            ctx.state["fallback_warned"] = False
            corners = [(float(x), float(y)) for x, y in project(homography, _PITCH_CORNERS_H)]
            junctions = _junctions(homography, image)
        else:
            warn_once(ctx, "fallback_warned", FALLBACK_WARNING, "low")
            corners = _bounding_quad(hull, w, h)
            junctions = []
        return {
            "pitch_polygon": [[int(x), int(y)] for x, y in polygon],
            "coverage": round(float(cv2.contourArea(hull)) / (w * h), 4),
            "homography": None if homography is None else _rounded(homography),
            "quality": round(quality, 3),
            "tracked": tracked,
            "intersections": junctions,
            "corners": [[round(x, 1), round(y, 1)] for x, y in corners],
            "detected_corners": [[round(x, 1), round(y, 1)] for x, y in detected],
            "fallback": homography is None,
        }

    def draw(self, frame: Frame, result: dict[str, Any]) -> None:
        """Outline the pitch polygon; draw the markings through the homography in magenta, or
        without one mark the fallback corners orange; dot the junctions used."""
        polygon = result.get("pitch_polygon") or []
        if len(polygon) >= 3:
            pts = np.asarray(polygon, np.int32).reshape(-1, 1, 2)
            cv2.polylines(frame, [pts], True, (0, 255, 255), 2, cv2.LINE_AA)
        homography = result.get("homography")
        if homography is not None:
            ends = project(np.asarray(homography, np.float64), _FEATURES.ends.reshape(-1, 2))
            for a, b in ends.reshape(-1, 2, 2):
                if np.isfinite(a).all() and np.isfinite(b).all() and np.abs([a, b]).max() < 1e5:
                    cv2.line(frame, (round(a[0]), round(a[1])), (round(b[0]), round(b[1])),
                             (255, 0, 255), 1, cv2.LINE_AA)  # fmt: skip
        else:
            for x, y in result.get("corners") or []:
                cv2.circle(frame, (round(x), round(y)), 6, (0, 140, 255), 2, cv2.LINE_AA)
        for junction in result.get("intersections") or []:
            x, y = junction["image"]
            cv2.circle(frame, (round(x), round(y)), 4, (0, 0, 255), -1, cv2.LINE_AA)


def _rounded(h: npt.NDArray[np.float64]) -> list[list[float]]:
    return [[float(f"{v:.7g}") for v in row] for row in h]


def _junctions(h: npt.NDArray[np.float64], img: _Image) -> list[dict[str, list[float]]]:
    """The markings' junctions that land on line pixels in view."""
    image = project(h, _JUNCTIONS)
    vis = img.visible(image)
    out = []
    for (x, y), (px, py), ok in zip(image, _JUNCTIONS, vis, strict=True):
        if ok and img.dt[int(y), int(x)] <= 3 * img.s:
            out.append(
                {"image": [round(float(x), 1), round(float(y), 1)], "pitch": [float(px), float(py)]}
            )
    return out


def _line_mask(hsv: Frame, green: Mask, inside: Mask) -> Mask:
    """White line pixels on the pitch, without specks and the ball (line pieces are long).

    A far line is thinner than a pixel and only lightens the grass, so a pixel counts when it is
    brighter than its surroundings and paler than the grass, not when it is pure white.
    """
    value, saturation = hsv[:, :, 2], hsv[:, :, 1]
    _, grass_s, grass_v, _ = cv2.mean(hsv, mask=green)
    brighter = cv2.subtract(value, cv2.morphologyEx(value, cv2.MORPH_OPEN, kernel(9)))
    paler = cv2.inRange(saturation, 0, 0.85 * grass_s)
    grass_or_white = cv2.bitwise_or(green, cv2.inRange(hsv, (0, 0, grass_v + 30), (180, 60, 255)))
    white = cv2.bitwise_and(cv2.inRange(brighter, 18, 255), paler)
    white = cv2.bitwise_and(cv2.bitwise_and(white, grass_or_white), inside)
    _, labels, stats, _ = cv2.connectedComponentsWithStats(white, connectivity=8)
    min_len = max(10, hsv.shape[1] // 60)
    keep = np.maximum(stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT]) >= min_len
    keep[0] = False
    return np.where(keep[labels], 255, 0).astype(np.uint8)


def _outer_corners(lines: Mask, w: int, h: int) -> list[tuple[float, float]]:
    """Corners of the outermost lines: vertices of the lines' convex hull that are not on the
    frame's border (where a line merely leaves the view), make a real turn, and have white line
    along both hull edges (a curve's extreme point, say the centre circle's, has grass there)."""
    pts = cv2.findNonZero(lines)
    if pts is None or len(pts) < 30:
        return []
    hull = cv2.convexHull(pts)
    approx = cv2.approxPolyDP(hull, max(2.0, 0.008 * w), True).reshape(-1, 2).astype(float)
    margin = max(3.0, 0.01 * w)
    near_lines = np.asarray(cv2.dilate(lines, kernel(5)), np.uint8)
    corners = []
    for i, (x, y) in enumerate(approx):
        if not (margin < x < w - 1 - margin and margin < y < h - 1 - margin):
            continue
        a, b = approx[i - 1] - (x, y), approx[(i + 1) % len(approx)] - (x, y)
        cos = float(a @ b) / (float(np.linalg.norm(a) * np.linalg.norm(b)) or 1.0)
        if math.degrees(math.acos(max(-1.0, min(1.0, cos)))) > 165:
            continue
        if min(_support(near_lines, (x, y), a), _support(near_lines, (x, y), b)) >= 0.5:
            corners.append((float(x), float(y)))
    return corners


def _support(lines: Mask, start: tuple[float, float], direction: npt.NDArray[np.float64]) -> float:
    """Share of the first stretch from ``start`` along ``direction`` that lies on a line."""
    length = float(np.linalg.norm(direction))
    steps = np.arange(2.0, min(length, 40.0))
    if len(steps) < 3:
        return 1.0
    xs = np.clip(np.round(start[0] + steps * direction[0] / length), 0, lines.shape[1] - 1)
    ys = np.clip(np.round(start[1] + steps * direction[1] / length), 0, lines.shape[0] - 1)
    return float(np.mean(lines[ys.astype(int), xs.astype(int)] > 0))


def _homography(corners: list[tuple[float, float]]) -> list[list[float]]:
    """Pitch (metres) to image homography from four corners, the nearer two being lower."""
    by_y = sorted(corners, key=lambda p: p[1])
    far_left, far_right = sorted(by_y[:2])
    near_left, near_right = sorted(by_y[2:])
    image = np.array([near_left, near_right, far_right, far_left], np.float32)
    matrix = cv2.getPerspectiveTransform(_PITCH_CORNERS_M, image)
    return [[round(float(v), 6) for v in row] for row in matrix]


def _bounding_quad(hull: Points, w: int, h: int) -> list[tuple[float, float]]:
    box = cv2.boxPoints(cv2.minAreaRect(hull))
    return [(float(np.clip(x, 0, w - 1)), float(np.clip(y, 0, h - 1))) for x, y in box]


# --- registration: the homography from the pitch's markings -------------------------------------

_FEATURES = model_features()
_JUNCTIONS = model_intersections()
_COARSE, _COARSE_CHAINED = model_samples(2.0)
_FINE, _FINE_CHAINED = model_samples(0.5)
_PITCH_CORNERS_H = np.array([[0, 0], [105, 0], [105, 68], [0, 68]], np.float64)


class _Image:
    """One frame's line evidence, at the frame's scale (``s`` = width / 640)."""

    def __init__(self, lines: Mask, inside: Mask, max_pixels: int = 800) -> None:
        self.mask, self.inside = lines, inside
        self.h, self.w = lines.shape
        self.s = self.w / 640
        ys, xs = np.nonzero(lines)
        step = max(1, len(xs) // max_pixels)
        self.pixels = np.column_stack([xs[::step], ys[::step]]).astype(np.float64)
        self.dt = np.asarray(cv2.distanceTransform(255 - lines, cv2.DIST_L2, 3), np.float32)

    def visible(self, pts: npt.NDArray[np.float64]) -> npt.NDArray[np.bool_]:
        """Image points inside the frame and on the pitch."""
        ok = np.isfinite(pts).all(axis=-1)
        x = np.where(ok, pts[..., 0], -1).astype(np.int64)
        y = np.where(ok, pts[..., 1], -1).astype(np.int64)
        ok &= (x >= 0) & (x < self.w) & (y >= 0) & (y < self.h)
        ok[ok] = self.inside[y[ok], x[ok]] > 0
        out: npt.NDArray[np.bool_] = ok
        return out


def _quality(h: npt.NDArray[np.float64], img: _Image) -> float:
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
    on_line = img.dt[ys, xs] <= 2.5 * img.s
    precision = float(length[vis][on_line].sum() / length[vis].sum())
    ends = project(h, _FEATURES.ends.reshape(-1, 2)).reshape(-1, 2, 2)
    ends = ends[in_view(ends, img.pixels, 3.0 * img.s)]
    if len(ends) == 0:
        return 0.0
    # Clipped to a generous box so cv2 can draw a piece that reaches far outside the frame.
    ends = np.clip(ends, -4 * img.w, 4 * img.w).round().astype(np.int32)
    drawn = np.zeros((img.h, img.w), np.uint8)
    cv2.polylines(drawn, list(ends), False, 255, 2 * round(3 * img.s) + 1)
    px = img.pixels.astype(np.int64)
    recall = float((drawn[px[:, 1], px[:, 0]] > 0).mean())
    return 2 * precision * recall / max(precision + recall, 1e-9)


def _polish(
    h: npt.NDArray[np.float64], img: _Image, radii: tuple[float, ...]
) -> npt.NDArray[np.float64]:
    """ICP steps (:func:`refit`) at shrinking pairing radii (pixels at 640 wide)."""
    for r in radii:
        h, _ = refit(h, img.pixels, _FEATURES, r * img.s)
    return h


def _register(
    img: _Image, state: dict[str, Any], corners: list[tuple[float, float]]
) -> tuple[npt.NDArray[np.float64] | None, float, bool]:
    """The pitch-to-image homography: tracked from the last frame when that still fits, found
    by the full search otherwise (and every ``_SEARCH_EVERY`` frames in case a better fit
    exists). Returns ``(homography or None, quality, tracked)``."""
    if len(corners) == 4:
        # Four outer corners pin the pitch down on their own, even with no inner markings.
        fitted = _polish(np.asarray(_homography(corners), np.float64), img, (4.0, 3.0))
        state["homography"], state["since_search"] = fitted.tolist(), 0
        return fitted, _quality(fitted, img), False
    previous = state.get("homography")
    since = int(state.get("since_search", 0)) + 1
    best: tuple[float, npt.NDArray[np.float64] | None, bool] = (0.0, None, False)
    if previous is not None:
        tracked = _polish(np.asarray(previous, np.float64), img, (8.0, 5.0, 3.0))
        best = (_quality(tracked, img), tracked, True)
        if best[0] >= _TRACK_QUALITY and since < _SEARCH_EVERY:
            state["since_search"] = since
            state["homography"] = tracked.tolist()
            return tracked, best[0], True
    since = 0
    for candidate in _search(img):
        q = _quality(candidate, img)
        if q > best[0] + 0.02:
            best = (q, candidate, False)
    quality, found, tracked_flag = best
    state["since_search"] = since
    if found is None or quality < _ACCEPT_QUALITY:
        state["homography"] = None
        return None, quality, False
    state["homography"] = found.tolist()
    return found, quality, tracked_flag


_TRACK_QUALITY = 0.6
_ACCEPT_QUALITY = 0.5
_SEARCH_EVERY = 50


def _search(img: _Image) -> list[npt.NDArray[np.float64]]:
    """Hypothesise line-to-marking correspondences, keep the few whose markings best cover the
    line mask, and polish them. Returns candidate homographies, best first."""
    s = img.s
    segs = cv2.HoughLinesP(
        img.mask, 1, np.pi / 360, max(20, round(30 * s)),
        minLineLength=max(15, round(25 * s)), maxLineGap=max(3, round(6 * s)),
    )  # fmt: skip
    hyps: list[npt.NDArray[np.float64]] = []
    if segs is not None:
        lines = [
            ln
            for ln in merge_segments(np.asarray(segs[:, 0, :], np.float64), 2.0, 5.0 * s)[:12]
            if ln.support >= 40 * s and sagitta(ln, img.pixels, 4.0 * s) <= 0.9 * s
        ]
        along, across = group_families(lines)
        hyps += _line_hypotheses(lines, along[:4], across[:3], img)
        hyps += _circle_hypotheses(img, lines, along[:2], across[:3])
    if not hyps:
        return []
    hs = np.asarray(hyps)
    scores = _coarse_scores(hs, img)
    order = np.argsort(-scores)[:6]
    return [_polish(hs[k], img, (6.0, 4.0, 3.0, 2.5)) for k in order if scores[k] > 0]


def _line_hypotheses(
    lines: list[ImageLine], along: list[int], across: list[int], img: _Image
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
    hs, _ = batch_homographies(np.asarray(src, np.float64), np.asarray(dst, np.float64))
    return list(hs)


def _coarse_scores(hs: npt.NDArray[np.float64], img: _Image) -> npt.NDArray[np.float64]:
    """Batch score: pixels of projected marking lying on line pixels minus half those that
    do not. Homographies that put part of the pitch behind the camera score -inf."""
    corners_w = np.einsum("nj,kj->nk", hs[:, 2], np.column_stack([_PITCH_CORNERS_H, np.ones(4)]))
    pts_h = np.einsum("nij,mj->nmi", hs, np.column_stack([_COARSE, np.ones(len(_COARSE))]))
    w = pts_h[:, :, 2]
    with np.errstate(divide="ignore", invalid="ignore"):
        pts = np.where((w > 1e-9)[:, :, None], pts_h[:, :, :2] / w[:, :, None], np.nan)
    seg = np.linalg.norm(np.diff(pts, axis=1, append=pts[:, -1:]), axis=2)
    length = np.where(_COARSE_CHAINED[None], np.nan_to_num(np.minimum(seg, 40.0)), 0.0)
    vis = img.visible(pts)
    xs = np.where(vis, pts[:, :, 0], 0).astype(np.int64)
    ys = np.where(vis, pts[:, :, 1], 0).astype(np.int64)
    on = img.dt[ys, xs] <= 3.0 * img.s
    score = np.where(vis, np.where(on, length, -0.5 * length), 0.0).sum(axis=1)
    score[(corners_w <= 0).any(axis=1)] = -np.inf
    out: npt.NDArray[np.float64] = score
    return out


def _circle_hypotheses(
    img: _Image, lines: list[ImageLine], along: list[int], across: list[int]
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
    return out


def _ellipses(img: _Image, lines: list[ImageLine]) -> list[npt.NDArray[np.float64]]:
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
        (cx, cy), (d1, d2), angle = cv2.fitEllipse(np.column_stack([xs, ys]).astype(np.float32))
        if min(d1, d2) < 4 or max(d1, d2) > 2 * img.w:
            continue
        found.append(_conic(cx, cy, d1 / 2, d2 / 2, math.radians(angle)))
    return found


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
