"""The hostile suite: schemathesis against the OpenAPI document, and hypothesis fuzzing of REST
bodies and WebSocket client messages, against one ``realtime-nb serve`` process while a
well-behaved client stays connected. Afterwards a normal job runs complete and the server's
memory is bounded (its RSS before and after goes to the log of the test run)."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import hypothesis.strategies as st
import pytest
import schemathesis
from conftest import ServeProcess, close_ws, wait_until, ws_url
from hypothesis import HealthCheck, given, settings
from schemathesis import checks
from tornado.websocket import websocket_connect

from realtime_nb.core import protocol as p

TOKEN = "fuzz-" + "t" * 40
SHORT = "synthetic://match?seconds=1&fps=10&width=160&height=90&seed=2"
FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    database=None,
)


class WellBehavedClient:
    """A client that subscribes to everything, answers pings and keeps every message, on a
    thread of its own, while the attack runs."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.messages: list[dict[str, Any]] = []
        self.closed_with: int | None = None
        self.connected = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)
        self._thread.start()
        assert self.connected.wait(30), "the well-behaved client could not connect"

    async def _run(self) -> None:
        ws = await websocket_connect(ws_url(self.url, TOKEN))
        self.connected.set()
        while not self._stop.is_set():
            try:
                raw = await asyncio.wait_for(ws.read_message(), 0.2)
            except TimeoutError:
                continue
            if raw is None:
                self.closed_with = ws.close_code or -1
                break
            if isinstance(raw, bytes):
                continue
            for line in raw.splitlines():
                msg = json.loads(line)
                self.messages.append(msg)
                if msg["type"] == "ping":
                    pong = p.make_message(p.PongPayload(timestamp=p.now_iso()))
                    await ws.write_message(p.encode(pong))
        await close_ws(ws)

    def job_ended(self, job_id: str) -> dict[str, Any] | None:
        for msg in self.messages:
            if (
                msg["type"] == "job"
                and msg.get("job_id") == job_id
                and msg["payload"]["status"] in p.TERMINAL_STATUSES
            ):
                return msg
        return None

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(30)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    data = tmp_path_factory.mktemp("fuzz") / "data"
    # Two malloc arenas: with one per busy thread, the rounds' high-water mark moved with the
    # machine's load (20 to 75 MB between rounds 1 and 3), which hid the slope a leak shows.
    arenas = ("env", "MALLOC_ARENA_MAX=2")
    serve = ServeProcess(data, 0, TOKEN, "--executor", "thread", prefix=arenas)
    try:
        yield serve
    finally:
        serve.kill()


@pytest.fixture(scope="module")
def bystander(hostile: ServeProcess) -> Iterator[WellBehavedClient]:
    client = WellBehavedClient(hostile.http.url)
    yield client
    client.stop()


@pytest.fixture(scope="module")
def rss_before(hostile: ServeProcess) -> int:
    return hostile.rss_kb()


def test_the_api_keeps_to_its_openapi_document(
    hostile: ServeProcess, bystander: WellBehavedClient, rss_before: int
) -> None:
    # schemathesis's own pytest plugin does not run under this pytest; its strategies do.
    api = schemathesis.openapi.from_url(hostile.http.url + "/v1/openapi.json")
    operations = [result.ok() for result in api.get_all_operations()]
    assert len(operations) == 8
    cases = st.one_of([op.as_strategy() for op in operations])
    statuses: dict[str, set[int]] = {}

    @settings(
        max_examples=400, deadline=None, suppress_health_check=list(HealthCheck), database=None
    )
    @given(case=cases)
    def call(case: Any) -> None:
        response = case.call_and_validate(
            headers={"Authorization": f"token {TOKEN}"},
            checks=[
                checks.not_a_server_error,
                checks.status_code_conformance,
                checks.content_type_conformance,
                checks.response_schema_conformance,
                checks.negative_data_rejection,
            ],
        )

        statuses.setdefault(case.operation.label, set()).add(response.status_code)

    call()
    # Every operation was called, and both accepted and refused requests were seen.
    assert len(statuses) == len(operations), statuses
    seen = set().union(*statuses.values())
    assert any(s < 300 for s in seen) and any(400 <= s < 500 for s in seen), statuses
    print(f"\nschemathesis: {statuses}")


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=30,
)
NAMES = st.sampled_from(["motion_detection", "ball_detection", "radar", "", "x" * 300, "*"])
OPTIONS = st.fixed_dictionaries(
    {},
    optional={
        "preview_interval_s": JSON,
        "frame_timeout_s": JSON,
        "annotate_video": JSON,
        "plugin_options": st.dictionaries(NAMES, JSON, max_size=3) | JSON,
        "surprise": JSON,
    },
)
BODIES = st.one_of(
    JSON.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=200),
    st.fixed_dictionaries(
        {
            "source": st.sampled_from([SHORT, "../../etc/passwd", "/dev/zero", "file:///etc"])
            | st.text(max_size=40),
            "plugins": st.lists(NAMES, max_size=5) | JSON,
        },
        optional={"options": OPTIONS, "extra": JSON},
    ).map(lambda v: json.dumps(v).encode()),
    st.integers(1, 5000).map(lambda n: b'{"source": "s", "plugins": [], "options": ' + b"[" * n),
)


@FUZZ
@given(body=BODIES)
def test_fuzzed_job_bodies_never_get_a_5xx(
    hostile: ServeProcess, bystander: WellBehavedClient, rss_before: int, body: bytes
) -> None:
    status, reply = hostile.http.call("POST", "/v1/jobs", raw=body)
    assert status < 500, reply
    if status >= 400:
        assert set(reply) == {"error"} and reply["error"]["code"] and reply["error"]["message"]
    else:
        assert status == 201


TEXT_MESSAGES = st.one_of(
    st.text(max_size=60),
    JSON.map(json.dumps),
    st.fixed_dictionaries(
        {"type": st.sampled_from(["pong", "subscribe", "unsubscribe", "frame", "job"]) | JSON},
        optional={
            "payload": st.fixed_dictionaries(
                {},
                optional={
                    "job_id": st.text(max_size=30) | JSON,
                    "since_seq": st.integers() | JSON,
                    "timestamp": st.text(max_size=30),
                },
            )
            | JSON,
            "timestamp": st.text(max_size=30) | JSON,
        },
    ).map(json.dumps),
)


@FUZZ
@given(messages=st.lists(TEXT_MESSAGES | st.binary(max_size=40), min_size=1, max_size=5))
def test_fuzzed_websocket_messages_are_answered_or_ignored_never_fatal(
    hostile: ServeProcess,
    bystander: WellBehavedClient,
    rss_before: int,
    messages: list[str | bytes],
) -> None:
    async def attack() -> None:
        ws = await websocket_connect(ws_url(hostile.http.url, TOKEN, subscribe="none"))
        for message in messages:
            await ws.write_message(message, binary=isinstance(message, bytes))
        # A marker: its answer comes after the answers to everything sent before it.
        marker = {"type": "subscribe", "payload": {"job_id": "*"}}
        await ws.write_message(json.dumps(marker))
        errors = 0
        while True:
            raw = await asyncio.wait_for(ws.read_message(), 30)
            assert raw is not None, f"closed with {ws.close_code} after {messages!r}"
            if isinstance(raw, bytes):
                continue
            msg = json.loads(raw)
            p.decode_server_message(raw)
            if msg["type"] == "error" and msg.get("job_id") is None:
                assert msg["payload"]["code"] and msg["payload"]["message"]
                errors += 1
            if msg["type"] == "subscribed" and msg["payload"]["job_id"] == "*":
                break
        assert errors <= len(messages)
        await close_ws(ws)

    asyncio.run(attack())
    time.sleep(0.02)  # stay under the bad-message rate that closes a connection


ROUND_RSS_KB: dict[int, int] = {}
"""The server's RSS after each round of the memory attacks."""


@pytest.mark.parametrize("round_", [1, 2, 3])
def test_the_memory_attacks_of_the_hostile_pass_are_refused(
    hostile: ServeProcess, bystander: WellBehavedClient, rss_before: int, round_: int
) -> None:
    # 100 jobs whose options are just under the 64 KiB limit: accepted, run, and let go.
    options = {"plugin_options": {}, "preview_interval_s": 1.0}
    padding = {"pad": "x" * (60 << 10)}
    for _ in range(100):
        status, reply = hostile.http.call(
            "POST", "/v1/jobs", {"source": SHORT, "plugins": ["pace"], "options": options}
        )
        assert status == 201, reply
        body = {"source": SHORT, "plugins": ["pace"], "options": {**options, **padding}}
        status, reply = hostile.http.call("POST", "/v1/jobs", body)
        assert status == 400 and reply["error"]["code"] == "OPTION_INVALID", reply
    # 1,520 subscribes with unique 60 KB job ids, on 16 connections: each refused, none kept.

    async def subscribe_flood() -> None:
        async def one(c: int) -> None:
            ws = await websocket_connect(ws_url(hostile.http.url, TOKEN, subscribe="none"))
            for i in range(95):
                job_id = f"{c:02d}{i:03d}" + "k" * 60_000
                msg = {"type": "subscribe", "payload": {"job_id": job_id}}
                await ws.write_message(json.dumps(msg))
            errors = 0
            while errors < 95:
                raw = await asyncio.wait_for(ws.read_message(), 30)
                assert raw is not None, f"closed with {ws.close_code}"
                if isinstance(raw, str) and json.loads(raw)["type"] == "error":
                    errors += 1
            await close_ws(ws)

        await asyncio.gather(*(one(c) for c in range(16)))

    asyncio.run(subscribe_flood())
    stats = hostile.http.call("GET", "/v1/health")[1]["stats"]
    assert stats["subscribed_jobs"] <= 1  # the bystander's "*"
    ROUND_RSS_KB[round_] = hostile.rss_kb()
    print(f"\nround {round_}: RSS {ROUND_RSS_KB[round_] / 1024:.1f} MB")


def test_after_the_attack_a_normal_job_runs_complete_and_memory_is_bounded(
    hostile: ServeProcess, bystander: WellBehavedClient, rss_before: int
) -> None:
    job_id = hostile.submit(SHORT, ["motion_detection"])
    record = hostile.ended(job_id, timeout=120)
    assert record["status"] == "completed", record
    status, results = hostile.http.call("GET", f"/v1/jobs/{job_id}/results")
    assert status == 200 and results["count"] == record["frames_total"] == 10
    ended = wait_until(lambda: bystander.job_ended(job_id), 30, "the bystander to hear it")
    assert ended["payload"]["status"] == "completed"
    frames = {
        m["payload"]["frame_id"]
        for m in bystander.messages
        if m.get("job_id") == job_id and m["type"] == "frame"
    }
    assert len(frames) == 10
    assert bystander.closed_with is None, "the well-behaved client was disconnected"
    rss_after = hostile.rss_kb()
    print(
        f"\nserver RSS before the hostile suite {rss_before / 1024:.1f} MB, after "
        f"{rss_after / 1024:.1f} MB"
    )
    Path(hostile.log_path.parent / "rss.txt").write_text(f"{rss_before} {rss_after}\n")
    assert rss_after - rss_before < 300 * 1024, (rss_before, rss_after)
    # Repeating the attack does not keep adding: the first round sets a high-water mark (thread
    # arenas, caches); a leak would add as much each round (it was ~95 MB a round). The Python
    # heap stays flat from round to round (tracemalloc: +0.02 MB over 200 jobs); what the
    # allocator keeps of the flood's 90 MB of transient strings moves RSS by 0 to 33 MB a round.
    assert ROUND_RSS_KB[3] - ROUND_RSS_KB[2] < 48 * 1024, ROUND_RSS_KB
    assert ROUND_RSS_KB[3] - ROUND_RSS_KB[1] < 96 * 1024, ROUND_RSS_KB
