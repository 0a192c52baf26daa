"""Tests of realtime_nb.notebook.render: every overlay of every client within one budget."""

from __future__ import annotations

from realtime_nb.core import protocol as p
from realtime_nb.notebook.client import RealtimeClient
from realtime_nb.notebook.client_core import ClientCore
from realtime_nb.notebook.render import (
    MAX_UPDATES_PER_RENDER,
    RENDER_BUDGET,
    RenderBudget,
    RenderClock,
)
from realtime_nb.notebook.widgets import RealtimeOverlay


def test_clients_share_the_process_budget_by_default() -> None:
    a, b = RealtimeClient("http://127.0.0.1:9", "t"), RealtimeClient("http://127.0.0.1:9", "t")
    spent = RENDER_BUDGET.left()
    overlay = RealtimeOverlay(job_id="j")
    for c in (a, b):
        c.attach_overlay("j", overlay)
        with c.lock:
            c.core.receive_text(
                p.encode(
                    p.make_message(p.ProgressPayload(job_id="j", progress=5), job_id="j", seq=1)
                ).decode()
            )
        c.render_now()
    assert RENDER_BUDGET.left() < spent
    overlay.close()


def test_the_render_clocks_keep_every_overlay_of_every_client_within_one_budget() -> None:
    now = [0.0]
    budget = RenderBudget(per_second=80, clock=lambda: now[0])
    cores = [ClientCore() for _ in range(2)]
    clocks = [
        RenderClock(
            lambda job, core=core: (core.version(job), core.state(job), core.frames(job)), budget
        )
        for core in cores
    ]
    jobs = {f"j-{i}": i % 2 for i in range(6)}
    overlays = {job: RealtimeOverlay(job_id=job) for job in jobs}
    for job, overlay in overlays.items():
        clocks[jobs[job]].attach(job, overlay)
    for tick in range(1, 41):  # 40 ticks within one second, every job changing at every tick
        for job, k in jobs.items():
            msg = p.make_message(
                p.ProgressPayload(job_id=job, progress=tick * 2), job_id=job, seq=tick
            )
            cores[k].receive_text(p.encode(msg).decode())
        for clock in clocks:
            clock.tick()
        now[0] += 0.02
    spent = 80 - budget.left()
    assert 80 - MAX_UPDATES_PER_RENDER <= spent <= 80 + MAX_UPDATES_PER_RENDER
    # Taken in turn: every overlay was rendered, none starved by the budget.
    assert all(o.progress.bar.value > 0 for o in overlays.values())
    now[0] += 1.0  # a second later the window is empty again
    assert budget.left() == 80
    for clock in clocks:
        clock.render_now()  # an explicit render ignores the budget: the last state everywhere
    assert all(o.progress.bar.value == 80 for o in overlays.values())
    assert budget.left() == 80 - 2 * len(overlays)  # counted too (bar value and label each)
    for o in overlays.values():
        o.close()
