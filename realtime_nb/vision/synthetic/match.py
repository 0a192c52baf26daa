"""SyntheticMatch: a clip's frames and truth, from the camera, the cast and the renderer."""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import cv2
import numpy as np

from realtime_nb.vision.plugins.base import Frame, VideoInfo
from realtime_nb.vision.synthetic.camera import (
    PAN_PERIOD_S,
    PITCH_LENGTH,
    PITCH_WIDTH,
    FloatArray,
    camera_projection,
    camera_rig,
    clip_box,
    intrinsics,
    project,
)
from realtime_nb.vision.synthetic.cast import BallSchedule, Cast, hidden_episodes, in_episode
from realtime_nb.vision.synthetic.params import check_synthetic_params
from realtime_nb.vision.synthetic.render import (
    BALL_FLOOR_PX,
    HAIR,
    SKIN_TONES,
    STANDS,
    Body,
    GrassStyle,
    Kit,
    draw_ball,
    draw_body,
    draw_pitch,
    draw_shadows,
    jersey,
    lit,
    random_kits,
    rolled,
)
from realtime_nb.vision.synthetic.truth import BallTruth, FrameTruth, PlayerTruth, TruthTrack

__all__ = ["SyntheticMatch", "synthetic_match"]

_PLAYER_HEIGHT_M = 1.8
# The classic look's ball: a touch above FIFA's 0.11 m, and never under BALL_FLOOR_PX in
# radius, so a far ball still covers a few pixels.
_BALL_RADIUS_M = 0.13
_TRUE_BALL_RADIUS_M = 0.11  # with true_ball: FIFA's size, no floor (a far ball of a pixel)


@dataclass(frozen=True)
class _Scene:
    projection: FloatArray
    bodies: list[Body]
    ball: tuple[float, float, float, float] | None  # x, y, radius, depth as drawn
    ball_visible: bool
    ball_turn: FloatArray | None = None  # with patched_ball: draw_ball's turn


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
        self._cast = Cast(np.random.default_rng([seed, 1]), int(p["players_per_team"]))
        self._pan_phase = float(np.random.default_rng([seed, 2]).uniform(0, 2 * math.pi))
        self._pan = float(p["pan"])
        self._rig = camera_rig(
            self._w, self._h, float(p["fov"]), float(p["camera_height"]),
            float(p["camera_distance"]),
        )  # fmt: skip
        self._focal = self._rig.focal
        true_ball = bool(p["true_ball"])
        self._ball_m = _TRUE_BALL_RADIUS_M if true_ball else _BALL_RADIUS_M
        self._ball_floor = 0.0 if true_ball else BALL_FLOOR_PX
        self._patched = bool(p["patched_ball"])
        self._kits, self._looks = self._people_style(seed)
        self._sun = float(np.random.default_rng([seed, 7]).uniform(0, 2 * math.pi))
        duration = self._count / self._fps
        self._ball = BallSchedule(
            np.random.default_rng([seed, 3]), self._cast, duration, self._pan_phase, self._pan
        )
        self._hidden = hidden_episodes(
            np.random.default_rng([seed, 4]), float(p["ball_hidden_fraction"]), duration
        )
        self._noise_rng_seed = [seed, 5]
        self._texture: Frame | None = None
        self._noise: tuple[Frame, Frame] | None = None

    def __len__(self) -> int:
        return self._count

    def _people_style(
        self, seed: int
    ) -> tuple[list[Kit] | None, list[tuple[tuple[int, int, int], tuple[int, int, int] | None]]]:
        """Styled kits by cast member (None: the classic look) and each one's skin and hair."""
        p = self.params
        n = len(self._cast.roles)
        styled = int(p["kits"]) > 0 or bool(p["white_shorts"]) or bool(p["grass_kit"])
        kits = None
        if styled:
            rng = np.random.default_rng([int(p["kits"]), seed, 6])
            team0, team1, keeper0, keeper1, referee = random_kits(
                rng, bool(p["white_shorts"]), bool(p["grass_kit"])
            )
            kits = []
            for role, team in zip(self._cast.roles, self._cast.teams, strict=True):
                if role == "referee":
                    kits.append(referee)
                elif role == "goalkeeper":
                    kits.append(keeper1 if team else keeper0)
                else:
                    kits.append(team1 if team else team0)
        looks: list[tuple[tuple[int, int, int], tuple[int, int, int] | None]]
        if bool(p["skin_tones"]):
            rng = np.random.default_rng([seed, 8])
            looks = [
                (SKIN_TONES[int(rng.integers(len(SKIN_TONES)))], HAIR[int(rng.integers(len(HAIR)))])
                for _ in range(n)
            ]
        else:
            looks = [(SKIN_TONES[2], None)] * n
        return kits, looks

    def __iter__(self) -> Iterator[Frame]:
        for index in range(self._count):
            yield self.frame(index)

    def _index(self, index: int) -> int:
        if not -self._count <= index < self._count:
            raise IndexError(f"frame {index} out of range for a {self._count}-frame clip")
        return index % self._count

    def _projection(self, t: float) -> FloatArray:
        target_x = PITCH_LENGTH / 2 + self._pan * math.sin(
            2 * math.pi * t / PAN_PERIOD_S + self._pan_phase
        )
        return camera_projection(target_x, self._focal, self._w, self._h, self._rig)

    def _scene(self, index: int) -> _Scene:
        t = index / self._fps
        proj = self._projection(t)
        feet = self._cast.positions(t, self._pan_phase, self._pan)
        bodies = []
        for i, (x, y) in enumerate(feet):
            foot, depth = project(proj, x, y, 0.0)
            head, _ = project(proj, x, y, _PLAYER_HEIGHT_M)
            h = foot[1] - head[1]
            if depth <= 0 or h <= 1:
                continue
            u = (foot[0] + head[0]) / 2
            box = (u - 0.14 * h, foot[1] - h, u + 0.14 * h, foot[1])
            role, team = self._cast.roles[i], self._cast.teams[i]
            kit = self._kits[i] if self._kits is not None else None
            if kit is None and self._looks[i][1] is not None:
                shirt = jersey(role, team)
                kit = Kit(shirt, tuple(round(c * 0.55) for c in shirt), shirt)  # type: ignore[arg-type]
            skin, hair = self._looks[i]
            bodies.append(Body(depth, box, role, team, jersey(role, team), kit, skin, hair))
        bodies.sort(key=lambda b: -b.depth)
        ball = turn = None
        visible = False
        if not in_episode(self._hidden, t):
            bx, by = self._ball.position(t, self._cast)
            (cx, cy), depth = project(proj, bx, by, self._ball_m)
            if depth > 0:
                radius = max(self._ball_floor, self._focal * self._ball_m / depth)
                ball = (cx, cy, radius, depth)
                in_view = 0 <= cx < self._w and 0 <= cy < self._h
                hidden = any(b.depth < depth and b.covers(cx, cy) for b in bodies)
                visible = in_view and not hidden
                if self._patched:
                    turn = self._drawn_turn(proj, bx, by)
        return _Scene(proj, bodies, ball, visible, turn)

    def _drawn_turn(self, proj: FloatArray, x: float, y: float) -> FloatArray:
        """The patched ball's turn at pitch point ``(x, y)`` (:func:`rolled` there) seen in the
        drawing's axes (x right, y down, z towards the camera) through ``proj``, along the
        camera's optical axis (the ball's own small angle off it is left out)."""
        # proj is intrinsics @ [rotation | translation]; the rotation's rows are the camera's
        # right, down and forward (away from the camera), so forward is turned round.
        camera = np.linalg.solve(intrinsics(self._focal, self._w, self._h), proj[:, :3])
        out: FloatArray = np.diag([1.0, 1.0, -1.0]) @ camera @ rolled(x, y, self._ball_m)
        return out

    def frame_truth(self, index: int) -> FrameTruth:
        """Return the ground truth of one frame (cheap: no rendering).

        Raises:
            IndexError: ``index`` is outside the clip.
        """
        index = self._index(index)
        scene = self._scene(index)
        players = []
        for body in scene.bodies:
            box = clip_box(body.box, self._w, self._h)
            if box is not None:
                players.append(PlayerTruth(box, body.role, body.team))
        ball = covered = None
        if scene.ball is not None:
            cx, cy, radius, _ = scene.ball
            if scene.ball_visible:
                ball = BallTruth((cx, cy), radius)
            elif 0 <= cx < self._w and 0 <= cy < self._h:  # drawn, its centre behind someone
                covered = BallTruth((cx, cy), radius)
        corners = []
        for x, y in ((0, 0), (PITCH_LENGTH, 0), (PITCH_LENGTH, PITCH_WIDTH), (0, PITCH_WIDTH)):
            (u, v), depth = project(scene.projection, x, y, 0.0)
            if depth > 0 and 0 <= u < self._w and 0 <= v < self._h:
                corners.append((u, v))
        homography = scene.projection[:, [0, 1, 3]] / scene.projection[2, 3]
        return FrameTruth(index, players, ball, corners, homography.tolist(), covered)

    def frame(self, index: int) -> Frame:
        """Render one frame: BGR uint8, shape (height, width, 3).

        Raises:
            IndexError: ``index`` is outside the clip.
        """
        index = self._index(index)
        scene = self._scene(index)
        texture, to_pitch = self._pitch_texture()
        lighting = float(self.params["lighting"])
        warp = scene.projection[:, [0, 1, 3]] @ to_pitch
        img = np.asarray(
            cv2.warpPerspective(
                texture,
                warp,
                (self._w, self._h),
                flags=cv2.INTER_LINEAR,
                borderMode=cv2.BORDER_CONSTANT,
                borderValue=lit(STANDS, lighting),
            ),
            np.uint8,
        )
        draw_shadows(img, scene.bodies, float(self.params["shadows"]), self._sun)
        ball_drawn = scene.ball is None
        for body in scene.bodies:
            if not ball_drawn and scene.ball is not None and scene.ball[3] > body.depth:
                draw_ball(img, scene.ball, lighting, scene.ball_turn)
                ball_drawn = True
            draw_body(img, body, lighting)
        if not ball_drawn and scene.ball is not None:
            draw_ball(img, scene.ball, lighting, scene.ball_turn)
        blur = int(self.params["blur"])
        if blur > 0:
            img = np.asarray(cv2.GaussianBlur(img, (blur | 1, blur | 1), 0), np.uint8)
        streak = int(self.params["motion_blur"])
        if streak > 1:
            # The camera pans sideways: a horizontal streak as long as its motion in one exposure.
            line = np.full((1, streak), 1.0 / streak, np.float32)
            img = np.asarray(cv2.filter2D(img, -1, line), np.uint8)
        img = self._add_noise(img, index)
        quality = int(self.params["jpeg_quality"])
        if quality > 0:
            ok, data = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, quality])
            if ok:
                img = np.asarray(cv2.imdecode(data, cv2.IMREAD_COLOR), np.uint8)
        return img

    # --- rendering helpers ----------------------------------------------------------------------

    def _pitch_texture(self) -> tuple[Frame, FloatArray]:
        scale = float(min(24, max(8, round(self._w / 64))))
        x0, y0 = -15.0, -12.0
        to_pitch = np.array([[1 / scale, 0, x0], [0, 1 / scale, y0], [0, 0, 1]])
        if self._texture is None:
            p = self.params
            style = GrassStyle(
                stripes=bool(p["stripes"]),
                stripe_width=float(p["stripe_width"]),
                stripe_angle=float(p["stripe_angle"]),
                texture=float(p["grass_texture"]),
                line_width=float(p["line_width"]),
                line_fade=float(p["line_fade"]),
                spots=bool(p["spots"]),
                seed=int(p["seed"]),
                camera_height=self._rig.height,
                camera_distance=self._rig.distance,
            )
            texture = draw_pitch(scale, x0, y0, style.stripes, self._focal, style)
            lighting = float(self.params["lighting"])
            if lighting != 1.0:
                texture = np.asarray(cv2.convertScaleAbs(texture, alpha=lighting), np.uint8)
            self._texture = texture
        return self._texture, to_pitch

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
    camera_height: float = 16.0,
    camera_distance: float = 28.0,
    fov: float = 40.0,
    kits: int = 0,
    white_shorts: bool = False,
    grass_kit: bool = False,
    skin_tones: bool = False,
    spots: bool = False,
    line_width: float = 0.12,
    line_fade: float = 0.0,
    stripe_width: float = PITCH_LENGTH / 18,
    stripe_angle: float = 0.0,
    grass_texture: float = 0.0,
    shadows: float = 0.0,
    motion_blur: int = 0,
    jpeg_quality: int = 0,
    true_ball: bool = False,
    patched_ball: bool = False,
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
        camera_height, camera_distance, fov, kits, white_shorts, grass_kit, skin_tones, spots,
        line_width, line_fade, stripe_width, stripe_angle, grass_texture, shadows,
        motion_blur, jpeg_quality: Domain randomisation; every one defaults to the classic
            look: ``camera_height`` (m, 5 to 40; 16), ``camera_distance`` (m behind the near
            touchline, 5 to 80; 28), ``fov`` (degrees across, 10 to 90; 40; a tall view tilts
            the camera down so the horizon stays out of frame), ``kits`` (0: red and blue;
            any other number, with the random seed, draws kits of any colour for both teams,
            goalkeepers and referee, with white, black or coloured shorts and socks, short
            sleeves and boots),
            ``white_shorts`` (team 1 in white shorts and socks), ``grass_kit`` (team 0's shirt
            a lime or teal close to the grass), ``skin_tones`` (skin from light to dark and
            hair per person), ``spots`` (centre and penalty spots), ``line_width`` (m; 0.12),
            ``line_fade`` (worn, patchy lines, 0 to 0.9), ``stripe_width`` (m; 105/18),
            ``stripe_angle`` (degrees; 0), ``grass_texture`` (0 to 1), ``shadows`` (0 to 1),
            ``motion_blur`` (px of horizontal streak), ``jpeg_quality`` (0: none, else 1 to
            100).
        true_ball: Draw the ball at its real size, 0.11 m in radius with no least size in
            pixels, blended into each pixel by the share of it the ball covers: about a pixel
            in radius at 640x360 from a high or wide camera, as on broadcast footage, and
            under a pixel at 320x180. By default it is 0.13 m and at least 2 px in radius,
            the classic look.
        patched_ball: Draw a match ball instead of a plain white disc: a sphere lit from
            above (its far side down to half the white) with twelve round dark patches, a
            quarter of its surface, turned by where it is on the pitch (as if rolled there
            from a corner, along the pitch and then across); blended by coverage at any size.
            A ball of a pixel or two is then a pale grey dot, not a white one, as on
            broadcast footage.

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
            "camera_height": camera_height,
            "camera_distance": camera_distance,
            "fov": fov,
            "kits": kits,
            "white_shorts": white_shorts,
            "grass_kit": grass_kit,
            "skin_tones": skin_tones,
            "spots": spots,
            "line_width": line_width,
            "line_fade": line_fade,
            "stripe_width": stripe_width,
            "stripe_angle": stripe_angle,
            "grass_texture": grass_texture,
            "shadows": shadows,
            "motion_blur": motion_blur,
            "jpeg_quality": jpeg_quality,
            "true_ball": true_ball,
            "patched_ball": patched_ball,
        }
    )
