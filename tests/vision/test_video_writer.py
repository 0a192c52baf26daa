"""Tests of realtime_nb.vision.video_writer: video files written and read back, JPEG previews."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from realtime_nb.vision.synthetic import synthetic_match
from realtime_nb.vision.video_writer import VideoWriter, encode_jpeg, write_video


def test_write_reads_back_with_cv2(tmp_path: Path) -> None:
    clip = synthetic_match(seconds=0.8, fps=10, width=128, height=72, seed=3)
    out = write_video(clip, tmp_path / "clip.mp4", clip.info.fps)
    cap = cv2.VideoCapture(str(out))
    count = 0
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        assert frame.shape == (72, 128, 3)
        count += 1
    cap.release()
    assert count == len(clip) == 8


def test_writer_context_manager(tmp_path: Path) -> None:
    with VideoWriter(tmp_path / "out.avi", 10, (32, 24), codec="MJPG") as writer:
        for i in range(3):
            writer.write(np.full((24, 32, 3), 40 * i, np.uint8))
        with pytest.raises(ValueError, match="shape"):
            writer.write(np.zeros((32, 24, 3), np.uint8))
    assert writer.frames_written == 3
    with pytest.raises(ValueError, match="closed"):
        writer.write(np.zeros((24, 32, 3), np.uint8))
    assert (tmp_path / "out.avi").stat().st_size > 0


def test_writer_fails_clearly(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        VideoWriter(tmp_path / "missing" / "out.mp4", 25, (32, 24))
    with pytest.raises(ValueError, match="four-character"):
        VideoWriter(tmp_path / "out.mp4", 25, (32, 24), codec="h264x")
    with pytest.raises(OSError, match="could not open"):
        VideoWriter(tmp_path / "out.unknown-container", 25, (32, 24))
    for fps in (0.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="fps must be a finite number > 0"):
            VideoWriter(tmp_path / "out.mp4", fps, (32, 24))


@pytest.mark.parametrize(
    ("size", "max_width", "expected"),
    [((360, 640), 640, (360, 640)), ((720, 1280), 640, (360, 640)), ((100, 300), 150, (50, 150)),
     ((100, 300), None, (100, 300)), ((50, 60), 640, (50, 60))],
)  # fmt: skip
def test_encode_jpeg(
    size: tuple[int, int], max_width: int | None, expected: tuple[int, int]
) -> None:
    frame = np.random.default_rng(0).integers(0, 256, (*size, 3), dtype=np.uint8)
    data = encode_jpeg(frame, quality=70, max_width=max_width)
    assert data[:2] == b"\xff\xd8"
    decoded = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    assert decoded is not None
    assert decoded.shape == (*expected, 3)


def test_encode_jpeg_quality_bounds() -> None:
    frame = np.zeros((8, 8, 3), np.uint8)
    assert len(encode_jpeg(frame, quality=95)) > 0
    with pytest.raises(ValueError, match="quality"):
        encode_jpeg(frame, quality=0)
