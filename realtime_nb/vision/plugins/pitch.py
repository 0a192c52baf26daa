"""The pitch with classic OpenCV: the largest green region, its white lines, and its corners.

Example:
    >>> from realtime_nb.vision.plugins import PluginContext
    >>> from realtime_nb.vision.synthetic import synthetic_match
    >>> clip = synthetic_match(seconds=1, seed=1)
    >>> ctx = PluginContext(0, "f-000000", {}, {}, clip.info)
    >>> result = PitchDetection().process(clip.frame(0), ctx)
    >>> result["coverage"] > 0.5
    True
"""

from __future__ import annotations

import math
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from realtime_nb.vision.plugins.base import Frame, Plugin, PluginContext, bgr_metadata
from realtime_nb.vision.plugins.grass import (
    Mask,
    Points,
    green_of_planes,
    hsv_planes,
    kernel,
    pitch_hull,
    polygon_mask,
    warn_once,
)
from realtime_nb.vision.plugins.pitch_model import clip_pieces, project, project_pieces
from realtime_nb.vision.plugins.pitch_registration import (
    FEATURES,
    PITCH_CORNERS,
    LineEvidence,
    forget,
    junctions,
    register,
)

__all__ = ["FALLBACK_WARNING", "PitchDetection"]

FALLBACK_WARNING = "corners not detected, using fallback"
"""Warning (severity low) of pitch_detection when it finds no homography (the issue's wording:
neither four corners nor enough other markings)."""


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
    the line mask, and the best is refined by fitting the markings to the line pixels. A fit
    is reported only if a real camera could have made it (square pixels, principal point at
    the image centre, above the pitch and behind the near touchline) and, found afresh before
    the camera's position is known, with quality at least 0.75: better no homography than a
    wrong one. Later frames start from the previous frame's homography and only refit it
    (or, where that drifts, turn and zoom the camera from where it stands), with a full
    search when that no longer fits, and every 5 frames while the tracked fit's quality is
    under 0.97 (a search's fit 0.03 better replaces it: tracking keeps whatever fit it started
    from, and on narrow views a wrong one can score 0.9). ``quality`` (0..1) is the final fit's
    F-measure of markings on line pixels and line pixels on markings; ``tracked`` says whether
    the homography was carried over from the previous frame. When all four outer corners are
    detected, their homography (refitted to the lines) is one more candidate, kept only if its
    ``quality`` beats the tracked or searched fit. Nothing reads how the
    footage was made: only the frame and this plugin's own state from earlier frames.

    ``intersections`` are the markings' junctions (corners, T- and L-junctions) the homography
    puts on line pixels in view, image point with pitch point. ``detected_corners`` are corners
    of the outermost white lines found in the image, and the pitch corners the homography puts
    on white line with line along both of their lines (at small sizes a faint goal line rarely
    makes the lines' outline turn); ``corners`` are the pitch corners in the
    image through the homography (possibly outside the frame; one behind the camera is left
    out), or without one the pitch polygon's bounding quad. Without a homography ``fallback``
    is True and the warning "corners not detected, using fallback" (low) is raised once per
    such episode.
    """

    name = "pitch_detection"
    history_frames = None  # the homography tracked frame to frame
    metadata = bgr_metadata(
        "opencv-line-model-registration",
        0.5,
        ["pitch_polygon", "pitch_lines", "pitch_corners", "homography"],
    )

    def process(self, frame: Frame, ctx: PluginContext) -> dict[str, Any]:
        """Find the pitch polygon, its lines and the pitch-to-image homography."""
        h, w = frame.shape[:2]
        hsv = np.asarray(cv2.cvtColor(frame, cv2.COLOR_BGR2HSV), np.uint8)
        planes = hsv_planes(hsv)
        # player_detection reads the same HSV image and planes (ctx.images).
        ctx.share_image("hsv", hsv)
        for name, plane in zip(("hue", "saturation", "value"), planes, strict=True):
            ctx.share_image(name, plane)
        green = green_of_planes(*planes)
        hull = pitch_hull(green)
        if hull is None:
            forget(ctx.state)
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
        grass_mean = cv2.mean(hsv, mask=green)
        inside = np.asarray(
            cv2.erode(polygon_mask((h, w), hull), kernel(max(3, w // 100))), np.uint8
        )
        # Grass without the specks that noise makes of the stands (which can take the hull
        # over the whole frame): what registration maps back onto a fit's pitch.
        solid = cv2.bitwise_and(cv2.erode(green, kernel(3)), inside)
        # The two masks differ only in where a marking can be (_amid_grass): the pixels that
        # look like line paint are worked out once for both.
        paint = _line_paint(hsv, planes, green, inside, grass_mean)
        grass_v = grass_mean[2]
        lines = _amid_long_pieces(paint, planes, green, inside, grass_v)
        image = LineEvidence(
            lines,
            inside,
            grass=np.asarray(solid, np.uint8),
            # Under 640 wide the boards' hue is not read, and the two masks are the same.
            straight=(
                (lambda: _amid_long_pieces(paint, planes, green, inside, grass_v, False))
                if w >= 640
                else None
            ),
        )
        detected = _outer_corners(image.mask, image.near, w, h)
        homography, quality, tracked = register(image, ctx.state, detected)
        if homography is not None:
            ctx.state["fallback_warned"] = False
            corners = [
                (float(x), float(y))
                for x, y in project(homography, PITCH_CORNERS)
                if math.isfinite(x)  # a corner behind the camera has no image
            ]
            used = junctions(homography, image)
            detected = _with_corners_on_lines(detected, homography, image.near)
        else:
            warn_once(ctx, "fallback_warned", FALLBACK_WARNING, "low")
            corners = _bounding_quad(hull, w, h)
            used = []
        return {
            "pitch_polygon": [[int(x), int(y)] for x, y in polygon],
            "coverage": round(float(cv2.contourArea(hull)) / (w * h), 4),
            "homography": None if homography is None else _rounded(homography),
            "quality": round(quality, 3),
            "tracked": tracked,
            "intersections": used,
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
            h, w = frame.shape[:2]
            ends = project_pieces(np.asarray(homography, np.float64), FEATURES.ends)
            ends = clip_pieces(ends, w, h, 2.0)
            for a, b in ends[np.isfinite(ends).all(axis=(1, 2))]:
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


_BOARD_BRIGHTER = 60
"""Green this much brighter (HSV value) than the grass's mean is taken for something else
(an advertising board in a green livery beyond the far touchline, say), not grass."""


_BOARD_HUE = 15
"""From 640 wide, green whose hue is this far (OpenCV's 0-180 hue) from the grass's is taken for a
board (a teal or green livery beyond the far touchline), not grass: counted as grass, it gave
the board's lower edge grass on both sides, and a far touchline too faint for the mask was
fitted there, 3 to 6 px above the true one (every such frame of broadcast tuning clip 306, most
of 607's, part of 300's, 301's and 443's). Grass in a shade that shifts its hue further is taken
for a board too (its lines then need grass on both sides in the shade). Asking a board to be no
darker than the grass, to keep such a shade, lost seed 306's fix: the board's lower rows are
dim. Not below 640 wide: on 320x180 JPEG 30 and 45 tuning looks more frames took a homography
over 1 m off with it (in a first version that also dropped pale board faces: 1 -> 32 and 5 ->
20)."""


def _amid_grass(
    value: Mask, green: Mask, inside: Mask, grass_v: float, hue: Mask | None = None
) -> Mask:
    """Pixels where a marking can be: with grass within a few pixels on both sides (above and
    below, or left and right); or, at the edge of the pitch's hull, on one side, with no board
    green near.

    Grass is green not much brighter than the grass's mean; green brighter than that
    (``_BOARD_BRIGHTER``) is board green, an advertising board in a green livery, say. The
    hull takes in such boards beyond the far touchline, and their lettering was a quarter to a
    half of a right fit's line pixels on broadcast views. A far touchline with a board of
    another colour right behind it has grass on one side only; so do a player's socks, which
    are away from the hull's edge (the frame's border is an edge too). Runs of grass count,
    not the crowd's green specks. Where the grass is so bright that nothing green can be 60
    brighter, green is not told from a board by its brightness.

    From 640 wide, given the frame's ``hue`` (full size), green more than :data:`_BOARD_HUE`
    off the grass's hue (the commonest hue of the green pixels, which a board filling much of
    the frame does not move as it moves a mean) is board green too.

    Worked out at half size from 640 wide: it asks where grass regions are, which a pixel of
    every four tells as well, in a third of the time. (A quarter size at 1280 wide saved no
    time: its coarser mask left more line pixels for the registration.)"""
    h, w = green.shape
    scale = 2 if w >= 640 else 1
    if scale > 1:
        value, green, inside = (np.ascontiguousarray(m[::2, ::2]) for m in (value, green, inside))
    run = max(3, math.ceil(5 * w / 640 / scale))
    reach = max(2, round(max(4, 14 * w / 640) / scale))
    grassy = np.full_like(green, 255)  # green of the grass, not of a board
    if hue is not None and scale > 1:
        hue = np.ascontiguousarray(hue[::2, ::2])
        peak = float(np.argmax(cv2.calcHist([hue], [0], green, [180], [0, 180])))
        cv2.inRange(hue, peak - _BOARD_HUE, peak + _BOARD_HUE, dst=grassy)
    if grass_v + _BOARD_BRIGHTER < 255:
        cv2.bitwise_and(grassy, cv2.inRange(value, 0, grass_v + _BOARD_BRIGHTER), dst=grassy)
    grass = np.asarray(cv2.bitwise_and(green, grassy), np.uint8)
    board = np.asarray(cv2.bitwise_and(green, cv2.bitwise_not(grassy)), np.uint8)
    both_sides, one_side = np.zeros_like(green), np.zeros_like(green)
    for run_kernel in (kernel(1, run), kernel(run, 1)):
        solid = cv2.erode(grass, run_kernel)
        across = kernel(1, reach) if run_kernel.shape[0] > 1 else kernel(reach, 1)
        before = cv2.dilate(solid, across, anchor=(across.shape[1] - 1, across.shape[0] - 1))
        after = cv2.dilate(solid, across, anchor=(0, 0))
        cv2.bitwise_or(both_sides, cv2.bitwise_and(before, after), dst=both_sides)
        cv2.bitwise_or(one_side, cv2.bitwise_or(before, after), dst=one_side)
    # The hull's edge, the frame's border included: off the pitch beyond it.
    edge = cv2.bitwise_not(
        cv2.erode(inside, kernel(2 * reach + 1), borderType=cv2.BORDER_CONSTANT, borderValue=0)
    )
    cv2.bitwise_and(one_side, edge, dst=one_side)
    near_board = cv2.dilate(cv2.erode(board, kernel(run)), kernel(2 * reach + 1))
    cv2.bitwise_and(one_side, cv2.bitwise_not(near_board), dst=one_side)
    out = np.asarray(cv2.bitwise_or(both_sides, one_side), np.uint8)
    if scale == 1:
        return out
    full = np.empty((h, w), np.uint8)  # each pixel of ``out`` over the 2x2 it came from
    for dy, dx in ((0, 0), (0, 1), (1, 0), (1, 1)):
        part = full[dy::2, dx::2]
        part[...] = out[: part.shape[0], : part.shape[1]]
    return full


def _line_mask(
    hsv: Frame,
    planes: tuple[Mask, Mask, Mask],
    green: Mask,
    inside: Mask,
    grass_mean: tuple[float, ...],
    hue_boards: bool = True,
) -> Mask:
    """White line pixels on the pitch, without specks and the ball (line pieces are long).

    A far line is thinner than a pixel and only lightens the grass, so a pixel counts when it is
    brighter than its surroundings and paler than the grass, not when it is pure white. In
    light so bright that the grass is near full value, a line cannot be brighter: there it
    counts when it is much paler than its surroundings and not darker than the grass. The
    contrast asked for falls in shade, and a pixel must be where a marking can be, amid grass
    (:func:`_amid_grass`). With ``hue_boards`` (from 640 wide), green off the grass's hue is
    board green; without, the mask the full search finds straight lines in
    (:attr:`LineEvidence.straight_mask`).
    """
    paint = _line_paint(hsv, planes, green, inside, grass_mean)
    return _amid_long_pieces(paint, planes, green, inside, grass_mean[2], hue_boards)


def _line_paint(
    hsv: Frame,
    planes: tuple[Mask, Mask, Mask],
    green: Mask,
    inside: Mask,
    grass_mean: tuple[float, ...],
) -> Mask:
    """The pixels of ``inside`` that look like line paint (:func:`_line_mask`), before the
    test of where a marking can be and before specks are dropped."""
    _, saturation, value = planes  # of hsv (:func:`hsv_planes`)
    _, grass_s, grass_v, _ = grass_mean  # cv2.mean of hsv over green
    around = cv2.morphologyEx(value, cv2.MORPH_OPEN, kernel(9))
    brighter = cv2.subtract(value, around)
    # A line in shade is as much brighter than its grass as shaded grass is darker than the
    # lit grass: the contrast asked for falls with the grass's value (not below 10, noise).
    need = cv2.convertScaleAbs(around, alpha=18 / max(grass_v, 1.0))
    need = cv2.min(cv2.max(need, np.full_like(need, 10)), np.full_like(need, 18))
    paler = cv2.inRange(saturation, 0, 0.85 * grass_s)
    wide = hsv.shape[1] >= 640
    if wide or grass_v >= 200:
        closed = cv2.morphologyEx(saturation, cv2.MORPH_CLOSE, kernel(9))
    if wide:
        # Or a little paler than the grass around it and than the mean: a faint far line on
        # grass more saturated than the mean (the lit part of a half-shaded pitch, a dark
        # stripe). Not in smaller frames, where compression's blocks dip the saturation as
        # much (320x180 at JPEG 40: a homography in 160 of 200 frames with it, 182 without).
        dip = cv2.inRange(cv2.subtract(closed, saturation), 0.12 * grass_s, 255)
        dip = cv2.bitwise_and(dip, cv2.inRange(saturation, 0, 0.95 * grass_s), dst=dip)
        paler = cv2.bitwise_or(paler, dip, dst=paler)
    bright_white = cv2.inRange(value, min(grass_v + 30, 250), 255)
    bright_white = cv2.bitwise_and(bright_white, cv2.inRange(saturation, 0, 60), dst=bright_white)
    grass_or_white = cv2.bitwise_or(green, bright_white)
    white = cv2.bitwise_and(cv2.compare(brighter, need, cv2.CMP_GE), paler)
    if grass_v >= 200:
        washed = cv2.inRange(cv2.subtract(closed, saturation), 0.35 * grass_s, 255)
        not_darker = cv2.inRange(value, grass_v - 25, 255)
        white = cv2.bitwise_or(white, cv2.bitwise_and(cv2.bitwise_and(washed, not_darker), paler))
    return np.asarray(cv2.bitwise_and(cv2.bitwise_and(white, grass_or_white), inside), np.uint8)


def _amid_long_pieces(
    paint: Mask,
    planes: tuple[Mask, Mask, Mask],
    green: Mask,
    inside: Mask,
    grass_v: float,
    hue_boards: bool = True,
) -> Mask:
    """:func:`_line_mask` from its ``paint`` (:func:`_line_paint`, left as it is): the pixels
    where a marking can be (:func:`_amid_grass`; the boards' hue read with ``hue_boards``), in
    pieces long enough for a line."""
    hue, _, value = planes
    amid = _amid_grass(value, green, inside, grass_v, hue if hue_boards else None)
    white = cv2.bitwise_and(paint, amid)
    # 16-bit labels are about three times as fast as 32-bit ones. Every blob has a pixel, so
    # a mask of fewer set pixels than 16 bits can number never overflows them (OpenCV before
    # 4.13 does not check, and corrupts memory); a mask of more (specks, noise) gets 32 bits.
    ltype = cv2.CV_16U if cv2.countNonZero(white) < 65535 else cv2.CV_32S
    _, labels, stats, _ = cv2.connectedComponentsWithStats(white, connectivity=8, ltype=ltype)
    min_len = max(10, paint.shape[1] // 60)
    keep = np.maximum(stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT]) >= min_len
    keep[0] = False
    lut = np.where(keep, 255, 0).astype(np.uint8)
    out: Mask = lut.take(np.asarray(labels))  # the same gather as lut[labels], 2.5x as fast
    return out


def _outer_corners(
    lines: Mask, near_lines: npt.NDArray[np.bool_], w: int, h: int
) -> list[tuple[float, float]]:
    """Corners of the outermost lines: vertices of the lines' convex hull that are not on the
    frame's border (where a line merely leaves the view), make a real turn, and have white line
    (``near_lines``: the line mask grown by a few pixels) along both hull edges (a curve's
    extreme point, say the centre circle's, has grass there)."""
    pts = cv2.findNonZero(lines)
    if pts is None or len(pts) < 30:
        return []
    hull = cv2.convexHull(pts)
    approx = cv2.approxPolyDP(hull, max(2.0, 0.008 * w), True).reshape(-1, 2).astype(float)
    margin = max(3.0, 0.01 * w)
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


_CORNER_ARMS = np.array([[[10, 0], [0, 10]], [[-10, 0], [0, 10]], [[-10, 0], [0, -10]],
                         [[10, 0], [0, -10]]], np.float64)  # fmt: skip
"""Pitch points 10 m along the two lines leaving each of :data:`PITCH_CORNERS`, from it."""


def _with_corners_on_lines(
    detected: list[tuple[float, float]],
    homography: npt.NDArray[np.float64],
    near_lines: npt.NDArray[np.bool_],
) -> list[tuple[float, float]]:
    """``detected`` and the pitch corners the homography puts inside the frame on white line,
    with line along both of the corner's lines as :func:`_outer_corners` asks (a corner the
    lines' hull misses: a speck of white beyond it, or at a small size a goal line too faint
    to make a turn). One within a few pixels of a detected corner is not added twice."""
    h_img, w_img = near_lines.shape
    margin = max(3.0, 0.01 * w_img)
    out = list(detected)
    for pitch_corner, arms in zip(PITCH_CORNERS, _CORNER_ARMS, strict=True):
        (x, y), a, b = project(homography, np.vstack([pitch_corner, pitch_corner + arms]))
        if not (np.isfinite([x, y, *a, *b]).all() and margin < x < w_img - 1 - margin
                and margin < y < h_img - 1 - margin):  # fmt: skip
            continue
        if not near_lines[int(y), int(x)]:
            continue
        if (
            min(_support(near_lines, (x, y), a - (x, y)), _support(near_lines, (x, y), b - (x, y)))
            < 0.5
        ):
            continue
        if all(math.dist((x, y), d) > 0.01 * w_img for d in out):
            out.append((float(x), float(y)))
    return out


def _support(
    lines: npt.NDArray[np.bool_], start: tuple[float, float], direction: npt.NDArray[np.float64]
) -> float:
    """Share of the first stretch from ``start`` along ``direction`` that lies on a line."""
    length = float(np.linalg.norm(direction))
    steps = np.arange(2.0, min(length, 40.0))
    if len(steps) < 3:
        return 1.0
    xs = np.clip(np.round(start[0] + steps * direction[0] / length), 0, lines.shape[1] - 1)
    ys = np.clip(np.round(start[1] + steps * direction[1] / length), 0, lines.shape[0] - 1)
    return float(np.mean(lines[ys.astype(int), xs.astype(int)] > 0))


def _bounding_quad(hull: Points, w: int, h: int) -> list[tuple[float, float]]:
    box = cv2.boxPoints(cv2.minAreaRect(hull))
    return [(float(np.clip(x, 0, w - 1)), float(np.clip(y, 0, h - 1))) for x, y in box]
