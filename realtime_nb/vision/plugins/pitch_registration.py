"""Pitch registration: the pitch-to-image homography from a frame's white-line mask.

The full search hypothesises correspondences between straight lines in the image
(:mod:`realtime_nb.vision.plugins.pitch_lines`) and the pitch's markings
(:mod:`realtime_nb.vision.plugins.pitch_model`), scores them all at once against the line mask grown
by a few pixels, and polishes the best few by fitting the markings to the line pixels. A
tracked homography is only polished. Every fit must be a pinhole camera with square pixels
and its principal point at the image centre, above the pitch and (unless four outer corners
were seen) behind the near touchline (y < 0: the broadcast view from one side this
registration assumes, where the far touchline is higher in the image than the near one).
Nothing here knows how the footage was made.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from realtime_nb.vision.plugins.pitch_camera import (
    Camera,
    camera_distortion,
    camera_distortions,
    fit_camera,
)
from realtime_nb.vision.plugins.pitch_circle import circle_hypotheses
from realtime_nb.vision.plugins.pitch_evidence import LineEvidence
from realtime_nb.vision.plugins.pitch_lines import (
    ImageLine,
    group_families,
    longest_segments,
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
    lengths,
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
    "pitch_on_grass",
    "register",
]

FloatArray = npt.NDArray[np.float64]

FEATURES = model_features()
"""The pitch's markings as pieces (what :func:`refit` fits and the plugin draws)."""
PITCH_CORNERS = np.array([[0, 0], [105, 0], [105, 68], [0, 68]], np.float64)
"""The pitch corners in metres, near left first, counter-clockwise seen from above."""
_JUNCTIONS = model_intersections()
_COARSE, _COARSE_CHAINED = model_samples(2.0)
_FINE, _FINE_CHAINED = model_samples(0.5)
_MOST_SEGMENTS = 200
"""The longest line segments of a frame the search merges into lines (it keeps the 12 best
supported). Pitch markings gave 98 at most (1,497 searches on 252 tuning clips, broadcast-like
ones among them); a goal net's mesh seen close gives hundreds, and merging them costs about the
product of segments and lines."""
_SPARSE_AFTER = 25
"""Frames registered running without a homography (a second at 25 fps) after which the full
search runs on every :data:`_SPARSE_EVERY`-th frame only: footage with no pitch in view (a
close-up, the crowd, a net) cost a search a frame for as long as it lasted, 200 to 540 ms a
frame where line pixels crowd the view. Every figure of 188 tuning clips, the held-out first
set and the numbered broadcast clips was the same with it; after a longer loss the pitch is
found again at most three frames later than without it."""
_SPARSE_EVERY = 4
"""See :data:`_SPARSE_AFTER`."""
_MOST_LINE_SHARE = 0.15
"""The largest share of a frame's pixels that may be line-like for the search to look for the
pitch's markings in it. Pitch views' masks took 6.1 % of the frame at most (every frame of
tuning clips of fourteen looks, 320x180 to 1920x1080, broadcast-like ones, noise, grass texture
and wide lines among them; the most at 320x180 with JPEG 30); a goal net's mesh seen close
takes 30 to 35 %, where any line a hypothesis draws lies on line pixels and covering them tells
nothing."""
_LINE_WIDTH = 0.12
"""Width of a marking, metres (the Laws' most)."""
_VISIBLE_WIDTH = 1.0
"""Image width (pixels at 640 wide) from which a marking counts fully in a fit's quality."""


def _sample_normals(pts: FloatArray, chained: npt.NDArray[np.bool_]) -> FloatArray:
    """Unit pitch-plane normals of the markings at their samples (along the next sample, or
    the previous one at a marking's end)."""
    step = np.diff(pts, axis=0, append=pts[-1:])
    back = np.vstack([step[:1], step[:-1]])
    tangent = np.where(chained[:, None], step, back)
    normal = np.column_stack([-tangent[:, 1], tangent[:, 0]])
    out: FloatArray = normal / lengths(normal)[:, None]
    return out


_FINE_ACROSS = _FINE + _LINE_WIDTH * _sample_normals(_FINE, _FINE_CHAINED)
"""Each fine sample moved a marking's width across its marking."""
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
_TRACK_SLIP = 0.05
"""A free refit whose quality falls more than this below last frame's is checked against the
camera turned and zoomed (it may be drifting)."""
_FRESH_QUALITY = 0.75
"""Below this a fit found afresh, before the camera's position is known, is not reported: on
tuning views from 9 to 14 m up, wrong fits that still are a camera scored up to 0.6, and
fits 1 to 2 m off (a circle and a touchline fitted, a penalty box not) up to 0.71; right
ones 0.85 and more."""
_MAX_DISTORTION = 0.05
"""A fit further than this from any camera (:func:`camera_distortion`) is taken for wrong."""
_HYPOTHESIS_DISTORTION = 0.5
"""A hypothesis (four lines matched to markings, before any fitting) further than this from
any camera is not scored."""
_FREE_DISTORTION = 0.01
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
_AUDIT_QUALITY = 0.97
"""A tracked fit below this is checked against a full search now and then (``_AUDIT_EVERY``):
tracking keeps whatever fit it started from, and on narrow views of few markings a wrong fit
found afresh can score 0.9 while the right one, once the search finds it, scores 0.95 and more.
"""
_AUDIT_EVERY = 5
"""Frames before the first such check, and between checks after one that changed the fit."""
_AUDIT_MAX_GAP = 80
"""Each check that keeps the tracked fit doubles the gap to the next, up to this: where even
the right fit scores under ``_AUDIT_QUALITY`` (blur, compression, small frames), a full search
every 5 frames would double the plugin's time for nothing."""
_AUDIT_MARGIN = 0.03
"""A searched fit must beat the tracked one by this much to replace it."""
_FORGET_CENTRE_AFTER = 50
"""Frames in a row without a homography after which the camera's position is forgotten."""


def _quality(h: npt.NDArray[np.float64], img: LineEvidence) -> float:
    """How well the projected markings match the line mask, 0 to 1: the F-measure of the
    markings' visible length lying on line pixels and of the line pixels lying on markings.
    Zero when less than a few hundred pixels of markings are in view (too little to trust).

    A marking counts in the first share by its image length times how visible it can be: its
    image width up to ``_VISIBLE_WIDTH`` (a far line seen at a grazing angle is a fraction of
    a pixel wide, only tints the grass, and is often missing from the line mask even under
    the right fit; counted fully it capped a right fit's quality near 0.6 on broadcast views
    whose far touchline is a quarter of a pixel thick)."""
    pts = project(h, _FINE)
    step = np.diff(pts, axis=0, append=pts[-1:])
    seg = lengths(step)
    across = project(h, _FINE_ACROSS) - pts
    width = np.abs(step[:, 0] * across[:, 1] - step[:, 1] * across[:, 0]) / np.maximum(seg, 1e-9)
    seen = np.minimum(np.nan_to_num(width) / (_VISIBLE_WIDTH * img.s), 1.0)
    length = np.where(_FINE_CHAINED, np.nan_to_num(np.minimum(seg, 20.0)), 0.0)
    vis = img.visible(pts)
    if length[vis].sum() < 300 * img.s or len(img.pixels) < 20:
        return 0.0
    xs, ys = pts[vis, 0].astype(np.int64), pts[vis, 1].astype(np.int64)
    on_line = img.near[ys, xs]
    weight = length[vis] * seen[vis]
    precision = float(weight[on_line].sum() / max(weight.sum(), 1e-9))
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


_RUN_OFF = 15.0
"""Metres of grass beyond the touchlines and goal lines that a view may show. Right fits on
broadcast views had up to 23 % of the grass more than 6 m beyond the lines (a wide view from
a low camera), 9 % more than 10 m and 4 % more than 15 m."""
_ON_GRASS = 0.8
"""A fit is no camera on this pitch unless at least this share of the pitch in view lands on
the grass's hull, and this share of the grass maps onto the pitch and its ``_RUN_OFF``
(:func:`pitch_on_grass`). Right fits measured at least 0.96 on broadcast views and 0.98 on the
synthetic match; a fit 126 m off that tracking had kept on a broadcast view, 0.61."""
_GRID_M, _GRASS_STEP = 4.0, 16
_PITCH_GRID = np.stack(
    np.meshgrid(np.arange(0.0, 105.1, _GRID_M), np.arange(0.0, 68.1, _GRID_M)), axis=-1
).reshape(-1, 2)
"""Pitch points every ``_GRID_M`` metres."""


def pitch_on_grass(h: FloatArray, img: LineEvidence) -> tuple[float, float]:
    """``(pitch_on_grass, grass_on_pitch)``: the share of the pitch in view (a 4 m grid) that
    lands on the grass's hull (``img.inside``), and the share of the grass (``img.grass``,
    every 16th pixel at 640 wide, each way) that the homography maps onto the pitch or its
    ``_RUN_OFF``. A right fit has both near 1; one that puts the pitch over the stands, or
    the grass far beyond the pitch, does not. A share of nothing is 1; a singular homography
    maps no grass onto the pitch."""
    # Points behind the camera come out of project as NaN, which no comparison passes.
    x, y = project(h, _PITCH_GRID).T
    seen = (x >= 0) & (x < img.w) & (y >= 0) & (y < img.h)
    cols, rows = x[seen].astype(np.int64), y[seen].astype(np.int64)
    on_grass = float(np.mean(img.inside[rows, cols] > 0)) if len(rows) else 1.0
    step = max(1, round(_GRASS_STEP * img.s))
    gy, gx = np.nonzero(img.grass[::step, ::step])
    if not len(gy):
        return on_grass, 1.0
    grass = np.column_stack([gx, gy]).astype(np.float64) * step
    try:
        back = np.asarray(np.linalg.inv(h), np.float64)
    except np.linalg.LinAlgError:  # no camera at all (one fitted down to the pitch's plane)
        return on_grass, 0.0
    px, py = project(back, grass).T
    m = _RUN_OFF
    on_pitch = (px >= -m) & (px <= 105 + m) & (py >= -m) & (py <= 68 + m)
    return on_grass, float(np.mean(on_pitch))


def _on_grass(h: FloatArray, img: LineEvidence) -> bool:
    """Whether the fit puts the pitch on the grass and the grass on the pitch (``_ON_GRASS``)."""
    return min(pitch_on_grass(h, img)) >= _ON_GRASS


def _polish(
    h: npt.NDArray[np.float64], img: LineEvidence, radii: tuple[float, ...]
) -> npt.NDArray[np.float64]:
    """ICP steps (:func:`refit`) at shrinking pairing radii (pixels at 640 wide)."""
    for r in radii:
        h, _ = refit(h, img.pixels, FEATURES, r * img.s)
    return h


@dataclass(frozen=True)
class _Fit:
    """A candidate: the camera, the homography reported for it, and how well that fits.
    ``trusted`` (tracked, or from four outer corners) holds it to ``_ACCEPT_QUALITY`` rather
    than ``_FRESH_QUALITY`` before the camera's position is known."""

    quality: float
    camera: Camera
    homography: npt.NDArray[np.float64]
    tracked: bool
    trusted: bool


def register(
    img: LineEvidence, state: dict[str, Any], corners: list[tuple[float, float]]
) -> tuple[npt.NDArray[np.float64] | None, float, bool]:
    """The pitch-to-image homography, the best by quality of up to four candidates: the last
    frame's refitted (tracking, :func:`_tracked`), the four outer corners' homography
    refitted, the last frame's best fit that was no camera yet (``pending``, refitted when
    nothing is tracked), and the full search's. The search is skipped when tracking still
    fits (at least ``_TRACK_QUALITY`` and no more than ``_QUALITY_DROP`` below the quality at
    the last search) or the corners give an acceptable fit, except every ``_AUDIT_EVERY``
    frames while tracking fits less than ``_AUDIT_QUALITY`` (:func:`_audited`); once no
    homography was found for :data:`_SPARSE_AFTER` frames running, it runs on every
    :data:`_SPARSE_EVERY`-th of them only. Every candidate must be a camera
    (:func:`_as_camera`).

    Returns:
        ``(homography or None, quality, tracked)``.
    """
    centre = _known_centre(state)
    best = _tracked(img, state, centre)
    floor = max(_TRACK_QUALITY, float(state.get("searched_quality", 0.0)) - _QUALITY_DROP)
    settled = best is not None and best.quality >= floor
    fresh: list[tuple[npt.NDArray[np.float64], bool]] = []
    if len(corners) == 4 and (from_corners := corner_homography(corners)) is not None:
        # Four outer corners pin the pitch down on their own, even with no inner markings.
        fresh.append((_polish(from_corners, img, (4.0, 3.0)), True))
    pending = state.pop("pending", None)
    if best is None and pending is not None:
        # Last frame's best fit was no camera: refitted, it may have become one.
        fresh.append((_polish(np.asarray(pending, np.float64), img, (8.0, 5.0, 3.0)), False))
    raw: list[tuple[float, npt.NDArray[np.float64]]] = []
    for fit in _cameras(fresh, img, centre, raw):
        settled |= fit.trusted and fit.quality >= _ACCEPT_QUALITY
        best = fit if best is None or fit.quality > best.quality + 0.02 else best
    lost = int(state.get("lost_frames", 0))
    if not settled and (lost < _SPARSE_AFTER or lost % _SPARSE_EVERY == 0):
        best, centre = _searched(img, state, centre, best, raw)
    elif settled and best is not None and best.tracked:
        best, centre = _audited(img, state, best, centre)
    if not settled or best is None or not best.tracked:
        state["searched_quality"] = 0.0 if best is None else best.quality
    # A camera found afresh, with no position known to check it against, must fit better.
    floor = _ACCEPT_QUALITY if centre is not None or (best and best.trusted) else _FRESH_QUALITY
    if best is None or best.quality < floor:
        _lost(state)
        if raw and max(raw, key=lambda r: r[0])[0] >= _PENDING_QUALITY:
            state["pending"] = max(raw, key=lambda r: r[0])[1].tolist()
        return None, 0.0 if best is None else best.quality, False
    state.update(camera=_camera_state(best.camera), homography=best.homography.tolist())
    state.update(quality=best.quality, lost_frames=0)
    if not best.tracked and best.quality >= _CENTRE_QUALITY:
        _remember_centre(state, best.camera.centre)
    return best.homography, best.quality, best.tracked


def _searched(
    img: LineEvidence,
    state: dict[str, Any],
    centre: npt.NDArray[np.float64] | None,
    best: _Fit | None,
    raw: list[tuple[float, npt.NDArray[np.float64]]],
) -> tuple[_Fit | None, npt.NDArray[np.float64] | None]:
    """The full search's best camera, or ``best`` when the search finds none 0.02 better;
    with the camera's position (``centre``, None once forgotten). Where no fit from the known
    position is good enough to report afresh, one from anywhere that is replaces it, and the
    position is forgotten: a single wrong fit above ``_CENTRE_QUALITY`` can have put it there.
    """
    state["since_search"] = 0
    searched = [(h, False) for h in _search(img)]
    for fit in _cameras(searched, img, centre, raw):
        best = fit if best is None or fit.quality > best.quality + 0.02 else best
    if centre is not None and (best is None or best.quality < _FRESH_QUALITY):
        anywhere = max(_cameras(searched, img, None, []), key=lambda f: f.quality, default=None)
        if anywhere is not None and anywhere.quality >= _FRESH_QUALITY:
            state.pop("centres", None)
            return anywhere, None
    return best, centre


def _audited(
    img: LineEvidence,
    state: dict[str, Any],
    tracked: _Fit,
    centre: npt.NDArray[np.float64] | None,
) -> tuple[_Fit, npt.NDArray[np.float64] | None]:
    """``(tracked, centre)``, or a searched fit that beats ``tracked`` by ``_AUDIT_MARGIN``
    with None for the centre: searched while tracking fits less than ``_AUDIT_QUALITY``, first
    after ``_AUDIT_EVERY`` frames, then after twice the last gap each time the search did not
    win (up to ``_AUDIT_MAX_GAP``). The search ignores where the camera was thought to stand (that
    came from the fit in doubt), so a fit that wins makes it forgotten, and like any fit found
    afresh with no position known it must then reach ``_FRESH_QUALITY`` to be reported."""
    since = int(state.get("since_search", 0)) + 1
    state["since_search"] = since
    gap = int(state.get("audit_gap", _AUDIT_EVERY))
    if tracked.quality >= _AUDIT_QUALITY or since < gap:
        return tracked, centre
    state["since_search"] = 0
    fits = _cameras([(h, False) for h in _search(img)], img, None, [])
    better = max(fits, key=lambda f: f.quality, default=None)
    if better is None or better.quality < tracked.quality + _AUDIT_MARGIN:
        state["audit_gap"] = min(2 * gap, _AUDIT_MAX_GAP)
        return tracked, centre
    state["audit_gap"] = _AUDIT_EVERY
    state.pop("centres", None)
    return better, None


def _cameras(
    candidates: list[tuple[npt.NDArray[np.float64], bool]],
    img: LineEvidence,
    centre: npt.NDArray[np.float64] | None,
    raw: list[tuple[float, npt.NDArray[np.float64]]],
) -> list[_Fit]:
    """The candidates ``(homography, trusted)`` that are a camera, as fits; the others go
    to ``raw`` with their quality (the best may be refitted on the next frame). A camera
    whose fit is off the grass (:func:`_on_grass`) is dropped, and not kept in ``raw``
    either: refitting cannot bring a fit 60 m off back."""
    fits = []
    for h, trusted in candidates:
        cam = _as_camera(h, img, centre, trusted)
        if cam is None:
            raw.append((_quality(h, img), h))
            continue
        fit = _finished(cam, img, trusted)
        if _on_grass(fit.homography, img):
            fits.append(fit)
    return fits


def _tracked(
    img: LineEvidence, state: dict[str, Any], centre: npt.NDArray[np.float64] | None
) -> _Fit | None:
    """Last frame's homography refitted to this frame's lines, while it stays a camera
    (``_FREE_DISTORTION``) and fits about as well as last frame's; else the better of that
    and last frame's camera, from where the camera is known to stand, turned and zoomed to
    fit. The free refit is the more precise (no camera fits the pixels exactly), the
    camera's the one that cannot drift where few markings pin the homography down (an arc
    and a line). None when there was no homography, or the fit is off the grass
    (:func:`_on_grass`)."""
    previous, saved = state.get("homography"), state.get("camera")
    if previous is None or saved is None:
        return None
    free: _Fit | None = None
    h = _polish(np.asarray(previous, np.float64), img, (8.0, 5.0, 3.0))
    if camera_distortion(h, img.w, img.h) <= _FREE_DISTORTION:
        cam = Camera.from_homography(h, img.w, img.h)
        if cam is not None:
            free = _Fit(_quality(h, img), cam, h, True, True)
    if free is not None and not _on_grass(free.homography, img):
        free = None
    last = float(state.get("quality", 0.0))
    if free is not None and free.quality >= last - _TRACK_SLIP:
        return free
    cam = _camera_from_state(saved, img)
    if centre is not None:
        cam = cam.moved_keeping_view(centre)
    cam, _ = fit_camera(cam, img.pixels, FEATURES, _radii(img, (8.0, 5.0, 3.0)), steps=1)
    turned = _Fit(_quality(cam.homography(), img), cam, cam.homography(), True, True)
    if not _on_grass(turned.homography, img):
        return free
    return free if free is not None and free.quality >= turned.quality else turned


def _finished(cam: Camera, img: LineEvidence, trusted: bool) -> _Fit:
    """The fit to report for a camera found afresh: its homography refitted freely when that
    stays a camera (``_FREE_DISTORTION``), else its own. Where distance and focal length trade
    off (a narrow view) the camera's fit settles anywhere along that valley, a little off; the
    free refit takes up the rest."""
    h = cam.homography()
    free = _polish(h, img, (5.0, 3.0))
    if camera_distortion(free, img.w, img.h) <= _FREE_DISTORTION:
        h = free
    return _Fit(_quality(h, img), cam, h, False, trusted)


def forget(state: dict[str, Any]) -> None:
    """Drop the camera :func:`register` tracks in ``state``, so the next frame searches
    afresh (say, after a frame with no pitch in it)."""
    state["camera"] = state["homography"] = None
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
    h: npt.NDArray[np.float64],
    img: LineEvidence,
    centre: npt.NDArray[np.float64] | None,
    trusted: bool = False,
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
    if cam.centre[2] <= 0 or (cam.centre[1] > 0 and not trusted):
        return None  # below the pitch, or not on the near side (see the module's docstring)
    if centre is not None:
        reach = float(np.linalg.norm(cam.centre[:2] - (52.5, 34.0)))
        if np.linalg.norm(cam.centre - centre) > _CENTRE_TOLERANCE * reach:
            return None
        cam, _ = fit_camera(
            cam.moved_keeping_view(centre), img.pixels, FEATURES, _radii(img, (3.0,))
        )
    return cam


def _search(img: LineEvidence) -> list[npt.NDArray[np.float64]]:
    """Hypothesise line-to-marking correspondences, keep the few whose markings best cover the
    line mask, and polish them. Returns candidate homographies, best first."""
    s = img.s
    if cv2.countNonZero(img.mask) > _MOST_LINE_SHARE * img.mask.size:
        return []  # a net's or a fence's mesh: too many line pixels to tell markings apart
    segs = cv2.HoughLinesP(
        img.straight_mask, 1, np.pi / 360, max(20, round(30 * s)),
        minLineLength=max(15, round(25 * s)), maxLineGap=max(3, round(6 * s)),
    )  # fmt: skip
    if segs is None:
        return []
    segs = longest_segments(np.asarray(segs[:, 0, :], np.float64), _MOST_SEGMENTS)
    lines = [
        ln
        for ln in merge_segments(segs, 2.0, 5.0 * s)[:12]
        if ln.support >= 40 * s and sagitta(ln, img.straight_pixels, 4.0 * s) <= 0.9 * s
    ]
    along, across = group_families(lines)
    out = []
    # The circle's few hypotheses are ranked apart from the lines' thousands, so that a view
    # whose lines are ambiguous still tries its circle.
    for hyps, kept in (
        (_line_hypotheses(lines, along[:4], across[: 4 if len(lines) <= 5 else 3], img), 6),
        (circle_hypotheses(img, lines, along[:2], across[:3]), 2),
    ):
        hs = np.asarray(hyps).reshape(-1, 3, 3)
        # Hypotheses no camera could make are dropped before scoring (most of them are).
        hs = hs[camera_distortions(hs, img.w, img.h) <= _HYPOTHESIS_DISTORTION]
        if len(hs) == 0:
            continue
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
