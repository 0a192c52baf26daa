"""A broadcast clip: the look and play drawn from a seed, each frame rendered with its truth."""

from __future__ import annotations

import math

import cv2
import numpy as np

from realtime_nb.core.frame import Frame
from realtime_nb.vision.broadcast.people import draw_ball, draw_person, draw_shadow
from realtime_nb.vision.broadcast.pitch import Look, draw_background, draw_goal, make_stadium
from realtime_nb.vision.broadcast.scene import (
    KITS,
    PITCH_LENGTH,
    PITCH_WIDTH,
    Camera,
    ClipConfig,
    marking_segments,
)
from realtime_nb.vision.broadcast.simulation import simulate
from realtime_nb.vision.synthetic.truth import BallTruth, FrameTruth, PlayerTruth

__all__ = ["Clip", "draw_truth"]

L, W = PITCH_LENGTH, PITCH_WIDTH


class Clip:
    """One simulated match clip seen by a broadcast camera on the near side.

    The look (kits, camera, grass, stadium) and the whole play are drawn from
    ``cfg.seed`` when the clip is made; :meth:`render` then draws any frame on its own.

    Attributes:
        cfg: The knobs.
        kit_names: The two outfield kits.
        cam_height: Camera height, metres.
        cam_back: Camera distance behind the near touchline, metres.
        hfov: Horizontal field of view before zoom, degrees.
        noise: Pixel noise standard deviation.
        blur: Blur sigma, pixels.
        jpeg: JPEG quality (0: none).
        stripes: Mowing pattern.
        shadow_on: Whether the roof shadow is on.
        line_w: Marking width, metres.
        sun: Direction shadows fall in, radians.
        look: The pitch's look.
        stadium: Textures and placement of the boards and stands.
        motion: The play, frame by frame, and the camera's path.
    """

    def __init__(self, cfg: ClipConfig) -> None:
        self.cfg = cfg
        rng = np.random.default_rng(cfg.seed)
        names = list(KITS)
        if cfg.kits is None:
            a, b = rng.choice(len(names), 2, replace=False)
            kits = (names[a], names[b])
        else:
            kits = cfg.kits
        self.kit_names = kits
        self.cam_height = cfg.cam_height or float(rng.uniform(12, 28))
        self.cam_back = cfg.cam_back or float(rng.uniform(25, 40))
        self.hfov = cfg.hfov or float(rng.uniform(30, 55))
        self.noise = cfg.noise if cfg.noise is not None else float(rng.uniform(0, 4))
        self.blur = cfg.blur if cfg.blur is not None else float(rng.uniform(0.3, 0.9))
        self.jpeg = cfg.jpeg if cfg.jpeg is not None else int(rng.integers(60, 91))
        self.stripes = cfg.stripes or str(rng.choice(["x", "x", "y", "diag", "none"]))
        self.shadow_on = cfg.shadow if cfg.shadow is not None else bool(rng.random() < 0.25)
        stripe_w = float(rng.uniform(4.5, 8.0))
        stripe_c = float(rng.uniform(0.04, 0.16))
        self.line_w = float(rng.uniform(0.08, 0.15))
        hue = rng.uniform(38, 52)  # OpenCV hue of the grass
        hsv = np.array([[[hue, rng.uniform(110, 190), rng.uniform(95, 150)]]]).astype(np.uint8)
        grass = cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)[0, 0].astype(float)
        line_col = np.array([rng.uniform(215, 245)] * 3) + rng.uniform(-8, 8, 3)
        self.sun = float(rng.uniform(0, 2 * math.pi))
        shadow_line = (float(rng.uniform(30, 75)), float(rng.uniform(-0.6, 0.6)))
        self.look = Look(
            grass, line_col, self.line_w, self.stripes, stripe_w, stripe_c, self.shadow_on,
            shadow_line,
        )  # fmt: skip
        self.stadium = make_stadium(rng)
        self.motion = simulate(rng, cfg.frames, (KITS[kits[0]], KITS[kits[1]]))

    def __len__(self) -> int:
        return self.cfg.frames

    def camera(self, i: int) -> Camera:
        """The camera of frame ``i`` (it pans with play and zooms slowly)."""
        wd = self.cfg.width
        hfov = math.radians(self.hfov) / self.motion.zoom[i]
        f = (wd / 2) / math.tan(hfov / 2)
        pos = np.array([self.motion.cam_x, -self.cam_back, self.cam_height])
        target = np.array([self.motion.target_x[i], self.motion.target_y[i], 0.0])
        return Camera(pos, target, f, wd, self.cfg.height)

    def render(self, i: int) -> tuple[Frame, FrameTruth]:
        """Frame ``i`` (BGR uint8) and what it shows.

        The truth's player boxes are the pixels at least half covered by each person, clipped
        to the frame, for people at least half inside it; the ball is None when its centre is
        out of the frame or covered by a person drawn in front (then ``ball_covered`` is set).
        """
        cam = self.camera(i)
        mo = self.motion
        img = draw_background(cam, self.look, self.stadium)
        H, Wd = img.shape[:2]
        smask = np.zeros((H, Wd), np.uint8)
        for k in range(len(mo.people)):
            draw_shadow(cam, smask, self.sun, mo.positions[i, k], 0.28,
                        0.6 + 0.6 * (not self.shadow_on), 0.3)  # fmt: skip
        b = mo.ball[i]
        draw_shadow(cam, smask, self.sun, b[:2], 0.1, 0.2, 0.35)
        img *= 1 - smask.astype(np.float32)[..., None] / 255
        # people, ball and goals, far to near; ties keep this order
        items: list[tuple[float, str, int]] = []
        for k in range(len(mo.people)):
            d = np.linalg.norm(np.r_[mo.positions[i, k], 0] - cam.pos)
            items.append((float(d), "p", k))
        items.append((float(np.linalg.norm(b + np.array([0, 0, 0.11]) - cam.pos) - 0.05), "b", -1))
        goal_xs = (0.0, L)
        for g, gx in enumerate(goal_xs):
            items.append((float(np.linalg.norm(np.array([gx, W / 2, 1.2]) - cam.pos)), "g", g))
        items.sort(key=lambda t: -t[0])
        # coverage by people in front of the ball, to tell when it is hidden
        alpha_front = np.zeros((H, Wd), np.float32)
        ball_px = None
        ball_drawn = False
        players: list[tuple[float, PlayerTruth]] = []
        for _, kind, k in items:
            if kind == "p":
                p = mo.people[k]
                drawn = draw_person(
                    cam, img, alpha_front if ball_drawn else np.zeros((H, Wd), np.float32), p,
                    mo.positions[i, k], mo.phases[i, k], mo.headings[i, k], mo.speeds[i, k],
                    self.cfg.narrow,
                )  # fmt: skip
                if drawn is None:
                    continue
                (bx0, by0, bx1, by1), depth = drawn
                cx0, cy0 = max(bx0, 0), max(by0, 0)
                cx1, cy1 = min(bx1, Wd - 1), min(by1, H - 1)
                if cx1 < cx0 or cy1 < cy0:
                    continue
                area = (bx1 - bx0 + 1) * (by1 - by0 + 1)
                carea = (cx1 - cx0 + 1) * (cy1 - cy0 + 1)
                if carea * 2 < area:
                    continue
                players.append((depth, PlayerTruth((cx0, cy0, cx1, cy1), p.role, p.team)))
            elif kind == "b":
                ball_px = draw_ball(cam, img, b, float(mo.ball_roll[i]), self.cfg.bright_ball)
                ball_drawn = True
            else:
                draw_goal(cam, img, goal_xs[k])
        if self.blur > 0:
            img = np.asarray(cv2.GaussianBlur(img, (0, 0), self.blur), np.float32)
        rng = np.random.default_rng(self.cfg.seed * 1000 + i)
        if self.noise > 0:
            img = img + rng.normal(0, self.noise, img.shape).astype(np.float32)
        frame: Frame = np.clip(img, 0, 255).astype(np.uint8)
        if self.jpeg:
            _, enc = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, self.jpeg])
            frame = np.asarray(cv2.imdecode(enc, cv2.IMREAD_COLOR), np.uint8)
        ball_t = None
        covered = None
        if ball_px is not None:
            u, v, r = ball_px
            if 0 <= u < Wd and 0 <= v < H:
                bt = BallTruth((u, v), r)
                if alpha_front[round(min(v, H - 1)), round(min(u, Wd - 1))] >= 0.5:
                    covered = bt
                else:
                    ball_t = bt
        players.sort(key=lambda t: -t[0])
        corners = []
        for cx_, cy_ in ((0, 0), (L, 0), (L, W), (0, W)):
            uv, z = cam.project(np.array([[cx_, cy_, 0.0]]))
            if z[0] > 0 and 0 <= uv[0, 0] < Wd and 0 <= uv[0, 1] < H:
                corners.append((float(uv[0, 0]), float(uv[0, 1])))
        truth = FrameTruth(
            frame_index=i,
            players=[t for _, t in players],
            ball=ball_t,
            pitch_corners=corners,
            homography=cam.homography().tolist(),
            ball_covered=covered,
        )
        return frame, truth


def draw_truth(frame: Frame, truth: FrameTruth, lines: bool = True) -> Frame:
    """A copy of ``frame`` with the truth drawn on it: boxes green, ball yellow (orange when
    covered) and, with ``lines``, the markings projected by the truth homography in magenta."""
    out = frame.copy()
    if lines:
        h = np.asarray(truth.homography)
        for xa, ya, xb, yb in marking_segments():
            t = np.linspace(0, 1, 40)
            pts = np.stack([xa + (xb - xa) * t, ya + (yb - ya) * t, np.ones_like(t)], 1) @ h.T
            ok = pts[:, 2] > 0
            q = pts[ok, :2] / pts[ok, 2:]
            cv2.polylines(out, [np.round(q * 4).astype(np.int32)], False, (255, 0, 255), 1,
                          cv2.LINE_AA, shift=2)  # fmt: skip
        a = np.linspace(0, 2 * math.pi, 90)
        for cx, cy in ((L / 2, W / 2), (11, W / 2), (L - 11, W / 2)):
            circle = np.stack([cx + 9.15 * np.cos(a), cy + 9.15 * np.sin(a), np.ones_like(a)], 1)
            pts = circle @ h.T
            ok = pts[:, 2] > 0
            q = pts[ok, :2] / pts[ok, 2:]
            cv2.polylines(out, [np.round(q * 4).astype(np.int32)], False, (255, 0, 255), 1,
                          cv2.LINE_AA, shift=2)  # fmt: skip
    for p in truth.players:
        cv2.rectangle(out, p.box[:2], p.box[2:], (0, 255, 0), 1)
    if truth.ball:
        c = tuple(round(v) for v in truth.ball.center)
        cv2.circle(out, c, int(truth.ball.radius) + 3, (0, 255, 255), 1)
    if truth.ball_covered:
        c = tuple(round(v) for v in truth.ball_covered.center)
        cv2.circle(out, c, int(truth.ball_covered.radius) + 3, (0, 128, 255), 1)
    return out
