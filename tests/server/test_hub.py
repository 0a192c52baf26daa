"""Delivery across real sockets: resume after disconnects, restarts, a stalled client, heartbeat.

Each test is bounded in count and time; servers bind 127.0.0.1 on ephemeral ports.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from pathlib import Path
from typing import Any

import msgspec
import pytest
from conftest import Http, ServeProcess, close_ws, pong, read_json, wait_until, ws_url
from tornado.websocket import websocket_connect

from realtime_nb.core import protocol as p
from realtime_nb.server.app import EmbeddedServer


def subscribe(job_id: str, since: int) -> bytes:
    return p.encode(p.make_message(p.SubscribePayload(job_id=job_id, since_seq=since)))


def test_ten_random_disconnects_lose_and_duplicate_nothing(
    server: EmbeddedServer, http: Http
) -> None:
    status, record = http.call(
        "POST",
        "/v1/jobs",
        {
            "source": "synthetic://match?seconds=6&fps=25&width=160&height=96",
            "plugins": ["ball_detection", "pitch_detection"],
        },
    )
    assert status == 201
    job_id = record["job_id"]
    rng = random.Random(7)

    async def scenario() -> list[dict[str, Any]]:
        received: list[dict[str, Any]] = []
        last = 0
        for attempt in range(11):
            ws = await websocket_connect(ws_url(server.url, server.token, subscribe="none"))
            await ws.write_message(subscribe(job_id, last))
            budget = rng.randint(5, 60) if attempt < 10 else 10**9
            while budget > 0:
                msg = await read_json(ws, 30)
                assert msg is not None
                if msg.get("seq"):
                    received.append(msg)
                    last = msg["seq"]
                    budget -= 1
                if msg["type"] == "job" and msg["payload"]["status"] in p.TERMINAL_STATUSES:
                    await close_ws(ws)
                    return received
            await close_ws(ws)  # drop the connection at a random point
            await asyncio.sleep(rng.uniform(0, 0.2))
        raise AssertionError("job did not end")

    received = asyncio.run(scenario())
    seqs = [m["seq"] for m in received]
    assert seqs == sorted(seqs) and len(seqs) == len(set(seqs)), "duplicate or out of order"
    stored = http.call("GET", f"/v1/jobs/{job_id}/events?since_seq=0")[1]["events"]
    got_events = [m for m in received if m["type"] != "frame"]
    assert [e["seq"] for e in got_events] == [e["seq"] for e in stored]  # every one, once
    assert got_events == stored
    final = http.call("GET", f"/v1/jobs/{job_id}")[1]
    assert seqs[-1] == final["last_seq"]


def test_graceful_restart_interrupts_keeps_results_and_serves_new_jobs(
    server_factory: Any, tmp_path: Path
) -> None:
    data = tmp_path / "shared"
    first = server_factory(data_dir=data)
    http = Http(first.url, first.token)
    _, record = http.call(
        "POST",
        "/v1/jobs",
        {
            "source": "synthetic://match?seconds=600&fps=25&width=320&height=180",
            "plugins": ["ball_detection"],
        },
    )
    job_id = record["job_id"]
    wait_until(
        lambda: http.call("GET", f"/v1/jobs/{job_id}")[1]["frames_done"] >= 20, 30, "20 frames"
    )
    first.stop()
    second = server_factory(data_dir=data)
    http = Http(second.url, second.token)
    job = http.call("GET", f"/v1/jobs/{job_id}")[1]
    assert job["status"] == "interrupted"
    results = http.call("GET", f"/v1/jobs/{job_id}/results")[1]
    assert results["count"] >= 20 and results["count"] == job["frames_done"]
    _, fresh = http.call(
        "POST",
        "/v1/jobs",
        {
            "source": "synthetic://match?seconds=1&fps=10&width=160&height=96",
            "plugins": ["ball_detection"],
        },
    )
    wait_until(
        lambda: http.call("GET", f"/v1/jobs/{fresh['job_id']}")[1]["status"] == "completed",
        60,
        "new job",
    )


class _Light(msgspec.Struct):
    type: str
    seq: int | None = None
    job_id: str | None = None


light = msgspec.json.Decoder(_Light)


def test_crash_then_resume_continues_seq_without_reuse(
    serve_processes: list[ServeProcess], tmp_path: Path
) -> None:
    token, data = "t0ken", tmp_path / "data"
    first = ServeProcess(data, 0, token)
    port = first.port
    serve_processes.append(first)
    _, record = first.http.call(
        "POST",
        "/v1/jobs",
        {
            "source": "synthetic://match?seconds=12&fps=25&width=320&height=180",
            "plugins": ["ball_detection"],
        },
    )
    job_id = record["job_id"]
    wait_until(
        lambda: first.http.call("GET", f"/v1/jobs/{job_id}")[1]["frames_done"] >= 30,
        30,
        "30 frames",
    )
    first.kill()  # a crash: no chance to mark anything
    second = ServeProcess(data, port, token, "--resume-interrupted")
    serve_processes.append(second)
    http = second.http
    final = wait_until(
        lambda: (r := http.call("GET", f"/v1/jobs/{job_id}")[1])["status"] == "completed" and r,
        60,
        "resumed job",
    )
    results = http.call("GET", f"/v1/jobs/{job_id}/results?plugin=ball_detection")[1]["results"]
    assert sorted(r["frame_index"] for r in results) == list(range(300))
    events = http.call("GET", f"/v1/jobs/{job_id}/events?since_seq=0")[1]["events"]
    seqs = [e["seq"] for e in events]
    assert seqs == sorted(set(seqs))
    statuses = [e["payload"]["status"] for e in events if e["type"] == "job"]
    assert (
        statuses[:2] == ["queued", "running"]
        and "interrupted" in statuses
        and statuses[-1] == "completed"
    )
    assert final["last_seq"] == max(seqs)
    completed = [
        e["payload"]
        for e in events
        if e["type"] == "plugin_status" and e["payload"]["status"] == "completed"
    ]
    assert completed[0]["frames_processed"] == 300  # totals carried across the restart


def test_stalled_client_stays_bounded_while_others_get_everything(
    serve_processes: list[ServeProcess], tmp_path: Path
) -> None:
    """A client that never reads while a job emits 100,000 frame messages (20 plugins x 5,000
    frames): server RSS stays bounded, a reading client gets every message, and the stalled
    client's drop count is exactly what it missed."""
    token = "t0ken"
    server = ServeProcess(tmp_path / "data", 0, token)
    port = server.port
    serve_processes.append(server)
    url = f"http://127.0.0.1:{port}"
    plugins = [f"noop_{i}" for i in range(19)] + ["pace"]
    source = "synthetic://match?seconds=200&fps=25&width=64&height=64"

    async def scenario() -> dict[str, Any]:
        # Tornado's client stops reading the socket while nobody calls read_message, so this
        # one stalls: the kernel buffers fill and the server's writes stop completing.
        stalled = await websocket_connect(ws_url(url, token))
        reader = await websocket_connect(ws_url(url, token))  # subscribed to every job
        rss_before = server.rss_kb()
        loop = asyncio.get_running_loop()
        status, record = await loop.run_in_executor(
            None,
            lambda: server.http.call("POST", "/v1/jobs", {"source": source, "plugins": plugins}),
        )
        assert status == 201, record
        job_id = record["job_id"]
        frames = 0
        seqs: list[int] = []
        rss_peak = rss_before
        t0 = time.monotonic()
        while True:
            raw = await asyncio.wait_for(reader.read_message(), 120)
            assert raw is not None
            if isinstance(raw, bytes):
                continue
            msg = light.decode(raw)  # a lean reader, so it keeps up with the producer
            if msg.type == "ping":
                await reader.write_message(pong())
            if msg.job_id == job_id and msg.seq:
                seqs.append(msg.seq)
                frames += msg.type == "frame"
                if len(seqs) % 5000 == 0:
                    rss_peak = max(rss_peak, server.rss_kb())
            if msg.type == "job" and json.loads(raw)["payload"]["status"] in p.TERMINAL_STATUSES:
                break
        elapsed = time.monotonic() - t0
        rss_peak = max(rss_peak, server.rss_kb())
        _, health = await loop.run_in_executor(None, lambda: server.http.call("GET", "/v1/health"))
        await close_ws(reader)
        stalled_seqs = []  # now read what the stalled client was sent all along
        while True:
            raw = await asyncio.wait_for(stalled.read_message(), 60)
            assert raw is not None
            if isinstance(raw, bytes):
                continue
            msg = light.decode(raw)
            if msg.job_id == job_id and msg.seq:
                stalled_seqs.append(msg.seq)
            if msg.type == "job" and json.loads(raw)["payload"]["status"] in p.TERMINAL_STATUSES:
                break
        await close_ws(stalled)
        return {
            "stalled_seqs": stalled_seqs,
            "frames": frames,
            "seqs": seqs,
            "rss_before": rss_before,
            "rss_peak": rss_peak,
            "elapsed": elapsed,
            "health": health,
            "job_id": job_id,
        }

    out = asyncio.run(scenario())
    assert out["frames"] == 100_000, out["health"]["stats"]["clients"]  # 20 plugins x 5,000
    assert out["seqs"] == list(range(1, len(out["seqs"]) + 1))  # the reader missed nothing
    clients = out["health"]["stats"]["clients"]
    stalled = [c for c in clients if c["sent"] < 50_000]
    assert len(stalled) == 1, clients
    s = stalled[0]
    received = out["stalled_seqs"]
    assert received == sorted(received)
    missed = len(out["seqs"]) - len(received)
    dropped = s["dropped_by_type"].get("frame", 0) + s["dropped_by_type"].get("progress", 0)
    assert missed == dropped, (missed, s["dropped_by_type"])  # every loss counted, none silent
    assert dropped > 50_000
    growth_mb = (out["rss_peak"] - out["rss_before"]) / 1024
    print(
        f"\nstalled client: job of 100,000 frame messages took {out['elapsed']:.1f} s; "
        f"server RSS grew {growth_mb:.1f} MB (peak {out['rss_peak'] / 1024:.0f} MB); "
        f"stalled drops {s['dropped_by_type']}, queued {s['queued']}"
    )
    assert growth_mb < 150, f"server RSS grew {growth_mb:.0f} MB"


def test_heartbeat_measures_latency_and_drops_silent_clients(
    server_factory: Any, caplog: pytest.LogCaptureFixture
) -> None:
    server = server_factory(ping_interval=0.2, client_timeout=1.0)
    http = Http(server.url, server.token)

    async def scenario() -> tuple[float | None, int | None]:
        polite = await websocket_connect(ws_url(server.url, server.token))
        silent = await websocket_connect(ws_url(server.url, server.token))
        latency = None
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            msg = await read_json(polite, 5)
            assert msg is not None
            if msg["type"] == "ping":
                assert msg["payload"]["interval_seconds"] == 0.2
                await polite.write_message(
                    p.encode(p.make_message(p.PongPayload(timestamp=p.now_iso())))
                )
                if msg["payload"].get("latency_ms") is not None:
                    latency = msg["payload"]["latency_ms"]
                    break
        # the silent one never pongs: closed with a clear code after the timeout
        while True:
            raw = await asyncio.wait_for(silent.read_message(), 5)
            if raw is None:
                break
        await close_ws(silent)
        await close_ws(polite)
        return latency, silent.close_code

    latency, code = asyncio.run(scenario())
    assert latency is not None and latency >= 0
    assert code == 4009
    said = [r.getMessage() for r in caplog.records if r.name == "realtime_nb.server.hub"]
    assert any("no pong within the client timeout (1 s)" in m for m in said), said
    stats = http.call("GET", "/v1/health")[1]["stats"]
    assert stats["connections"] <= 1


def test_a_connection_that_cannot_take_even_protected_messages_is_closed() -> None:
    """Unit-level: a sink whose writes never complete, fed only never-droppable messages."""
    from realtime_nb.core.delivery import Outgoing
    from realtime_nb.server.hub import CLOSE_SLOW_CONSUMER, Hub

    class StuckSink:
        closed: tuple[int, str] | None = None

        def send(self, data: bytes, binary: bool) -> asyncio.Future[None]:
            return asyncio.get_running_loop().create_future()  # never resolves

        def close(self, code: int, reason: str) -> None:
            self.closed = (code, reason)

    async def scenario() -> StuckSink:
        hub = Hub(ping_interval=0, queue_capacity=10, hard_limit=50)
        sink = StuckSink()
        conn = hub.connect("c-1", sink)
        hub.subscribe(conn, "*")
        for seq in range(1, 200):
            hub.publish("j", [Outgoing(b"{}", p.Priority.PROTECTED, "j", seq, "warning")])
            await asyncio.sleep(0)
        hub.stop()
        return sink

    sink = asyncio.run(scenario())
    assert sink.closed is not None and sink.closed[0] == CLOSE_SLOW_CONSUMER
    assert "too slow" in sink.closed[1]


def test_drops_are_reported_within_a_second_and_with_the_jobs_end() -> None:
    """A client whose outbox sheds hears how many within a second, and at once when the job
    ends, not only at the next heartbeat (30 s by default): a short job's overlay shows it."""
    from realtime_nb.core.delivery import Outgoing
    from realtime_nb.server.hub import Hub

    class StuckSink:
        def send(self, data: bytes, binary: bool) -> asyncio.Future[None]:
            return asyncio.get_running_loop().create_future()  # never resolves

        def close(self, code: int, reason: str) -> None:
            pass

    def pings(conn: Any) -> list[int]:
        # Written as the writer writes them (a ping is encoded as it leaves); the outbox is
        # empty again afterwards.
        frames = conn._frames(conn.outbox.drain(100_000))
        messages = [json.loads(data) for data, _ in frames]
        return [m["payload"]["dropped"] for m in messages if m.get("type") == "ping"]

    async def scenario() -> tuple[list[int], list[int], list[int], int]:
        hub = Hub(ping_interval=0, queue_capacity=10, hard_limit=10_000)
        conn = hub.connect("c-1", StuckSink())
        hub.subscribe(conn, "*")
        frame = [Outgoing(b"{}", p.Priority.FRAME, "j", None, "frame")]
        for _ in range(30):
            hub.publish("j", frame)
        first = pings(conn)  # one report for the first shedding, then quiet for a second
        for _ in range(30):  # the outbox stays full, so the final report's own push sheds too
            hub.publish("j", frame)
        hub.publish("j", [Outgoing(b"{}", p.Priority.PROTECTED, "j", 1, "job")])
        dropped = conn.outbox.dropped
        reports = pings(conn)
        quiet, at_end = reports[:-1], reports[-1:]  # nothing until the job message
        hub.stop()
        return first, quiet, at_end, dropped

    first, quiet, at_end, dropped = asyncio.run(scenario())
    assert len(first) == 1 and first[0] >= 1
    assert quiet == []
    assert at_end == [dropped] and dropped > first[0]


def test_a_new_connection_learns_its_latency_within_two_round_trips(server_factory: Any) -> None:
    server = server_factory(ping_interval=30.0)  # the heartbeat alone would take 30 s

    async def scenario() -> tuple[list[str], float | None]:
        ws = await websocket_connect(ws_url(server.url, server.token))
        kinds: list[str] = []
        latency = None
        deadline = time.monotonic() + 5
        while latency is None and time.monotonic() < deadline:
            msg = await read_json(ws, 5)
            assert msg is not None
            kinds.append(msg["type"])
            if msg["type"] == "ping":
                latency = msg["payload"].get("latency_ms")
                await ws.write_message(
                    p.encode(p.make_message(p.PongPayload(timestamp=p.now_iso())))
                )
        await close_ws(ws)
        return kinds, latency

    kinds, latency = asyncio.run(scenario())
    assert kinds[0] == "connection", kinds  # metadata first, as the protocol says
    assert kinds.count("ping") == 2, kinds
    assert latency is not None and 0 <= latency < 5000
