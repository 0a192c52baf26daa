"""Benchmarks of delivery: one-client throughput, fan-out (shedding and zero-loss), latency
alone and with a crowd, each beside a bare Tornado (or python-websockets) baseline in the same
run."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bench_plugins import PACE_LADDER
from harness import (
    NOOPS,
    PACED_MSGS,
    TINY,
    BareServer,
    BroadcastServer,
    Children,
    OurServer,
    Row,
    Size,
    clients,
    collect,
    cpu_s,
    percentile,
    read_line,
)


def noop_plugins() -> list[str]:
    """The bench_noop_* plugins a throughput job runs (each emits one frame message)."""
    return [f"bench_noop_{i}" for i in range(NOOPS)]


def fan(
    children: Children,
    ours: OurServer,
    bare: BareServer,
    size: Size,
    procs: int,
    conns: int,
    frames: int,
) -> tuple[float, float, float]:
    """Deliveries/s of ``frames`` x NOOPS frame messages to procs x conns connections, ours and
    bare, and the fraction of ours that was delivered (the rest was shed for slow readers)."""
    n = frames * NOOPS
    args = ("--connections", str(conns), "--expect", str(n))
    with clients(children, ours.ws_url, procs, size.timeout, *args) as ps:
        job_id = ours.submit(TINY.format(seconds=frames / 100), noop_plugins())
        got = collect(ps, size.timeout)
    ours.wait_job(job_id, size.timeout)
    with clients(children, bare.ws_url, procs, size.timeout, *args) as ps:
        bare.start(n)
        bare_rate = collect(ps, size.timeout)["rate"]
    return got["rate"], bare_rate, got["count"] / (n * procs * conns)


def bench_throughput(children: Children, ours: OurServer, bare: BareServer, size: Size) -> Row:
    o, b, got = fan(children, ours, bare, size, 1, 1, size.throughput_frames)
    n = size.throughput_frames * NOOPS
    note = f"{n:,} msgs, {got:.0%} delivered"
    return Row("throughput, 1 client", "msgs/s", o, b, ">= 0.6x bare", o >= 0.6 * b, note)


def bench_fanout(children: Children, ours: OurServer, bare: BareServer, size: Size) -> Row:
    """Deliveries/s when the readers cannot keep up: ours sheds frame messages (the share
    delivered says how many), bare Tornado delivers everything, more slowly. Not like with
    like: the zero-loss row is the fan-out figure to compare."""
    procs, conns = size.fanout_processes, size.fanout_connections
    o, b, got = fan(children, ours, bare, size, procs, conns, size.fanout_frames)
    n = size.fanout_frames * NOOPS
    return Row(
        f"deliveries/s under overload, {procs * conns} clients",
        "deliveries/s",
        o,
        b,
        "report (ours sheds frames)",
        None,
        f"{n:,} msgs x {procs * conns} ({procs} procs) as fast as possible; "
        f"ours delivered {got:.0%}, bare 100%",
    )


@dataclass
class PacedRun:
    """One paced push to every client: did each get every message, at the pace?"""

    frame_rate: int
    lossless: bool
    deliveries: int
    deliveries_per_s: float
    server_cpu_s: float


def _paced_plan(
    size: Size, frame_rate: int, clients_per_proc: int
) -> tuple[int, int, float, tuple[str, ...]]:
    """One paced run's frames, messages to each client, time limit and client arguments."""
    frames = max(10, round(frame_rate * size.paced_seconds))
    n = frames * PACED_MSGS
    args = ("--connections", str(clients_per_proc), "--expect", str(n))
    return frames, n, frames / frame_rate * 3 + 10, args


def _paced_ours(
    children: Children, ours: OurServer, size: Size, frame_rate: int, clients_per_proc: int
) -> PacedRun:
    frames, n, timeout, args = _paced_plan(size, frame_rate, clients_per_proc)
    plugins = [f"bench_pace_{frame_rate}", *noop_plugins()[: PACED_MSGS - 1]]
    procs = size.fanout_processes
    with clients(children, ours.ws_url, procs, timeout, *args) as ps:
        cpu0 = cpu_s(ours.proc.pid)
        job_id = ours.submit(TINY.format(seconds=frames / 100), plugins)
        got = collect(ps, timeout, strict=False)
        cpu = cpu_s(ours.proc.pid) - cpu0
    ours.wait_job(job_id, size.timeout)
    return _judge(frame_rate, frames, n * procs * clients_per_proc, got, cpu)


def _paced_baseline(
    children: Children,
    server: BareServer | BroadcastServer,
    size: Size,
    frame_rate: int,
    clients_per_proc: int,
) -> PacedRun:
    frames, n, timeout, args = _paced_plan(size, frame_rate, clients_per_proc)
    procs = size.fanout_processes
    with clients(children, server.ws_url, procs, timeout, *args) as ps:
        cpu0 = cpu_s(server.proc.pid)
        server.start(n, hz=frame_rate, burst=PACED_MSGS)
        got = collect(ps, timeout, strict=False)
        cpu = cpu_s(server.proc.pid) - cpu0
    if isinstance(server, BroadcastServer):
        read_line(server.proc, size.timeout)  # "done"
    return _judge(frame_rate, frames, n * procs * clients_per_proc, got, cpu)


def _judge(
    frame_rate: int, frames: int, expected: int, got: dict[str, Any], cpu: float
) -> PacedRun:
    """Lossless: every client got every message, and the last one came no later than a
    quarter over the planned duration (plus 0.25 s): the pace held."""
    planned = frames / frame_rate
    took = got["last"] - got["first"]
    lossless = got["ok"] and got["count"] == expected and took <= 1.25 * planned + 0.25
    return PacedRun(frame_rate, lossless, got["count"], got["count"] / max(took, 1e-9), cpu)


def _search(
    run_at: Callable[[int], PacedRun], rungs: int
) -> tuple[PacedRun | None, list[PacedRun]]:
    """Climb the pace ladder until a rate loses something; the last lossless run, and all."""
    best, tried = None, []
    for frame_rate in PACE_LADDER[:rungs]:
        result = run_at(frame_rate)
        tried.append(result)
        if not result.lossless:
            break
        best = result
    return best, tried


def bench_zero_loss(children: Children, ours: OurServer, bare: BareServer, size: Size) -> list[Row]:
    """The highest paced message rate at which every one of the clients receives every
    message, ours (frame messages, so shedding shows as loss) and bare Tornado, and the
    server CPU each delivery costs at the highest rate all three servers held, python-websockets'
    ``broadcast()`` included."""
    per_proc = size.fanout_connections
    n_clients = size.fanout_processes * per_proc
    mine, mine_tried = _search(
        lambda f: _paced_ours(children, ours, size, f, per_proc), size.ladder_rungs
    )
    theirs, theirs_tried = _search(
        lambda f: _paced_baseline(children, bare, size, f, per_proc), size.ladder_rungs
    )
    broadcast = BroadcastServer(children, size.timeout)
    rate_of = lambda r: r.frame_rate * PACED_MSGS if r is not None else 0.0  # noqa: E731
    held = [r.frame_rate for r in (mine, theirs) if r is not None]
    common = min(held) if len(held) == 2 else PACE_LADDER[0]
    cpu_runs = {
        "ours": _paced_ours(children, ours, size, common, per_proc),
        "bare": _paced_baseline(children, bare, size, common, per_proc),
        "broadcast": _paced_baseline(children, broadcast, size, common, per_proc),
    }
    children.kill(broadcast.proc)
    per_k = {k: 1000 * r.server_cpu_s / max(r.deliveries, 1) for k, r in cpu_runs.items()}
    cheaper = min(per_k["bare"], per_k["broadcast"])
    tried = lambda runs: ", ".join(  # noqa: E731
        f"{r.frame_rate * PACED_MSGS}/s {'ok' if r.lossless else 'lost'}" for r in runs
    )
    return [
        Row(
            f"zero-loss fan-out, {n_clients} clients",
            "msgs/s each",
            rate_of(mine),
            rate_of(theirs),
            ">= 0.8x bare",
            rate_of(mine) >= 0.8 * rate_of(theirs) and mine is not None,
            f"ours: {tried(mine_tried)}; bare: {tried(theirs_tried)}",
        ),
        Row(
            "server CPU per 1,000 deliveries",
            "CPU ms",
            per_k["ours"],
            cheaper,
            "<= 1.2x the cheaper of bare Tornado and websockets broadcast()",
            per_k["ours"] <= 1.2 * cheaper,
            f"at {common * PACED_MSGS} msgs/s to {n_clients} clients; bare Tornado "
            f"{per_k['bare']:.3f}, websockets broadcast() {per_k['broadcast']:.3f} CPU ms; "
            f"lossless: ours {cpu_runs['ours'].lossless}, bare {cpu_runs['bare'].lossless}, "
            f"broadcast {cpu_runs['broadcast'].lossless}",
        ),
    ]


def bench_latency(children: Children, ours: OurServer, bare: BareServer, size: Size) -> list[Row]:
    n = size.latency_messages
    args = ("--mode", "latency", "--expect", str(n))
    with clients(children, ours.ws_url, 1, size.timeout, *args) as ps:
        job_id = ours.submit(TINY.format(seconds=n / 100), ["bench_pace"])
        mine = collect(ps, size.timeout)["latency_ms"]
    ours.wait_job(job_id, size.timeout)
    with clients(children, bare.ws_url, 1, size.timeout, *args) as ps:
        bare.start(n, hz=1000, stamp=True)
        theirs = collect(ps, size.timeout)["latency_ms"]
    rows = []
    for q, limit in ((50, None), (95, 5.0), (99, 15.0)):
        o, b = percentile(mine, q), percentile(theirs, q)
        rows.append(
            Row(
                f"latency p{q}, 1,000 msgs/s",
                "ms",
                o,
                b,
                f"<= {limit:g} ms" if limit else "-",
                o <= limit if limit else None,
                f"{n:,} msgs, event -> reduce()",
            )
        )
    return rows


def bench_crowd_latency(children: Children, ours: OurServer, size: Size) -> list[Row]:
    """Event -> reducer latency at 1,000 msgs/s while the crowd (fan-out clients) reads the
    same job."""
    n = size.latency_messages
    crowd_args = ("--connections", str(size.fanout_connections), "--expect", str(n))
    with clients(children, ours.ws_url, size.fanout_processes, size.timeout, *crowd_args) as crowd:
        args = ("--mode", "latency", "--expect", str(n))
        with clients(children, ours.ws_url, 1, size.timeout, *args) as ps:
            job_id = ours.submit(TINY.format(seconds=n / 100), ["bench_pace"])
            mine = collect(ps, size.timeout)["latency_ms"]
        collect(crowd, size.timeout, strict=False)
    ours.wait_job(job_id, size.timeout)
    n_crowd = size.fanout_processes * size.fanout_connections
    return [
        Row(
            f"latency p{q} with {n_crowd} other readers",
            "ms",
            percentile(mine, q),
            None,
            f"<= {limit:g} ms" if limit else "-",
            percentile(mine, q) <= limit if limit else None,
            f"{n:,} msgs at 1,000/s, event -> reduce()",
        )
        for q, limit in ((50, None), (95, None), (99, 15.0))
    ]
