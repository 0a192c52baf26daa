"""A light multi-object tracker for the detector plugins, kept in ``ctx.state`` as plain data.

A detection takes over the track it overlaps most (after moving the track by its velocity); a
track missed for a few frames is kept, moved along its velocity and reported with
``"predicted": true``, so a detector's flicker (a head turning, a hand in front of a face) does
not lose it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from realtime_nb.core.geometry import box_iou

__all__ = ["IoUTracker", "TrackInput", "draw_tracks"]

Box = list[int]
TrackInput = tuple[Box, float] | tuple[Box, float, dict[str, Any]]
"""A detection for :meth:`IoUTracker.update`: box, confidence, and optional extra fields
(``landmarks``, ``label``) copied into the track's output while it is detected."""


class IoUTracker:
    """Track ids across frames by box overlap, with constant-velocity prediction.

    Args:
        state: The plugin's per-job state dict; the tracks live under ``"tracks"``.
        min_iou: Least overlap for a detection to continue a track.
        max_missed: Frames a track may go undetected before it is dropped.
        smoothing: Weight of the newest motion in the velocity estimate (0 disables it).
        min_hits: Detections a track needs before it is reported, unless one of them scored
            at least ``sure_score`` (a one-frame false alarm is never shown); a track is kept
            as predicted, when missed, only once it was reported.
        sure_score: Confidence at which a new track is reported at once.
        max_jump: A detection that does not overlap a track still continues it when their
            centres are closer than this many track widths and their sizes within 2x (a small
            object moving fast overlaps nothing between frames); 0 turns this off.

    Example:
        >>> state = {}
        >>> IoUTracker(state).update([([0, 0, 9, 9], 0.9)])[0]["track_id"]
        1
        >>> IoUTracker(state).update([([1, 0, 10, 9], 0.9)])[0]["track_id"]
        1
    """

    def __init__(
        self,
        state: dict[str, Any],
        min_iou: float = 0.3,
        max_missed: int = 2,
        smoothing: float = 0.0,
        min_hits: int = 1,
        sure_score: float = 1.0,
        max_jump: float = 0.0,
    ) -> None:
        self.state = state
        self.min_iou = min_iou
        self.max_missed = max_missed
        self.smoothing = smoothing
        self.min_hits = min_hits
        self.sure_score = sure_score
        self.max_jump = max_jump

    def update(
        self, detections: Sequence[TrackInput], bounds: tuple[int, int] | None = None
    ) -> list[dict[str, Any]]:
        """Match this frame's detections to the tracks.

        Args:
            detections: ``(box, confidence)`` or ``(box, confidence, extras)`` tuples.
            bounds: ``(width, height)`` of the frame: predicted boxes are kept inside it.

        Returns:
            One dict per live track (``box``, ``track_id``, ``confidence``, ``predicted`` and
            any extras), detected ones first; a missed track is moved along its velocity.
        """
        tracks: list[dict[str, Any]] = self.state.setdefault("tracks", [])
        for track in tracks:
            velocity = track.get("velocity") or [0.0] * 4
            track["expected"] = [b + v for b, v in zip(track["box"], velocity, strict=True)]
        pairs = sorted(
            (
                (overlap, t, d)
                for t, track in enumerate(tracks)
                for d, det in enumerate(detections)
                if (overlap := self._affinity(track["expected"], list(det[0]))) >= self.min_iou
                or overlap < 0
            ),
            reverse=True,
        )
        taken_t: set[int] = set()
        taken_d: set[int] = set()
        for _, t, d in pairs:
            if t in taken_t or d in taken_d:
                continue
            taken_t.add(t)
            taken_d.add(d)
            box, confidence = list(detections[d][0]), detections[d][1]
            extras = detections[d][2] if len(detections[d]) > 2 else {}  # type: ignore[misc]
            track = tracks[t]
            if self.smoothing > 0:
                moved = [
                    (n - o) / (track["missed"] + 1) for n, o in zip(box, track["box"], strict=True)
                ]
                old = track.get("velocity") or moved
                a = self.smoothing
                track["velocity"] = [a * m + (1 - a) * v for m, v in zip(moved, old, strict=True)]
            track.update(box=box, confidence=confidence, missed=0, extras=extras)
            track["hits"] = track.get("hits", 1) + 1
            track["shown"] = track.get("shown", False) or self._sure(track)
        for t, track in enumerate(tracks):
            if t not in taken_t:
                track["missed"] += 1
                track["box"] = _inside(track["expected"], bounds)
        for d, det in enumerate(detections):
            if d not in taken_d:
                next_id = self.state.get("next_id", 1)
                self.state["next_id"] = next_id + 1
                extras = det[2] if len(det) > 2 else {}
                track = {"box": list(det[0]), "confidence": det[1], "missed": 0, "id": next_id}
                track.update(extras=extras, hits=1)
                track["shown"] = self._sure(track)
                tracks.append(track)
        tracks[:] = [
            t for t in tracks if t["missed"] <= self.max_missed and (t["shown"] or not t["missed"])
        ]
        live = sorted((t for t in tracks if t["shown"]), key=lambda t: (t["missed"] > 0, t["id"]))
        return [_output(t, bounds) for t in live]

    def _affinity(self, track_box: Sequence[float], box: Sequence[float]) -> float:
        """IoU when the boxes overlap enough; else, when ``max_jump`` allows, minus the centre
        distance in track widths (so any overlap ranks first); else 0 (no match)."""
        overlap = box_iou(list(track_box), list(box))
        if overlap >= self.min_iou or self.max_jump <= 0:
            return overlap
        tw, th = track_box[2] - track_box[0] + 1, track_box[3] - track_box[1] + 1
        bw, bh = box[2] - box[0] + 1, box[3] - box[1] + 1
        if not 0.5 <= (bw * bh) / max(1.0, tw * th) <= 2.0:
            return 0.0
        dx = (box[0] + box[2] - track_box[0] - track_box[2]) / 2
        dy = (box[1] + box[3] - track_box[1] - track_box[3]) / 2
        jump = float(np.hypot(dx, dy)) / max(1.0, tw)
        return -jump if 0 < jump <= self.max_jump else 0.0

    def _sure(self, track: dict[str, Any]) -> bool:
        return bool(track["hits"] >= self.min_hits or track["confidence"] >= self.sure_score)


def _inside(box: Sequence[float], bounds: tuple[int, int] | None) -> list[float]:
    if bounds is None:
        return list(box)
    w, h = bounds
    x1, y1, x2, y2 = box
    x1, x2 = min(max(x1, 0.0), w - 1.0), min(max(x2, 0.0), w - 1.0)
    y1, y2 = min(max(y1, 0.0), h - 1.0), min(max(y2, 0.0), h - 1.0)
    return [x1, y1, max(x1, x2), max(y1, y2)]


def _output(track: dict[str, Any], bounds: tuple[int, int] | None) -> dict[str, Any]:
    predicted = track["missed"] > 0
    out: dict[str, Any] = {
        "box": [round(v) for v in _inside(track["box"], bounds)],
        "track_id": int(track["id"]),
        "confidence": round(float(track["confidence"]), 3),
        "predicted": predicted,
    }
    for key, value in (track.get("extras") or {}).items():
        # landmarks belong to the frame they were seen on; a label stays with the track
        if not (predicted and key == "landmarks"):
            out[key] = value
    return out


def draw_tracks(
    frame: npt.NDArray[np.uint8],
    result: dict[str, Any],
    colour: tuple[int, int, int],
    kind: str = "",
) -> None:
    """Draw a tracked result's boxes (grey when predicted), labels and landmarks in place.

    The label is the detection's ``label`` or ``kind``, then ``#track_id``.
    """
    for det in result.get("detections") or []:
        x1, y1, x2, y2 = det["box"]
        shade = (150, 150, 150) if det.get("predicted") else colour
        cv2.rectangle(frame, (x1, y1), (x2, y2), shade, 1)
        name = det.get("label", kind)
        label = f"{name} #{det.get('track_id', '?')}".strip()
        cv2.putText(frame, label, (x1, max(8, y1 - 2)), cv2.FONT_HERSHEY_SIMPLEX, 0.35, shade, 1)
        for x, y in det.get("landmarks") or []:
            cv2.circle(frame, (int(x), int(y)), 2, (0, 255, 255), -1)
