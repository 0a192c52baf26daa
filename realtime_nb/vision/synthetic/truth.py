"""What a synthetic frame shows: the ground truth the football plugins are scored against."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, overload

__all__ = ["BallTruth", "FrameTruth", "PlayerTruth", "Role", "TruthTrack"]

Role = Literal["player", "goalkeeper", "referee"]


@dataclass(frozen=True)
class PlayerTruth:
    """A visible person on the pitch.

    Attributes:
        box: ``(x1, y1, x2, y2)`` in pixels, inclusive, clipped to the frame: the whole
            person as drawn, from the top of the head (hair included) to the soles of the
            boots, and across the shoulders and arms. ``player_detection`` boxes people the
            same way, and the evaluation matches the two at IoU >= 0.5.
        role: ``"player"``, ``"goalkeeper"`` or ``"referee"``.
        team: 0 or 1 for players and goalkeepers, None for the referee.
    """

    box: tuple[int, int, int, int]
    role: Role
    team: int | None


@dataclass(frozen=True)
class BallTruth:
    """The ball as drawn: centre and radius in pixels."""

    center: tuple[float, float]
    radius: float


@dataclass(frozen=True)
class FrameTruth:
    """What one synthetic frame shows.

    Attributes:
        frame_index: 0-based index of the frame.
        players: People at least half inside the frame, far to near.
        ball: The ball, or None when it is hidden, occluded by a player or out of view.
        pitch_corners: Image points of the pitch corners that are inside the frame.
        homography: The 3x3 pitch (metres) to image (pixels) matrix as nested lists.
        ball_covered: The ball when it is drawn in view but a person in front covers its
            centre (``ball`` is then None; the rest of it may show), else None.
    """

    frame_index: int
    players: list[PlayerTruth]
    ball: BallTruth | None
    pitch_corners: list[tuple[float, float]]
    homography: list[list[float]]
    ball_covered: BallTruth | None = None


class _Clip(Protocol):
    """A clip whose frames' truth can be asked for one by one."""

    def __len__(self) -> int: ...

    def frame_truth(self, index: int) -> FrameTruth: ...


class TruthTrack(Sequence[FrameTruth]):
    """The per-frame truth of a clip (a synthetic or a broadcast match): a read-only list asked
    of the clip's ``frame_truth`` on demand."""

    def __init__(self, match: _Clip) -> None:
        self._match = match

    def __len__(self) -> int:
        return len(self._match)

    @overload
    def __getitem__(self, index: int) -> FrameTruth: ...

    @overload
    def __getitem__(self, index: slice) -> list[FrameTruth]: ...

    def __getitem__(self, index: int | slice) -> FrameTruth | list[FrameTruth]:
        if isinstance(index, slice):
            return [self._match.frame_truth(i) for i in range(*index.indices(len(self)))]
        return self._match.frame_truth(index)
