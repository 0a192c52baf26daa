"""Drawing a synthetic frame's parts: the pitch texture, the people and the ball.

Colours are BGR. ``lighting`` multiplies every colour drawn (see :func:`lit`).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from realtime_nb.vision.plugins.base import Frame
from realtime_nb.vision.synthetic.camera import PITCH_LENGTH, PITCH_WIDTH, FloatArray
from realtime_nb.vision.synthetic.truth import Role

__all__ = [
    "BALL_FLOOR_PX",
    "HAIR",
    "SKIN_TONES",
    "STANDS",
    "Body",
    "GrassStyle",
    "Kit",
    "draw_ball",
    "draw_body",
    "draw_pitch",
    "draw_shadows",
    "jersey",
    "lit",
    "random_kits",
    "rolled",
]

_TEAM_JERSEYS = ((40, 40, 200), (190, 90, 30))  # BGR: red, blue
_GK_JERSEYS = ((20, 210, 230), (200, 50, 190))  # yellow, magenta
_REFEREE = (25, 25, 25)
_SKIN = (110, 150, 200)
SKIN_TONES = (
    (189, 224, 255),
    (150, 190, 235),
    (110, 150, 200),
    (80, 120, 170),
    (55, 85, 130),
    (40, 60, 95),
)
"""Skin tones (BGR), light to dark, drawn per person when skin tones vary."""
HAIR = ((20, 20, 25), (30, 50, 80), (90, 170, 210), (40, 70, 150), (60, 60, 60))
"""Hair colours (BGR): black, brown, blonde, red, grey."""
_WHITE_KIT = (240, 240, 240)
_BALL = (245, 245, 245)
_GRASS = (50, 135, 60)
STANDS = (70, 62, 58)
"""The colour around the pitch, also what the frame shows beyond the warped texture."""
_BOARDS = ((30, 30, 160), (160, 90, 20), (20, 160, 200), (90, 90, 90))


@dataclass(frozen=True)
class Kit:
    """A styled kit (BGR): shirt with short sleeves, shorts, socks and boots."""

    shirt: tuple[int, int, int]
    shorts: tuple[int, int, int]
    socks: tuple[int, int, int]
    boots: tuple[int, int, int] = (30, 30, 30)


@dataclass(frozen=True)
class Body:
    """A person as drawn in one frame: depth from the camera, box in pixels, who they are."""

    depth: float
    box: tuple[float, float, float, float]
    role: Role
    team: int | None
    jersey: tuple[int, int, int]
    kit: Kit | None = None
    skin: tuple[int, int, int] = _SKIN
    hair: tuple[int, int, int] | None = None

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
        """Centre and radius of the head."""
        x1, y1, x2, y2 = self.box
        return (x1 + x2) / 2, y1 + 0.08 * (y2 - y1), 0.08 * (y2 - y1)

    def covers(self, x: float, y: float) -> bool:
        """True when the point lies on the drawn body."""
        hx, hy, hr = self.head()
        if (x - hx) ** 2 + (y - hy) ** 2 <= hr * hr:
            return True
        return any(a <= x <= c and b <= y <= d for a, b, c, d in self.parts())


def jersey(role: Role, team: int | None) -> tuple[int, int, int]:
    """The shirt colour of a player or goalkeeper of ``team``, or of the referee."""
    if role == "referee":
        return _REFEREE
    palette = _GK_JERSEYS if role == "goalkeeper" else _TEAM_JERSEYS
    return palette[team or 0]


def lit(bgr: tuple[int, ...], lighting: float) -> tuple[int, ...]:
    """A colour under ``lighting`` (a brightness multiplier), clipped to 255."""
    return tuple(min(255, round(c * lighting)) for c in bgr)


def draw_body(img: Frame, body: Body, lighting: float) -> None:
    """Draw a person: shirt, shorts, legs and head (plus arms, socks, boots and hair when the
    person wears a styled :class:`Kit`). Everything stays inside ``body.box``: the box is the
    person from the top of the head to the soles of the boots, arms included."""
    if body.kit is not None:
        _draw_styled(img, body, body.kit, lighting)
        return
    shirt = lit(body.jersey, lighting)
    shorts = tuple(round(c * 0.55) for c in shirt)
    colours = (shirt, shorts, shirt, shirt)
    for (a, b, c, d), colour in zip(body.parts(), colours, strict=True):
        cv2.rectangle(img, (round(a), round(b)), (round(c), round(d)), colour, -1)
    hx, hy, hr = body.head()
    cv2.circle(img, (round(hx), round(hy)), max(1, round(hr)), lit(_SKIN, lighting), -1)


def _draw_styled(img: Frame, body: Body, kit: Kit, lighting: float) -> None:
    x1, y1, x2, y2 = body.box
    w, h = x2 - x1, y2 - y1

    def rect(a: float, b: float, c: float, d: float, colour: tuple[int, ...]) -> None:
        cv2.rectangle(img, (round(a), round(b)), (round(c), round(d)), lit(colour, lighting), -1)

    skin = body.skin
    # Arms first, then the torso over them: on a person a few pixels wide the rounded arm
    # rectangles would otherwise paint over most of the shirt.
    rect(x1, y1 + 0.17 * h, x1 + 0.15 * w, y1 + 0.27 * h, kit.shirt)  # sleeves
    rect(x2 - 0.15 * w, y1 + 0.17 * h, x2, y1 + 0.27 * h, kit.shirt)
    rect(x1, y1 + 0.27 * h, x1 + 0.14 * w, y1 + 0.5 * h, skin)  # arms
    rect(x2 - 0.14 * w, y1 + 0.27 * h, x2, y1 + 0.5 * h, skin)
    rect(x1 + 0.15 * w, y1 + 0.15 * h, x2 - 0.15 * w, y1 + 0.52 * h, kit.shirt)  # torso
    rect(x1 + 0.12 * w, y1 + 0.52 * h, x2 - 0.12 * w, y1 + 0.66 * h, kit.shorts)
    for a, c in ((x1 + 0.14 * w, x1 + 0.45 * w), (x2 - 0.45 * w, x2 - 0.14 * w)):
        rect(a, y1 + 0.66 * h, c, y1 + 0.76 * h, skin)
        rect(a, y1 + 0.76 * h, c, y1 + 0.95 * h, kit.socks)
        rect(a, y1 + 0.95 * h, c, y2, kit.boots)
    hx, hy, hr = body.head()
    r = max(1, round(hr))
    cv2.circle(img, (round(hx), round(hy)), r, lit(skin, lighting), -1)
    if body.hair is not None:
        cv2.ellipse(img, (round(hx), round(hy)), (r, r), 0, 180, 360, lit(body.hair, lighting), -1)


def random_kits(
    rng: np.random.Generator, white_shorts: bool, grass_kit: bool
) -> tuple[Kit, Kit, Kit, Kit, Kit]:
    """Kits of any colour for team 0, team 1, their goalkeepers and the referee.

    Shirts are kept apart from each other (and from the grass, unless ``grass_kit`` makes team
    0's shirt a green-teal or lime close to it); shorts and socks are white, black, the shirt's
    colour or anything. ``white_shorts`` gives team 1 white shorts and socks.
    """
    shirts: list[tuple[int, int, int]] = []
    if grass_kit:
        hue = int(rng.choice([29, 31, 89, 92]))
        shirts.append(_hsv_bgr(hue, int(rng.integers(150, 230)), int(rng.integers(110, 200))))
    while len(shirts) < 5:
        hue = int(rng.integers(0, 180))
        sat = int(rng.choice([0, int(rng.integers(60, 256))], p=[0.15, 0.85]))
        val = int(rng.integers(30, 256))
        colour = _hsv_bgr(hue, sat, val)
        grassy = 30 <= hue <= 90 and sat > 50
        # Team 1 must stand apart from team 0 (60 Lab units), everyone else from every shirt.
        apart = 60 if len(shirts) == 1 else 45
        if not grassy and all(_lab_distance(colour, c) > apart for c in shirts):
            shirts.append(colour)

    def lower(shirt: tuple[int, int, int]) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
        options = [_WHITE_KIT, (25, 25, 25), shirt, _hsv_bgr(int(rng.integers(0, 180)), 200, 150)]
        shorts = options[int(rng.choice(4, p=[0.3, 0.25, 0.3, 0.15]))]
        socks = options[int(rng.choice(4, p=[0.35, 0.2, 0.3, 0.15]))]
        return shorts, socks

    kits = []
    for k, shirt in enumerate(shirts):
        shorts, socks = lower(shirt)
        if white_shorts and k == 1:
            shorts = socks = _WHITE_KIT
        kits.append(Kit(shirt, shorts, socks))
    return kits[0], kits[1], kits[2], kits[3], kits[4]


def _hsv_bgr(hue: int, sat: int, val: int) -> tuple[int, int, int]:
    pixel = np.array([[[hue, sat, val]]], np.uint8)
    b, g, r = (int(v) for v in cv2.cvtColor(pixel, cv2.COLOR_HSV2BGR)[0, 0])
    return b, g, r


def _lab_distance(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    lab = cv2.cvtColor(np.array([[a, b]], np.uint8), cv2.COLOR_BGR2LAB).astype(np.float64)
    return float(np.linalg.norm(lab[0, 0] - lab[0, 1]))


def draw_shadows(img: Frame, bodies: list[Body], strength: float, azimuth: float) -> None:
    """Darken the grass under each person: an ellipse from the feet towards ``azimuth``
    (radians in the image), ``strength`` 0 (none) to 1 (half as bright)."""
    if strength <= 0 or not bodies:
        return
    mask = np.zeros(img.shape[:2], np.uint8)
    dx, dy = math.cos(azimuth), 0.35 * math.sin(azimuth)
    for body in bodies:
        x1, _, x2, y2 = body.box
        h = body.box[3] - body.box[1]
        length = 0.45 * h
        centre = ((x1 + x2) / 2 + dx * length, y2 + dy * length)
        axes = (max(1, round(length)), max(1, round(0.1 * h)))
        angle = math.degrees(math.atan2(dy, dx))
        cv2.ellipse(mask, (round(centre[0]), round(centre[1])), axes, angle, 0, 360, 255, -1)
    dark = np.asarray(cv2.convertScaleAbs(img, alpha=1 - 0.5 * strength), np.uint8)
    np.copyto(img, dark, where=mask[:, :, None] > 0)


def draw_ball(
    img: Frame,
    ball: tuple[float, float, float, float],
    lighting: float,
    turn: FloatArray | None = None,
) -> None:
    """Draw the ball, given as ``(x, y, radius, depth)`` in pixels, antialiased. A ball under
    :data:`BALL_FLOOR_PX` in radius is blended into each pixel by the share of it the disc
    covers: OpenCV's antialiased circle inks some 6.8 px for a 1 px radius (a disc of 3.1).

    With ``turn`` (an orthogonal 3x3 matrix from the ball's own axes to the drawing's, x right,
    y down, z towards the camera, which are left-handed), it is a match ball instead of a plain
    white disc, at any radius, seen along the camera's axis: a sphere lit from above, with
    twelve dark patches placed by ``turn`` (:func:`_draw_patched_ball`)."""
    cx, cy, radius, _ = ball
    if turn is not None:
        _draw_patched_ball(img, (cx, cy), radius, lighting, turn)
        return
    colour = lit(_BALL, lighting)
    if radius < BALL_FLOOR_PX:
        _draw_covered_disc(img, (cx, cy), radius, colour)
        return
    centre = (round(cx * 16), round(cy * 16))
    cv2.circle(img, centre, round(radius * 16), colour, -1, cv2.LINE_AA, shift=4)


BALL_FLOOR_PX = 2.0
"""The least radius (px) of the classic look's ball. Under it :func:`draw_ball` draws by
coverage: only a true-size ball is that small, so the classic ball is drawn as it always was."""
_SUPERSAMPLE = 16


def _draw_covered_disc(
    img: Frame, centre: tuple[float, float], radius: float, colour: tuple[int, ...]
) -> None:
    """Blend ``colour`` into ``img`` by the share of each pixel a disc of ``radius`` px at
    ``centre`` (pixel centres at whole coordinates) covers, measured on a 16x finer grid."""
    ink = np.asarray(colour, np.float64)
    _blend_samples(img, centre, radius, lambda inside, dx, dy: inside[..., None] * ink)


def _blend_samples(
    img: Frame,
    centre: tuple[float, float],
    radius: float,
    ink: Callable[[npt.NDArray[np.bool_], FloatArray, FloatArray], FloatArray],
    per_pixel: int = _SUPERSAMPLE,
) -> None:
    """Blend a disc of ``radius`` px at ``centre`` (pixel centres at whole coordinates) into
    ``img``, measured on a grid ``per_pixel`` times finer, over the pixels in the frame only:
    each pixel takes the share of its samples the disc covers, and their mean colour.
    ``ink(inside, dx, dy)`` gives each sample's BGR (rows, columns, 3; zero outside the disc)
    from whether it is inside and its offsets from the centre in radii. Nothing for a radius
    of 0 or less."""
    if not radius > 0:
        return
    h, w = img.shape[:2]
    x0, y0 = max(0, math.floor(centre[0] - radius)), max(0, math.floor(centre[1] - radius))
    x1 = min(w, math.ceil(centre[0] + radius) + 1)
    y1 = min(h, math.ceil(centre[1] + radius) + 1)
    if x1 <= x0 or y1 <= y0:
        return
    n = per_pixel
    # Sub-pixel sample centres of pixels x0..x1-1 (pixel x spans x - 0.5 to x + 0.5).
    xs = x0 - 0.5 + (np.arange((x1 - x0) * n) + 0.5) / n
    ys = y0 - 0.5 + (np.arange((y1 - y0) * n) + 0.5) / n
    across, down = xs[None, :] - centre[0], ys[:, None] - centre[1]
    inside = across**2 + down**2 <= radius**2
    share = inside.reshape(y1 - y0, n, x1 - x0, n).mean(axis=(1, 3))
    dx = np.broadcast_to(across / radius, inside.shape)
    dy = np.broadcast_to(down / radius, inside.shape)
    colour = ink(inside, dx, dy).reshape(y1 - y0, n, x1 - x0, n, 3).sum(axis=(1, 3)) / n**2
    patch = img[y0:y1, x0:x1].astype(np.float64)
    mixed = patch * (1 - share[..., None]) + colour
    img[y0:y1, x0:x1] = np.round(mixed).astype(np.uint8)


_GOLDEN = (1 + math.sqrt(5)) / 2
_PATCH_CENTRES = np.array(
    [
        corner
        for a in (-1.0, 1.0)
        for b in (-1.0, 1.0)
        for corner in ((0.0, a, b * _GOLDEN), (a, b * _GOLDEN, 0.0), (b * _GOLDEN, 0.0, a))
    ]
)
_PATCH_CENTRES /= np.linalg.norm(_PATCH_CENTRES, axis=1, keepdims=True)
"""The twelve patches' centres on a unit ball: an icosahedron's vertices, as on the classic
ball of twelve pentagons and twenty hexagons."""
_PATCH_RADIUS = 0.3
"""Angular radius (radians) of each round dark patch: the twelve cover 27 % of the ball, about
as much as a truncated icosahedron's pentagons do (28 %)."""
_PATCH = (40, 40, 45)
_LIGHT = np.array([-0.3, -0.6, 0.75]) / math.sqrt(0.3**2 + 0.6**2 + 0.75**2)
"""Where the light on the ball comes from, in the drawing's axes (x right, y down, z towards the
camera): above, a little to the left and in front, whatever the sun the players' shadows
(:func:`draw_shadows`) fall from (a simplification)."""
_AMBIENT = 0.5
"""The share of the white a side of the ball facing away from the light keeps."""


def _draw_patched_ball(
    img: Frame,
    centre: tuple[float, float],
    radius: float,
    lighting: float,
    turn: FloatArray,
) -> None:
    """A match ball of ``radius`` px at ``centre``, blended by coverage at any size (see
    :func:`_blend_samples`; 16 samples a pixel across up to a 4 px radius, fewer above, one
    from a 64 px radius on, where a pixel's share of the edge no longer shows: a 200 px ball
    draws in some 30 ms): white lit from :data:`_LIGHT` (down to :data:`_AMBIENT` of it facing
    away), with the twelve dark patches of :data:`_PATCH_CENTRES` turned into the drawing by
    ``turn`` (see :func:`draw_ball`). Nothing for a radius that is not positive."""
    if not radius > 0:
        return
    white = np.asarray(lit(_BALL, lighting), np.float64)
    dark = np.asarray(lit(_PATCH, lighting), np.float64)
    centres = _PATCH_CENTRES @ np.asarray(turn, np.float64).T
    per_pixel = _SUPERSAMPLE if radius <= 4.0 else max(1, math.floor(64 / radius))

    def ink(inside: npt.NDArray[np.bool_], dx: FloatArray, dy: FloatArray) -> FloatArray:
        dz = np.sqrt(np.clip(1.0 - dx**2 - dy**2, 0.0, None))
        normals = np.stack([dx, dy, dz], axis=-1)
        lit_share = _AMBIENT + (1 - _AMBIENT) * np.clip(normals @ _LIGHT, 0.0, None)
        nearest = (normals @ centres.T).max(axis=-1)
        patched = nearest >= math.cos(_PATCH_RADIUS)
        base = np.where(patched[..., None], dark, white)
        out: FloatArray = base * (lit_share * inside)[..., None]
        return out

    _blend_samples(img, centre, radius, ink, per_pixel)


def rolled(distance_x: float, distance_y: float, radius: float) -> FloatArray:
    """The rotation of a ball of ``radius`` (m) from rest, after rolling without slipping
    ``distance_x`` along the pitch's length and then ``distance_y`` across it (m; pitch axes: x
    along, y across, z up): about the y axis by ``distance_x / radius``, then about -x by
    ``distance_y / radius``. A ball's turn depends on its path; this one is set by its place
    alone, so its patches move as it moves, but not as a real ball's do: moving across the
    pitch it rolls, moving along it it rolls only where it crossed no width at all, and else
    spins partly about the vertical.

    Example:
        >>> r = rolled(0.11 * math.pi / 2, 0.0, 0.11)  # a quarter turn along the pitch
        >>> [round(float(v), 6) + 0.0 for v in r @ [0.0, 0.0, 1.0]]  # its top now faces +x
        [1.0, 0.0, 0.0]
    """
    along, across = distance_x / radius, distance_y / radius
    ca, sa = math.cos(along), math.sin(along)
    cb, sb = math.cos(across), math.sin(across)
    about_y = np.array([[ca, 0.0, sa], [0.0, 1.0, 0.0], [-sa, 0.0, ca]])
    about_minus_x = np.array([[1.0, 0.0, 0.0], [0.0, cb, sb], [0.0, -sb, cb]])
    out: FloatArray = about_minus_x @ about_y
    return out


@dataclass(frozen=True)
class GrassStyle:
    """How the pitch looks: stripes, texture and markings (the defaults are the classic look).

    Attributes:
        stripes: Mowing stripes on or off.
        stripe_width: Width of one stripe in metres.
        stripe_angle: Direction of the stripes in degrees (0: bands across the length).
        texture: Strength of the grass's mottling, 0 (flat) to 1.
        line_width: Width of the markings in metres.
        line_fade: How worn the markings are, 0 (crisp white) to 0.9 (barely there, patchy).
        spots: Draw the centre and penalty spots.
        seed: Seed of the texture and wear patterns.
        camera_height: Metres above the grass of the camera (lines widen with distance).
        camera_distance: Metres behind the near touchline of the camera.
    """

    stripes: bool = True
    stripe_width: float = PITCH_LENGTH / 18
    stripe_angle: float = 0.0
    texture: float = 0.0
    line_width: float = 0.12
    line_fade: float = 0.0
    spots: bool = False
    seed: int = 0
    camera_height: float = 16.0
    camera_distance: float = 28.0


def draw_pitch(
    scale: float, x0: float, y0: float, stripes: bool, focal: float, style: GrassStyle | None = None
) -> Frame:
    """The pitch seen from above, ``scale`` pixels per metre, origin at pitch (x0, y0)."""
    style = style or GrassStyle(stripes=stripes)
    width, height = round((PITCH_LENGTH - 2 * x0) * scale), round((PITCH_WIDTH + 24 - y0) * scale)
    tex = np.empty((height, width, 3), np.uint8)
    tex[:] = STANDS
    rng = np.random.default_rng([style.seed, 11])

    def px(x: float, y: float) -> tuple[int, int]:
        return round((x - x0) * scale * 16), round((y - y0) * scale * 16)

    def rect(x1: float, y1: float, x2: float, y2: float, colour: Any) -> None:
        cv2.rectangle(tex, px(x1, y1), px(x2, y2), colour, -1, cv2.LINE_AA, shift=4)

    for k, x in enumerate(np.arange(-8.0, PITCH_LENGTH + 8.0, 4.0)):
        rect(x, 80.0, x + 4.0, 81.5, _BOARDS[k % len(_BOARDS)])
    rect(-6.0, -5.0, PITCH_LENGTH + 6.0, 78.0, _GRASS)
    lighter = tuple(min(255, round(c * 1.1)) for c in _GRASS)
    if style.stripes and style.stripe_angle == 0:
        band = style.stripe_width
        for k in range(-1, math.ceil(PITCH_LENGTH / band - 1e-9) + 1, 2):
            rect(max(-6.0, k * band), -5.0, min(PITCH_LENGTH + 6.0, (k + 1) * band), 78.0, lighter)
    elif style.stripes:
        xs = (np.arange(width) + 0.5) / scale + x0
        ys = (np.arange(height) + 0.5) / scale + y0
        angle = math.radians(style.stripe_angle)
        along = xs[None, :] * math.cos(angle) + ys[:, None] * math.sin(angle)
        odd = np.floor(along / style.stripe_width).astype(np.int64) % 2 == 1
        grass = np.zeros((height, width), np.uint8)
        cv2.rectangle(grass, px(-6.0, -5.0), px(PITCH_LENGTH + 6.0, 78.0), 255, -1, shift=4)
        tex[odd & (grass > 0)] = lighter
    if style.texture > 0:
        tex = _mottle(tex, rng, style.texture, scale)
    pixel_m = lambda y: (y + style.camera_distance) ** 2 / (style.camera_height * focal)  # noqa: E731
    half = style.line_width / 2
    if style.line_fade <= 0:
        _draw_lines(tex, px, pixel_m, half, (255, 255, 255))
        if style.spots:
            _draw_spots(tex, px, pixel_m, (255, 255, 255))
        return tex
    ink = np.zeros(tex.shape[:2], np.uint8)
    _draw_lines(ink, px, pixel_m, half, 255)
    if style.spots:
        _draw_spots(ink, px, pixel_m, 255)
    wear = _smooth_noise(rng, ink.shape, cells=max(8, round(width / (6 * scale))))
    alpha = ink.astype(np.float32) / 255 * (1 - style.line_fade * wear)
    out = tex.astype(np.float32) * (1 - alpha[:, :, None]) + 255 * alpha[:, :, None]
    return np.asarray(np.clip(out, 0, 255).astype(np.uint8))


def _smooth_noise(
    rng: np.random.Generator, shape: tuple[int, ...], cells: int
) -> npt.NDArray[np.float32]:
    """A smooth random field in [0, 1] of ``shape``, varying over about ``cells`` cells across."""
    h, w = shape[:2]
    rows = max(2, round(cells * h / w))
    small = rng.random((rows, cells)).astype(np.float32)
    field = cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)
    return np.asarray(np.clip(field, 0, 1), np.float32)


def _mottle(tex: Frame, rng: np.random.Generator, strength: float, scale: float) -> Frame:
    """Grass that is not flat: patches a few metres across and a fine grain."""
    h, w = tex.shape[:2]
    patches = _smooth_noise(rng, (h, w), cells=max(8, round(w / (4 * scale)))) - 0.5
    grain = rng.normal(0, 0.5, (h, w)).astype(np.float32)
    factor = 1 + strength * (0.3 * patches + 0.08 * grain)
    out = tex.astype(np.float32) * factor[:, :, None]
    return np.asarray(np.clip(out, 0, 255).astype(np.uint8))


def _draw_spots(
    tex: Frame, px: Callable[[float, float], tuple[int, int]], pixel_m: Callable[[float], float],
    colour: Any,
) -> None:  # fmt: skip
    """The centre spot and both penalty spots, 0.22 m across (wider where a pixel spans more)."""
    for x in (11.0, PITCH_LENGTH / 2, PITCH_LENGTH - 11.0):
        ry = max(0.11, 0.6 * pixel_m(34.0))
        rx = max(0.11, 0.2 * pixel_m(34.0))
        centre = px(x, 34.0)
        a, b = px(x + rx, 34.0 + ry)
        cv2.ellipse(tex, centre, (a - centre[0], b - centre[1]), 0, 0, 360, colour, -1,
                    cv2.LINE_AA, shift=4)  # fmt: skip


def _draw_lines(
    tex: Frame,
    px: Callable[[float, float], tuple[int, int]],
    pixel_m: Callable[[float], float],
    half_width: float,
    white: Any,
) -> None:
    """Pitch markings, ``2 * half_width`` m wide, but wider where far away (``pixel_m(y)`` is
    the depth one image pixel spans at pitch row y): seen at a grazing angle a 0.12 m line
    shrinks below a pixel and breaks into dashes, where a broadcast camera still shows a faint
    continuous line."""

    def deep(y: float) -> float:  # half-width of a line running along the pitch's length
        return max(half_width, pixel_m(y) / 2)

    def wide(y: float) -> float:  # half-width of a line running across the pitch
        return max(half_width, 0.17 * pixel_m(y))

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
