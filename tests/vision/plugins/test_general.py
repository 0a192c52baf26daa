"""Tests of the general-footage plugins (motion, people, faces) and their tracker, on clips of
our own scenes written with cv2.VideoWriter in several sizes and codecs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import msgspec
import numpy as np
import pytest

from realtime_nb.vision.plugins import Plugin, PluginContext, VideoInfo, default_registry
from realtime_nb.vision.plugins.general import (
    FaceDetection,
    IoUTracker,
    MotionDetection,
    PeopleDetection,
)
from realtime_nb.vision.plugins.pipeline import run_plugins
from realtime_nb.vision.video import open_source
from realtime_nb.vision.video_writer import VideoWriter

GENERAL = ["motion_detection", "people_detection", "face_detection"]
FOOTBALL = ["pitch_detection", "player_detection", "ball_detection", "radar"]


def moving_box(i: int, w: int, h: int) -> np.ndarray:
    """A textured grey scene with a red box crossing it left to right."""
    frame = np.full((h, w, 3), 110, np.uint8)
    frame[:, ::16] = 90  # texture: vertical stripes the background model has to learn
    side = max(8, min(w, h) // 5)
    x = 4 + (i * max(2, w // 40)) % max(1, w - side - 8)
    y = h // 2 - side // 2
    cv2.rectangle(frame, (x, y), (x + side, y + side), (30, 30, 220), -1)
    return frame


def face_like(i: int, w: int, h: int) -> np.ndarray:
    """A drawn face (skin disc, two eyes, a mouth) drifting slowly, beside a stick figure."""
    frame = np.full((h, w, 3), (200, 190, 180), np.uint8)
    r = max(10, min(w, h) // 5)
    cx, cy = w // 3 + i % 7, h // 2
    cv2.circle(frame, (cx, cy), r, (150, 180, 220), -1)
    for dx in (-r // 3, r // 3):
        cv2.circle(frame, (cx + dx, cy - r // 4), max(2, r // 8), (30, 30, 30), -1)
    cv2.ellipse(
        frame, (cx, cy + r // 3), (max(2, r // 3), max(1, r // 8)), 0, 0, 180, (40, 40, 140), 2
    )
    x = 2 * w // 3
    cv2.line(frame, (x, h // 4), (x, 3 * h // 4), (40, 40, 40), 3)
    cv2.circle(frame, (x, h // 4 - 6), 6, (40, 40, 40), -1)
    return frame


@dataclass(frozen=True)
class Clip:
    name: str
    size: tuple[int, int]
    frames: int
    codec: str
    suffix: str
    scene: Callable[[int, int, int], np.ndarray]


CLIPS = [
    Clip("box_320x240_mp4v", (320, 240), 30, "mp4v", ".mp4", moving_box),
    Clip("face_321x239_mjpg", (321, 239), 12, "MJPG", ".avi", face_like),
    Clip("box_long_160x120_mp4v", (160, 120), 120, "mp4v", ".mp4", moving_box),
    Clip("face_short_97x201_mjpg", (97, 201), 3, "MJPG", ".avi", face_like),
    Clip("box_640x360_mjpg", (640, 360), 8, "MJPG", ".avi", moving_box),
    Clip("tiny_65x47_mp4v", (65, 47), 5, "mp4v", ".mp4", moving_box),
]


@pytest.fixture(scope="module")
def clip_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("footage")
    for clip in CLIPS:
        w, h = clip.size
        with VideoWriter(root / f"{clip.name}{clip.suffix}", 25, clip.size, clip.codec) as out:
            for i in range(clip.frames):
                out.write(clip.scene(i, w, h))
    return root


def run(names: list[str], path: Path, root: Path) -> tuple[list[dict[str, Any]], Any]:
    """Run the named plugins (ordered by the registry) over a file, as the runner does."""
    plugins = [cls() for cls in default_registry.resolve(names)]
    results = []
    with open_source(str(path), [root]) as source:
        for run in run_plugins(plugins, source, source.info):
            for plugin in plugins:
                plugin.draw(run.frame, run.results[plugin.name])
            results.append(run.results)
        info = source.info
    return results, info


def check_tracked(result: dict[str, Any], width: int, height: int) -> None:
    assert result["count"] == len(result["detections"])
    for det in result["detections"]:
        x1, y1, x2, y2 = det["box"]
        assert all(isinstance(v, int) for v in det["box"])
        assert 0 <= x1 <= x2 < width and 0 <= y1 <= y2 < height
        assert isinstance(det["track_id"], int) and det["track_id"] >= 1
        assert 0.0 <= det["confidence"] <= 1.0
        assert isinstance(det["predicted"], bool)


@pytest.mark.parametrize("clip", CLIPS, ids=[c.name for c in CLIPS])
def test_every_plugin_runs_on_every_clip(clip: Clip, clip_dir: Path) -> None:
    path = clip_dir / f"{clip.name}{clip.suffix}"
    for names in ([n] for n in [*GENERAL, "pitch_detection"]):
        results, info = run(names, path, clip_dir)
        # mp4v rounds odd sizes down to even ones
        assert abs(info.width - clip.size[0]) <= 1 and abs(info.height - clip.size[1]) <= 1
        assert len(results) == clip.frames
        for per_frame in results:
            assert msgspec.json.decode(msgspec.json.encode(per_frame)) == per_frame
            if names[0] in GENERAL:
                check_tracked(per_frame[names[0]], info.width, info.height)
    results, _ = run(FOOTBALL, path, clip_dir)  # football plugins on footage with no pitch
    assert len(results) == clip.frames
    assert all(r["radar"]["players"] is None for r in results)


def test_motion_follows_the_moving_box(clip_dir: Path) -> None:
    results, _ = run(["motion_detection"], clip_dir / "box_320x240_mp4v.mp4", clip_dir)
    assert results[0]["motion_detection"]["count"] == 0  # the first frames teach the background
    ids = []
    for i, per_frame in enumerate(results[5:], start=5):
        box = moving_box(i, 320, 240)
        ys, xs = np.nonzero(box[:, :, 2] == 220)
        truth = [int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max())]
        dets = per_frame["motion_detection"]["detections"]
        assert any(_overlap(d["box"], truth) > 0.3 for d in dets), (i, dets, truth)
        ids.append(next(d["track_id"] for d in dets if _overlap(d["box"], truth) > 0.3))
    assert max(ids.count(k) for k in set(ids)) >= 0.8 * len(ids)  # one track follows it
    assert results[10]["motion_detection"]["motion_fraction"] > 0


def _overlap(a: list[int], b: list[int]) -> float:
    ix = max(0, min(a[2], b[2]) - max(a[0], b[0]) + 1)
    iy = max(0, min(a[3], b[3]) - max(a[1], b[1]) + 1)
    area = (a[2] - a[0] + 1) * (a[3] - a[1] + 1) + (b[2] - b[0] + 1) * (b[3] - b[1] + 1)
    return ix * iy / (area - ix * iy)


def test_tracker_keeps_a_missed_track_for_two_frames() -> None:
    state: dict[str, Any] = {}
    first = IoUTracker(state).update([([10, 10, 29, 29], 0.9), ([100, 10, 119, 29], 0.8)])
    assert [d["track_id"] for d in first] == [1, 2]
    moved = IoUTracker(state).update([([12, 11, 31, 30], 0.7)])
    assert [(d["track_id"], d["predicted"]) for d in moved] == [(1, False), (2, True)]
    assert moved[1]["box"] == [100, 10, 119, 29]  # a missed track keeps its last box
    again = IoUTracker(state).update([([13, 11, 32, 30], 0.7)])
    assert [d["track_id"] for d in again] == [1, 2]
    gone = IoUTracker(state).update([([14, 11, 33, 30], 0.7)])
    assert [d["track_id"] for d in gone] == [1]  # missed three frames: dropped
    back = IoUTracker(state).update([([14, 11, 33, 30], 0.7), ([100, 10, 119, 29], 0.8)])
    assert [d["track_id"] for d in back] == [1, 3]  # a new track gets a new id


def test_tracker_matches_best_overlap_first() -> None:
    state: dict[str, Any] = {}
    IoUTracker(state).update([([0, 0, 19, 19], 1.0), ([15, 0, 34, 19], 1.0)])
    out = IoUTracker(state).update([([14, 0, 33, 19], 1.0), ([1, 0, 20, 19], 1.0)])
    assert {tuple(d["box"]): d["track_id"] for d in out} == {(1, 0, 20, 19): 1, (14, 0, 33, 19): 2}


def test_people_detector_finds_nothing_on_a_blank_frame_and_skips_small_ones() -> None:
    for shape in ((360, 640, 3), (100, 60, 3)):
        plugin = PeopleDetection()
        ctx = PluginContext(0, "f-000000", {}, {}, _info(shape))
        assert plugin.process(np.full(shape, 128, np.uint8), ctx) == {"detections": [], "count": 0}


def _info(shape: tuple[int, ...]) -> VideoInfo:
    return VideoInfo(shape[1], shape[0], 25, None)


@pytest.mark.parametrize("model", ["blazeface", "mtcnn", "haar"])
def test_every_shipped_face_model_loads(model: str) -> None:
    FaceDetection(model=model).setup(_info((10, 10, 3)))  # raises when a file is missing


def test_face_detection_fails_clearly_without_its_cascade(monkeypatch: pytest.MonkeyPatch) -> None:
    from realtime_nb.vision.plugins import faces

    monkeypatch.setattr(faces._Haar, "cascade_file", "no_such_cascade.xml")
    with pytest.raises(RuntimeError, match="no_such_cascade"):
        FaceDetection(model="haar").setup(_info((10, 10, 3)))


@pytest.mark.parametrize("plugin_cls", [MotionDetection, PeopleDetection, FaceDetection])
def test_draw_marks_tracks(plugin_cls: type[Plugin]) -> None:
    frame = np.zeros((120, 160, 3), np.uint8)
    result = {
        "detections": [
            {"box": [10, 20, 50, 90], "track_id": 4, "confidence": 0.9, "predicted": False},
            {"box": [80, 20, 120, 90], "track_id": 5, "confidence": 0.9, "predicted": True},
        ],
        "count": 2,
    }
    plugin_cls().draw(frame, result)
    assert frame[20, 30].any() and frame[20, 100].any()
    before = frame.copy()
    plugin_cls().draw(frame, {})
    assert np.array_equal(frame, before)


def _handheld(frames: int, seed: int = 3) -> tuple[list[np.ndarray], list[tuple[float, float]]]:
    """A textured scene seen by a shaking, panning camera (no object moves), and the camera's
    true shift per frame."""
    rng = np.random.default_rng(seed)
    world = cv2.GaussianBlur(rng.integers(0, 255, (600, 900, 3), dtype=np.uint8), (0, 0), 3)
    world = cv2.normalize(world, None, 0, 255, cv2.NORM_MINMAX)
    out, shifts = [], []
    x, y = 100.0, 100.0
    for i in range(frames):
        dx, dy = 4.0 + 3 * np.sin(i), 2.5 * np.cos(1.7 * i)  # pan right with a shake
        x, y = x + dx, y + dy
        m = np.float32([[1, 0, -x], [0, 1, -y]])
        out.append(cv2.warpAffine(world, m, (320, 240), flags=cv2.INTER_LINEAR))
        shifts.append((dx, dy))
    return out, shifts


def test_motion_ignores_the_cameras_own_motion_and_reports_it() -> None:
    frames, shifts = _handheld(40)
    plugin = MotionDetection()
    info = VideoInfo(320, 240, 25, None)
    plugin.setup(info)
    state: dict[str, Any] = {}
    results = [
        plugin.process(f, PluginContext(i, "f", {}, state, info)) for i, f in enumerate(frames)
    ]
    assert results[0]["camera_motion"] is None
    errors = []
    for result, (dx, dy) in zip(results[1:], shifts[1:], strict=True):
        cam = result["camera_motion"]
        assert cam is not None
        # the scene moves left when the camera pans right
        errors.append(abs(cam["dx"] + dx) + abs(cam["dy"] + dy))
        assert abs(cam["rotation_deg"]) < 0.5 and abs(cam["scale"] - 1) < 0.01
    assert np.median(errors) < 0.3, errors
    assert max(r["motion_fraction"] for r in results) < 0.05
    assert sum(r["count"] for r in results) <= 5  # without steadying: boxes on most frames
    assert len({d["track_id"] for r in results for d in r["detections"]}) <= 3


def test_motion_resets_at_a_scene_cut() -> None:
    first, _ = _handheld(12, seed=3)
    second, _ = _handheld(12, seed=4)
    second = [cv2.add(f, 60) for f in second]  # another scene, another exposure
    plugin = MotionDetection()
    info = VideoInfo(320, 240, 25, None)
    plugin.setup(info)
    state: dict[str, Any] = {}
    results = [
        plugin.process(f, PluginContext(i, "f", {}, state, info))
        for i, f in enumerate(first + second)
    ]
    cuts = [i for i, r in enumerate(results) if r["scene_cut"]]
    assert cuts == [12]
    assert results[12]["count"] == 0 and results[13]["count"] == 0  # the new scene is learnt
    assert max(r["motion_fraction"] for r in results[12:]) < 0.05


def test_motion_finds_a_moving_object_in_handheld_footage_of_a_real_photo() -> None:
    from realtime_nb.core.geometry import box_iou
    from realtime_nb.vision.realfootage import load_photo

    base = cv2.resize(load_photo("skimage", "data/motorcycle_left.png"), (1000, 700))
    thing = cv2.resize(load_photo("skimage", "data/astronaut.png"), (90, 90))
    rng = np.random.default_rng(0)
    plugin = MotionDetection()
    info = VideoInfo(640, 360, 25, None)
    plugin.setup(info)
    state: dict[str, Any] = {}
    x, y, angle = 150.0, 150.0, 0.0
    found = others = scored = 0
    for i in range(120):
        world = base.copy()
        ox, oy = 250 + 2 * i, 350  # the object walks right, 2 px a frame
        world[oy : oy + 90, ox : ox + 90] = thing
        x, y = x + 1.5 + rng.normal(0, 2.5), y + rng.normal(0, 2.0)  # pan with a shake
        angle = 0.9 * angle + rng.normal(0, 0.3)
        m = cv2.getRotationMatrix2D((x + 320, y + 180), angle, 1.0)
        m[:, 2] -= [x, y]
        frame = cv2.warpAffine(world, m, (640, 360))
        frame = cv2.imdecode(cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 70])[1], 1)
        result = plugin.process(frame, PluginContext(i, "f", {}, state, info))
        corners = m @ np.array([[ox, ox + 90, ox, ox + 90], [oy, oy, oy + 90, oy + 90], [1] * 4])
        truth = [corners[0].min(), corners[1].min(), corners[0].max(), corners[1].max()]
        if i < 5:
            continue
        scored += 1
        hits = [d for d in result["detections"] if box_iou(d["box"], truth) > 0.3]
        found += bool(hits)
        others += len(result["detections"]) - len(hits)
    assert found >= 0.9 * scored, (found, scored)
    assert others <= 0.1 * scored, others  # without steadying: tens of boxes a frame
