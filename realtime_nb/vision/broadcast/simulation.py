"""Play of the broadcast renderer: 22 players, a referee and a ball moving for a whole clip.

A simple agent model, stepped at 25 fps after a second of warm-up: the ball carrier dribbles
and passes (one pass in five lofted) to a team-mate 8 to 32 m away; the two nearest players of
each team chase the ball, the others keep a formation shifted towards it; keepers guard their
goals, the referee trails play. The camera follows the smoothed ball with a slow zoom.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from realtime_nb.vision.broadcast.people import Person
from realtime_nb.vision.broadcast.scene import (
    BGR,
    DT,
    HAIRS,
    KEEPER_KITS,
    PITCH_LENGTH,
    PITCH_WIDTH,
    REF_KITS,
    SKINS,
    FloatArray,
    Kit,
)
from realtime_nb.vision.synthetic.truth import Role

__all__ = ["Motion", "simulate"]

L, W = PITCH_LENGTH, PITCH_WIDTH

_FORMATION = [
    (18, 10), (16, 26), (16, 42), (18, 58), (33, 8), (31, 26), (31, 42), (33, 60), (45, 24),
    (45, 44),
]  # fmt: skip
_BOOTS: list[BGR] = [(20, 20, 20), (240, 240, 240), (0, 200, 255), (200, 80, 20)]


@dataclass
class Motion:
    """Everything that moves, frame by frame.

    Attributes:
        people: The cast (their final state after the last step; looks do not change).
        positions: (frames, people, 2) ground positions.
        phases: (frames, people) stride phases.
        headings: (frames, people) facing directions.
        speeds: (frames, people) ground speeds.
        ball: (frames, 3) ball position, the third value the height of its bottom.
        ball_roll: (frames,) roll angle of the ball so far.
        cam_x: Camera x (it stands on the near side, level with the halfway line or so).
        target_x: (frames,) x of the ground point the camera looks at.
        target_y: (frames,) y of that point.
        zoom: (frames,) focal length factor.
    """

    people: list[Person]
    positions: FloatArray
    phases: FloatArray
    headings: FloatArray
    speeds: FloatArray
    ball: FloatArray
    ball_roll: FloatArray
    cam_x: float
    target_x: FloatArray
    target_y: FloatArray
    zoom: FloatArray


def _cast(rng: np.random.Generator, kits: tuple[Kit, Kit]) -> list[Person]:
    gk = rng.choice(len(KEEPER_KITS), 2, replace=False)
    ref = REF_KITS[rng.integers(len(REF_KITS))]
    people: list[Person] = []

    def mk(team: int | None, role: Role, home: tuple[float, float], kit: Kit) -> Person:
        skin = SKINS[rng.integers(len(SKINS))]
        hair = HAIRS[rng.integers(len(HAIRS))]
        boots = _BOOTS[rng.integers(4)]
        pos = np.array(home, float) + rng.normal(0, 2, 2)
        return Person(
            team, role, pos, np.zeros(2), rng.uniform(1.7, 1.9), skin, hair, kit, boots,
            np.array(home, float), rng.uniform(0, 6.3), rng.uniform(0, 6.3),
            role == "goalkeeper" and rng.random() < 0.7, rng.uniform(0.9, 1.1),
        )  # fmt: skip

    for t in (0, 1):
        for hx, hy in _FORMATION:
            home = (hx, hy) if t == 0 else (L - hx, W - hy)
            people.append(mk(t, "player", home, kits[t]))
        people.append(mk(t, "goalkeeper", (4.0 if t == 0 else L - 4.0, W / 2), KEEPER_KITS[gk[t]]))
    people.append(mk(None, "referee", (L / 2, W / 2 - 8), ref))
    return people


def simulate(rng: np.random.Generator, frames: int, kits: tuple[Kit, Kit]) -> Motion:
    """Simulate ``frames`` frames of play.

    Args:
        rng: Source of randomness (consumed in a fixed order, so a seed fixes the play).
        frames: Number of frames recorded.
        kits: The two teams' outfield kits.

    Returns:
        The recorded :class:`Motion`.
    """
    n = frames
    people = _cast(rng, kits)
    npl = len(people)
    ball = np.array([rng.uniform(30, 75), rng.uniform(15, 53), 0.0])
    bvel = np.zeros(3)
    to_ball = [np.linalg.norm(p.pos - ball[:2]) if p.role == "player" else 1e9 for p in people]
    carrier = int(np.argmin(np.array(to_ball)))
    people[carrier].pos = ball[:2] - [0.7, 0]
    hold = rng.uniform(0.8, 2.5)
    last_kicker, since_kick = carrier, 10.0
    dribble_dir = rng.uniform(-0.5, 0.5) + (0 if people[carrier].team == 0 else math.pi)
    P = np.zeros((n, npl, 2))
    PH = np.zeros((n, npl))
    HD = np.zeros((n, npl))
    SP = np.zeros((n, npl))
    B = np.zeros((n, 3))
    BROT = np.zeros(n)
    rot = 0.0
    warm = 25  # steps before recording, so that formations settle
    for step in range(-warm, n):
        if carrier >= 0:
            c = people[carrier]
            hold -= DT
            dribble_dir += rng.normal(0, 0.08)
            want = np.array([math.cos(dribble_dir), math.sin(dribble_dir)])
            if not (8 < c.pos[0] < L - 8 and 6 < c.pos[1] < W - 6):  # keep on the pitch
                to_c = np.array([L / 2, W / 2]) - c.pos
                want = 0.5 * want + 0.5 * to_c / np.linalg.norm(to_c)
                dribble_dir = math.atan2(want[1], want[0])
            c.vel += (want * 4.5 - c.vel) * min(1, DT * 3)
            touch = 0.55 + 0.35 * (0.5 + 0.5 * math.sin(step * 0.6))
            newb = c.pos + c.vel / (np.linalg.norm(c.vel) + 1e-6) * touch
            bvel = np.r_[(newb - ball[:2]) / DT, 0]
            ball[:2] = newb
            ball[2] = 0
            if hold <= 0:
                mates = [
                    i
                    for i, p in enumerate(people)
                    if p.team == c.team
                    and i != carrier
                    and p.role == "player"
                    and 8 < np.linalg.norm(p.pos - c.pos) < 32
                ]
                if mates:
                    rcv = mates[rng.integers(len(mates))]
                    d = people[rcv].pos + people[rcv].vel * 0.8 - ball[:2]
                    dist = np.linalg.norm(d)
                    speed = math.sqrt(2 * 2.5 * dist) + 1.5
                    bvel = np.r_[d / dist * speed, 0]
                    if rng.random() < 0.2:  # lofted
                        bvel[:2] *= 0.75
                        bvel[2] = rng.uniform(4, 8)
                    last_kicker, since_kick = carrier, 0.0
                    carrier = -1
                else:
                    hold = 0.5
        else:
            since_kick += DT
            ball += bvel * DT
            if ball[2] > 0 or bvel[2] > 0:
                bvel[2] -= 9.81 * DT
                if ball[2] < 0:
                    ball[2] = 0
                    bvel[2] = -bvel[2] * 0.4 if abs(bvel[2]) > 1.5 else 0.0
                    bvel[:2] *= 0.8
            else:
                sp = np.linalg.norm(bvel[:2])
                if sp > 0:
                    bvel[:2] *= max(0.0, float(sp - 2.5 * DT)) / sp
            for i, p in enumerate(people):  # pick up
                if p.role == "referee" or (i == last_kicker and since_kick < 0.6):
                    continue
                if np.linalg.norm(p.pos - ball[:2]) < 1.0 and ball[2] < 1.0:
                    carrier = i
                    hold = rng.uniform(0.6, 2.5)
                    dribble_dir = math.atan2(
                        *(
                            np.array(
                                [
                                    W / 2 - p.pos[1] + rng.normal(0, 10),
                                    (L if p.team == 0 else 0) - p.pos[0],
                                ]
                            )
                        )
                    )
                    break
            if carrier < 0 and (
                np.linalg.norm(bvel[:2]) < 0.3
                or not (-2 < ball[0] < L + 2 and -2 < ball[1] < W + 2)
            ):
                ball[0] = min(max(ball[0], 1), L - 1)
                ball[1] = min(max(ball[1], 1), W - 1)
                bvel[:] = 0
        rot += float(np.linalg.norm(bvel[:2])) * DT / 0.11
        bxy = ball[:2]
        for t in (0, 1):
            idx = [i for i, p in enumerate(people) if p.team == t and p.role == "player"]
            dists = [np.linalg.norm(people[i].pos - bxy) for i in idx]
            chasers = {idx[j] for j in np.argsort(dists)[:2]}
            for i in idx:
                p = people[i]
                if i == carrier:
                    continue
                if i in chasers:
                    tgt = bxy + (ball[:2] + bvel[:2] * 0.5 - bxy)
                    vmax = 5.5
                else:
                    shift = np.array([(bxy[0] - L / 2) * 0.55, (bxy[1] - W / 2) * 0.3])
                    tgt = p.home + shift + rng.normal(0, 1.0, 2)
                    vmax = 2.5
                d = tgt - p.pos
                dn = np.linalg.norm(d)
                want = d / (dn + 1e-6) * min(vmax, dn * 0.8)
                p.vel += (want - p.vel) * min(1, DT * 2.0) + rng.normal(0, 0.05, 2)
        for p in people:
            if p.role == "goalkeeper":
                gx = 3.0 if p.team == 0 else L - 3.0
                tgt = np.array([gx + (bxy[0] - gx) * 0.08, W / 2 + (bxy[1] - W / 2) * 0.2])
            elif p.role == "referee":
                tgt = bxy + np.array([-12.0 if bxy[0] > L / 2 else 12.0, -10.0])
            else:
                continue
            d = tgt - p.pos
            dn = np.linalg.norm(d)
            want = d / (dn + 1e-6) * min(5.0, dn * 0.8)
            p.vel += (want - p.vel) * min(1, DT * 2.0)
        pos = np.array([p.pos for p in people])  # separation, on positions before this move
        for p in people:
            dd = pos - p.pos
            nn = np.linalg.norm(dd, axis=1)
            close = (nn > 0) & (nn < 1.2)
            if close.any():
                p.vel -= (dd[close] / nn[close, None] ** 2).sum(0) * 0.3
            sp = np.linalg.norm(p.vel)
            if sp > 7.5:
                p.vel *= 7.5 / sp
            p.pos = p.pos + p.vel * DT
            p.pos = np.clip(p.pos, [-1, -1], [L + 1, W + 1])
            if sp > 0.4:
                hd = math.atan2(p.vel[1], p.vel[0])
                p.heading += math.atan2(math.sin(hd - p.heading), math.cos(hd - p.heading)) * min(
                    1, DT * 6
                )
            p.phase += float(sp) * DT / 1.1 * math.pi
        if step >= 0:
            P[step] = [p.pos for p in people]
            PH[step] = [p.phase for p in people]
            HD[step] = [p.heading for p in people]
            SP[step] = [np.linalg.norm(p.vel) for p in people]
            B[step] = ball
            BROT[step] = rot
    # the camera follows the ball smoothed over 0.8 s
    tx = np.zeros(n)
    ty = np.zeros(n)
    sx, sy = B[0, 0], B[0, 1]
    for i in range(n):
        a = DT / 0.8
        sx += (B[i, 0] - sx) * a
        sy += (B[i, 1] - sy) * a
        tx[i], ty[i] = sx, sy
    cam_x = L / 2 + rng.uniform(-3, 3)
    target_y = 0.45 * ty + 0.55 * (W / 2) + rng.uniform(-4, 4)
    zoom = 1 + 0.06 * np.sin(np.arange(n) * rng.uniform(0.01, 0.04))
    return Motion(people, P, PH, HD, SP, B, BROT, cam_x, tx, target_y, zoom)
