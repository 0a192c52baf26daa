"""Accuracy and speed of the football plugins, measured against synthetic ground truth.

:func:`evaluate` renders synthetic matches (:func:`realtime_nb.synthetic.synthetic_match`) for
several seeds and knob settings, runs ``pitch_detection``, ``player_detection``,
``ball_detection`` and ``radar`` over them as the runner does, and scores the results against
each frame's truth (the truth is read here only, never by the plugins); it then times every
plugin on one core. :func:`format_table` prints the report as
markdown. The ``realtime-nb eval`` command is :func:`add_eval_parser` plus
:func:`run_eval_command`.

Example:
    >>> report = evaluate(seeds=[21], knob_settings=[{}], seconds=0.4, fps_sizes=())
    >>> 0.0 <= report.overall().recall <= 1.0
    True
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from realtime_nb.plugins.base import Frame, Plugin, PluginContext
from realtime_nb.plugins.radar import ground_point, to_pitch
from realtime_nb.plugins.registry import default_registry
from realtime_nb.synthetic import FrameTruth, synthetic_match

__all__ = [
    "DEFAULT_KNOB_SETTINGS",
    "DEFAULT_SEEDS",
    "FOOTBALL_PLUGINS",
    "ClipScore",
    "EvalReport",
    "Scores",
    "add_eval_parser",
    "evaluate",
    "format_table",
    "run_eval_command",
    "score_frame",
    "time_plugins",
]

FOOTBALL_PLUGINS = ("pitch_detection", "player_detection", "ball_detection", "radar")
"""The plugins whose accuracy is scored, in pipeline order."""
DEFAULT_SEEDS = (101, 202, 303)
"""Seeds the plugins were not tuned on (tuning used seeds 0 to 12)."""
DEFAULT_KNOB_SETTINGS: tuple[dict[str, Any], ...] = (
    {},
    {"noise": 6.0, "blur": 3},
    {"lighting": 0.6, "stripes": False},
    {"lighting": 1.4, "pan": 40.0},
    {"blur": 5},
)
"""The default knobs first (the targets apply to it), then harder settings."""

IOU_THRESHOLD = 0.5
CORNER_MARGIN_PX = 8.0
"""Truth corners closer than this to the frame's edge are not scored (half cut by the edge)."""
CORNER_MATCH_PX = 20.0
"""A detected corner further than this from a truth corner does not count as finding it."""
BALL_MATCH_PX = 6.0
"""A ball reported further than this from the true centre is not counted as found."""


@dataclass
class Scores:
    """Counts and errors accumulated over frames (``+=`` adds another one).

    Attributes:
        true_pos: Detections matched one-to-one to a truth person at IoU >= 0.5.
        false_pos: Detections matched to no truth person.
        false_neg: Truth persons matched by no detection.
        team_pairs: ``(truth team, detected team)`` of matched outfield players, per clip.
        ball_visible: Frames where the ball is visible.
        ball_found: Of those, frames with a ball reported within 6 px of the truth.
        ball_errors: Centre error (px) on every visible-ball frame with a ball reported.
        corners_visible: Truth pitch corners in the frame (away from its edge).
        corners_found: Of those, corners with a detected corner within 20 px.
        corner_errors: Distance (px) to the nearest detected corner, for the found ones.
        pitch_frames: Frames pitch_detection ran on.
        homography_frames: Of those, frames with a homography.
        homography_errors: Metres between the true pitch position of each visible person's
            feet and the one through the found homography (the homography's own error).
        radar_errors: Metres between radar's position of each detected person matched to a
            truth person and that person's true position (detection error included).
        frames: Frames scored.
    """

    true_pos: int = 0
    false_pos: int = 0
    false_neg: int = 0
    team_pairs: list[list[tuple[int, int | None]]] = field(default_factory=list)
    ball_visible: int = 0
    ball_found: int = 0
    ball_errors: list[float] = field(default_factory=list)
    corners_visible: int = 0
    corners_found: int = 0
    corner_errors: list[float] = field(default_factory=list)
    pitch_frames: int = 0
    homography_frames: int = 0
    homography_errors: list[float] = field(default_factory=list)
    radar_errors: list[float] = field(default_factory=list)
    frames: int = 0

    def __iadd__(self, other: Scores) -> Scores:
        self.true_pos += other.true_pos
        self.false_pos += other.false_pos
        self.false_neg += other.false_neg
        self.team_pairs.extend(other.team_pairs)
        self.ball_visible += other.ball_visible
        self.ball_found += other.ball_found
        self.ball_errors.extend(other.ball_errors)
        self.corners_visible += other.corners_visible
        self.corners_found += other.corners_found
        self.corner_errors.extend(other.corner_errors)
        self.pitch_frames += other.pitch_frames
        self.homography_frames += other.homography_frames
        self.homography_errors.extend(other.homography_errors)
        self.radar_errors.extend(other.radar_errors)
        self.frames += other.frames
        return self

    @property
    def precision(self) -> float:
        """Share of detections that match a truth person (1.0 with no detections)."""
        return _ratio(self.true_pos, self.true_pos + self.false_pos)

    @property
    def recall(self) -> float:
        """Share of truth persons found (1.0 with none to find)."""
        return _ratio(self.true_pos, self.true_pos + self.false_neg)

    @property
    def team_accuracy(self) -> float:
        """Share of matched outfield players given their team, the two ids being allowed to be
        swapped once per clip (a plugin names teams 0 and 1 in its own order). A player given
        no team counts as wrong."""
        right = total = 0
        for pairs in self.team_pairs:
            same = sum(t == d for t, d in pairs)
            swapped = sum(d is not None and t == 1 - d for t, d in pairs)
            right += max(same, swapped)
            total += len(pairs)
        return _ratio(right, total)

    @property
    def ball_rate(self) -> float:
        """Share of visible-ball frames where the ball was found."""
        return _ratio(self.ball_found, self.ball_visible)

    @property
    def ball_median_error(self) -> float | None:
        """Median centre error (px) where the ball is visible and reported, or None."""
        return statistics.median(self.ball_errors) if self.ball_errors else None

    @property
    def corner_rate(self) -> float:
        """Share of visible pitch corners found."""
        return _ratio(self.corners_found, self.corners_visible)

    @property
    def corner_median_error(self) -> float | None:
        """Median error (px) of the found pitch corners, or None when none was."""
        return statistics.median(self.corner_errors) if self.corner_errors else None

    @property
    def homography_rate(self) -> float:
        """Share of frames where pitch_detection found a homography."""
        return _ratio(self.homography_frames, self.pitch_frames)

    @property
    def homography_median_error(self) -> float | None:
        """Median position error (m) through the found homographies, or None."""
        return statistics.median(self.homography_errors) if self.homography_errors else None

    @property
    def homography_p95_error(self) -> float | None:
        """95th percentile of the position error (m) through the found homographies."""
        if not self.homography_errors:
            return None
        return float(np.percentile(self.homography_errors, 95))

    @property
    def radar_median_error(self) -> float | None:
        """Median error (m) of radar's player positions, or None when it placed nobody."""
        return statistics.median(self.radar_errors) if self.radar_errors else None


def _ratio(part: int, whole: int) -> float:
    return part / whole if whole else 1.0


@dataclass(frozen=True)
class ClipScore:
    """The scores of one clip.

    Attributes:
        seed: The clip's seed.
        knobs: The knobs it was rendered with (besides size and length).
        scores: What the plugins got right and wrong on it.
    """

    seed: int
    knobs: dict[str, Any]
    scores: Scores


@dataclass(frozen=True)
class EvalReport:
    """What :func:`evaluate` measured.

    Attributes:
        clips: One entry per (knob setting, seed).
        fps: Frames per second on one core, by plugin, then by size (``"640x360"``).
        width: Width of the scored clips.
        height: Height of the scored clips.
        seconds: Length of each scored clip.
    """

    clips: list[ClipScore]
    fps: dict[str, dict[str, float]]
    width: int
    height: int
    seconds: float

    def by_knobs(self) -> list[tuple[dict[str, Any], Scores]]:
        """Scores summed over seeds, one entry per knob setting, in evaluation order."""
        groups: dict[str, tuple[dict[str, Any], Scores]] = {}
        for clip in self.clips:
            key = json.dumps(clip.knobs, sort_keys=True)
            _, total = groups.setdefault(key, (clip.knobs, Scores()))
            total += clip.scores
        return list(groups.values())

    def overall(self, knobs: Mapping[str, Any] | None = None) -> Scores:
        """Scores summed over every clip, or over the clips rendered with ``knobs`` only."""
        total = Scores()
        for clip in self.clips:
            if knobs is None or clip.knobs == dict(knobs):
                total += clip.scores
        return total


# --- scoring ------------------------------------------------------------------------------------


def _iou(a: Sequence[float], b: Sequence[float]) -> float:
    """IoU of two inclusive pixel boxes ``(x1, y1, x2, y2)``."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]) + 1)
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]) + 1)
    inter = ix * iy
    area_a = (a[2] - a[0] + 1) * (a[3] - a[1] + 1)
    area_b = (b[2] - b[0] + 1) * (b[3] - b[1] + 1)
    return inter / (area_a + area_b - inter)


def _match_boxes(
    truths: Sequence[Sequence[float]], found: Sequence[Sequence[float]]
) -> list[tuple[int, int]]:
    """One-to-one (truth, detection) pairs at IoU >= 0.5, best overlaps first."""
    pairs = sorted(
        (
            (iou, i, j)
            for i, t in enumerate(truths)
            for j, d in enumerate(found)
            if (iou := _iou(t, d)) >= IOU_THRESHOLD
        ),
        reverse=True,
    )
    used_t: set[int] = set()
    used_d: set[int] = set()
    matched = []
    for _, i, j in pairs:
        if i not in used_t and j not in used_d:
            used_t.add(i)
            used_d.add(j)
            matched.append((i, j))
    return matched


def score_frame(
    truth: FrameTruth, results: Mapping[str, Mapping[str, Any]], width: int, height: int
) -> Scores:
    """Score one frame's plugin results against its truth.

    Args:
        truth: The frame's ground truth.
        results: Plugin name to that plugin's result for the frame; missing plugins score
            nothing for their part.
        width: Frame width, to skip corners at the frame's edge.
        height: Frame height.

    Returns:
        The frame's :class:`Scores`; its ``team_pairs`` holds one list (this frame's pairs).
    """
    scores = Scores(frames=1)
    pairs: list[tuple[int, int | None]] = []
    matched: list[tuple[int, int]] = []
    players = results.get("player_detection")
    if players is not None:
        detections = players.get("detections") or []
        matched = _match_boxes([p.box for p in truth.players], [d["box"] for d in detections])
        scores.true_pos = len(matched)
        scores.false_neg = len(truth.players) - len(matched)
        scores.false_pos = len(detections) - len(matched)
        for i, j in matched:
            person = truth.players[i]
            if person.role == "player" and person.team is not None:
                pairs.append((person.team, detections[j].get("team")))
    scores.team_pairs.append(pairs)
    ball_result = results.get("ball_detection")
    if ball_result is not None and truth.ball is not None:
        scores.ball_visible = 1
        ball = ball_result.get("ball")
        if ball is not None:
            error = float(np.hypot(*np.subtract(ball["center"], truth.ball.center)))
            scores.ball_errors.append(error)
            scores.ball_found = int(error <= BALL_MATCH_PX)
    feet = [ground_point(p.box) for p in truth.players]
    true_feet = to_pitch(_facing(truth.homography, feet), feet)
    _score_homography(scores, results, feet, true_feet)
    radar = results.get("radar") or {}
    placed = radar.get("players")
    if placed is not None:
        for i, j in matched:
            if j < len(placed) and placed[j].get("position") is not None:
                x, y = placed[j]["position"]
                scores.radar_errors.append(math.dist((x, y), true_feet[i]))
    pitch = results.get("pitch_detection")
    if pitch is not None:
        detected = pitch.get("detected_corners") or []
        for u, v in truth.pitch_corners:
            inside = CORNER_MARGIN_PX < u < width - CORNER_MARGIN_PX
            if not (inside and CORNER_MARGIN_PX < v < height - CORNER_MARGIN_PX):
                continue
            scores.corners_visible += 1
            nearest = min((float(np.hypot(u - x, v - y)) for x, y in detected), default=np.inf)
            if nearest <= CORNER_MATCH_PX:
                scores.corners_found += 1
                scores.corner_errors.append(nearest)
    return scores


def _score_homography(
    scores: Scores,
    results: Mapping[str, Mapping[str, Any]],
    feet: list[tuple[float, float]],
    true_feet: list[tuple[float, float]],
) -> None:
    """Add pitch_detection's homography figures: found or not, and the error it makes at the
    visible people's feet."""
    pitch = results.get("pitch_detection")
    if pitch is None:
        return
    scores.pitch_frames = 1
    homography = pitch.get("homography")
    if homography is None:
        return
    scores.homography_frames = 1
    try:
        found = to_pitch(homography, feet)
    except np.linalg.LinAlgError:
        return
    errors = (math.dist(a, b) for a, b in zip(found, true_feet, strict=True))
    # A person the homography puts behind the camera (NaN) is not placed, as radar does.
    scores.homography_errors.extend(e for e in errors if math.isfinite(e))


def _facing(homography: Sequence[Sequence[float]], feet: list[tuple[float, float]]) -> Any:
    """The truth homography with the sign that puts the people's feet in front of the camera
    (the renderer's matrix is only defined up to scale, sign included), which :func:`to_pitch`
    needs to tell points behind the camera."""
    h = np.asarray(homography, np.float64)
    if not feet:
        return h
    w = np.column_stack([feet, np.ones(len(feet))]) @ np.linalg.inv(h)[2]
    return h if np.median(w) >= 0 else -h


def _run_clip(plugins: list[Plugin], clip: Any) -> Scores:
    """Run the plugins in order over every frame of a synthetic clip and score it."""
    states: list[dict[str, Any]] = [{} for _ in plugins]
    for plugin in plugins:
        plugin.setup(clip.info)
    total = Scores()
    clip_pairs: list[tuple[int, int | None]] = []
    for index, frame in enumerate(clip):
        per_frame: dict[str, dict[str, Any]] = {}
        for plugin, state in zip(plugins, states, strict=True):
            ctx = PluginContext(index, f"f-{index:06d}", per_frame, state, clip.info)
            per_frame[plugin.name] = plugin.process(frame, ctx)
        frame_scores = score_frame(clip.truth[index], per_frame, clip.info.width, clip.info.height)
        clip_pairs.extend(frame_scores.team_pairs[0])
        frame_scores.team_pairs = []
        total += frame_scores
    total.team_pairs = [clip_pairs]
    return total


# --- timing -------------------------------------------------------------------------------------


def _with_requirements(name: str) -> list[str]:
    """``name`` after every plugin it requires, transitively, in a runnable order."""
    order: list[str] = []

    def visit(n: str) -> None:
        for req in default_registry.get(n).requires:
            visit(req)
        if n not in order:
            order.append(n)

    visit(name)
    return order


def time_plugins(
    names: Iterable[str], sizes: Iterable[tuple[int, int]], frames: int = 25, seed: int = 7
) -> dict[str, dict[str, float]]:
    """Frames per second of each plugin on one core (``cv2.setNumThreads(1)``).

    Each plugin runs after the plugins it requires, on frames of a synthetic match rendered
    beforehand; only its own ``process`` calls are timed.

    Args:
        names: Registered plugin names.
        sizes: ``(width, height)`` pairs to time at.
        frames: Frames timed per plugin and size.
        seed: Seed of the clip timed on.

    Returns:
        Plugin name to ``{"WxH": fps}``.
    """
    names = list(names)
    out: dict[str, dict[str, float]] = {name: {} for name in names}
    threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        for width, height in sizes:
            clip = synthetic_match(
                seconds=frames / 25, fps=25, width=width, height=height, seed=seed
            )
            rendered = list(clip)
            for name in names:
                pipeline = [default_registry.get(n)() for n in _with_requirements(name)]
                out[name][f"{width}x{height}"] = _time_one(pipeline, rendered, clip.info)
    finally:
        cv2.setNumThreads(threads)
    return out


def _time_one(pipeline: list[Plugin], frames: list[Frame], info: Any) -> float:
    """FPS of the last plugin of ``pipeline`` over ``frames``."""
    states: list[dict[str, Any]] = [{} for _ in pipeline]
    for plugin in pipeline:
        plugin.setup(info)
    spent = 0.0
    for index, frame in enumerate(frames):
        per_frame: dict[str, dict[str, Any]] = {}
        for k, (plugin, state) in enumerate(zip(pipeline, states, strict=True)):
            ctx = PluginContext(index, f"f-{index:06d}", per_frame, state, info)
            start = time.perf_counter()
            per_frame[plugin.name] = plugin.process(frame, ctx)
            if k == len(pipeline) - 1:
                spent += time.perf_counter() - start
    return len(frames) / spent if spent > 0 else float("inf")


# --- the evaluation -----------------------------------------------------------------------------


def evaluate(
    seeds: Iterable[int] = DEFAULT_SEEDS,
    knob_settings: Iterable[Mapping[str, Any]] = DEFAULT_KNOB_SETTINGS,
    width: int = 640,
    height: int = 360,
    seconds: float = 4.0,
    *,
    fps_sizes: Iterable[tuple[int, int]] = ((640, 360), (1280, 720)),
    fps_plugins: Iterable[str] | None = None,
    fps_frames: int = 25,
) -> EvalReport:
    """Score the football plugins on synthetic clips and time the plugins on one core.

    Args:
        seeds: Seeds of the clips; each knob setting is rendered with every seed.
        knob_settings: Knobs of :func:`synthetic_match` besides size and length (``{}`` for the
            defaults).
        width: Width of the scored clips.
        height: Height of the scored clips.
        seconds: Length of each scored clip.
        fps_sizes: Sizes to time the plugins at; empty to skip timing.
        fps_plugins: Plugins to time (default: every registered plugin).
        fps_frames: Frames timed per plugin and size.

    Returns:
        An :class:`EvalReport`.

    Raises:
        realtime_nb.synthetic.SyntheticParamError: A knob is unknown or out of bounds.
    """
    seeds = list(seeds)
    clips = []
    for knobs in knob_settings:
        for seed in seeds:
            clip = synthetic_match(seconds, 25, width, height, seed, **dict(knobs))
            plugins = [default_registry.get(n)() for n in FOOTBALL_PLUGINS]
            clips.append(ClipScore(seed, dict(knobs), _run_clip(plugins, clip)))
    sizes = list(fps_sizes)
    fps: dict[str, dict[str, float]] = {}
    if sizes:
        names = list(fps_plugins) if fps_plugins is not None else default_registry.names()
        fps = time_plugins(names, sizes, fps_frames)
    return EvalReport(clips, fps, width, height, seconds)


def _knob_label(knobs: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in knobs.items()) or "defaults"


def _px(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _m(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def format_table(report: EvalReport) -> str:
    """The report as markdown: an accuracy table per knob setting and a speed table.

    Args:
        report: What :func:`evaluate` returned.

    Returns:
        Markdown text (two tables with a line of context each).
    """
    seeds = sorted({c.seed for c in report.clips})
    lines = [
        f"Accuracy on synthetic matches, {report.width}x{report.height}, {report.seconds:g} s "
        f"per clip, seeds {', '.join(map(str, seeds))} (IoU >= {IOU_THRESHOLD}):",
        "",
        "| knobs | player P | player R | team acc | ball found | ball err px "
        "| corners found | corner err px | homography | H err m (median / p95) "
        "| radar err m |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for knobs, s in report.by_knobs():
        lines.append(
            f"| {_knob_label(knobs)} | {s.precision:.3f} | {s.recall:.3f} "
            f"| {s.team_accuracy:.3f} | {s.ball_rate:.1%} | {_px(s.ball_median_error)} "
            f"| {s.corners_found}/{s.corners_visible} | {_px(s.corner_median_error)} "
            f"| {s.homography_rate:.1%} | {_m(s.homography_median_error)} / "
            f"{_m(s.homography_p95_error)} | {_m(s.radar_median_error)} |"
        )
    if report.fps:
        sizes = sorted({size for v in report.fps.values() for size in v}, key=_area)
        lines += [
            "",
            "Frames per second on one core (cv2.setNumThreads(1)), each plugin's own time:",
            "",
            "| plugin | " + " | ".join(sizes) + " |",
            "|---|" + "---|" * len(sizes),
        ]
        for name, by_size in report.fps.items():
            cells = " | ".join(f"{by_size[s]:.0f}" if s in by_size else "-" for s in sizes)
            lines.append(f"| {name} | {cells} |")
    return "\n".join(lines) + "\n"


def _area(size: str) -> int:
    w, h = size.split("x")
    return int(w) * int(h)


# --- command line -------------------------------------------------------------------------------


def add_eval_parser(subparsers: Any) -> None:
    """Add the ``eval`` sub-command to an ``argparse`` sub-parsers object.

    Args:
        subparsers: What ``ArgumentParser.add_subparsers()`` returned.
    """
    ev = subparsers.add_parser(
        "eval", help="measure the football plugins on synthetic clips and print a table"
    )
    ev.add_argument("--seeds", default=",".join(map(str, DEFAULT_SEEDS)), help="e.g. 101,202")
    ev.add_argument("--seconds", type=float, default=4.0, help="length of each clip")
    ev.add_argument("--width", type=int, default=640)
    ev.add_argument("--height", type=int, default=360)
    ev.add_argument(
        "--knobs",
        action="append",
        type=json.loads,
        default=None,
        metavar="JSON",
        help="a knob setting as JSON, e.g. '{\"noise\": 6}'; repeatable (default: four settings)",
    )
    ev.add_argument("--no-fps", action="store_true", help="skip the timing table")
    ev.add_argument("--json", action="store_true", help="print the raw figures as JSON too")


def run_eval_command(args: argparse.Namespace) -> int:
    """Run ``realtime-nb eval`` with parsed arguments; print the table. Returns 0."""
    seeds = [int(s) for s in str(args.seeds).split(",") if s.strip()]
    report = evaluate(
        seeds,
        args.knobs if args.knobs else DEFAULT_KNOB_SETTINGS,
        args.width,
        args.height,
        args.seconds,
        fps_sizes=() if args.no_fps else ((640, 360), (1280, 720)),
    )
    print(format_table(report), end="")
    if args.json:
        names = ["precision", "recall", "team_accuracy", "ball_rate", "ball_median_error"]
        names += ["corner_rate", "corner_median_error", "homography_rate"]
        names += ["homography_median_error", "homography_p95_error", "radar_median_error"]
        figures = [{"knobs": k, **{n: getattr(s, n) for n in names}} for k, s in report.by_knobs()]
        print(json.dumps({"accuracy": figures, "fps": report.fps}, indent=1))
    return 0
