"""Synthetic football clips with ground truth, so the football plugins are measured, not assumed.

A broadcast-like camera (a pinhole at the side of the pitch, panning slowly) looks at a 105 x 68 m
pitch drawn once in pitch coordinates and warped into each frame. Two teams, their goalkeepers and
a referee move smoothly; a ball is passed between players along straight lines. Everything is a
closed-form function of time, so any frame (and its truth) can be computed on its own, in any
order, and a clip is never held in memory.

Example:
    >>> clip = synthetic_match(seconds=2, fps=25, seed=3)
    >>> len(clip), clip.info.width
    (50, 640)
    >>> frame = clip.frame(0)
    >>> truth = clip.truth[0]
    >>> truth.players[0].role in ("player", "goalkeeper", "referee")
    True
"""

from __future__ import annotations

import itertools
import math
from bisect import bisect_right
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, overload

import cv2
import numpy as np
import numpy.typing as npt

from realtime_nb.plugins.base import Frame, VideoInfo

__all__ = [
    "SYNTHETIC_DEFAULTS",
    "BallTruth",
    "FrameTruth",
    "PlayerTruth",
    "SyntheticMatch",
    "SyntheticParamError",
    "TruthTrack",
    "check_synthetic_params",
    "synthetic_match",
]

Role = Literal["player", "goalkeeper", "referee"]
Param = int | float | bool
FloatArray = npt.NDArray[np.float64]

PITCH_LENGTH = 105.0
PITCH_WIDTH = 68.0
_PLAYER_HEIGHT_M = 1.8
_BALL_RADIUS_M = 0.13  # a touch above FIFA's 0.11 m so a far ball still covers a few pixels
_PAN_PERIOD_S = 24.0


# --- parameters ---------------------------------------------------------------------------------


class SyntheticParamError(ValueError):
    """A synthetic-match parameter is unknown, of the wrong type, or out of bounds.

    Attributes:
        param: The name of the offending parameter.
    """

    def __init__(self, param: str, message: str) -> None:
        super().__init__(message)
        self.param = param


@dataclass(frozen=True)
class _Spec:
    kind: type[Param]
    default: Param
    lo: float = -math.inf
    hi: float = math.inf
    lo_open: bool = False


_SPECS: dict[str, _Spec] = {
    "seconds": _Spec(float, 4.0, 0, 3600, lo_open=True),
    "fps": _Spec(float, 25.0, 1, 120),
    "width": _Spec(int, 640, 64, 3840),
    "height": _Spec(int, 360, 64, 3840),
    "seed": _Spec(int, 0, 0, 2**63 - 1),
    "noise": _Spec(float, 2.0, 0, 50),
    "blur": _Spec(int, 0, 0, 31),
    "lighting": _Spec(float, 1.0, 0.2, 3.0),
    "stripes": _Spec(bool, True),
    "pan": _Spec(float, 25.0, 0, 60),
    "players_per_team": _Spec(int, 7, 0, 11),
    "ball_hidden_fraction": _Spec(float, 0.1, 0, 1),
}

SYNTHETIC_DEFAULTS: dict[str, Param] = {name: spec.default for name, spec in _SPECS.items()}
"""Every parameter of :func:`synthetic_match` with its default value."""

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def _coerce(name: str, spec: _Spec, value: object) -> Param:
    if spec.kind is bool:
        text = str(value).strip().lower()
        if isinstance(value, bool | int | str) and text in _TRUE | _FALSE:
            return text in _TRUE
        raise SyntheticParamError(name, f"{name} must be true or false, got {value!r}")
    what = "an integer" if spec.kind is int else "a number"
    number: int | float
    try:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise TypeError
        if spec.kind is int:
            if isinstance(value, float) and not value.is_integer():
                raise ValueError
            number = int(value)
        else:
            number = float(value)
    except (TypeError, ValueError):
        raise SyntheticParamError(name, f"{name} must be {what}, got {value!r}") from None
    too_low = number <= spec.lo if spec.lo_open else number < spec.lo
    if not math.isfinite(number) or too_low or number > spec.hi:
        low = f"{spec.lo:g} < " if spec.lo_open else f"{spec.lo:g} <= "
        raise SyntheticParamError(name, f"{name} must be {low}{name} <= {spec.hi:g}, got {value!r}")
    return number


def check_synthetic_params(params: Mapping[str, object]) -> dict[str, Param]:
    """Validate synthetic-match parameters and fill in the defaults.

    Strings are accepted for every parameter (they come from a ``synthetic://match?...`` query).

    Args:
        params: Parameter names to values; a subset of :data:`SYNTHETIC_DEFAULTS`.

    Returns:
        Every parameter, typed and within bounds.

    Raises:
        SyntheticParamError: An unknown name, a value of the wrong type, or out of bounds.
    """
    unknown = sorted(set(params) - set(_SPECS))
    if unknown:
        names = ", ".join(repr(n) for n in unknown)
        raise SyntheticParamError(
            unknown[0], f"unknown synthetic parameter {names}; known: {', '.join(_SPECS)}"
        )
    checked = dict(SYNTHETIC_DEFAULTS)
    for name, value in params.items():
        checked[name] = _coerce(name, _SPECS[name], value)
    return checked


# --- ground truth -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlayerTruth:
    """A visible person on the pitch.

    Attributes:
        box: ``(x1, y1, x2, y2)`` in pixels, inclusive, clipped to the frame.
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
    """

    frame_index: int
    players: list[PlayerTruth]
    ball: BallTruth | None
    pitch_corners: list[tuple[float, float]]
    homography: list[list[float]]


class TruthTrack(Sequence[FrameTruth]):
    """The per-frame truth of a clip: a read-only list computed on demand (positions only)."""

    def __init__(self, match: SyntheticMatch) -> None:
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


# --- scene --------------------------------------------------------------------------------------

_TEAM_JERSEYS = ((40, 40, 200), (190, 90, 30))  # BGR: red, blue
_GK_JERSEYS = ((20, 210, 230), (200, 50, 190))  # yellow, magenta
_REFEREE = (25, 25, 25)
_SKIN = (110, 150, 200)
_BALL = (245, 245, 245)
_GRASS = (50, 135, 60)
_STANDS = (70, 62, 58)
_BOARDS = ((30, 30, 160), (160, 90, 20), (20, 160, 200), (90, 90, 90))


@dataclass(frozen=True)
class _Body:
    depth: float
    box: tuple[float, float, float, float]
    role: Role
    team: int | None
    jersey: tuple[int, int, int]

    def parts(self) -> list[tuple[float, float, float, float]]:
        """Torso, shorts and both legs as rectangles (the head is a circle on top)."""
        x1, y1, x2, y2 = self.box
        w, h = x2 - x1, y2 - y1
        return [
            (x1, y1 + 0.15 * h, x2, y1 + 0.52 * h),
            (x1, y1 + 0.52 * h, x2, y1 + 0.66 * h),
            (x1 + 0.05 * w, y1 + 0.66 * h, x1 + 0.42 * w, y2),
            (x2 - 0.42 * w, y1 + 0.66 * h, x2 - 0.05 * w, y2),
        ]

    def head(self) -> tuple[float, float, float]:
        x1, y1, x2, y2 = self.box
        return (x1 + x2) / 2, y1 + 0.08 * (y2 - y1), 0.08 * (y2 - y1)

    def covers(self, x: float, y: float) -> bool:
        """True when the point lies on the drawn body."""
        hx, hy, hr = self.head()
        if (x - hx) ** 2 + (y - hy) ** 2 <= hr * hr:
            return True
        return any(a <= x <= c and b <= y <= d for a, b, c, d in self.parts())


@dataclass(frozen=True)
class _Scene:
    projection: FloatArray
    bodies: list[_Body]
    ball: tuple[float, float, float, float] | None  # x, y, radius, depth as drawn
    ball_visible: bool


class SyntheticMatch:
    """A synthetic football clip: frames rendered on demand plus per-frame ground truth.

    Build one with :func:`synthetic_match`. Indexing a frame never renders the others.

    Attributes:
        info: Size, rate and frame count.
        params: Every generation parameter (see :data:`SYNTHETIC_DEFAULTS`).
        truth: Per-frame :class:`FrameTruth`, a read-only list computed on demand.
    """

    def __init__(self, params: Mapping[str, object]) -> None:
        self.params = check_synthetic_params(params)
        p = self.params
        self._w, self._h, self._fps = int(p["width"]), int(p["height"]), float(p["fps"])
        self._count = max(1, round(float(p["seconds"]) * self._fps))
        self.info = VideoInfo(self._w, self._h, self._fps, self._count)
        self.truth = TruthTrack(self)
        seed = int(p["seed"])
        self._cast = _Cast(np.random.default_rng([seed, 1]), int(p["players_per_team"]))
        self._pan_phase = float(np.random.default_rng([seed, 2]).uniform(0, 2 * math.pi))
        self._pan = float(p["pan"])
        self._focal = _focal_length(self._w, self._h)
        duration = self._count / self._fps
        self._ball = _BallSchedule(
            np.random.default_rng([seed, 3]), self._cast, duration, self._pan_phase, self._pan
        )
        self._hidden = _hidden_episodes(
            np.random.default_rng([seed, 4]), float(p["ball_hidden_fraction"]), duration
        )
        self._noise_rng_seed = [seed, 5]
        self._texture: Frame | None = None
        self._noise: tuple[Frame, Frame] | None = None

    def __len__(self) -> int:
        return self._count

    def _light(self, bgr: tuple[int, ...]) -> tuple[int, ...]:
        lighting = float(self.params["lighting"])
        return tuple(min(255, round(c * lighting)) for c in bgr)

    def __iter__(self) -> Iterator[Frame]:
        for index in range(self._count):
            yield self.frame(index)

    def _index(self, index: int) -> int:
        if not -self._count <= index < self._count:
            raise IndexError(f"frame {index} out of range for a {self._count}-frame clip")
        return index % self._count

    def _projection(self, t: float) -> FloatArray:
        target_x = PITCH_LENGTH / 2 + self._pan * math.sin(
            2 * math.pi * t / _PAN_PERIOD_S + self._pan_phase
        )
        return _camera(target_x, self._focal, self._w, self._h)

    def _scene(self, index: int) -> _Scene:
        t = index / self._fps
        proj = self._projection(t)
        feet = self._cast.positions(t, self._pan_phase, self._pan)
        bodies = []
        for i, (x, y) in enumerate(feet):
            foot, depth = _project(proj, x, y, 0.0)
            head, _ = _project(proj, x, y, _PLAYER_HEIGHT_M)
            h = foot[1] - head[1]
            if depth <= 0 or h <= 1:
                continue
            u = (foot[0] + head[0]) / 2
            box = (u - 0.14 * h, foot[1] - h, u + 0.14 * h, foot[1])
            role, team = self._cast.roles[i], self._cast.teams[i]
            jersey = _REFEREE if role == "referee" else _jersey(role, team)
            bodies.append(_Body(depth, box, role, team, jersey))
        bodies.sort(key=lambda b: -b.depth)
        ball = None
        visible = False
        if not _in_episode(self._hidden, t):
            bx, by = self._ball.position(t, self._cast)
            (cx, cy), depth = _project(proj, bx, by, _BALL_RADIUS_M)
            if depth > 0:
                radius = max(2.0, self._focal * _BALL_RADIUS_M / depth)
                ball = (cx, cy, radius, depth)
                in_view = 0 <= cx < self._w and 0 <= cy < self._h
                hidden = any(b.depth < depth and b.covers(cx, cy) for b in bodies)
                visible = in_view and not hidden
        return _Scene(proj, bodies, ball, visible)

    def frame_truth(self, index: int) -> FrameTruth:
        """Return the ground truth of one frame (cheap: no rendering).

        Raises:
            IndexError: ``index`` is outside the clip.
        """
        index = self._index(index)
        scene = self._scene(index)
        players = []
        for body in scene.bodies:
            box = _clip_box(body.box, self._w, self._h)
            if box is not None:
                players.append(PlayerTruth(box, body.role, body.team))
        ball = None
        if scene.ball is not None and scene.ball_visible:
            ball = BallTruth((scene.ball[0], scene.ball[1]), scene.ball[2])
        corners = []
        for x, y in ((0, 0), (PITCH_LENGTH, 0), (PITCH_LENGTH, PITCH_WIDTH), (0, PITCH_WIDTH)):
            (u, v), depth = _project(scene.projection, x, y, 0.0)
            if depth > 0 and 0 <= u < self._w and 0 <= v < self._h:
                corners.append((u, v))
        homography = scene.projection[:, [0, 1, 3]] / scene.projection[2, 3]
        return FrameTruth(index, players, ball, corners, homography.tolist())

    def frame(self, index: int) -> Frame:
        """Render one frame: BGR uint8, shape (height, width, 3).

        Raises:
            IndexError: ``index`` is outside the clip.
        """
        index = self._index(index)
        scene = self._scene(index)
        texture, to_pitch = self._pitch_texture()
        warp = scene.projection[:, [0, 1, 3]] @ to_pitch
        img = np.asarray(
            cv2.warpPerspective(
                texture,
                warp,
                (self._w, self._h),
                flags=cv2.INTER_LINEAR,
                borderMode=cv2.BORDER_CONSTANT,
                borderValue=self._light(_STANDS),
            ),
            np.uint8,
        )
        ball_drawn = scene.ball is None
        for body in scene.bodies:
            if not ball_drawn and scene.ball is not None and scene.ball[3] > body.depth:
                self._draw_ball(img, scene.ball)
                ball_drawn = True
            self._draw_body(img, body)
        if not ball_drawn and scene.ball is not None:
            self._draw_ball(img, scene.ball)
        blur = int(self.params["blur"])
        if blur > 0:
            img = np.asarray(cv2.GaussianBlur(img, (blur | 1, blur | 1), 0), np.uint8)
        return self._add_noise(img, index)

    def write(self, path: str | Path, codec: str = "mp4v") -> Path:
        """Render every frame into a video file.

        Args:
            path: Where to write (``.mp4`` with ``mp4v``, ``.avi`` with ``MJPG``).
            codec: FourCC of the codec.

        Returns:
            The path written.

        Raises:
            OSError: OpenCV cannot open a writer for this path and codec.
        """
        # Imported here because video.py re-exports this module's names.
        from realtime_nb.video import VideoWriter

        out = Path(path)
        with VideoWriter(out, self._fps, (self._w, self._h), codec=codec) as writer:
            for frame in self:
                writer.write(frame)
        return out

    # --- rendering helpers ----------------------------------------------------------------------

    def _pitch_texture(self) -> tuple[Frame, FloatArray]:
        scale = float(min(24, max(8, round(self._w / 64))))
        x0, y0 = -15.0, -12.0
        to_pitch = np.array([[1 / scale, 0, x0], [0, 1 / scale, y0], [0, 0, 1]])
        if self._texture is None:
            texture = _draw_pitch(scale, x0, y0, bool(self.params["stripes"]), self._focal)
            lighting = float(self.params["lighting"])
            if lighting != 1.0:
                texture = np.asarray(cv2.convertScaleAbs(texture, alpha=lighting), np.uint8)
            self._texture = texture
        return self._texture, to_pitch

    def _draw_body(self, img: Frame, body: _Body) -> None:
        jersey = self._light(body.jersey)
        shorts = tuple(round(c * 0.55) for c in jersey)
        colours = (jersey, shorts, jersey, jersey)
        for (a, b, c, d), colour in zip(body.parts(), colours, strict=True):
            cv2.rectangle(img, (round(a), round(b)), (round(c), round(d)), colour, -1)
        hx, hy, hr = body.head()
        cv2.circle(img, (round(hx), round(hy)), max(1, round(hr)), self._light(_SKIN), -1)

    def _draw_ball(self, img: Frame, ball: tuple[float, float, float, float]) -> None:
        cx, cy, radius, _ = ball
        centre = (round(cx * 16), round(cy * 16))
        cv2.circle(img, centre, round(radius * 16), self._light(_BALL), -1, cv2.LINE_AA, shift=4)

    def _add_noise(self, img: Frame, index: int) -> Frame:
        sigma = float(self.params["noise"])
        if sigma <= 0:
            return img
        if self._noise is None:
            # One noise field a little larger than the frame, seen through a window that moves
            # from frame to frame: fresh gaussian noise per frame would cost more than the frame.
            rng = np.random.default_rng(self._noise_rng_seed)
            field = rng.normal(0.0, sigma, (self._h + 16, self._w + 16, 3)).round()
            self._noise = (
                np.clip(field, 0, 255).astype(np.uint8),
                np.clip(-field, 0, 255).astype(np.uint8),
            )
        dy, dx = divmod((index * 97 + 13) % 256, 16)
        pos, neg = (n[dy : dy + self._h, dx : dx + self._w] for n in self._noise)
        return np.asarray(cv2.subtract(cv2.add(img, pos), neg), np.uint8)


def synthetic_match(
    seconds: float = 4,
    fps: float = 25,
    width: int = 640,
    height: int = 360,
    seed: int = 0,
    *,
    noise: float = 2.0,
    blur: int = 0,
    lighting: float = 1.0,
    stripes: bool = True,
    pan: float = 25.0,
    players_per_team: int = 7,
    ball_hidden_fraction: float = 0.1,
) -> SyntheticMatch:
    """Make a synthetic football clip with ground truth. Deterministic for a seed.

    Args:
        seconds: Duration, 0 < seconds <= 3600.
        fps: Frame rate, 1 to 120.
        width: Frame width in pixels, 64 to 3840.
        height: Frame height in pixels, 64 to 3840.
        seed: Seed of every random choice (formation, passes, noise).
        noise: Standard deviation of the gaussian pixel noise (0 for none).
        blur: Gaussian blur kernel size in pixels (0 for none; even sizes round up to odd).
        lighting: Brightness multiplier, 0.2 to 3.
        stripes: Draw mowing stripes on the grass.
        pan: Amplitude of the camera's slow pan, in metres along the pitch.
        players_per_team: Outfield players per team (goalkeepers and referee come on top).
        ball_hidden_fraction: Share of the time the ball is hidden on purpose (0 to 1); it is
            also hidden when a player occludes it or it leaves the view.

    Returns:
        A :class:`SyntheticMatch`; frames render lazily.

    Raises:
        SyntheticParamError: A parameter is out of bounds.

    Example:
        >>> clip = synthetic_match(seconds=1, width=320, height=180, seed=7)
        >>> clip.frame(0).shape
        (180, 320, 3)
    """
    return SyntheticMatch(
        {
            "seconds": seconds,
            "fps": fps,
            "width": width,
            "height": height,
            "seed": seed,
            "noise": noise,
            "blur": blur,
            "lighting": lighting,
            "stripes": stripes,
            "pan": pan,
            "players_per_team": players_per_team,
            "ball_hidden_fraction": ball_hidden_fraction,
        }
    )


# --- geometry and motion ------------------------------------------------------------------------


def _focal_length(width: int, height: int) -> float:
    # 40 degrees across, but never more than 26 degrees tall: a taller view would reach above the
    # horizon, where the ground-plane warp has nothing sensible to show.
    return max((width / 2) / math.tan(math.radians(20)), (height / 2) / math.tan(math.radians(13)))


def _camera(target_x: float, focal: float, width: int, height: int) -> FloatArray:
    """3x4 projection of a camera behind the near touchline, 16 m up, looking at target_x."""
    centre = np.array([PITCH_LENGTH / 2, -28.0, 16.0])
    forward = np.array([target_x, 30.0, 0.0]) - centre
    forward /= np.linalg.norm(forward)
    right = np.cross(forward, [0.0, 0.0, 1.0])
    right /= np.linalg.norm(right)
    down = np.cross(forward, right)
    rotation = np.stack([right, down, forward])
    k = np.array([[focal, 0, width / 2], [0, focal, height / 2], [0, 0, 1]])
    proj: FloatArray = k @ np.column_stack([rotation, -rotation @ centre])
    return proj


def _project(proj: FloatArray, x: float, y: float, z: float) -> tuple[tuple[float, float], float]:
    u, v, w = proj @ np.array([x, y, z, 1.0])
    if w <= 1e-6:
        return (0.0, 0.0), float(w)
    return (float(u / w), float(v / w)), float(w)


def _clip_box(
    box: tuple[float, float, float, float], width: int, height: int
) -> tuple[int, int, int, int] | None:
    """Clip to the frame; None when less than half of the box is inside or it is tiny."""
    x1, y1, x2, y2 = box
    cx1, cy1 = max(0.0, x1), max(0.0, y1)
    cx2, cy2 = min(width - 1.0, x2), min(height - 1.0, y2)
    if cx2 <= cx1 or cy2 <= cy1 or cy2 - cy1 < 4:
        return None
    if (cx2 - cx1) * (cy2 - cy1) < 0.5 * (x2 - x1) * (y2 - y1):
        return None
    return round(cx1), round(cy1), round(cx2), round(cy2)


def _jersey(role: Role, team: int | None) -> tuple[int, int, int]:
    palette = _GK_JERSEYS if role == "goalkeeper" else _TEAM_JERSEYS
    return palette[team or 0]


class _Cast:
    """Everyone on the pitch: outfield players drift around the play, which follows the camera."""

    def __init__(self, rng: np.random.Generator, per_team: int) -> None:
        n = 2 * per_team + 3
        players: list[Role] = ["player"] * (2 * per_team)
        self.roles: list[Role] = [*players, "goalkeeper", "goalkeeper", "referee"]
        self.teams: list[int | None] = [*([0] * per_team), *([1] * per_team), 0, 1, None]
        self.outfield = list(range(2 * per_team))
        dx = np.concatenate([rng.uniform(-24, 18, per_team), rng.uniform(-18, 24, per_team)])
        self.offset_x = np.concatenate([dx, [4.0, PITCH_LENGTH - 4.0, 0.0]])
        self.base_y = np.concatenate([rng.uniform(6, 62, 2 * per_team), [34.0, 34.0, 34.0]])
        self.follows = np.array([1.0] * (2 * per_team) + [0.0, 0.0, 1.0])
        self.amp = rng.uniform(1.5, 5.0, (n, 2))
        self.amp[-3:-1] = [[1.5, 6.0], [1.5, 6.0]]
        self.amp[-1] = [6.0, 12.0]
        self.omega = rng.uniform(0.25, 0.9, (n, 2))
        self.phase = rng.uniform(0, 2 * math.pi, (n, 2))

    def positions(self, t: float, pan_phase: float, pan: float) -> FloatArray:
        """Pitch positions (metres) of everyone at time ``t``, shape (n, 2)."""
        play_x = PITCH_LENGTH / 2 + 0.85 * pan * math.sin(
            2 * math.pi * t / _PAN_PERIOD_S + pan_phase
        )
        wobble = self.amp * np.sin(self.omega * t + self.phase)
        x = self.offset_x + self.follows * play_x + wobble[:, 0]
        y = self.base_y + wobble[:, 1]
        out: FloatArray = np.column_stack(
            [np.clip(x, 1.0, PITCH_LENGTH - 1.0), np.clip(y, 1.5, PITCH_WIDTH - 1.5)]
        )
        return out

    def foot_of(self, who: int, t: float, pan_phase: float, pan: float) -> FloatArray:
        """Where the ball sits when ``who`` has it: just in front of the feet."""
        out: FloatArray = self.positions(t, pan_phase, pan)[who] + np.array([0.3, -0.5])
        return out


class _BallSchedule:
    """The ball's path: dwell at a player's feet, then a straight pass to another player."""

    def __init__(
        self, rng: np.random.Generator, cast: _Cast, duration: float, pan_phase: float, pan: float
    ) -> None:
        self.pan_phase, self.pan = pan_phase, pan
        self.starts: list[float] = []
        self.moves: list[tuple[int, FloatArray, FloatArray, float]] = []  # holder|-1, a, b, end
        n = len(cast.roles)
        pool = cast.outfield if len(cast.outfield) >= 2 else [n - 3, n - 2]
        t, holder = 0.0, int(rng.choice(pool))
        while t < duration + 1.0:
            dwell = float(rng.uniform(0.4, 1.2))
            self.starts.append(t)
            self.moves.append((holder, np.zeros(2), np.zeros(2), t + dwell))
            t += dwell
            a = cast.foot_of(holder, t, pan_phase, pan)
            others = [p for p in pool if p != holder]
            same = [p for p in others if cast.teams[p] == cast.teams[holder]]
            receiver = int(rng.choice(same if same and rng.random() < 0.75 else others))
            speed = float(rng.uniform(10, 20))
            b = cast.foot_of(receiver, t, pan_phase, pan)
            for _ in range(2):
                flight = max(0.2, float(np.linalg.norm(b - a)) / speed)
                b = cast.foot_of(receiver, t + flight, pan_phase, pan)
            self.starts.append(t)
            self.moves.append((-1, a, b, t + flight))
            t += flight
            holder = receiver

    def position(self, t: float, cast: _Cast) -> tuple[float, float]:
        """The ball's pitch position at time ``t``."""
        i = max(0, bisect_right(self.starts, t) - 1)
        holder, a, b, end = self.moves[i]
        if holder >= 0:
            x, y = cast.foot_of(holder, t, self.pan_phase, self.pan)
            return float(x), float(y)
        start = self.starts[i]
        s = min(1.0, (t - start) / max(end - start, 1e-9))
        return float(a[0] + s * (b[0] - a[0])), float(a[1] + s * (b[1] - a[1]))


def _hidden_episodes(
    rng: np.random.Generator, fraction: float, duration: float
) -> list[tuple[float, float]]:
    if fraction <= 0:
        return []
    if fraction >= 1:
        return [(0.0, math.inf)]
    episodes = []
    mean_length = 0.8
    t = float(rng.exponential(mean_length * (1 - fraction) / fraction))
    while t < duration:
        length = float(rng.uniform(0.4, 1.2))
        episodes.append((t, t + length))
        t += length + float(rng.exponential(mean_length * (1 - fraction) / fraction))
    return episodes


def _in_episode(episodes: list[tuple[float, float]], t: float) -> bool:
    return any(a <= t < b for a, b in episodes)


def _draw_pitch(scale: float, x0: float, y0: float, stripes: bool, focal: float) -> Frame:
    """The pitch seen from above, ``scale`` pixels per metre, origin at pitch (x0, y0)."""
    width, height = round((PITCH_LENGTH - 2 * x0) * scale), round((PITCH_WIDTH + 24 - y0) * scale)
    tex = np.empty((height, width, 3), np.uint8)
    tex[:] = _STANDS

    def px(x: float, y: float) -> tuple[int, int]:
        return round((x - x0) * scale * 16), round((y - y0) * scale * 16)

    def rect(x1: float, y1: float, x2: float, y2: float, colour: Any) -> None:
        cv2.rectangle(tex, px(x1, y1), px(x2, y2), colour, -1, cv2.LINE_AA, shift=4)

    for k, x in enumerate(np.arange(-8.0, PITCH_LENGTH + 8.0, 4.0)):
        rect(x, 80.0, x + 4.0, 81.5, _BOARDS[k % len(_BOARDS)])
    rect(-6.0, -5.0, PITCH_LENGTH + 6.0, 78.0, _GRASS)
    if stripes:
        band = PITCH_LENGTH / 18
        lighter = tuple(min(255, round(c * 1.1)) for c in _GRASS)
        for k in range(-1, 19, 2):
            rect(max(-6.0, k * band), -5.0, min(PITCH_LENGTH + 6.0, (k + 1) * band), 78.0, lighter)
    _draw_lines(tex, px, lambda y: (y + 28.0) ** 2 / (16.0 * focal))
    return tex


def _draw_lines(
    tex: Frame, px: Callable[[float, float], tuple[int, int]], pixel_m: Callable[[float], float]
) -> None:
    """Pitch markings, 0.12 m wide, but wider where far away (``pixel_m(y)`` is the depth one
    image pixel spans at pitch row y): seen at a grazing angle a 0.12 m line shrinks below a
    pixel and breaks into dashes, where a broadcast camera still shows a faint continuous line."""
    white = (255, 255, 255)

    def deep(y: float) -> float:  # half-width of a line running along the pitch's length
        return max(0.06, pixel_m(y) / 2)

    def wide(y: float) -> float:  # half-width of a line running across the pitch
        return max(0.06, 0.17 * pixel_m(y))

    def hline(x1: float, x2: float, y: float) -> None:
        half = deep(y)
        cv2.rectangle(tex, px(x1 - wide(y), y - half), px(x2 + wide(y), y + half), white, -1,
                      cv2.LINE_AA, shift=4)  # fmt: skip

    def vline(x: float, y1: float, y2: float) -> None:
        ys = np.linspace(y1, y2, 9)
        for a, b in itertools.pairwise(ys):
            quad = [px(x - wide(a), a), px(x + wide(a), a), px(x + wide(b), b), px(x - wide(b), b)]
            cv2.fillConvexPoly(tex, np.array(quad, np.int32), white, cv2.LINE_AA, shift=4)

    def arc(cx: float, cy: float, r: float, a0: float, a1: float) -> None:
        outer, inner = [], []
        for a in np.radians(np.linspace(a0, a1, 48)):
            c, s = math.cos(a), math.sin(a)
            y = cy + r * s
            outer.append(px(cx + (r + wide(y)) * c, cy + (r + deep(y)) * s))
            inner.append(px(cx + (r - wide(y)) * c, cy + (r - deep(y)) * s))
        cv2.fillPoly(tex, [np.array(outer + inner[::-1], np.int32)], white, cv2.LINE_AA, shift=4)

    mid = PITCH_LENGTH / 2
    for y in (0.0, PITCH_WIDTH):
        hline(0.0, PITCH_LENGTH, y)
    for x in (0.0, mid, PITCH_LENGTH):
        vline(x, 0.0, PITCH_WIDTH)
    for goal_x, sign in ((0.0, 1.0), (PITCH_LENGTH, -1.0)):
        for depth, half in ((16.5, 20.16), (5.5, 9.16)):
            inner_x = goal_x + sign * depth
            hline(min(goal_x, inner_x), max(goal_x, inner_x), 34 - half)
            hline(min(goal_x, inner_x), max(goal_x, inner_x), 34 + half)
            vline(inner_x, 34 - half, 34 + half)
        start = -53.13 if sign > 0 else 126.87
        arc(goal_x + sign * 11.0, 34.0, 9.15, start, start + 106.26)
    arc(mid, 34.0, 9.15, 0, 180)
    arc(mid, 34.0, 9.15, 180, 360)
    for (cx, cy), angle in (((0, 0), 0), ((PITCH_LENGTH, 0), 90), ((0, 68), 270), ((105, 68), 180)):
        arc(cx, cy, 1.0, angle, angle + 90)
