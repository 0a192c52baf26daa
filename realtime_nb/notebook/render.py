"""The render clock: overlays redrawn from state at a bounded rate, within one widget budget.

Jupyter drops iopub messages past 1,000 a second per kernel (``iopub_msg_rate_limit``), so every
client of a process shares one :class:`RenderBudget` of trait assignments a second, and a tick
only redraws the overlays whose job changed since their last render.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from realtime_nb.core.state import RealtimeState
from realtime_nb.notebook.frames import KeptFrame

if TYPE_CHECKING:
    from realtime_nb.notebook.widgets import RealtimeOverlay

__all__ = [
    "MAX_UPDATES_PER_RENDER",
    "RENDER_BUDGET",
    "WIDGET_UPDATES_PER_S",
    "RenderBudget",
    "RenderClock",
]

log = logging.getLogger(__name__)

WIDGET_UPDATES_PER_S = 80
"""Trait assignments the render clock makes per second at most, across every overlay of a
process. Each widget sends at most one message per render, so this bounds the iopub comm
messages too (Jupyter drops iopub messages past 1,000 a second; we stay far below it)."""

MAX_UPDATES_PER_RENDER = 16
"""Trait assignments one overlay's render can make when much changed; a tick renders an overlay
only while the second's budget still has this many left."""


class RenderBudget:
    """Trait assignments made by overlays in the last second, across every client of this
    process: Jupyter's iopub limit is per kernel, however many clients a notebook opens.

    A sliding one-second window, not a token bucket: a bucket lets a full bucket and a second's
    refill through within one second (twice the rate); the window never does. It holds one
    entry per render, a few dozen at most.

    Args:
        per_second: Assignments allowed in any one-second window.
        clock: Seconds, monotonic (tests pass a fake one).
    """

    def __init__(
        self, per_second: int = WIDGET_UPDATES_PER_S, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.per_second = per_second
        self._clock = clock
        self._spent: collections.deque[tuple[float, int]] = collections.deque()
        self._lock = threading.Lock()

    def left(self) -> int:
        """Assignments still allowed in the current one-second window."""
        with self._lock:
            now = self._clock()
            while self._spent and now - self._spent[0][0] >= 1.0:
                self._spent.popleft()
            return self.per_second - sum(n for _, n in self._spent)

    def spend(self, assignments: int) -> None:
        """Record a render's assignments (an explicit render may overdraw: ticks then wait)."""
        with self._lock:
            self._spent.append((self._clock(), assignments))


RENDER_BUDGET = RenderBudget()
"""The budget every client of this process renders within."""

JobSnapshot = Callable[[str], tuple[int, RealtimeState | None, tuple[KeptFrame, ...]]]
"""Reads a job's version, state (None before its first message) and kept frames, atomically."""


class RenderClock:
    """Keeps overlays in step with their jobs' states.

    Args:
        snapshot: Reads what an overlay needs of its job.
        budget: The budget ticks keep to (explicit renders may overdraw it).
    """

    def __init__(self, snapshot: JobSnapshot, budget: RenderBudget = RENDER_BUDGET) -> None:
        self._snapshot = snapshot
        self._budget = budget
        self._overlays: list[tuple[str, RealtimeOverlay, list[int]]] = []
        self._next = 0
        self._lock = threading.Lock()

    def attach(self, job_id: str, overlay: RealtimeOverlay) -> None:
        """Render ``overlay`` whenever ``job_id`` changes."""
        with self._lock:
            self._overlays.append((job_id, overlay, [-1]))

    def tick(self) -> None:
        """The clock's render, within the budget: the overlays still waiting are drawn at a
        later tick from the then latest state, so nothing is lost, only merged."""
        self._render_changed(budgeted=True)

    def render_now(self) -> None:
        """Render every overlay whose job changed, now, whatever the budget (a user's explicit
        call, e.g. after ``wait()``)."""
        self._render_changed(budgeted=False)

    def _render_changed(self, budgeted: bool) -> None:
        with self._lock:
            overlays = list(self._overlays)
            if overlays:  # start each tick at the next overlay, so none waits behind the others
                self._next %= len(overlays)
                overlays = overlays[self._next :] + overlays[: self._next]
                self._next += 1
            for job_id, overlay, seen in overlays:
                version, state, frames = self._snapshot(job_id)
                if version == seen[0] or state is None:
                    continue
                if budgeted and self._budget.left() < MAX_UPDATES_PER_RENDER:
                    return
                seen[0] = version
                try:
                    n = overlay.render(state, frames)
                except Exception:
                    log.exception("overlay render failed")
                    continue
                self._budget.spend(n)
