"""The real-footage set: real photographs shipped in scikit-image and matplotlib, moved and
compressed into clips with known boxes, and the floors the face detector must hold on it.

The floors sit a little under what the default detector measured on seeds it was not tuned on
(``realtime-nb eval --real``; the thresholds were chosen on seeds 1 and 2, these clips use 11).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from typing import Any

import numpy as np
import pytest

from realtime_nb.vision.plugins import PluginContext
from realtime_nb.vision.plugins.faces import FaceDetection
from realtime_nb.vision.realfootage import (
    COMPRESSIONS,
    SUBJECTS,
    DetectorScore,
    evaluate_real,
    format_real_table,
    real_clip,
    score_boxes,
)

BY_NAME = {c.name: c for c in COMPRESSIONS}
MILD = [BY_NAME["jpeg q80"], BY_NAME["h264 crf23"]]


def test_clips_are_real_photos_with_boxes_that_follow_them() -> None:
    clip = real_clip(SUBJECTS[0], seed=11, frames=60)
    assert len(clip.frames) == len(clip.faces) == len(clip.people) == 60
    sizes = []
    for frame, [face], [person] in zip(clip.frames, clip.faces, clip.people, strict=True):
        assert frame.shape == (360, 640, 3) and frame.dtype == np.uint8
        x1, y1, x2, y2 = face
        assert 0 <= x1 < x2 <= 639 and 0 <= y1 < y2 <= 359
        px1, py1, px2, py2 = person
        assert px1 <= x1 and py1 <= y1 and px2 >= x2 and py2 >= y2  # the face is inside the person
        sizes.append(y2 - y1)
        # a real photo: many grey levels, not a flat drawing
        assert len(np.unique(frame[int(y1) : int(y2), int(x1) : int(x2)])) > 60
    assert max(sizes) > 1.5 * min(sizes)  # it zooms
    again = real_clip(SUBJECTS[0], seed=11, frames=60)
    assert all(np.array_equal(a, b) for a, b in zip(clip.frames, again.frames, strict=True))


@pytest.mark.parametrize("compression", [BY_NAME["jpeg q10"], BY_NAME["h264 crf45"]])
def test_compression_really_degrades_the_frames(compression: Any) -> None:
    clean = real_clip(SUBJECTS[1], seed=11, frames=6)
    lossy = real_clip(SUBJECTS[1], seed=11, frames=6, compression=compression)
    error = np.mean(
        [np.abs(a.astype(int) - b).mean() for a, b in zip(clean.frames, lossy.frames, strict=True)]
    )
    assert error > 2.0


def test_score_boxes_matches_one_to_one() -> None:
    s = score_boxes([[0, 0, 10, 10], [1, 1, 10, 10]], [[0, 0, 10, 10]])
    assert (s.true_pos, s.false_pos, s.false_neg) == (1, 1, 0)
    s = score_boxes([], [[0, 0, 10, 10]])
    assert (s.precision, s.recall) == (1.0, 0.0)


def _face_scores(model: str, compressions: list[Any], frames: int = 30) -> DetectorScore:
    total = DetectorScore()
    for subject in SUBJECTS:
        for compression in compressions:
            clip = real_clip(subject, 11, frames, compression)
            plugin = FaceDetection(model=model)
            plugin.setup(clip.info)
            state: dict[str, Any] = {}
            for i, (frame, truth) in enumerate(zip(clip.frames, clip.faces, strict=True)):
                result = plugin.process(frame, PluginContext(i, "f", {}, state, clip.info))
                total += score_boxes([d["box"] for d in result["detections"]], truth)
    return total


def test_default_face_detector_holds_its_floors_on_real_footage() -> None:
    mild = _face_scores("blazeface", MILD)
    assert mild.recall >= 0.92, mild
    assert mild.precision >= 0.92, mild
    heavy = _face_scores("blazeface", [BY_NAME["jpeg q10"]])
    assert heavy.recall >= 0.82, heavy
    assert heavy.precision >= 0.85, heavy
    # H.264 at CRF 45 misses the 0.80 target (about 0.4 measured, see the README): this floor
    # only keeps what was measured from getting worse
    worst = _face_scores("blazeface", [BY_NAME["h264 crf45"]])
    assert worst.recall >= 0.30, worst
    assert worst.precision >= 0.75, worst
    haar = _face_scores("haar", MILD)
    assert mild.recall > haar.recall + 0.2, (mild, haar)


def test_default_face_detector_gives_landmarks_and_predicted_marks() -> None:
    clip = real_clip(SUBJECTS[0], 11, 30, BY_NAME["jpeg q80"])
    # hide the face completely for three frames: the track goes on, marked predicted
    frames = [f.copy() for f in clip.frames]
    for i in (20, 21, 22):
        x1, y1, x2, y2 = (int(v) for v in clip.faces[i][0])
        frames[i][y1 : y2 + 1, x1 : x2 + 1] = 90
    plugin = FaceDetection()
    plugin.setup(clip.info)
    state: dict[str, Any] = {}
    results = [
        plugin.process(f, PluginContext(i, "f", {}, state, clip.info)) for i, f in enumerate(frames)
    ]
    seen = results[10]["detections"]
    assert len(seen) == 1 and not seen[0]["predicted"]
    assert len(seen[0]["landmarks"]) == 6
    track = seen[0]["track_id"]
    for i in (20, 21, 22):
        [det] = results[i]["detections"]
        assert det["predicted"] and det["track_id"] == track and "landmarks" not in det
        assert score_boxes([det["box"]], clip.faces[i]).true_pos == 1  # it moved with the face
    assert results[25]["detections"][0]["track_id"] == track
    assert not results[25]["detections"][0]["predicted"]


def test_evaluate_real_reports_every_detector_and_level() -> None:
    calls: list[str] = []

    def counting() -> FaceDetection:
        calls.append("x")
        return FaceDetection(model="haar")

    report = evaluate_real(
        seeds=[11],
        compressions=[COMPRESSIONS[0], BY_NAME["jpeg q30"]],
        frames=4,
        subjects=SUBJECTS[:1],
        detectors={"face": {"haar": counting}},
    )
    assert len(calls) == 2 and report.clips == ["astronaut/11/none", "astronaut/11/jpeg q30"]
    score = report.get("face", "haar", "none")
    assert score.frames == 4 and score.seconds > 0
    table = format_real_table(report)
    assert "| haar | jpeg q30 |" in table and "| haar | none |" in table


def _run_real_eval(monkeypatch: pytest.MonkeyPatch, *argv: str) -> list[int]:
    """Run ``realtime-nb eval --real`` with ``argv`` on a small set (the first clip asked for,
    one compression, a few frames, Haar faces); return the seeds the command asked for."""
    from realtime_nb.vision import evaluation, realfootage

    seen: list[int] = []

    def small(seeds: Any) -> Any:
        seen.extend(seeds)
        return evaluate_real(
            seeds=list(seeds)[:1],
            compressions=[COMPRESSIONS[0]],
            frames=3,
            subjects=SUBJECTS[:1],
            detectors={"face": {"haar": lambda: FaceDetection(model="haar")}},
        )

    monkeypatch.setattr(realfootage, "evaluate_real", small)
    parser = argparse.ArgumentParser()
    evaluation.add_eval_parser(parser.add_subparsers(dest="command"))
    assert evaluation.run_eval_command(parser.parse_args(["eval", "--real", *argv])) == 0
    return seen


def test_eval_command_runs_the_real_set(monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    assert _run_real_eval(monkeypatch, "--real-seeds", "5", "--json") == [5]
    out = capsys.readouterr().out
    assert "| haar | none |" in out
    figures = json.loads(out[out.index("{") :])["real_footage"]
    assert figures[0]["detector"] == "haar" and 0 <= figures[0]["recall"] <= 1


def test_eval_command_takes_the_default_clips_without_real_seeds(
    monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    from realtime_nb.vision import realfootage

    assert _run_real_eval(monkeypatch) == list(realfootage.DEFAULT_REAL_SEEDS)
    assert "| haar | none |" in capsys.readouterr().out


def test_eval_command_says_what_is_missing() -> None:
    code = (
        "import sys, importlib.util as u\n"
        "real = u.find_spec\n"
        "u.find_spec = lambda n, *a: None if n == 'skimage' else real(n, *a)\n"
        "from realtime_nb.cli import main\n"
        "sys.exit(main(['eval', '--real']))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 2, done.stderr
    assert "pip install 'realtime-nb[eval]'" in done.stderr
    assert "Traceback" not in done.stderr


def test_people_default_puts_fewer_false_boxes_than_hog_classic() -> None:
    from realtime_nb.vision.plugins.people import PeopleDetection

    false_boxes = {}
    for model in ("hog", "hog-classic"):
        total = DetectorScore()
        for subject in SUBJECTS:
            clip = real_clip(subject, 11, 8, BY_NAME["jpeg q80"])
            plugin = PeopleDetection(model=model)
            plugin.setup(clip.info)
            state: dict[str, Any] = {}
            for i, (frame, truth) in enumerate(zip(clip.frames, clip.people, strict=True)):
                result = plugin.process(frame, PluginContext(i, "f", {}, state, clip.info))
                total += score_boxes([d["box"] for d in result["detections"]], truth)
        false_boxes[model] = total.false_pos
    assert false_boxes["hog"] < false_boxes["hog-classic"], false_boxes
