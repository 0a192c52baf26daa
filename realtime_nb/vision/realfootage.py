"""The real-footage evaluation set, ``realtime-nb eval --real``: face and people detectors scored
on real photographs moved and compressed into clips whose boxes are known (the clips:
:mod:`realtime_nb.vision.realfootage_clips`, whose names this module also exports).

:func:`evaluate_real` runs face and people detectors over every clip and compression level and
reports precision, recall (IoU >= 0.5, one-to-one) and frames per second;
:func:`format_real_table` prints it as markdown.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import cv2

from realtime_nb.core.geometry import box_iou
from realtime_nb.vision.plugins.base import Plugin, PluginContext
from realtime_nb.vision.realfootage_clips import (
    COMPRESSIONS,
    SUBJECTS,
    Box,
    Compression,
    MissingPhotoError,
    RealClip,
    Subject,
    load_photo,
    real_clip,
)

__all__ = [
    "COMPRESSIONS",
    "DEFAULT_REAL_SEEDS",
    "IOU_THRESHOLD",
    "SUBJECTS",
    "Compression",
    "DetectorScore",
    "MissingPhotoError",
    "RealClip",
    "RealReport",
    "Subject",
    "default_detectors",
    "evaluate_real",
    "format_real_table",
    "load_photo",
    "real_clip",
    "run_real_eval_command",
    "score_boxes",
]


IOU_THRESHOLD = 0.5
"""Least IoU at which a reported box matches a true one (one-to-one)."""


@dataclass
class DetectorScore:
    """Counts of one detector over clips (``+=`` adds another).

    Attributes:
        true_pos: Reported boxes matched one-to-one to a true box at IoU >= 0.5.
        false_pos: Reported boxes matched to none.
        false_neg: True boxes matched by none.
        frames: Frames scored.
        seconds: Time spent in the detector's ``process`` over those frames.
    """

    true_pos: int = 0
    false_pos: int = 0
    false_neg: int = 0
    frames: int = 0
    seconds: float = 0.0

    def __iadd__(self, other: DetectorScore) -> DetectorScore:
        self.true_pos += other.true_pos
        self.false_pos += other.false_pos
        self.false_neg += other.false_neg
        self.frames += other.frames
        self.seconds += other.seconds
        return self

    @property
    def precision(self) -> float:
        """Share of reported boxes that are right (1.0 when nothing was reported)."""
        reported = self.true_pos + self.false_pos
        return self.true_pos / reported if reported else 1.0

    @property
    def recall(self) -> float:
        """Share of true boxes found."""
        truth = self.true_pos + self.false_neg
        return self.true_pos / truth if truth else 1.0

    @property
    def fps(self) -> float:
        """Frames per second of the detector alone."""
        return self.frames / self.seconds if self.seconds > 0 else float("inf")


def score_boxes(
    reported: Sequence[Sequence[float]], truth: Sequence[Sequence[float]]
) -> DetectorScore:
    """Match reported boxes to true ones greedily by IoU (>= 0.5), one to one.

    Example:
        >>> s = score_boxes([[0, 0, 9, 9], [50, 50, 60, 60]], [[1, 0, 10, 9]])
        >>> s.true_pos, s.false_pos, s.false_neg
        (1, 1, 0)
    """
    pairs = sorted(
        (
            (iou, r, t)
            for r, rbox in enumerate(reported)
            for t, tbox in enumerate(truth)
            if (iou := box_iou(list(rbox), list(tbox))) >= IOU_THRESHOLD
        ),
        reverse=True,
    )
    used_r: set[int] = set()
    used_t: set[int] = set()
    for _, r, t in pairs:
        if r not in used_r and t not in used_t:
            used_r.add(r)
            used_t.add(t)
    tp = len(used_r)
    return DetectorScore(tp, len(reported) - tp, len(truth) - tp, 1)


def run_detector(plugin: Plugin, clip: RealClip, truth: list[list[Box]]) -> DetectorScore:
    """Run one detector plugin over a clip (timing its ``process`` only) and score it."""
    plugin.setup(clip.info)
    state: dict[str, Any] = {}
    total = DetectorScore()
    for index, frame in enumerate(clip.frames):
        ctx = PluginContext(index, f"f-{index:06d}", {}, state, clip.info)
        start = time.perf_counter()
        result = plugin.process(frame, ctx)
        spent = time.perf_counter() - start
        boxes = [d["box"] for d in result.get("detections") or []]
        score = score_boxes(boxes, truth[index])
        score.seconds = spent
        total += score
    return total


# --- the evaluation -----------------------------------------------------------------------------

DetectorFactory = Callable[[], Plugin]


@dataclass
class RealReport:
    """What :func:`evaluate_real` measured.

    Attributes:
        scores: ``(kind, detector label, compression name)`` to its summed score.
        compressions: The compressions, in order.
        clips: Clip names scored.
        frames: Frames per clip.
    """

    scores: dict[tuple[str, str, str], DetectorScore] = field(default_factory=dict)
    compressions: list[Compression] = field(default_factory=list)
    clips: list[str] = field(default_factory=list)
    frames: int = 0

    def get(self, kind: str, detector: str, compression: str) -> DetectorScore:
        """The score of ``detector`` (a ``kind``: ``"face"`` or ``"people"``) at a level."""
        return self.scores[(kind, detector, compression)]

    def by_severity(self, kind: str, detector: str, severity: str) -> DetectorScore:
        """The score summed over the compressions of one severity."""
        total = DetectorScore()
        for c in self.compressions:
            if c.severity == severity:
                total += self.scores[(kind, detector, c.name)]
        return total


def default_detectors() -> dict[str, dict[str, DetectorFactory]]:
    """The detectors scored by default: each face and people model that ships, by label."""
    from realtime_nb.vision.plugins.faces import FaceDetection
    from realtime_nb.vision.plugins.people import PeopleDetection

    return {
        "face": {
            "face_detection (blazeface, default)": lambda: FaceDetection(model="blazeface"),
            "face_detection (mtcnn)": lambda: FaceDetection(model="mtcnn"),
            "face_detection (haar)": lambda: FaceDetection(model="haar"),
        },
        "people": {
            "people_detection (hog, default)": lambda: PeopleDetection(),
            "people_detection (hog-classic)": lambda: PeopleDetection(model="hog-classic"),
        },
    }


DEFAULT_REAL_SEEDS = (11, 12)
"""Paths scored by default; the face detector's thresholds were chosen on seeds 1 and 2."""


def evaluate_real(
    seeds: Iterable[int] = DEFAULT_REAL_SEEDS,
    compressions: Iterable[Compression] = COMPRESSIONS,
    frames: int = 60,
    subjects: Iterable[Subject] = SUBJECTS,
    detectors: dict[str, dict[str, DetectorFactory]] | None = None,
) -> RealReport:
    """Score face and people detectors on the real-footage set, one core.

    Args:
        seeds: Paths to move each subject along (one clip per subject and seed).
        compressions: Levels to compress every clip at.
        frames: Frames per clip (640x360, 25 fps).
        subjects: The portraits.
        detectors: ``{"face": {label: factory}, "people": {...}}``; default
            :func:`default_detectors`.

    Raises:
        MissingPhotoError: A package the set needs is not installed.
    """
    detectors = detectors if detectors is not None else default_detectors()
    compressions = list(compressions)
    report = RealReport(compressions=compressions, frames=frames)
    threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        for subject in subjects:
            for seed in seeds:
                for compression in compressions:
                    clip = real_clip(subject, seed, frames, compression)
                    report.clips.append(clip.name)
                    for kind, by_label in detectors.items():
                        truth = clip.faces if kind == "face" else clip.people
                        for label, factory in by_label.items():
                            key = (kind, label, compression.name)
                            score = report.scores.setdefault(key, DetectorScore())
                            score += run_detector(factory(), clip, truth)
    finally:
        cv2.setNumThreads(threads)
    return report


def format_real_table(report: RealReport) -> str:
    """The report as markdown: one row per detector and compression level."""
    lines = [
        f"Real-footage set: {len(report.clips)} clips of {report.frames} frames at 640x360 "
        "(real portraits moved, zoomed, rotated, occluded, then compressed), IoU >= 0.5, "
        "one core:",
        "",
        "| detector | compression | precision | recall | false boxes / frame | fps |",
        "|---|---|---|---|---|---|",
    ]
    labels = list(dict.fromkeys((k, d) for k, d, _ in report.scores))
    for kind, label in labels:
        for c in report.compressions:
            s = report.scores.get((kind, label, c.name))
            if s is not None:
                lines.append(
                    f"| {label} | {c.name} | {s.precision:.3f} | {s.recall:.3f} "
                    f"| {s.false_pos / max(1, s.frames):.2f} | {s.fps:.1f} |"
                )
    return "\n".join(lines) + "\n"


def run_real_eval_command(args: Any) -> int:
    """``realtime-nb eval --real``: print the real-footage table (``--real-seeds``, the clips;
    :data:`DEFAULT_REAL_SEEDS` when it is None or missing; ``--json``).

    Returns:
        0, or 2 when a package the set needs is missing (the message says which).
    """
    import json
    import sys

    given = getattr(args, "real_seeds", None)
    seeds = (
        list(DEFAULT_REAL_SEEDS)
        if given is None
        else [int(s) for s in str(given).split(",") if s.strip()]
    )
    try:
        report = evaluate_real(seeds=seeds)
    except MissingPhotoError as exc:
        print(f"realtime-nb eval --real: {exc}", file=sys.stderr)
        return 2
    print(format_real_table(report), end="")
    if args.json:
        figures = [
            {
                "kind": kind,
                "detector": label,
                "compression": comp,
                "precision": s.precision,
                "recall": s.recall,
                "true_pos": s.true_pos,
                "false_pos": s.false_pos,
                "false_neg": s.false_neg,
                "frames": s.frames,
                "fps": s.fps,
            }
            for (kind, label, comp), s in report.scores.items()
        ]
        print(json.dumps({"real_footage": figures}, indent=1))
    return 0
