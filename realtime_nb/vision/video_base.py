"""What reading and writing video share: ``with`` support for a thing holding a resource, and
OpenCV and FFmpeg kept off the process's stderr (done once, on import, before any capture or
writer opens)."""

from __future__ import annotations

import os
from types import TracebackType
from typing import Self

import cv2
import numpy as np

__all__ = ["Closing", "check_fps", "quiet_video_libraries"]


def check_fps(fps: float) -> None:
    """Refuse a frame rate that is not a finite number over 0 (0, a negative, NaN or inf).

    Raises:
        ValueError: Such a rate.
    """
    if not (np.isfinite(fps) and fps > 0):
        raise ValueError(f"fps must be a finite number > 0, got {fps}")


def quiet_video_libraries() -> None:
    """Stop OpenCV and FFmpeg from writing to the process's stderr (which a notebook kernel
    shows in the running cell): a damaged file becomes our SourceError, not ``moov atom not
    found`` and ``[ WARN:...] VIDEOIO(FFMPEG)`` lines. A user who sets ``OPENCV_LOG_LEVEL`` or
    ``OPENCV_FFMPEG_LOGLEVEL`` keeps their choice."""
    # FFmpeg's level is read once, when the first capture opens: this must run before that.
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")  # AV_LOG_QUIET
    if "OPENCV_LOG_LEVEL" not in os.environ:
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)


quiet_video_libraries()


class Closing:
    """``with`` support for a thing that holds a resource: ``__enter__`` returns the thing and
    ``__exit__`` calls :meth:`close`, whether or not the block raised."""

    def close(self) -> None:
        """Release what is held. Default: nothing to release."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
