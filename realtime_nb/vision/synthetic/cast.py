"""Who moves on the pitch and how: players, goalkeepers and referee, and the ball's passes.

Every position is a closed-form function of time, so any frame can be computed on its own.
"""

from __future__ import annotations

import math
from bisect import bisect_right

import numpy as np

from realtime_nb.vision.synthetic.camera import PAN_PERIOD_S, PITCH_LENGTH, PITCH_WIDTH, FloatArray
from realtime_nb.vision.synthetic.truth import Role

__all__ = ["BallSchedule", "Cast", "hidden_episodes", "in_episode"]


class Cast:
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
            2 * math.pi * t / PAN_PERIOD_S + pan_phase
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


class BallSchedule:
    """The ball's path: dwell at a player's feet, then a straight pass to another player."""

    def __init__(
        self, rng: np.random.Generator, cast: Cast, duration: float, pan_phase: float, pan: float
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

    def position(self, t: float, cast: Cast) -> tuple[float, float]:
        """The ball's pitch position at time ``t``."""
        i = max(0, bisect_right(self.starts, t) - 1)
        holder, a, b, end = self.moves[i]
        if holder >= 0:
            x, y = cast.foot_of(holder, t, self.pan_phase, self.pan)
            return float(x), float(y)
        start = self.starts[i]
        s = min(1.0, (t - start) / max(end - start, 1e-9))
        return float(a[0] + s * (b[0] - a[0])), float(a[1] + s * (b[1] - a[1]))


def hidden_episodes(
    rng: np.random.Generator, fraction: float, duration: float
) -> list[tuple[float, float]]:
    """Intervals ``[start, end)`` in which the ball is hidden on purpose, ``fraction`` of the
    time on average."""
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


def in_episode(episodes: list[tuple[float, float]], t: float) -> bool:
    """True when ``t`` falls in one of the ``episodes``."""
    return any(a <= t < b for a, b in episodes)
