"""Frame sources: video files and synthetic matches read frame by frame. Writing frames out is
:mod:`realtime_nb.vision.video_writer`, whose names this module also exports.

A source string is either a file path (confined to allowed roots) or
``synthetic://match?seconds=4&fps=25&width=640&height=360&seed=0`` plus any knob of
:func:`synthetic_match` as a query parameter.

Example:
    >>> with open_source("synthetic://match?seconds=1&width=320&height=180", []) as source:
    ...     frames = sum(1 for _ in source)
    >>> frames, source.info.width
    (25, 320)
"""

from __future__ import annotations

import abc
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import cv2
import numpy as np
import numpy.typing as npt

from realtime_nb.core.frame import Frame, VideoInfo
from realtime_nb.core.protocol import ErrorCode
from realtime_nb.vision.synthetic import (
    FrameTruth,
    SyntheticMatch,
    SyntheticParamError,
    check_synthetic_params,
)
from realtime_nb.vision.video_base import Closing, check_fps
from realtime_nb.vision.video_writer import H264, VideoWriter, encode_jpeg, write_video

__all__ = [
    "H264",
    "ArraySource",
    "FileSource",
    "FrameReader",
    "FrameSource",
    "SourceError",
    "SyntheticSource",
    "VideoWriter",
    "as_bgr",
    "encode_jpeg",
    "open_source",
    "synthetic_frame_size",
    "validate_source",
    "write_video",
]


def as_bgr(image: npt.NDArray[Any]) -> Frame:
    """A decoded video image as 3-channel 8-bit BGR: a grey or BGRA one converted, a BGR one as
    is (not copied)."""
    if image.ndim == 2:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    elif image.shape[2] == 4:
        image = cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    return np.asarray(image, np.uint8)


_SYNTHETIC_SCHEME = "synthetic"


_DEFAULT_FPS = 25.0


class SourceError(ValueError):
    """A source string that cannot be used.

    Attributes:
        code: SOURCE_INVALID (malformed string or bad synthetic parameter), SOURCE_NOT_ALLOWED
            (a path outside the allowed roots), SOURCE_NOT_FOUND (no such file) or
            SOURCE_UNREADABLE (a file that does not decode as video).
    """

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code


# --- sources ------------------------------------------------------------------------------------


class FrameSource(Closing, abc.ABC):
    """Frames of one video: iterate for BGR uint8 frames; close when done (or use ``with``).

    Attributes:
        info: Size, rate and frame count (``frame_count`` may be None or approximate for files).
    """

    info: VideoInfo

    @abc.abstractmethod
    def __iter__(self) -> Iterator[Frame]:
        """Yield every frame from the start, each a fresh (height, width, 3) uint8 array."""


class FileSource(FrameSource):
    """A video file read with ``cv2.VideoCapture`` (FFmpeg backend).

    Args:
        path: The file; use :func:`open_source` to have it checked against allowed roots.

    Raises:
        SourceError: The file cannot be opened (SOURCE_UNREADABLE).
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._cap = _capture(self.path)
        self._fresh = True
        self._closed = False
        width = int(self._cap.get(cv2.CAP_PROP_FRAME_WIDTH))
        height = int(self._cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
        fps = float(self._cap.get(cv2.CAP_PROP_FPS))
        count = int(self._cap.get(cv2.CAP_PROP_FRAME_COUNT))
        fps = fps if np.isfinite(fps) and 0 < fps <= 1000 else _DEFAULT_FPS
        self.info = VideoInfo(width, height, fps, count if count > 0 else None)

    def __iter__(self) -> Iterator[Frame]:
        if self._closed:
            raise ValueError(f"source {self.path} is closed")
        if not self._fresh:
            # Seeking is frame-inexact for many codecs; reopening always starts at frame 0.
            self._cap.release()
            self._cap = _capture(self.path)
        self._fresh = False
        cap = self._cap
        while True:
            ok, frame = cap.read()
            if not ok or frame is None:
                return
            yield as_bgr(frame)

    def close(self) -> None:
        """Release the capture; iterating afterwards raises ValueError."""
        self._closed = True
        self._cap.release()


class SyntheticSource(FrameSource):
    """A :class:`SyntheticMatch` as a frame source, with its ground truth.

    Args:
        match: The clip; frames are rendered while iterating.
    """

    def __init__(self, match: SyntheticMatch) -> None:
        self.match = match
        self.info = match.info

    @property
    def ground_truth(self) -> Sequence[FrameTruth]:
        """Per-frame truth (players, ball, pitch corners, homography)."""
        return self.match.truth

    def __iter__(self) -> Iterator[Frame]:
        return iter(self.match)


class ArraySource(FrameSource):
    """Frames already in memory (a list of arrays or one (n, h, w, 3) array).

    Args:
        frames: BGR uint8 frames, all the same size.
        fps: Frame rate to report.

    Raises:
        ValueError: No frames, a frame that is not (h, w, 3) uint8, frames of different sizes,
            or an fps that is not a finite number over 0.
    """

    def __init__(self, frames: Sequence[Frame] | Frame, fps: float = _DEFAULT_FPS) -> None:
        self._frames = list(frames)
        if not self._frames:
            raise ValueError("ArraySource needs at least one frame")
        shape = self._frames[0].shape
        for i, frame in enumerate(self._frames):
            if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
                raise ValueError(f"frame {i} is not a BGR uint8 image: {frame.dtype} {frame.shape}")
            if frame.shape != shape:
                raise ValueError(f"frame {i} has shape {frame.shape}, frame 0 has {shape}")
        check_fps(fps)
        self.info = VideoInfo(shape[1], shape[0], float(fps), len(self._frames))

    def __iter__(self) -> Iterator[Frame]:
        for frame in self._frames:
            yield frame.copy()


class FrameReader(Closing):
    """Any frame of one source by its index, for showing a finished job's frames on demand.

    A file is read forward from the last frame asked for (codecs cannot seek frame-exactly, so
    going back reopens it and reads from the start); a synthetic clip renders the frame itself.

    Args:
        source: The source string, as :func:`open_source` takes it.
        allowed_roots: Directories files may be read from.

    Raises:
        SourceError: See :func:`validate_source`.
    """

    def __init__(self, source: str, allowed_roots: Sequence[Path]) -> None:
        self._source = open_source(source, allowed_roots)
        self.info = self._source.info
        self._frames: Iterator[Frame] | None = None
        self._next = 0

    def frame(self, index: int) -> Frame:
        """The frame at ``index`` (0-based), BGR uint8.

        Raises:
            IndexError: ``index`` is negative or past the frames that decode.
        """
        if index < 0:
            raise IndexError(f"frame {index} does not exist")
        if isinstance(self._source, SyntheticSource):
            return self._source.match.frame(index)
        if self._frames is None or index < self._next:
            self._frames, self._next = iter(self._source), 0
        for frame in self._frames:
            self._next += 1
            if self._next - 1 == index:
                return frame
        raise IndexError(f"frame {index} is past the end ({self._next} frames decode)")

    def close(self) -> None:
        """Release the source."""
        self._source.close()


# --- source strings -----------------------------------------------------------------------------


def validate_source(
    source: str, allowed_roots: Sequence[Path], cwd: str | Path | None = None
) -> str:
    """Check a source string cheaply (at submit time) without reading more than one frame.

    A file path must resolve (symlinks followed) inside one of ``allowed_roots``, exist, be a
    file, and hold at least one frame FFmpeg can decode. A relative path is taken from ``cwd``
    (the working directory of whoever submits it), or from the first allowed root when no
    ``cwd`` is given. ``synthetic://match?...`` takes the parameters of
    :func:`synthetic_match` (seconds, fps, width, height, seed and the knobs).

    Args:
        source: A file path, ``file://`` URL, or ``synthetic://match?...``.
        allowed_roots: Directories files may be read from.
        cwd: Where a relative path is taken from.

    Returns:
        The source to run: a file as its absolute resolved path, a synthetic source as given.

    Raises:
        SourceError: With code SOURCE_INVALID, SOURCE_NOT_ALLOWED, SOURCE_NOT_FOUND (no such
            file; the message says where it looked) or SOURCE_UNREADABLE (a file that is
            there but does not decode as video).
    """
    if _is_synthetic(source):
        _synthetic_params(source)
        return source
    path = _resolve_file(source, allowed_roots, cwd)
    _probe(path)
    return str(path)


def open_source(
    source: str, allowed_roots: Sequence[Path], cwd: str | Path | None = None
) -> FrameSource:
    """Validate a source string and open it.

    Args:
        source: A file path, ``file://`` URL, or ``synthetic://match?...``.
        allowed_roots: Directories files may be read from.
        cwd: Where a relative path is taken from (see :func:`validate_source`).

    Returns:
        A :class:`FileSource` or a :class:`SyntheticSource` (which has ``ground_truth``).

    Raises:
        SourceError: See :func:`validate_source`.
    """
    if _is_synthetic(source):
        return SyntheticSource(SyntheticMatch(_synthetic_params(source)))
    path = _resolve_file(source, allowed_roots, cwd)
    _probe(path)
    return FileSource(path)


def synthetic_frame_size(source: str) -> tuple[int, int, int] | None:
    """``(width, height, frames)`` of a valid synthetic source string, else None (a file path,
    or a synthetic string :func:`validate_source` will refuse with its own message)."""
    if not _is_synthetic(source):
        return None
    try:
        params = _synthetic_params(source)
    except SourceError:
        return None
    frames = int(float(params["seconds"]) * float(params["fps"]))
    return int(params["width"]), int(params["height"]), frames


def _is_synthetic(source: str) -> bool:
    return source.strip().lower().startswith(_SYNTHETIC_SCHEME + ":")


def _synthetic_params(source: str) -> dict[str, Any]:
    usage = "synthetic sources look like synthetic://match?seconds=4&fps=25&seed=0"
    parts = urlsplit(source.strip())
    if parts.netloc != "match" or parts.path not in ("", "/") or parts.fragment:
        raise SourceError(ErrorCode.SOURCE_INVALID, f"{usage}; got {source!r}")
    try:
        pairs = parse_qsl(parts.query, keep_blank_values=True, strict_parsing=bool(parts.query))
    except ValueError:
        raise SourceError(ErrorCode.SOURCE_INVALID, f"malformed query in {source!r}") from None
    params: dict[str, str] = {}
    for name, value in pairs:
        if name in params:
            raise SourceError(ErrorCode.SOURCE_INVALID, f"synthetic parameter {name!r} given twice")
        params[name] = value
    try:
        return check_synthetic_params(params)
    except SyntheticParamError as exc:
        raise SourceError(ErrorCode.SOURCE_INVALID, str(exc)) from None


def _resolve_file(source: str, allowed_roots: Sequence[Path], cwd: str | Path | None) -> Path:
    text = source
    if "://" in source:
        parts = urlsplit(source)
        if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
            raise SourceError(
                ErrorCode.SOURCE_INVALID,
                f"unsupported source {source!r}: use a file path or synthetic://match?...",
            )
        text = unquote(parts.path)
    if not text.strip() or "\x00" in text:
        raise SourceError(ErrorCode.SOURCE_INVALID, f"not a usable file path: {source!r}")
    roots = [Path(root).resolve() for root in allowed_roots]
    if not roots:
        raise SourceError(ErrorCode.SOURCE_NOT_ALLOWED, "no directories are allowed for files")
    path = Path(text).expanduser()
    base = Path(cwd) if cwd is not None else roots[0]
    if not path.is_absolute() and not base.is_absolute():
        raise SourceError(ErrorCode.SOURCE_INVALID, f"the working directory {cwd!r} is relative")
    try:
        resolved = (path if path.is_absolute() else base / path).resolve()
    except (OSError, RuntimeError) as exc:
        raise SourceError(ErrorCode.SOURCE_INVALID, f"cannot resolve {source!r}: {exc}") from None
    if not any(resolved.is_relative_to(root) for root in roots):
        allowed = ", ".join(str(r) for r in roots)
        raise SourceError(
            ErrorCode.SOURCE_NOT_ALLOWED, f"{source!r} is outside the allowed roots ({allowed})"
        )
    if not resolved.is_file():
        what = "is a directory, not a file" if resolved.exists() else "does not exist"
        where = f"looked for {resolved}"
        if not path.is_absolute():
            where += f", relative to {base}" + ("" if cwd is not None else " (the first root)")
        raise SourceError(ErrorCode.SOURCE_NOT_FOUND, f"{source!r} {what} ({where})")
    return resolved


def _capture(path: Path) -> Any:
    # The FFmpeg backend only: the default chain would also try CAP_IMAGES, which reads a name
    # like "clip%03d.png" as a numbered image sequence.
    cap = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    if not cap.isOpened():
        cap.release()
        raise SourceError(
            ErrorCode.SOURCE_UNREADABLE,
            f"{path} exists but is not a video FFmpeg can open (damaged, truncated, or not "
            "a video container)",
        )
    return cap


_SELF_CONTAINED = "MP4/MOV, Matroska/WebM, AVI, MPEG-TS, MPEG-PS, FLV, Ogg, ASF/WMV or Y4M"


def _container_of(head: bytes) -> str | None:
    """The self-contained container these first bytes of a file start, or None."""
    if head[4:8] in (b"ftyp", b"moov", b"mdat", b"free", b"wide", b"skip", b"pnot"):
        return "mp4"
    if head.startswith(b"RIFF") and head[8:12] == b"AVI ":
        return "avi"
    if len(head) > 188 and head[0] == 0x47 and head[188] == 0x47:
        return "mpegts"
    starts = {
        b"\x1a\x45\xdf\xa3": "matroska",
        b"\x00\x00\x01\xba": "mpegps",
        b"FLV\x01": "flv",
        b"OggS": "ogg",
        b"\x30\x26\xb2\x75\x8e\x66\xcf\x11": "asf",
        b"YUV4MPEG2": "y4m",
    }
    return next((name for magic, name in starts.items() if head.startswith(magic)), None)


def _check_self_contained(path: Path) -> None:
    """Refuse a file FFmpeg would follow to other files: a playlist (HLS, DASH), a concat
    list, an SDP description, an image-sequence pattern... Only the source path is checked
    against the allowed roots, so such a file inside a root could read a video outside it.
    FFmpeg picks the format by content, not by name, so the first bytes decide: only
    containers that hold their own media are opened (MP4's external data references are off
    in FFmpeg unless asked for, and nothing here asks)."""
    try:
        with path.open("rb") as file:
            head = file.read(189)
    except OSError as exc:
        raise SourceError(ErrorCode.SOURCE_UNREADABLE, f"cannot read {path}: {exc}") from None
    if _container_of(head) is not None:
        return
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith(_REFERRING):
        raise SourceError(
            ErrorCode.SOURCE_INVALID,
            f"{path} is a playlist or list of other files; such sources are refused "
            f"(use a self-contained video: {_SELF_CONTAINED})",
        )
    raise SourceError(
        ErrorCode.SOURCE_UNREADABLE,
        f"{path} exists but is not a video this server reads ({_SELF_CONTAINED})",
    )


_REFERRING = (b"#extm3u", b"ffconcat", b"file ", b"<?xml", b"<mpd", b"v=0", b"[playlist]")
"""How files that refer to other files start: HLS, concat lists, DASH, SDP, PLS."""


def _probe(path: Path) -> None:
    _check_self_contained(path)
    cap = _capture(path)
    try:
        ok, frame = cap.read()
    finally:
        cap.release()
    if not ok or frame is None:
        raise SourceError(
            ErrorCode.SOURCE_UNREADABLE, f"{path} opens as a video but no frame of it decodes"
        )
