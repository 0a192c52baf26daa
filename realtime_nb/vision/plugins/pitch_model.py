"""Pure geometry of pitch registration: the pitch's markings, straight lines, homographies.

No frames and no plugin state: arrays in, arrays out, so every step can be tested on made-up
inputs. Conventions: pitch points are metres ``(x, y)`` on a 105 x 68 m pitch, origin at a
corner, x along the length, y across; image points are pixels; a homography ``H`` maps pitch
to image (``G = inv(H)`` maps back); a line is homogeneous ``(a, b, c)`` with ``a x + b y + c = 0``
and ``a**2 + b**2 == 1``.

Example:
    >>> import numpy as np
    >>> h = np.array([[4.0, 0, 110], [0, -4.0, 316], [0, 0, 1]])  # seen from straight above
    >>> project(h, np.array([[52.5, 34.0]])).round(1).tolist()
    [[320.0, 180.0]]
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = [
    "ACROSS",
    "ACROSS_X",
    "ALONG",
    "ALONG_Y",
    "ARCS",
    "FINE_FEATURES",
    "OFF_PITCH_M",
    "PERSON_HEIGHT_M",
    "PITCH_LENGTH",
    "PITCH_WIDTH",
    "ModelFeatures",
    "batch_homographies",
    "beyond_pitch",
    "clip_pieces",
    "clip_pieces_where",
    "homography_from_points",
    "in_view",
    "intersect",
    "lengths",
    "line_through",
    "model_features",
    "model_intersections",
    "model_samples",
    "orient",
    "pair_markings",
    "project",
    "project_pieces",
    "refit",
    "segment_distance",
]

PERSON_HEIGHT_M = 1.8
"""A person's height in metres: how tall a person standing at a place on the pitch looks
through a homography (player boxes, the ball's feet zones)."""

FloatArray = npt.NDArray[np.float64]

PITCH_LENGTH = 105.0
PITCH_WIDTH = 68.0
OFF_PITCH_M = 3.0
"""How far (metres) beyond the touchlines and goal lines a person's feet or a ball on the
ground may be: an assistant referee runs a metre or two outside a touchline, a ball out of
play on the ground is as near, and a homography at the far touchline is off by a metre or
so. Advertising boards stand a few metres back, and what is on them, being above the
ground, projects farther still: on the clips of :mod:`realtime_nb.vision.broadcast`, boards
gave player boxes and most of the balls ball_detection reported (:func:`beyond_pitch`). A
ball in the air projects past the margin too: ball_detection lets the ball's own track follow
it there."""
_BOX_HALF, _GOAL_AREA_HALF, _CIRCLE_R = 20.16, 9.16, 9.15
_MID_Y = PITCH_WIDTH / 2

ALONG: tuple[tuple[float, float, float], ...] = (
    (0.0, 0.0, PITCH_LENGTH),
    (PITCH_WIDTH, 0.0, PITCH_LENGTH),
    *(
        (_MID_Y + s * half, x0, x0 + depth)
        for half, depth in ((_BOX_HALF, 16.5), (_GOAL_AREA_HALF, 5.5))
        for s in (-1, 1)
        for x0 in (0.0, PITCH_LENGTH - depth)
    ),
)
"""Markings along the length, ``(y, x_from, x_to)``: touchlines, penalty and goal-area sides."""
ACROSS: tuple[tuple[float, float, float], ...] = (
    (0.0, 0.0, PITCH_WIDTH),
    (PITCH_LENGTH / 2, 0.0, PITCH_WIDTH),
    (PITCH_LENGTH, 0.0, PITCH_WIDTH),
    *(
        (x, _MID_Y - half, _MID_Y + half)
        for half, depth in ((_BOX_HALF, 16.5), (_GOAL_AREA_HALF, 5.5))
        for x in (depth, PITCH_LENGTH - depth)
    ),
)
"""Markings across the pitch, ``(x, y_from, y_to)``: goal lines, halfway line, box fronts."""
ARCS: tuple[tuple[float, float, float, float, float], ...] = (
    (PITCH_LENGTH / 2, _MID_Y, _CIRCLE_R, 0.0, 360.0),
    (11.0, _MID_Y, _CIRCLE_R, -53.13, 53.13),
    (PITCH_LENGTH - 11.0, _MID_Y, _CIRCLE_R, 126.87, 233.13),
)
"""Circles, ``(cx, cy, r, degrees_from, degrees_to)``: centre circle and penalty arcs."""
ALONG_Y = tuple(sorted({y for y, _, _ in ALONG}))
"""The distinct y of the markings along the length, near touchline (0) first."""
ACROSS_X = tuple(sorted({x for x, _, _ in ACROSS}))
"""The distinct x of the markings across the pitch, left goal line (0) first."""


# --- model --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelFeatures:
    """The markings as short pieces for fitting.

    Attributes:
        ends: ``(F, 2, 2)`` pitch end points of each piece (arcs are cut into short chords).
        feature: ``(F,)`` which marking each piece belongs to (pieces of one arc share it).
        lines: ``(F, 3)`` the piece's pitch line for straight markings; NaN for arc pieces.
        circles: ``(F, 3)`` ``(cx, cy, r)`` for arc pieces; NaN for straight ones.
    """

    ends: FloatArray
    feature: npt.NDArray[np.int64]
    lines: FloatArray
    circles: FloatArray


def model_features(arc_step_deg: float = 20.0) -> ModelFeatures:
    """Every marking of the pitch as pieces: one per straight line, chords for the arcs."""
    ends, feature, lines, circles = [], [], [], []
    nan3 = [math.nan] * 3
    for k, (y, x0, x1) in enumerate(ALONG):
        ends.append([[x0, y], [x1, y]])
        feature.append(k)
        lines.append([0.0, 1.0, -y])
        circles.append(nan3)
    for k, (x, y0, y1) in enumerate(ACROSS, start=len(ALONG)):
        ends.append([[x, y0], [x, y1]])
        feature.append(k)
        lines.append([1.0, 0.0, -x])
        circles.append(nan3)
    for k, (cx, cy, r, a0, a1) in enumerate(ARCS, start=len(ALONG) + len(ACROSS)):
        n = max(2, math.ceil((a1 - a0) / arc_step_deg))
        angles = np.radians(np.linspace(a0, a1, n + 1))
        pts = np.column_stack([cx + r * np.cos(angles), cy + r * np.sin(angles)])
        for a, b in itertools.pairwise(pts):
            ends.append([a, b])
            feature.append(k)
            lines.append(nan3)
            circles.append([cx, cy, r])
    return ModelFeatures(
        np.asarray(ends, np.float64),
        np.asarray(feature, np.int64),
        np.asarray(lines, np.float64),
        np.asarray(circles, np.float64),
    )


FINE_FEATURES = model_features(arc_step_deg=10.0)
"""The markings in pieces fine enough to draw or to measure a pixel's distance to: the arcs'
10-degree chords stray at most 3.5 cm from the centre circle."""


def model_intersections() -> FloatArray:
    """Pitch points where an along marking meets an across marking (corners, T- and
    L-junctions), shape ``(n, 2)``."""
    points = {
        (x, y)
        for y, ax0, ax1 in ALONG
        for x, ay0, ay1 in ACROSS
        if ax0 - 1e-6 <= x <= ax1 + 1e-6 and ay0 - 1e-6 <= y <= ay1 + 1e-6
    }
    return np.asarray(sorted(points), np.float64)


def model_samples(spacing: float) -> tuple[FloatArray, npt.NDArray[np.bool_]]:
    """Points along every marking about ``spacing`` metres apart, and for each whether the
    next point continues the same marking (so their image distance is a length of line)."""
    pts: list[FloatArray] = []
    chained: list[npt.NDArray[np.bool_]] = []

    def add(p: FloatArray) -> None:
        pts.append(p)
        link = np.ones(len(p), bool)
        link[-1] = False
        chained.append(link)

    for y, x0, x1 in ALONG:
        xs = np.linspace(x0, x1, max(2, round((x1 - x0) / spacing) + 1))
        add(np.column_stack([xs, np.full_like(xs, y)]))
    for x, y0, y1 in ACROSS:
        ys = np.linspace(y0, y1, max(2, round((y1 - y0) / spacing) + 1))
        add(np.column_stack([np.full_like(ys, x), ys]))
    for cx, cy, r, a0, a1 in ARCS:
        n = max(3, round(math.radians(a1 - a0) * r / spacing) + 1)
        a = np.radians(np.linspace(a0, a1, n))
        add(np.column_stack([cx + r * np.cos(a), cy + r * np.sin(a)]))
    return np.concatenate(pts), np.concatenate(chained)


# --- points, lines, homographies ----------------------------------------------------------------


def project(h: FloatArray, points: FloatArray) -> FloatArray:
    """Map ``(n, 2)`` points with a 3x3 homography; points that land at infinity or behind the
    camera (w <= 0) come out as NaN."""
    pts = np.asarray(points, np.float64).reshape(-1, 2)
    mapped = pts @ h[:, :2].T + h[:, 2]
    w = mapped[:, 2:3]
    # Divided only where w is safely positive, so a point behind the camera or at the
    # horizon raises no division warning (an np.errstate block to silence it costs more than
    # the arithmetic on a few points); an infinite point may still warn.
    out: FloatArray = np.empty((len(pts), 2))
    out.fill(np.nan)  # np.full's own Python wrapper costs more, on a frame's few points
    np.divide(mapped[:, :2], w, out=out, where=w > 1e-9)
    return out


def lengths(vectors: FloatArray) -> FloatArray:
    """Euclidean length along the last axis: np.linalg.norm's own arithmetic (the root of the
    summed squares) without its argument checks, which cost more than the sums on a frame's
    few dozen points or pieces."""
    out: FloatArray = np.sqrt(np.add.reduce(vectors * vectors, axis=-1))
    return out


def beyond_pitch(points: FloatArray, margin: float = OFF_PITCH_M) -> npt.NDArray[np.bool_]:
    """Whether each of ``(n, 2)`` pitch points (metres) lies more than ``margin`` beyond the
    touchlines or goal lines; False for a point that is not finite (nothing is known of it)."""
    x, y = points[:, 0], points[:, 1]
    with np.errstate(invalid="ignore"):
        out = (x < -margin) | (x > PITCH_LENGTH + margin) | (y < -margin)
        return np.asarray(out | (y > PITCH_WIDTH + margin), bool)


def line_through(p: Sequence[float] | FloatArray, q: Sequence[float] | FloatArray) -> FloatArray:
    """The normalised line through two points."""
    line = np.cross([p[0], p[1], 1.0], [q[0], q[1], 1.0])
    norm = math.hypot(line[0], line[1])
    if norm == 0:
        raise ValueError("the two points are the same")
    out: FloatArray = line / norm
    return out


def intersect(l1: FloatArray, l2: FloatArray) -> FloatArray | None:
    """Where two lines meet, or None for (nearly) parallel lines."""
    x, y, w = np.cross(l1, l2)
    if abs(w) < 1e-9 * max(1.0, abs(x), abs(y)):
        return None
    return np.array([x / w, y / w])


def homography_from_points(src: FloatArray, dst: FloatArray) -> FloatArray | None:
    """Least-squares homography mapping ``src`` to ``dst`` (``(n, 2)`` each, n >= 4) by the
    normalised DLT, or None when the points are degenerate (three of four on a line, say, on
    either side)."""
    src, dst = np.asarray(src, np.float64), np.asarray(dst, np.float64)
    if len(src) < 4 or len(src) != len(dst):
        return None
    ts, td = _normaliser(src), _normaliser(dst)
    s = src @ ts[:2, :2].T + ts[:2, 2]
    d = dst @ td[:2, :2].T + td[:2, 2]
    zero, one = np.zeros(len(s)), np.ones(len(s))
    x, y, u, v = s[:, 0], s[:, 1], d[:, 0], d[:, 1]
    rows = np.concatenate(
        [
            np.column_stack([x, y, one, zero, zero, zero, -u * x, -u * y, -u]),
            np.column_stack([zero, zero, zero, x, y, one, -v * x, -v * y, -v]),
        ]
    )
    _, sv, vt = np.linalg.svd(rows)
    if sv[-2] < 1e-9 * sv[0]:
        return None
    h = orient(np.linalg.inv(td) @ vt[-1].reshape(3, 3) @ ts, src)
    sv = np.linalg.svd(h, compute_uv=False)
    if sv[-1] < 1e-10 * sv[0]:
        return None  # the destination points are degenerate: h flattens the plane to a line
    return h


def orient(h: FloatArray, seen: FloatArray) -> FloatArray:
    """``h`` scaled to unit norm with the sign that puts the pitch points ``seen`` (which the
    camera sees) in front of it, w > 0: a homography is only defined up to scale, but
    :func:`project` tells points behind the camera by the sign of w."""
    w = np.asarray(seen, np.float64).reshape(-1, 2) @ h[2, :2] + h[2, 2]
    sign = 1.0 if np.median(w) >= 0 else -1.0
    out: FloatArray = h * (sign / np.linalg.norm(h))
    return out


def project_pieces(h: FloatArray, ends: FloatArray) -> FloatArray:
    """Project pieces ``(f, 2, 2)`` of pitch lines, each cut where it passes behind the camera
    (so a touchline whose far end is behind the camera still shows its near part). Pieces
    wholly behind come out as NaN."""
    ends = np.asarray(ends, np.float64)
    w = ends @ h[2, :2] + h[2, 2]  # (f, 2)
    w_min = 1e-3 * max(float(np.abs(w).max()), 1e-12)
    if (w < w_min).any():  # most views have every piece in front: nothing to cut
        ends = ends.copy()
        a, b = ends[:, 0], ends[:, 1]
        wa, wb = w[:, 0], w[:, 1]
        for first, other, w_first, w_other in ((a, b, wa, wb), (b, a, wb, wa)):
            cut = (w_first < w_min) & (w_other > w_min)
            t = (w_min - w_first[cut]) / (w_other[cut] - w_first[cut])
            first[cut] = first[cut] + t[:, None] * (other[cut] - first[cut])
    out = project(h, ends.reshape(-1, 2)).reshape(-1, 2, 2)
    return out


def clip_pieces(ends: FloatArray, width: float, height: float, margin: float = 0.0) -> FloatArray:
    """Clip segments ``(f, 2, 2)`` to the box ``[-margin, width + margin] x [-margin, height +
    margin]`` (Liang-Barsky, all at once), keeping each one's direction: clipping x and y
    separately would bend a piece that leaves the box. Pieces wholly outside, or not finite,
    come out as NaN.

    Example:
        >>> clip_pieces(np.array([[[-10.0, 5.0], [30.0, 25.0]]]), 20, 20).tolist()
        [[[0.0, 10.0], [20.0, 20.0]]]
    """
    out, ok = clip_pieces_where(ends, width, height, margin)
    out[~ok] = np.nan
    return out


def clip_pieces_where(
    ends: FloatArray, width: float, height: float, margin: float = 0.0
) -> tuple[FloatArray, npt.NDArray[np.bool_]]:
    """:func:`clip_pieces` before the pieces outside are set to NaN, and which pieces are
    inside (finite, and within the box at least in part): a caller that wants only those
    takes them by the mask."""
    ends = np.asarray(ends, np.float64).reshape(-1, 2, 2)
    finite = np.asarray(np.isfinite(ends).all(axis=(1, 2)), bool)
    # A piece not finite is worked on as a point at the origin (no NaN or infinity in the
    # arithmetic, so no floating-point warning) and left out.
    ends = np.where(finite[:, None, None], ends, 0.0)
    a, d = ends[:, 0], ends[:, 1] - ends[:, 0]  # (f, 2)
    lo, hi = np.full(2, -margin), np.array([width + margin, height + margin])
    # Along an axis a piece is parallel to, its entering and leaving parameters are left at 0
    # and 1 (no division by its zero step); it is kept only if it lies between the two sides.
    flat = np.abs(d) < 1e-12
    step = np.where(flat, 1.0, d)
    ta, tb = (lo - a) / step, (hi - a) / step
    t0 = np.maximum(np.where(flat, 0.0, np.minimum(ta, tb)).max(axis=1), 0.0)
    t1 = np.minimum(np.where(flat, 1.0, np.maximum(ta, tb)).min(axis=1), 1.0)
    ok = (~flat | ((a >= lo) & (a <= hi))).all(axis=1) & (t0 <= t1) & finite
    out: FloatArray = np.stack([a + t0[:, None] * d, a + t1[:, None] * d], axis=1)
    return out, ok


def _normaliser(points: FloatArray) -> FloatArray:
    """Similarity moving points to their centroid and scaling them to mean distance sqrt(2)."""
    centre = points.mean(axis=0)
    scale = math.sqrt(2) / max(float(np.linalg.norm(points - centre, axis=1).mean()), 1e-9)
    return np.array([[scale, 0, -scale * centre[0]], [0, scale, -scale * centre[1]], [0, 0, 1]])


def batch_homographies(src: FloatArray, dst: FloatArray) -> FloatArray:
    """Exact homographies for many sets of four correspondences at once, each oriented as
    :func:`orient` would (unit norm, its four source points in front of the camera).

    Args:
        src: ``(n, 4, 2)`` source points.
        dst: ``(n, 4, 2)`` destination points.

    Returns:
        ``(m, 3, 3)`` homographies of the sets that were not degenerate, in order.
    """
    n = len(src)
    if n == 0:
        return np.zeros((0, 3, 3))
    src0 = np.asarray(src, np.float64)
    ts = _normaliser(src0.reshape(-1, 2))
    td = _normaliser(np.asarray(dst, np.float64).reshape(-1, 2))
    src = src @ ts[:2, :2].T + ts[:2, 2]
    dst = dst @ td[:2, :2].T + td[:2, 2]
    a = np.zeros((n, 8, 8))
    b = np.zeros((n, 8))
    x, y = src[:, :, 0], src[:, :, 1]
    u, v = dst[:, :, 0], dst[:, :, 1]
    a[:, 0::2, 0], a[:, 0::2, 1], a[:, 0::2, 2] = x, y, 1
    a[:, 0::2, 6], a[:, 0::2, 7] = -u * x, -u * y
    a[:, 1::2, 3], a[:, 1::2, 4], a[:, 1::2, 5] = x, y, 1
    a[:, 1::2, 6], a[:, 1::2, 7] = -v * x, -v * y
    b[:, 0::2], b[:, 1::2] = u, v
    ok = np.abs(np.linalg.det(a)) > 1e-9
    sol = np.linalg.solve(a[ok], b[ok][:, :, None])[:, :, 0]
    hn = np.concatenate([sol, np.ones((len(sol), 1))], axis=1).reshape(-1, 3, 3)
    hs: FloatArray = np.linalg.inv(td) @ hn @ ts
    # orient() for each: the sign that puts the median of the four source points in front.
    w = np.einsum("nkj,nj->nk", src0[ok], hs[:, 2, :2]) + hs[:, 2, 2:3]  # (m, 4)
    sign = np.where(np.median(w, axis=1) >= 0, 1.0, -1.0)
    hs /= (sign * np.linalg.norm(hs, axis=(1, 2)))[:, None, None]
    return hs


# --- refinement ---------------------------------------------------------------------------------


def refit(
    h: FloatArray,
    pixels: FloatArray,
    features: ModelFeatures,
    radius: float,
    stiffness: float = 1e-3,
) -> tuple[FloatArray, int]:
    """One step of model-to-image fitting (ICP with point-to-line distances).

    Every line pixel within ``radius`` px of exactly one projected marking is paired with it;
    the new homography makes the pixels, mapped to the pitch, lie on their markings (arcs by
    their tangent at the nearest point). The constraints are linear in ``inv(h)``, so one
    weighted least-squares solve does it; ``stiffness`` keeps it near ``h`` along directions
    the pixels leave free (only lines of one family in view, say).

    Args:
        h: Current pitch-to-image homography.
        pixels: ``(n, 2)`` line pixels.
        features: The markings (:func:`model_features`).
        radius: Pairing distance in pixels.
        stiffness: Weight of staying near ``h``.

    Returns:
        ``(new h, pixels paired)``; ``h`` unchanged when fewer than 8 pixels pair.
    """
    paired = pair_markings(h, pixels, features, radius)
    if paired is None:
        return h, 0
    pts, pitch_pts, lines = paired
    g = np.asarray(np.linalg.inv(h), np.float64)
    g_new = _solve_inverse(h, g, pts, pitch_pts, lines, stiffness)
    try:
        h_new = np.asarray(np.linalg.inv(g_new), np.float64)
    except np.linalg.LinAlgError:
        return h, 0
    return orient(h_new, pitch_pts), len(pts)


def pair_markings(
    h: FloatArray, pixels: FloatArray, features: ModelFeatures, radius: float
) -> tuple[FloatArray, FloatArray, FloatArray] | None:
    """Pair line pixels with the markings ``h`` projects near them, as :func:`refit` does.

    Every pixel within ``radius`` px of exactly one projected marking is paired with it.

    Returns:
        ``(pixels, their pitch points through inv(h), pitch lines)`` of the paired pixels, a
        marking's line being its own for a straight one and its tangent at the nearest point
        for an arc; None when fewer than 8 pixels pair.
    """
    ends = project_pieces(h, features.ends)
    idx = np.flatnonzero(in_view(ends, pixels, radius))
    if len(idx) == 0 or len(pixels) < 8:
        return None
    dist = segment_distance(pixels, ends[idx])  # (n, f)
    nearest = np.argmin(dist, axis=1)
    d_near = dist[np.arange(len(pixels)), nearest]
    own = features.feature[idx][nearest]
    other = np.where(features.feature[idx][None, :] == own[:, None], np.inf, dist).min(axis=1)
    keep = (d_near <= radius) & (other > radius)
    if keep.sum() < 8:
        return None
    pts = pixels[keep]
    piece = idx[nearest[keep]]
    g = np.asarray(np.linalg.inv(h), np.float64)
    pitch_pts = project(g, pts)
    lines = features.lines[piece].copy()
    arc = np.isnan(lines[:, 0])
    if arc.any():
        c = features.circles[piece[arc]]
        normal = pitch_pts[arc] - c[:, :2]
        normal /= np.maximum(np.linalg.norm(normal, axis=1, keepdims=True), 1e-9)
        lines[arc] = np.column_stack([normal, -(normal * c[:, :2]).sum(axis=1) - c[:, 2]])
    return pts, pitch_pts, lines


def _solve_inverse(
    h: FloatArray,
    g: FloatArray,
    pts: FloatArray,
    pitch_pts: FloatArray,
    lines: FloatArray,
    stiffness: float,
) -> FloatArray:
    """The image-to-pitch matrix that puts each pixel ``pts[i]`` on its pitch line
    ``lines[i]``: weighted homogeneous least squares in normalised coordinates, each residual
    in pixels, plus ``stiffness`` times the distance from ``g`` across its own direction."""
    # Pixels per metre across each marking, so residuals are in pixels, not metres.
    step = project(h, pitch_pts + 0.1 * lines[:, :2])
    px_per_m = np.nan_to_num(np.linalg.norm(step - pts, axis=1) / 0.1, nan=0.0)
    ti = _normaliser(pts)
    tp = np.array([[1 / 50, 0, -1.05], [0, 1 / 50, -0.68], [0, 0, 1]])
    pn = pts @ ti[:2, :2].T + ti[:2, 2]
    ph = np.column_stack([pn, np.ones(len(pn))])
    ln = lines @ np.linalg.inv(tp)  # a line m in pitch coords is m @ inv(tp) in normalised ones
    gn = tp @ g @ np.linalg.inv(ti)
    gn /= np.linalg.norm(gn)
    weight = px_per_m / np.maximum(np.abs(ph @ gn[2]), 1e-12)
    rows = (ln[:, :, None] * ph[:, None, :]).reshape(-1, 9) * weight[:, None]
    normal_eq = rows.T @ rows
    g0 = gn.reshape(9)
    normal_eq += stiffness * np.trace(normal_eq) * (np.eye(9) - np.outer(g0, g0))
    _, vecs = np.linalg.eigh(normal_eq)
    out: FloatArray = np.linalg.inv(tp) @ vecs[:, 0].reshape(3, 3) @ ti
    return out


def in_view(ends: FloatArray, pixels: FloatArray, margin: float) -> npt.NDArray[np.bool_]:
    """Which projected pieces ``(f, 2, 2)`` are finite and overlap the pixels' bounding box
    grown by ``margin``."""
    ok: npt.NDArray[np.bool_] = np.asarray(np.isfinite(ends).all(axis=(1, 2)))
    if len(pixels) == 0:
        return np.zeros(len(ends), bool)
    lo, hi = pixels.min(axis=0) - margin, pixels.max(axis=0) + margin
    safe = np.where(ok[:, None, None], ends, 0.0)
    ok &= (safe.max(axis=1) >= lo).all(axis=1) & (safe.min(axis=1) <= hi).all(axis=1)
    return ok


def segment_distance(points: FloatArray, ends: FloatArray) -> FloatArray:
    """Distances ``(n, f)`` from n points to f segments ``(f, 2, 2)``."""
    ax = points[:, 0:1] - ends[None, :, 0, 0]
    ay = points[:, 1:2] - ends[None, :, 0, 1]
    abx = ends[:, 1, 0] - ends[:, 0, 0]
    aby = ends[:, 1, 1] - ends[:, 0, 1]
    length2 = np.maximum(abx * abx + aby * aby, 1e-12)
    t = np.clip((ax * abx + ay * aby) / length2, 0.0, 1.0)
    ax -= t * abx
    ay -= t * aby
    out: FloatArray = np.sqrt(ax * ax + ay * ay)
    return out
