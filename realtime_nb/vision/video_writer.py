"""Writing frames out: video files (H.264 through PyAV, or an OpenCV FourCC) and JPEG previews."""

from __future__ import annotations

from collections.abc import Iterable
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

from realtime_nb.core.frame import Frame
from realtime_nb.vision.video_base import Closing, check_fps

__all__ = ["H264", "VideoWriter", "encode_jpeg", "write_video"]


H264 = "h264"
"""The default codec of :class:`VideoWriter`: H.264 (libx264, yuv420p) in MP4 through PyAV,
which browsers, JupyterLab and VS Code play (OpenCV's own ``mp4v`` is MPEG-4 Part 2, which they
do not)."""

_H264_CONTAINERS = (".mp4", ".m4v", ".mov", ".mkv")


class VideoWriter(Closing):
    """Write BGR frames to a video file; a context manager.

    Args:
        path: Output file; its directory must exist.
        fps: Frame rate, > 0.
        size: ``(width, height)`` of every frame.
        codec: ``"h264"`` (the default: H.264 through PyAV, for ``.mp4``, ``.m4v``, ``.mov`` or
            ``.mkv``; an odd width or height gets one black pixel row or column, which H.264's
            4:2:0 colour needs), or an OpenCV FourCC such as ``"mp4v"`` or ``"MJPG"`` (``.avi``).
        quality: H.264's constant rate factor: 0 lossless, 23 the default, 51 worst.

    Raises:
        ValueError: A bad fps, size or codec.
        OSError: The directory is missing, or no writer opens for this path and codec.

    Example:
        >>> import tempfile, numpy as np
        >>> out = Path(tempfile.mkdtemp()) / "black.mp4"
        >>> with VideoWriter(out, 25, (64, 48)) as writer:
        ...     writer.write(np.zeros((48, 64, 3), np.uint8))
        >>> writer.frames_written
        1
    """

    def __init__(
        self,
        path: str | Path,
        fps: float,
        size: tuple[int, int],
        codec: str = H264,
        quality: int = 23,
    ) -> None:
        self.path = Path(path)
        self.size = (int(size[0]), int(size[1]))
        if codec != H264 and len(codec) != 4:
            raise ValueError(
                f"codec must be 'h264' or a four-character code like 'mp4v', got {codec!r}"
            )
        check_fps(fps)
        if min(self.size) <= 0:
            raise ValueError(f"size must be a positive (width, height), got {size}")
        if not 0 <= quality <= 51:
            raise ValueError(f"quality must be 0 to 51, got {quality}")
        if not self.path.parent.is_dir():
            raise FileNotFoundError(f"cannot write {self.path}: {self.path.parent} does not exist")
        self.codec = codec
        self._sink: _H264Sink | _OpenCvSink = (
            _H264Sink(self.path, fps, self.size, quality)
            if codec == H264
            else _OpenCvSink(self.path, fps, self.size, codec)
        )
        self.frames_written = 0
        self._closed = False

    def write(self, frame: Frame) -> None:
        """Append one frame.

        Raises:
            ValueError: The frame is not BGR uint8 of the writer's size (cv2 would drop it
                silently), or the writer is closed.
        """
        if self._closed:
            raise ValueError(f"writer for {self.path} is closed")
        width, height = self.size
        if frame.dtype != np.uint8 or frame.shape != (height, width, 3):
            raise ValueError(
                f"frame must be uint8 of shape {(height, width, 3)}, got {frame.dtype} "
                f"{frame.shape}"
            )
        self._sink.write(frame)
        self.frames_written += 1

    def close(self) -> None:
        """Finish the file. Safe to call twice."""
        if not self._closed:
            self._closed = True
            self._sink.close()


class _OpenCvSink:
    """Frames into ``cv2.VideoWriter`` with a FourCC."""

    def __init__(self, path: Path, fps: float, size: tuple[int, int], codec: str) -> None:
        fourcc = cv2.VideoWriter.fourcc(*codec)
        self._writer = cv2.VideoWriter(str(path), fourcc, float(fps), size)
        if not self._writer.isOpened():
            self._writer.release()
            raise OSError(
                f"cv2 could not open a video writer for {path} with codec {codec!r}; "
                "try codec='h264' with .mp4, or 'MJPG' with .avi"
            )

    def write(self, frame: Frame) -> None:
        self._writer.write(frame)

    def close(self) -> None:
        self._writer.release()


class _H264Sink:
    """Frames into an H.264 stream (libx264, yuv420p) in an MP4-family container, via PyAV.

    ``+faststart`` puts the index first, so a browser starts playing before the whole file is
    there."""

    def __init__(self, path: Path, fps: float, size: tuple[int, int], quality: int) -> None:
        import av  # PyAV is only needed once a video is written

        if path.suffix.lower() not in _H264_CONTAINERS:
            raise OSError(
                f"could not open an H.264 writer for {path}: use one of "
                f"{', '.join(_H264_CONTAINERS)}, or codec='MJPG' with .avi"
            )
        width, height = size
        self._pad = (height % 2, width % 2)
        try:
            self._container = av.open(str(path), "w", options={"movflags": "+faststart"})
        except (OSError, ValueError, av.FFmpegError) as exc:
            raise OSError(f"could not open an H.264 writer for {path}: {exc}") from exc
        rate = Fraction(fps).limit_denominator(1001)
        self._stream = self._container.add_stream("libx264", rate=rate)
        self._stream.width, self._stream.height = width + self._pad[1], height + self._pad[0]
        self._stream.pix_fmt = "yuv420p"
        self._stream.options = {"crf": str(quality), "preset": "veryfast"}
        self._frame_type = av.VideoFrame

    def write(self, frame: Frame) -> None:
        if any(self._pad):
            frame = np.pad(frame, ((0, self._pad[0]), (0, self._pad[1]), (0, 0)))
        video_frame = self._frame_type.from_ndarray(np.ascontiguousarray(frame), format="bgr24")
        for packet in self._stream.encode(video_frame):
            self._container.mux(packet)

    def close(self) -> None:
        try:
            for packet in self._stream.encode(None):  # flush the encoder's delayed frames
                self._container.mux(packet)
        finally:
            self._container.close()


def encode_jpeg(frame: Frame, quality: int = 80, max_width: int | None = 640) -> bytes:
    """Encode a frame as JPEG for a preview, shrinking it first when it is wider than max_width.

    Args:
        frame: BGR uint8 image.
        quality: JPEG quality, 1 to 100.
        max_width: Downscale (keeping the aspect ratio) to at most this width; None keeps the size.

    Returns:
        The JPEG bytes.

    Raises:
        ValueError: A bad quality or max_width, or an image cv2 cannot encode.
    """
    if not 1 <= quality <= 100:
        raise ValueError(f"quality must be 1 to 100, got {quality}")
    if max_width is not None and max_width < 1:
        raise ValueError(f"max_width must be >= 1, got {max_width}")
    height, width = frame.shape[:2]
    if max_width is not None and width > max_width:
        new_height = max(1, round(height * max_width / width))
        frame = np.asarray(
            cv2.resize(frame, (max_width, new_height), interpolation=cv2.INTER_AREA), np.uint8
        )
    ok, buf = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise ValueError(f"cv2 could not encode a {frame.dtype} {frame.shape} image as JPEG")
    return bytes(buf.tobytes())


def write_video(frames: Iterable[Frame], path: str | Path, fps: float, codec: str = H264) -> Path:
    """Write frames into a video file, sized by the first frame.

    Args:
        frames: BGR frames, all of one size (a synthetic match, a source, a list).
        path: Where to write (``.mp4`` with ``h264``, ``.avi`` with ``MJPG``).
        fps: Frame rate, > 0.
        codec: ``"h264"`` or a FourCC (see :class:`VideoWriter`).

    Returns:
        The path written.

    Raises:
        ValueError: No frames, or a bad fps or codec.
        OSError: No writer opens for this path and codec.
    """
    it = iter(frames)
    first = next(it, None)
    if first is None:
        raise ValueError(f"no frames to write to {path}")
    out = Path(path)
    with VideoWriter(out, fps, (first.shape[1], first.shape[0]), codec=codec) as writer:
        writer.write(first)
        for frame in it:
            writer.write(frame)
    return out
