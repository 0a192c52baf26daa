"""Chunk tasks' frames (``POST /v1/jobs/{id}/frames``) around a job's end, against a real
server: nothing follows a job's last message, and a late task hears 409 ``JOB_ENDED``."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from conftest import TEST_METADATA, Http, close_ws, pong, wait_until, ws_url
from tornado.websocket import websocket_connect

from realtime_nb.core.protocol import (
    TERMINAL_STATUSES,
    FramePayload,
    ProducedFrame,
    ProducedFrameEvents,
)
from realtime_nb.plugins import Frame, Plugin, PluginContext
from realtime_nb.server.app import EmbeddedServer
from realtime_nb.vision.plugins.registry import PluginRegistry
from realtime_nb.worker.dask_chunk import _FrameSender

LONG = "synthetic://match?seconds=60&fps=10&width=64&height=64&players_per_team=0&noise=0"
SHORT = "synthetic://match?seconds=0.5&fps=10&width=64&height=64&players_per_team=0&noise=0"


class Slow(Plugin):
    """Takes 20 ms a frame, so a job runs while the test posts frames to it."""

    name = "slow"
    metadata = TEST_METADATA

    def process(self, frame: Frame, ctx: PluginContext) -> dict[str, Any]:
        time.sleep(0.02)
        return {}


def serve(server_factory: Any) -> tuple[EmbeddedServer, Http]:
    registry = PluginRegistry()
    registry.register(Slow)
    server = server_factory(registry, executor="thread")
    return server, Http(server.url, server.token)


def frames_body(*indices: int) -> bytes:
    """A chunk task's frames message: one result of plugin ``late`` per frame index."""
    frames = [
        {
            "index": i,
            "events": [
                {
                    "type": "frame",
                    "payload": {"frame_id": f"f-{i}", "plugin": "late", "data": {}, "timing_ms": 0},
                }
            ],
        }
        for i in indices
    ]
    return json.dumps({"type": "frames", "chunk": 0, "frames": frames}).encode()


def post_frames(http: Http, job_id: str, token: str, *indices: int) -> tuple[int, Any]:
    return http.call("POST", f"/v1/jobs/{job_id}/frames", raw=frames_body(*indices), token=token)


def submit(http: Http, source: str) -> str:
    status, record = http.call("POST", "/v1/jobs", {"source": source, "plugins": ["slow"]})
    assert status == 201, record
    job_id: str = record["job_id"]
    return job_id


async def watch(server: EmbeddedServer, job_id: str, after_end_s: float) -> list[dict[str, Any]]:
    """The job's messages from its start, read until ``after_end_s`` past its last one."""
    ws = await websocket_connect(ws_url(server.url, server.token, job_id=job_id, since_seq="0"))
    loop = asyncio.get_running_loop()
    messages: list[dict[str, Any]] = []
    deadline = loop.time() + 60
    while (left := deadline - loop.time()) > 0:
        try:
            raw = await asyncio.wait_for(ws.read_message(), left)
        except TimeoutError:
            break
        if raw is None:
            break
        if isinstance(raw, bytes):
            continue
        msg = json.loads(raw)
        if msg["type"] == "ping":
            await ws.write_message(pong())
        if msg.get("job_id") == job_id and "seq" in msg:
            messages.append(msg)
            if msg["type"] == "job" and msg["payload"]["status"] in TERMINAL_STATUSES:
                deadline = min(deadline, loop.time() + after_end_s)
    await close_ws(ws)
    return messages


def test_frames_being_applied_as_the_job_ends_go_out_before_its_last_message(
    server_factory: Any,
) -> None:
    server, http = serve(server_factory)
    job_id = submit(http, LONG)
    wait_until(lambda: http.call("GET", f"/v1/jobs/{job_id}")[1]["status"] == "running", 30, "run")
    token = server.running.context.ingest.issue_token(job_id)
    job = server.running.context.jobs._jobs[job_id]
    # Widen the race: the posted frames, past the check that the job runs, reach the job's
    # channel only once the job has ended (or after 2 s, when the end waits for them).
    emit, in_emit = job.channel.emit, threading.Event()

    def emit_late(payloads: list[Any], durable: bool = False) -> None:
        if any(isinstance(p, FramePayload) and p.plugin == "late" for p in payloads):
            in_emit.set()
            deadline = time.monotonic() + 2.0
            while not job.ended and time.monotonic() < deadline:
                time.sleep(0.01)
        emit(payloads, durable)

    job.channel.emit = emit_late  # type: ignore[method-assign]

    def post_then_cancel() -> tuple[int, Any]:
        with ThreadPoolExecutor(1) as pool:
            posted = pool.submit(post_frames, http, job_id, token, 5000)
            assert in_emit.wait(10), "the frames did not reach the job"
            assert http.call("DELETE", f"/v1/jobs/{job_id}")[0] == 202
            return posted.result(30)

    async def scenario() -> tuple[list[dict[str, Any]], tuple[int, Any]]:
        watching = asyncio.ensure_future(watch(server, job_id, after_end_s=3.0))
        answer = await asyncio.get_running_loop().run_in_executor(None, post_then_cancel)
        return await watching, answer

    messages, (status, ack) = asyncio.run(scenario())
    assert (status, ack["applied"]) == (200, 1)
    ends = [i for i, m in enumerate(messages) if m["type"] == "job" and m["payload"]["status"]
            in TERMINAL_STATUSES]  # fmt: skip
    assert len(ends) == 1 and messages[ends[0]]["payload"]["status"] == "cancelled"
    assert ends[0] == len(messages) - 1, f"after the end: {messages[ends[0] + 1 :]}"
    assert any(m["type"] == "frame" and m["payload"]["plugin"] == "late" for m in messages)
    assert [m["seq"] for m in messages] == list(range(1, len(messages) + 1))
    status, answer = post_frames(http, job_id, token, 5001)
    assert (status, answer["error"]["code"]) == (409, "JOB_ENDED")


def test_late_frames_for_an_ended_job_get_409_and_stop_the_task_quietly(
    server_factory: Any,
) -> None:
    server, http = serve(server_factory)
    job_id = submit(http, SHORT)
    wait_until(
        lambda: http.call("GET", f"/v1/jobs/{job_id}")[1]["status"] == "completed", 30, "end"
    )
    token = server.running.context.ingest.issue_token(job_id)
    status, answer = post_frames(http, job_id, token, 0, 1)
    assert status == 409 and answer["error"]["code"] == "JOB_ENDED"
    assert "completed" in answer["error"]["message"]
    assert http.call("GET", f"/v1/jobs/{job_id}/results")[1]["count"] == 5  # nothing added
    # A chunk task's own sender takes the 409 as "stop", not as a failure of its chunk.
    sender = _FrameSender(server.url, job_id, token, chunk=0)
    payload = FramePayload(frame_id="f-2", plugin="late", data={}, timing_ms=0.0, frame_index=2)
    sender.add(ProducedFrameEvents(index=2, events=[ProducedFrame(payload=payload)]))
    sender.close()  # raised RuntimeError on a 404
    assert sender.stopped.is_set()
    # A job no server ever had is refused: its token cannot be right (401, before any lookup).
    status, answer = post_frames(http, "j-000000000000", token, 0)
    assert status == 401
