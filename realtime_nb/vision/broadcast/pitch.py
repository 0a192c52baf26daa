"""The static scene of the broadcast renderer, ray-cast per pixel: grass, markings, boards,
stands, goals.

Every pixel's ray is intersected with the ground, the advertising boards along the far
touchline and behind both goals, the wall under the stand and the stand's slope; the nearest
hit is shaded. The grass has mowing stripes, low-frequency texture and an optional roof shadow;
the markings are box-filtered over each pixel's footprint on the ground, so that they are
anti-aliased at any distance.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from realtime_nb.vision.broadcast.scene import (
    PITCH_LENGTH,
    PITCH_WIDTH,
    Camera,
    FloatArray,
    line_coverage,
)

__all__ = ["Look", "Stadium", "draw_background", "draw_goal", "make_stadium"]

L, W = PITCH_LENGTH, PITCH_WIDTH
_BOARD_WORDS = [
    "FLY EMIRATES", "BET365", "NIKE", "VISA", "SAMSUNG", "HEINEKEN", "QATAR", "ADIDAS", "PEPSI",
    "COCA-COLA", "SONY", "TOYOTA", "MASTERCARD", "EA SPORTS",
]  # fmt: skip


@dataclass
class Look:
    """How the pitch looks.

    Attributes:
        grass: Base grass colour, BGR floats.
        line_col: Marking colour, BGR floats.
        line_w: Marking width, metres.
        stripes: Mowing pattern: ``"x"``, ``"y"``, ``"diag"`` or ``"none"``.
        stripe_w: Stripe width, metres.
        stripe_c: Stripe contrast (relative brightness difference).
        shadow_on: Whether the roof shadow covers the far part of the pitch.
        shadow_line: The shadow edge ``y = y0 + k * (x - L / 2)`` as ``(y0, k)``.
    """

    grass: FloatArray
    line_col: FloatArray
    line_w: float
    stripes: str
    stripe_w: float
    stripe_c: float
    shadow_on: bool
    shadow_line: tuple[float, float]


@dataclass
class Stadium:
    """Textures and placement of everything around the pitch.

    Attributes:
        tex_res: Ground texture resolution, pixels per metre.
        ground_tex: Relative grass brightness noise over x -20..125, y -20..90 m.
        boards_tex: Advertising boards, 140 m x 0.9 m at 40 pixels per metre.
        crowd_tex: Crowd, 150 m x 40 m at 8 pixels per metre.
        board_y: y of the far boards.
        stand_y: y of the wall under the far stand.
        stand_slope: Slope of the stand, radians.
    """

    tex_res: float
    ground_tex: npt.NDArray[np.float32]
    boards_tex: npt.NDArray[np.uint8]
    crowd_tex: FloatArray
    board_y: float
    stand_y: float
    stand_slope: float


def make_stadium(rng: np.random.Generator) -> Stadium:
    """Draw a stadium's textures and placement from ``rng``."""
    tex_res = 4.0
    gw, gh = 145 * 4, 110 * 4
    linear = cv2.INTER_LINEAR
    low = cv2.resize(rng.normal(0, 1, (gh // 16, gw // 16)), (gw, gh), interpolation=linear)
    mid = cv2.resize(rng.normal(0, 1, (gh // 4, gw // 4)), (gw, gh), interpolation=linear)
    ground_tex = (low * 0.05 + mid * 0.03).astype(np.float32)
    bw, bh = 140 * 40, 36
    boards = np.zeros((bh, bw, 3), np.uint8)
    x = 0
    while x < bw:
        pw = int(rng.uniform(5, 12) * 40)
        bg = tuple(int(v) for v in rng.integers(0, 256, 3))
        fg = (255, 255, 255) if sum(bg) < 380 else (20, 20, 20)
        boards[:, x : x + pw] = bg
        cv2.putText(
            boards, str(rng.choice(_BOARD_WORDS)), (x + 10, 28), cv2.FONT_HERSHEY_DUPLEX, 0.9, fg,
            2, cv2.LINE_AA,
        )  # fmt: skip
        x += pw
    cw, ch = 150 * 8, 40 * 8
    crowd = rng.integers(0, 255, (ch // 2, cw // 2, 3)).astype(np.float32)
    crowd = cv2.cvtColor(crowd.astype(np.uint8), cv2.COLOR_BGR2GRAY)[..., None] * 0.5 + crowd * 0.5
    crowd = crowd * rng.uniform(0.2, 0.35) + rng.uniform(25, 70)
    rows = (np.arange(ch // 2) % 4 == 0)[:, None, None]
    crowd = np.where(rows, crowd * 0.5, crowd)
    crowd_tex = np.asarray(cv2.resize(crowd, (cw, ch), interpolation=cv2.INTER_NEAREST), np.float64)
    board_y = W + rng.uniform(4, 7)
    stand_y = board_y + rng.uniform(2, 5)
    stand_slope = math.radians(rng.uniform(25, 35))
    return Stadium(tex_res, ground_tex, boards, crowd_tex, board_y, stand_y, stand_slope)


def draw_background(cam: Camera, look: Look, stadium: Stadium) -> npt.NDArray[np.float32]:
    """The empty scene seen by ``cam``: float BGR (H, W, 3)."""
    h, w = cam.height, cam.width
    d = cam.rays()
    C = cam.pos
    # The sky's distance: finite, so that a ray that hits nothing (every other distance
    # infinite) takes it, and is not taken for the ground by argmin's first index.
    sky = np.full((h, w), 1e30)
    with np.errstate(divide="ignore", invalid="ignore"):
        tg = np.where(d[..., 2] < -1e-9, -C[2] / d[..., 2], np.inf)
        tb = (stadium.board_y - C[1]) / d[..., 1]
        tb = np.where(tb > 0, tb, np.inf)
        zb = C[2] + tb * d[..., 2]
        xb = C[0] + tb * d[..., 0]
        tb = np.where((zb >= 0) & (zb <= 0.9) & (xb > -15) & (xb < 125), tb, np.inf)
        # the stand's slope: points with (y - stand_y) sin(a) = (z - 1.2) cos(a), y >= stand_y
        sa, ca = math.sin(stadium.stand_slope), math.cos(stadium.stand_slope)
        num = -((C[1] - stadium.stand_y) * sa - (C[2] - 1.2) * ca)
        den = d[..., 1] * sa - d[..., 2] * ca
        ts = num / den
        ys = C[1] + ts * d[..., 1]
        zs = C[2] + ts * d[..., 2]
        ts = np.where((ts > 0) & (ys >= stadium.stand_y) & (zs < 30), ts, np.inf)
        tw = (stadium.stand_y - C[1]) / d[..., 1]
        zw = C[2] + tw * d[..., 2]
        tw = np.where((tw > 0) & (zw >= 0) & (zw < 1.2), tw, np.inf)
        te = []  # boards behind the goals
        for xe in (-5.0, L + 5.0):
            t_ = (xe - C[0]) / d[..., 0]
            z_ = C[2] + t_ * d[..., 2]
            y_ = C[1] + t_ * d[..., 1]
            te.append(
                np.where(
                    (t_ > 0) & (z_ >= 0) & (z_ <= 0.9) & (y_ > -10) & (y_ < stadium.board_y),
                    t_,
                    np.inf,
                )
            )
    ts_all = np.stack([tg, tb, ts, tw, te[0], te[1], sky])
    which = np.argmin(ts_all, 0)
    img = np.zeros((h, w, 3), np.float32)
    img[:] = (70, 60, 55)  # sky and roof
    m = which == 0
    t = np.where(m, tg, 0.0)
    X = C[0] + t * d[..., 0]
    Y = C[1] + t * d[..., 1]
    X = np.where(m, X, 0)
    Y = np.where(m, Y, 0)
    dXu = np.gradient(X, axis=1)
    dXv = np.gradient(X, axis=0)
    dYu = np.gradient(Y, axis=1)
    dYv = np.gradient(Y, axis=0)
    J = np.stack([np.stack([dXu, dXv], -1), np.stack([dYu, dYv], -1)], -2)
    J = np.clip(J, -50, 50)
    fp = np.abs(J).sum(-1)  # (h, w, 2): footprint along x and y
    if look.stripes == "x":
        s, fps = X / look.stripe_w, fp[..., 0] / look.stripe_w
    elif look.stripes == "y":
        s, fps = Y / look.stripe_w, fp[..., 1] / look.stripe_w
    elif look.stripes == "diag":
        s = (X + Y) / (look.stripe_w * 1.41)
        fps = (fp[..., 0] + fp[..., 1]) / (look.stripe_w * 1.41)
    else:
        s, fps = np.zeros_like(X), np.ones_like(X)
    # box-filtered square wave: +1 on even stripes, -1 on odd ones
    frac = s - np.floor(s)
    dist = np.minimum(frac, 1 - frac)
    sign = np.where(np.floor(s) % 2 == 0, 1.0, -1.0)
    fps = np.maximum(fps, 1e-3)
    sq = sign * np.clip(2 * dist / fps, 0, 1) * np.clip(1 - fps / 2, 0, 1)
    shade = 1 + look.stripe_c / 2 * sq
    gx = ((X + 20) * stadium.tex_res).astype(np.float32)
    gy = ((Y + 20) * stadium.tex_res).astype(np.float32)
    tex = cv2.remap(stadium.ground_tex, gx, gy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    shade = shade * (1 + tex)
    if look.shadow_on:
        y0, k = look.shadow_line
        inside = y0 + k * (X - L / 2) < Y
        shade = shade * np.where(inside, 0.62, 1.0)
    grass = look.grass[None, None, :] * shade[..., None]
    cov = line_coverage(X, Y, J, look.line_w)
    cov *= 0.85 + 0.15 * np.clip(1 + tex * 4, 0, 1)
    col = (
        grass * (1 - cov[..., None]) + (look.line_col * (shade[..., None] ** 0.7)) * cov[..., None]
    )
    img[m] = col[m]
    m = which == 1
    if m.any():
        xx = (C[0] + tb * d[..., 0] + 15) * 40
        zz = (0.9 - (C[2] + tb * d[..., 2])) * 40
        bt = cv2.remap(
            stadium.boards_tex, xx.astype(np.float32), zz.astype(np.float32), cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_WRAP,
        )  # fmt: skip
        img[m] = bt[m]
    for k_ in (4, 5):
        m = which == k_
        if m.any():
            tt = te[k_ - 4]
            # the texture runs along +y on both end boards: the right-hand one reads mirrored
            yy = (C[1] + tt * d[..., 1] + 40) * 40
            zz = (0.9 - (C[2] + tt * d[..., 2])) * 40
            bt = cv2.remap(
                stadium.boards_tex, yy.astype(np.float32), zz.astype(np.float32),
                cv2.INTER_LINEAR, borderMode=cv2.BORDER_WRAP,
            )  # fmt: skip
            img[m] = bt[m]
    m = which == 2
    if m.any():
        xx = (C[0] + ts * d[..., 0] + 20) * 8
        ss = (np.hypot(C[1] + ts * d[..., 1] - stadium.stand_y, C[2] + ts * d[..., 2] - 1.2)) * 8
        ct = cv2.remap(
            stadium.crowd_tex, xx.astype(np.float32), ss.astype(np.float32), cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REFLECT,
        )  # fmt: skip
        img[m] = ct[m]
    img[which == 3] = (45, 45, 50)
    return img


def draw_goal(cam: Camera, img: npt.NDArray[np.float32], gx: float) -> None:
    """Draw the goal on the goal line at ``x = gx`` into ``img`` (in place): a faint net
    blended at 40 %, then white posts and crossbar. Nothing is drawn if part of the net is
    behind the camera."""
    sg = -1 if gx == 0 else 1
    y0, y1 = W / 2 - 3.66, W / 2 + 3.66
    segs = [
        ((gx, y0, 0), (gx, y0, 2.44)),
        ((gx, y1, 0), (gx, y1, 2.44)),
        ((gx, y0, 2.44), (gx, y1, 2.44)),
    ]
    net = []
    back = gx + sg * 2.0
    for yy in np.linspace(y0, y1, 12):
        net.append(((gx, yy, 2.44), (back, yy, 0.0)))
    for t in np.linspace(0, 1, 6):
        net.append(
            ((gx + sg * 2.0 * t, y0, 2.44 * (1 - t)), (gx + sg * 2.0 * t, y1, 2.44 * (1 - t)))
        )
    net.append(((back, y0, 0), (back, y1, 0)))
    layer = img.copy()
    for a, bb in net:
        uv, z = cam.project(np.array([a, bb], float))
        if (z < 1).any():
            return
        cv2.line(
            layer, tuple(np.round(uv[0] * 4).astype(int)), tuple(np.round(uv[1] * 4).astype(int)),
            (200, 200, 200), 1, cv2.LINE_AA, shift=2,
        )  # fmt: skip
    img[:] = img * 0.6 + layer * 0.4
    for a, bb in segs:
        uv, z = cam.project(np.array([a, bb], float))
        th = max(1, round(float(0.12 * cam.f / z.mean())))
        cv2.line(
            img, tuple(np.round(uv[0] * 4).astype(int)), tuple(np.round(uv[1] * 4).astype(int)),
            (245, 245, 245), th, cv2.LINE_AA, shift=2,
        )  # fmt: skip
