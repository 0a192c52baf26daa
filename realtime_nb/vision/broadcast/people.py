"""People, ball and shadows of the broadcast renderer: 3-D capsule bodies drawn supersampled.

A person is a set of capsules (limbs), two convex torso polygons (shirt, waistband) and a head
with hair, projected through the camera and drawn 3 or 6 times oversize, then area-averaged
down and composited. The ball is a shaded disc with five dark patches that turn as it rolls.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from realtime_nb.vision.broadcast.scene import BGR, Camera, FloatArray, Kit
from realtime_nb.vision.synthetic.truth import Role

__all__ = ["BodyPart", "Person", "draw_ball", "draw_person", "draw_shadow", "skeleton"]

BodyPart = tuple[str, FloatArray, FloatArray, float, BGR]
"""``(kind, a, b, radius, colour)``: kind ``"cap"`` (capsule from a to b), ``"poly"`` (convex
hull of the points a; b is its centre) or ``"head"`` (centre a, facing direction b)."""


@dataclass
class Person:
    """A player, goalkeeper or referee: look and the simulation's moving state.

    Attributes:
        team: 0 or 1, None for the referee.
        role: ``"player"``, ``"goalkeeper"`` or ``"referee"``.
        pos: Ground position, metres.
        vel: Ground velocity, metres per second.
        height: Standing height, metres.
        skin: Skin colour.
        hair: Hair colour, None when shaved.
        kit: Shirt, shorts and socks colours.
        boots: Boot colour.
        home: Formation position the person drifts back to.
        phase: Stride phase, radians.
        heading: Facing direction, radians from +x.
        long_sleeves: Whether the shirt covers the arms.
        width: Build, scaling hips and shoulders.
    """

    team: int | None
    role: Role
    pos: FloatArray
    vel: FloatArray
    height: float
    skin: BGR
    hair: BGR | None
    kit: Kit
    boots: BGR
    home: FloatArray
    phase: float = 0.0
    heading: float = 0.0
    long_sleeves: bool = False
    width: float = 1.0


def skeleton(
    p: Person, pos: FloatArray, phase: float, heading: float, speed: float, narrow: bool = False
) -> list[BodyPart]:
    """The body parts of ``p`` standing at ``pos`` in mid-stride.

    Args:
        p: The person.
        pos: Ground position.
        phase: Stride phase (radians); legs swing with its sine.
        heading: Facing direction.
        speed: Ground speed; faster means longer strides, more knee bend and lean.
        narrow: Arms close to the body and short strides (a diagnostic look).

    Returns:
        The parts, in no particular order (the caller sorts them by depth).
    """
    h = p.height
    f = np.array([math.cos(heading), math.sin(heading), 0.0])
    s = np.array([-math.sin(heading), math.cos(heading), 0.0])
    z = np.array([0, 0, 1.0])
    run = min(1.0, speed / 7.0)
    amp = math.radians(6 + 26 * run)
    if narrow:
        amp *= 0.35
    lean = math.radians(10 * run)
    up = z * math.cos(lean) + f * math.sin(lean)
    base = np.array([pos[0], pos[1], 0.0])
    hip_z = 0.52 * h
    thigh, shin = 0.245 * h, 0.235 * h
    shirt, shorts, socks = p.kit
    parts: list[BodyPart] = []
    feet_z = []
    legs = []
    for side, ph in ((1, phase), (-1, phase + math.pi)):
        a_th = amp * math.sin(ph)
        bend = math.radians(10 + 55 * run) * max(0.0, -math.cos(ph)) + math.radians(5)
        hip = base + z * hip_z + s * side * 0.085 * h * p.width
        knee = hip + thigh * (-z * math.cos(a_th) + f * math.sin(a_th))
        a_sh = a_th - bend
        ankle = knee + shin * (-z * math.cos(a_sh) + f * math.sin(a_sh))
        toe = ankle + f * 0.16 + (-z) * 0.03
        legs.append((hip, knee, ankle, toe))
        feet_z += [ankle[2] - 0.05, toe[2] - 0.03]
    drop = min(feet_z)
    sh = -z * drop  # the lowest foot touches the ground
    for hip, knee, ankle, toe in legs:
        hip, knee, ankle, toe = hip + sh, knee + sh, ankle + sh, toe + sh
        mid = hip + (knee - hip) * 0.55
        parts.append(("cap", hip, mid, 0.075 * h / 1.8 * 1.0, shorts))
        parts.append(("cap", mid, knee, 0.06 * h / 1.8, p.skin))
        sock_top = knee + (ankle - knee) * 0.25
        parts.append(("cap", knee, sock_top, 0.05 * h / 1.8, p.skin))
        parts.append(("cap", sock_top, ankle, 0.048 * h / 1.8, socks))
        parts.append(("cap", ankle, toe, 0.045, p.boots))
    pelvis = base + z * hip_z + sh
    neck = pelvis + up * (0.30 * h)
    shoulder_c = pelvis + up * (0.29 * h)
    # torso: hull of ellipses at hip, waist and shoulder level
    ring = []
    for cen, hw, hd in (
        (pelvis, 0.16, 0.11),
        (shoulder_c, 0.2, 0.12),
        (pelvis + up * 0.15 * h, 0.16, 0.11),
    ):
        for a in np.linspace(0, 2 * math.pi, 12, endpoint=False):
            ring.append(cen + s * math.cos(a) * hw * p.width + f * math.sin(a) * hd)
    parts.append(("poly", np.array(ring), pelvis + up * 0.15 * h, 0.0, shirt))
    # waistband of the shorts over the shirt's bottom
    ring2 = []
    for cen, hw, hd in ((pelvis - z * 0.06, 0.17, 0.11), (pelvis + up * 0.04, 0.165, 0.11)):
        for a in np.linspace(0, 2 * math.pi, 12, endpoint=False):
            ring2.append(cen + s * math.cos(a) * hw * p.width + f * math.sin(a) * hd)
    parts.append(("poly", np.array(ring2), pelvis + z * 0.0, 0.0, shorts))
    for side, ph in ((1, phase + math.pi), (-1, phase)):
        a_up = amp * 0.9 * math.sin(ph)
        shoulder = shoulder_c + s * side * 0.19 * p.width + (-up) * 0.02
        elbow = (
            shoulder
            + 0.3 * (-z * math.cos(a_up) + f * math.sin(a_up))
            + s * side * (0.0 if narrow else 0.04)
        )
        a_lo = a_up + math.radians(20 + 50 * run) * (0.3 if narrow else 1.0)
        wrist = elbow + 0.27 * (-z * math.cos(a_lo) + f * math.sin(a_lo)) + s * side * 0.02
        sleeve = shoulder + (elbow - shoulder) * 0.5
        parts.append(("cap", shoulder, elbow, 0.045, p.skin))
        parts.append(("cap", shoulder, sleeve if not p.long_sleeves else elbow, 0.055, shirt))
        parts.append(("cap", elbow, wrist, 0.04, shirt if p.long_sleeves else p.skin))
        hand_col: BGR = (240, 240, 240) if p.role == "goalkeeper" else p.skin
        parts.append(("cap", wrist, wrist + (wrist - elbow) * 0.25, 0.045, hand_col))
    top = base[2] + h - drop
    head_c = (
        np.array([pos[0], pos[1], 0])
        + up * (top - 0.118 * h / 1.8 * 1.0)
        + f * math.sin(lean) * 0.05
    )
    head_c[2] = top - 0.118
    parts.append(("cap", neck - up * 0.02, head_c - z * 0.08, 0.055, p.skin))
    parts.append(("head", head_c, f, 0.118, p.skin))
    return parts


def draw_person(
    cam: Camera,
    canvas: npt.NDArray[np.float32],
    alpha_out: npt.NDArray[np.float32],
    p: Person,
    pos: FloatArray,
    phase: float,
    heading: float,
    speed: float,
    narrow: bool = False,
) -> tuple[tuple[int, int, int, int], float] | None:
    """Draw a person into ``canvas`` (float BGR, in place), anti-aliased.

    Args:
        cam: The camera.
        canvas: The frame being drawn.
        alpha_out: Coverage map raised (in place) to the person's coverage.
        p: The person.
        pos: Ground position.
        phase: Stride phase.
        heading: Facing direction.
        speed: Ground speed.
        narrow: See :func:`skeleton`.

    Returns:
        ``((x0, y0, x1, y1), depth)``: the inclusive box of the pixels at least half covered
        (not clipped to the frame) and the median depth, or None when nothing is drawn.
    """
    parts = skeleton(p, pos, phase, heading, speed, narrow)
    pts = []
    for kind, a, b, _, _ in parts:
        pts.append(a.reshape(-1, 3))
        if kind == "cap":
            pts.append(b.reshape(1, 3))
    allp = np.concatenate(pts)
    uv, zc = cam.project(allp)
    if (zc < 1).any():
        return None
    depth = float(np.median(zc))
    rpx = cam.f / depth
    x0, y0 = np.floor(uv.min(0) - 0.25 * rpx - 2).astype(int)
    x1, y1 = np.ceil(uv.max(0) + 0.25 * rpx + 2).astype(int)
    H, Wd = canvas.shape[:2]
    if x1 < 0 or y1 < 0 or x0 >= Wd or y0 >= H:
        return None
    S = 6 if (y1 - y0) < 60 else 3  # supersampling
    pw, ph = (x1 - x0) * S, (y1 - y0) * S
    patch = np.zeros((ph, pw, 3), np.uint8)
    mask = np.zeros((ph, pw), np.uint8)
    off = np.array([x0, y0], float)

    def to_patch(pt: FloatArray) -> tuple[FloatArray, float]:
        q, zq = cam.project(pt.reshape(1, 3))
        return (q[0] - off + 0.5) * S - 0.5, float(zq[0])

    order = []
    for kind, a, b, _, _ in parts:
        if kind == "poly":
            dd = np.linalg.norm(b - cam.pos)
        elif kind == "head":
            dd = np.linalg.norm(a - cam.pos) - 0.2
        else:
            dd = np.linalg.norm((a + b) / 2 - cam.pos)
        order.append(dd)
    for k in np.argsort(order)[::-1]:
        kind, a, b, r, col = parts[k]
        c = tuple(int(v) for v in col)
        if kind == "cap":
            pa, za = to_patch(a)
            pb, zb = to_patch(b)
            rp = max(1, round(2 * r * cam.f / ((za + zb) / 2) * S))
            ia, ib = tuple(np.round(pa).astype(int)), tuple(np.round(pb).astype(int))
            cv2.line(patch, ia, ib, c, rp, cv2.LINE_8)
            cv2.line(mask, ia, ib, 255, rp, cv2.LINE_8)
        elif kind == "poly":
            q, _ = cam.project(a)
            q = (q - off + 0.5) * S - 0.5
            hull = cv2.convexHull(np.round(q).astype(np.int32))
            dark = tuple(int(v * 0.88) for v in col)
            cv2.fillConvexPoly(patch, hull, dark)
            cv2.fillConvexPoly(mask, hull, 255)
        else:
            pc, zc_ = to_patch(a)
            rr = max(1, round(r * cam.f / zc_ * S))
            cen = tuple(np.round(pc).astype(int))
            facing = float(np.dot(b, cam.pos - a))  # > 0: the face turns towards the camera
            cv2.circle(patch, cen, rr, c, -1)
            cv2.circle(mask, cen, rr, 255, -1)
            if p.hair is not None:
                hc = tuple(int(v) for v in p.hair)
                if facing < 0:
                    cv2.circle(patch, cen, rr, hc, -1)
                    cv2.ellipse(
                        patch, (cen[0], cen[1] + rr // 2), (rr * 2 // 3, rr // 2), 0, 0, 180, c,
                        -1,
                    )  # fmt: skip
                else:
                    cv2.ellipse(patch, cen, (rr, rr), 0, 180, 360, hc, -1)
                    cv2.ellipse(
                        patch, (cen[0], cen[1] - rr // 3), (rr, rr // 2), 0, 180, 360, hc, -1
                    )
    small = cv2.resize(patch, (x1 - x0, y1 - y0), interpolation=cv2.INTER_AREA)
    m = cv2.resize(mask, (x1 - x0, y1 - y0), interpolation=cv2.INTER_AREA).astype(np.float32) / 255
    # the patch is black where the mask is 0, so the average is premultiplied: divide it out
    small = small.astype(np.float32) / np.maximum(m[..., None], 1e-3)
    small = np.minimum(small, 255)
    cx0, cy0 = max(x0, 0), max(y0, 0)
    cx1, cy1 = min(x1, Wd), min(y1, H)
    sx0, sy0 = cx0 - x0, cy0 - y0
    sub_m = m[sy0 : sy0 + cy1 - cy0, sx0 : sx0 + cx1 - cx0]
    sub_c = small[sy0 : sy0 + cy1 - cy0, sx0 : sx0 + cx1 - cx0]
    reg = canvas[cy0:cy1, cx0:cx1]
    reg[:] = reg * (1 - sub_m[..., None]) + sub_c * sub_m[..., None]
    alpha_out[cy0:cy1, cx0:cx1] = np.maximum(alpha_out[cy0:cy1, cx0:cx1], sub_m)
    ys, xs = np.nonzero(m >= 0.5)
    if len(xs) == 0:
        return None
    box = (int(xs.min() + x0), int(ys.min() + y0), int(xs.max() + x0), int(ys.max() + y0))
    return box, depth


def draw_ball(
    cam: Camera,
    canvas: npt.NDArray[np.float32],
    b: FloatArray,
    rot: float,
    bright: bool = False,
) -> tuple[float, float, float] | None:
    """Draw the ball (radius 0.11 m) resting at ``b`` = (x, y, height of its bottom).

    Args:
        cam: The camera.
        canvas: The frame being drawn (float BGR, in place).
        b: Ball position; ``b[2]`` is the height of its lowest point.
        rot: Roll angle so far, turning the patches.
        bright: A plain white ball without patches (a diagnostic look).

    Returns:
        ``(u, v, radius)`` in pixels (also when outside the frame), or None when behind the
        camera.
    """
    c3 = np.array([b[0], b[1], b[2] + 0.11])
    uv, z = cam.project(c3.reshape(1, 3))
    if z[0] < 1:
        return None
    u, v = float(uv[0, 0]), float(uv[0, 1])
    r = float(0.11 * cam.f / z[0])
    S = 8  # supersampling
    half = math.ceil(r + 2)
    x0, y0 = math.floor(u) - half, math.floor(v) - half
    size = 2 * half + 1
    H, Wd = canvas.shape[:2]
    if x0 + size < 0 or y0 + size < 0 or x0 >= Wd or y0 >= H:
        return (u, v, r)
    patch = np.zeros((size * S, size * S, 3), np.float32)
    mask = np.zeros((size * S, size * S), np.float32)
    cc = ((u - x0 + 0.5) * S - 0.5, (v - y0 + 0.5) * S - 0.5)
    yy, xx = np.mgrid[0 : size * S, 0 : size * S]
    dx, dy = (xx - cc[0]) / (r * S), (yy - cc[1]) / (r * S)
    inside = dx * dx + dy * dy <= 1
    shade = np.full(dy.shape, 250.0) if bright else 235 - 50 * np.clip(dy + 0.3, 0, 1.3)
    patch[...] = shade[..., None]
    for k in range(0 if bright else 5):
        a = rot * 0.7 + k * 2 * math.pi / 5
        px, py = 0.55 * math.cos(a), 0.45 * math.sin(a * 1.3 + k)
        m2 = (dx - px) ** 2 + (dy - py) ** 2 < 0.035
        patch[m2] = 40
    mask[inside] = 1
    small = cv2.resize(patch * mask[..., None], (size, size), interpolation=cv2.INTER_AREA)
    m = cv2.resize(mask, (size, size), interpolation=cv2.INTER_AREA)
    col = small / np.maximum(m[..., None], 1e-3)
    cx0, cy0 = max(x0, 0), max(y0, 0)
    cx1, cy1 = min(x0 + size, Wd), min(y0 + size, H)
    sm = m[cy0 - y0 : cy1 - y0, cx0 - x0 : cx1 - x0]
    sc = col[cy0 - y0 : cy1 - y0, cx0 - x0 : cx1 - x0]
    reg = canvas[cy0:cy1, cx0:cx1]
    reg[:] = reg * (1 - sm[..., None]) + sc * sm[..., None]
    return (u, v, r)


def draw_shadow(
    cam: Camera,
    shadow_mask: npt.NDArray[np.uint8],
    sun: float,
    xy: FloatArray,
    rad: float,
    length: float,
    strength: float = 0.35,
) -> None:
    """Add a soft elliptical ground shadow cast towards ``sun`` into ``shadow_mask`` (in place).

    Args:
        cam: The camera.
        shadow_mask: Darkening map, 255 = black.
        sun: Direction the shadow falls in, radians from +x.
        xy: Ground point the shadow starts at.
        rad: Half width, metres.
        length: Length, metres.
        strength: Darkening, 0-1.
    """
    dvec = np.array([math.cos(sun), math.sin(sun)])
    pts = []
    for a in np.linspace(0, 2 * math.pi, 16, endpoint=False):
        local = dvec * (length / 2 * (1 + math.cos(a))) + np.array(
            [-dvec[1], dvec[0]]
        ) * rad * math.sin(a)
        pts.append([xy[0] + local[0], xy[1] + local[1], 0.0])
    uv, z = cam.project(np.array(pts))
    if (z < 1).any():
        return
    cv2.fillPoly(
        shadow_mask, [np.round(uv * 4).astype(np.int32)], int(255 * strength), cv2.LINE_AA, shift=2
    )
