"""Integration tests of realtime_nb.server.app: a real server, real HTTP and a real WebSocket."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import Http, close_ws
from tornado.httpclient import HTTPClientError
from tornado.websocket import websocket_connect

from realtime_nb.core import protocol as p
from realtime_nb.server.app import EmbeddedServer
from realtime_nb.vision.plugins.base import Frame, Plugin, PluginContext
from realtime_nb.vision.plugins.registry import PluginRegistry

PLUGINS = ["pitch_detection", "player_detection", "ball_detection"]
SHORT = "synthetic://match?seconds=1&fps=10&width=320&height=180&seed=3"


def ws_url(server: EmbeddedServer, **params: str) -> str:
    query = "&".join(f"{k}={v}" for k, v in {"token": server.token, **params}.items())
    return server.url.replace("http", "ws") + "/v1/realtime?" + query


async def collect(
    server: EmbeddedServer,
    wait_for: str | None = None,
    until_job_ends: bool = True,
    timeout: float = 60,
    send: list[bytes] | None = None,
    **params: str,
) -> tuple[list[dict[str, Any]], int]:
    """Read messages until a job lifecycle message reports the end. Returns (messages, previews)."""
    ws = await websocket_connect(ws_url(server, **params))
    for data in send or []:
        await ws.write_message(data)
    messages: list[dict[str, Any]] = []
    previews = 0
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        raw = await asyncio.wait_for(ws.read_message(), deadline - time.monotonic())
        if raw is None:
            break
        if isinstance(raw, bytes):
            p.decode_preview(raw)
            previews += 1
            continue
        p.decode_server_message(raw)  # every message validates against the structs
        msg = json.loads(raw)
        messages.append(msg)
        if msg["type"] == "ping":
            await ws.write_message(p.encode(p.make_message(p.PongPayload(timestamp=p.now_iso()))))
        if (
            until_job_ends
            and msg["type"] == "job"
            and msg["payload"]["status"] in p.TERMINAL_STATUSES
            and (wait_for is None or msg["job_id"] == wait_for)
        ):
            break
    await close_ws(ws)
    return messages, previews


def test_health_needs_no_token_but_everything_else_does(http: Http) -> None:
    status, body = http.call("GET", "/v1/health", token=None)
    assert status == 200 and body["status"] == "ok" and "stats" not in body
    assert http.call("GET", "/v1/plugins", token=None)[0] == 401
    status, body = http.call("GET", "/v1/plugins", token="wrong")
    assert status == 401 and body["error"]["code"] == "UNAUTHORIZED"
    status, body = http.call("GET", f"/v1/plugins?token={http.token}", token=None)
    assert status == 200 and {x["name"] for x in body["plugins"]} >= set(PLUGINS)
    status, body = http.call("GET", "/v1/health")
    assert "stats" in body


def test_unknown_endpoint_is_json_404(http: Http) -> None:
    status, body = http.call("GET", "/v1/nothing-here")
    assert status == 404 and body["error"]["code"] == "NOT_FOUND"


def test_schema_endpoint(http: Http) -> None:
    status, body = http.call("GET", "/v1/schema")
    assert status == 200 and "$defs" in body and "ProgressPayload" in body["$defs"]


@pytest.mark.parametrize(
    ("body", "raw", "status", "code"),
    [
        ({"source": SHORT, "plugins": ["no_such_plugin"]}, None, 400, "PLUGIN_UNKNOWN"),
        ({"plugins": PLUGINS}, None, 400, "MSG_MISSING_FIELD"),
        ({"source": SHORT, "plugins": []}, None, 400, "PIPELINE_INVALID"),
        ({"source": "/etc/passwd", "plugins": PLUGINS}, None, 403, "SOURCE_NOT_ALLOWED"),
        (
            {"source": "synthetic://match?seconds=-1", "plugins": PLUGINS},
            None,
            400,
            "SOURCE_INVALID",
        ),
        ({"source": "ftp://x", "plugins": PLUGINS}, None, 400, "SOURCE_INVALID"),
        (None, b"{this is not json", 400, "MSG_INVALID_JSON"),
        (None, b"", 400, "MSG_INVALID_JSON"),
        ({"source": 5, "plugins": PLUGINS}, None, 400, "MSG_INVALID"),
    ],
)
def test_bad_job_requests_get_4xx_and_server_keeps_serving(
    http: Http, body: Any, raw: bytes | None, status: int, code: str
) -> None:
    got_status, got = http.call("POST", "/v1/jobs", body, raw=raw)
    assert got_status == status, got
    assert got["error"]["code"] == code and got["error"]["message"]
    assert http.call("GET", "/v1/health")[0] == 200
    assert http.call("GET", "/v1/jobs")[1]["jobs"] == []


def test_missing_file_and_path_traversal(http: Http, tmp_path: Path) -> None:
    status, body = http.call(
        "POST", "/v1/jobs", {"source": str(tmp_path / "nope.mp4"), "plugins": PLUGINS}
    )
    assert status == 400 and body["error"]["code"] == "SOURCE_NOT_FOUND"
    sneaky = str(tmp_path / ".." / ".." / "etc" / "passwd")
    status, body = http.call("POST", "/v1/jobs", {"source": sneaky, "plugins": PLUGINS})
    assert status == 403 and body["error"]["code"] == "SOURCE_NOT_ALLOWED"


def test_websocket_rejects_a_wrong_token(server: EmbeddedServer) -> None:
    async def attempt() -> None:
        await websocket_connect(server.url.replace("http", "ws") + "/v1/realtime?token=bad")

    with pytest.raises(HTTPClientError) as info:
        asyncio.run(attempt())
    assert info.value.code == 401


def test_a_job_streams_the_seed_order_and_persists_results(
    server: EmbeddedServer, http: Http
) -> None:
    async def scenario() -> tuple[list[dict[str, Any]], int, str]:
        ws_task = asyncio.ensure_future(collect(server))
        await asyncio.sleep(0.3)  # connected and subscribed to "*" before the job exists
        status, record = await asyncio.get_running_loop().run_in_executor(
            None, lambda: http.call("POST", "/v1/jobs", {"source": SHORT, "plugins": PLUGINS})
        )
        assert status == 201, record
        messages, previews = await ws_task
        return messages, previews, record["job_id"]

    messages, previews, job_id = asyncio.run(scenario())
    assert messages[0]["type"] == "connection" and "seq" not in messages[0]
    job_msgs = [m for m in messages if m.get("job_id") == job_id and m["type"] != "subscribed"]
    assert [m["seq"] for m in job_msgs] == list(range(1, len(job_msgs) + 1))  # no gap, no dup
    types = [m["type"] for m in job_msgs]
    assert types[0] == "job" and job_msgs[0]["payload"]["status"] == "queued"
    assert job_msgs[-1]["payload"]["status"] == "completed"
    for plugin in PLUGINS:
        mine = [m for m in job_msgs if m["payload"].get("plugin") == plugin]
        kinds = [
            m["type"] if m["type"] != "plugin_status" else m["payload"]["status"] for m in mine
        ]
        assert kinds[0] == "metadata" and kinds[1] == "started" and kinds[-1] == "completed"
        assert kinds.count("frame") == 10
        frames_at = [i for i, k in enumerate(kinds) if k == "frame"]
        warnings_at = [i for i, k in enumerate(kinds) if k == "warning"]
        assert all(frames_at[0] < w < len(kinds) - 1 for w in warnings_at)
        done = mine[-1]["payload"]
        assert done["timing_ms"] >= 0 and done["warnings_count"] == kinds.count("warning")
        assert all(m["payload"]["timing_ms"] >= 0 for m in mine if m["type"] == "frame")
    progress = [m["payload"]["progress"] for m in job_msgs if m["type"] == "progress"]
    assert progress[0] == 0 and progress[-1] == 100 and progress == sorted(progress)
    assert previews >= 1
    status, results = http.call("GET", f"/v1/jobs/{job_id}/results")
    assert status == 200 and results["count"] == 10 * len(PLUGINS)
    assert {(r["frame_index"], r["plugin"]) for r in results["results"]} == {
        (i, name) for i in range(10) for name in PLUGINS
    }
    status, record = http.call("GET", f"/v1/jobs/{job_id}")
    assert (
        record["status"] == "completed"
        and record["frames_done"] == 10
        and record["progress"] == 100
    )
    assert record["last_seq"] == len(job_msgs)


def test_resume_with_since_seq_replays_exactly_what_was_missed(
    server: EmbeddedServer, http: Http
) -> None:
    _status, record = http.call(
        "POST", "/v1/jobs", {"source": SHORT, "plugins": ["ball_detection"]}
    )
    job_id = record["job_id"]
    full, _ = asyncio.run(collect(server, job_id, job_id=job_id, since_seq="0"))
    seqs = [m["seq"] for m in full if m["type"] not in ("subscribed", "connection", "ping")]
    assert seqs == list(range(1, len(seqs) + 1))
    subscribe = p.encode(p.make_message(p.SubscribePayload(job_id=job_id, since_seq=10)))
    again, _ = asyncio.run(collect(server, job_id, send=[subscribe], subscribe="none"))
    replay = [m for m in again if m.get("seq")]
    answer = next(m for m in again if m["type"] == "subscribed")
    assert answer["payload"]["recovered"] is True and answer["payload"]["last_seq"] == len(seqs)
    assert [m["seq"] for m in replay] == list(range(11, len(seqs) + 1))


def test_cancel_a_running_job(server: EmbeddedServer, http: Http) -> None:
    status, record = http.call(
        "POST",
        "/v1/jobs",
        {"source": "synthetic://match?seconds=120&fps=25", "plugins": ["ball_detection"]},
    )
    job_id = record["job_id"]
    time.sleep(0.5)
    status, body = http.call("DELETE", f"/v1/jobs/{job_id}")
    assert status == 202
    deadline = time.monotonic() + 30
    while http.call("GET", f"/v1/jobs/{job_id}")[1]["status"] != "cancelled":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    status, body = http.call("DELETE", f"/v1/jobs/{job_id}")
    assert status == 409 and body["error"]["code"] == "JOB_NOT_CANCELLABLE"
    assert http.call("DELETE", "/v1/jobs/j-nothing")[0] == 404


class Crashes(Plugin):
    name = "crashes"
    metadata = p.PluginMetadata(
        version="1",
        model="t",
        input_shape=[None, None, 3],
        output_format="json",
        confidence_default=1.0,
        capabilities=[],
    )

    def process(self, frame: Frame, ctx: PluginContext) -> dict[str, Any]:
        raise RuntimeError("kaboom")


def test_a_crashing_plugin_fails_its_job_not_the_server(server_factory: Any) -> None:
    registry = PluginRegistry()
    registry.register(Crashes)
    server = server_factory(registry)
    http = Http(server.url, server.token)
    status, record = http.call(
        "POST", "/v1/jobs", {"source": SHORT, "plugins": ["crashes", "ball_detection"]}
    )
    assert status == 201, record
    messages, _ = asyncio.run(
        collect(server, record["job_id"], job_id=record["job_id"], since_seq="0")
    )
    errors = [m for m in messages if m["type"] == "error"]
    assert errors and errors[0]["payload"]["details"]["error_code"] == "PLUGIN_CRASH"
    assert "kaboom" in errors[0]["payload"]["error"]
    final = messages[-1]["payload"]
    assert final["status"] == "failed" and "crashes" in final["error"]
    _status, results = http.call(
        "GET", f"/v1/jobs/{record['job_id']}/results?plugin=ball_detection"
    )
    assert results["count"] == 10  # the healthy plugin still ran every frame
    assert http.call("GET", "/v1/health")[0] == 200


def test_batch_1_joins_messages_into_fewer_frames_losing_none(
    server: EmbeddedServer, http: Http
) -> None:
    _status, record = http.call("POST", "/v1/jobs", {"source": SHORT, "plugins": PLUGINS})
    job_id = record["job_id"]
    http_record = lambda: http.call("GET", f"/v1/jobs/{job_id}")[1]  # noqa: E731
    deadline = time.monotonic() + 60
    while http_record()["status"] != "completed":
        assert time.monotonic() < deadline
        time.sleep(0.05)

    async def read_all() -> tuple[int, list[dict[str, Any]]]:
        ws = await websocket_connect(ws_url(server, job_id=job_id, since_seq="0", batch="1"))
        frames, messages = 0, []
        while True:
            raw = await asyncio.wait_for(ws.read_message(), 30)
            assert raw is not None
            if isinstance(raw, bytes):
                continue
            frames += 1
            for line in raw.split("\n"):
                p.decode_server_message(line)
                messages.append(json.loads(line))
            if messages[-1]["type"] == "job" and messages[-1]["payload"]["status"] == "completed":
                break
        await close_ws(ws)
        return frames, messages

    frames, messages = asyncio.run(read_all())
    seqs = [m["seq"] for m in messages if m.get("seq")]
    assert seqs == list(range(1, http_record()["last_seq"] + 1))
    assert frames < len(messages) / 4  # the replay went out many messages to a frame
