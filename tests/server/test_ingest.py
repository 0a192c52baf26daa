"""The producer ingest channel against a real server: experiments, tokens, batches, heartbeat."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest
from conftest import Http, close_ws, wait_until
from tornado.httpclient import HTTPClientError, HTTPRequest
from tornado.websocket import websocket_connect

from realtime_nb.core.protocol import (
    PreviewHeader,
    decode_preview,
    encode_preview,
)


def create(http: Http, **extra: Any) -> dict[str, Any]:
    body = {"kind": "experiment", "name": "sweep", "total": 10, "config": {"lr": 0.1}, **extra}
    status, record = http.call("POST", "/v1/jobs", body)
    assert status == 201, record
    return record


def points(names: tuple[str, ...], steps: range) -> list[list[Any]]:
    return [[n, s, s * 0.5, 1.0 + s] for s in steps for n in names]


def batch(n: int, *events: dict[str, Any]) -> dict[str, Any]:
    return {"type": "batch", "batch": n, "events": list(events)}


def metric(names: tuple[str, ...], steps: range) -> dict[str, Any]:
    return {"type": "metric", "payload": {"points": points(names, steps)}}


def test_experiment_is_a_running_job_of_its_kind_with_its_config(http: Http) -> None:
    record = create(http)
    assert record["kind"] == "experiment" and record["status"] == "running"
    assert record["name"] == "sweep" and record["config"] == {"lr": 0.1}
    assert record["frames_total"] == 10 and len(record["producer_token"]) > 20
    _, listed = http.call("GET", "/v1/jobs")
    mine = next(j for j in listed["jobs"] if j["job_id"] == record["job_id"])
    assert mine["kind"] == "experiment" and "producer_token" not in mine
    _, video_jobs = http.call("GET", f"/v1/jobs/{record['job_id']}")
    assert "producer_token" not in video_jobs


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"kind": "experiment"}, "MSG_MISSING_FIELD"),
        ({"kind": "experiment", "name": ""}, "MSG_INVALID"),
        ({"kind": "experiment", "name": "x", "total": 0}, "MSG_INVALID"),
        ({"kind": "experiment", "name": "x", "source": "a.mp4"}, "MSG_INVALID"),
    ],
)
def test_bad_experiment_requests_get_400(http: Http, body: dict[str, Any], code: str) -> None:
    status, answer = http.call("POST", "/v1/jobs", body)
    assert (status, answer["error"]["code"]) == (400, code)


def test_http_batches_apply_once_and_metrics_come_back_in_order(http: Http) -> None:
    record = create(http)
    job_id, token = record["job_id"], record["producer_token"]
    path = f"/v1/jobs/{job_id}/events"
    first = batch(1, metric(("loss", "acc"), range(0, 3)))
    status, ack = http.call("POST", path, first, token=token)
    assert status == 200 and ack["applied"] is True and ack["status"] == "running"
    status, again = http.call("POST", path, first, token=token)  # a resend: ignored
    assert status == 200 and again["applied"] is False and again["last_seq"] == ack["last_seq"]
    http.call("POST", path, batch(2, metric(("loss",), range(3, 5))), token=token)
    _, body = http.call("GET", f"/v1/jobs/{job_id}/metrics")
    assert [p[0] for p in body["metrics"]["loss"]] == [0, 1, 2, 3, 4]
    assert [p[0] for p in body["metrics"]["acc"]] == [0, 1, 2]
    assert body["metrics"]["loss"][4] == [4, 2.0, 5.0]
    _, only = http.call("GET", f"/v1/jobs/{job_id}/metrics?name=acc")
    assert list(only["metrics"]) == ["acc"]
    _, summary = http.call("GET", f"/v1/jobs/{job_id}/metrics?summary=1")
    assert summary["summary"]["loss"] == {
        "count": 5,
        "min": 0.0,
        "max": 2.0,
        "step": 4,
        "value": 2.0,
    }
    _, events = http.call("GET", f"/v1/jobs/{job_id}/events")
    kinds = [e["type"] for e in events["events"]]
    assert kinds == ["job", "job", "metric", "metric"]  # queued, running, two batches


def test_producer_token_writes_to_its_own_job_only(http: Http) -> None:
    a, b = create(http), create(http)
    one = batch(1, metric(("loss",), range(1)))
    assert (
        http.call("POST", f"/v1/jobs/{b['job_id']}/events", one, token=a["producer_token"])[0]
        == 401
    )
    assert http.call("POST", f"/v1/jobs/{a['job_id']}/events", one)[0] == 401  # server token
    assert http.call("POST", f"/v1/jobs/{a['job_id']}/events", one, token=None)[0] == 401
    # The producer token opens nothing else.
    assert http.call("GET", f"/v1/jobs/{a['job_id']}", token=a["producer_token"])[0] == 401
    assert http.call("GET", "/v1/jobs", token=a["producer_token"])[0] == 401


@pytest.mark.parametrize(
    "event",
    [
        {"type": "metric", "payload": {"points": [["loss", 1]]}},  # no value, no wall_time
        {"type": "metric", "payload": {"points": [["", 1, 1.0, 1.0]]}},  # empty name
        {"type": "metric", "payload": {"points": [["loss", 1.5, 1.0, 1.0]]}},  # step not int
        {  # points are arrays, not objects
            "type": "metric",
            "payload": {"points": [{"name": "loss", "step": 1, "value": 1, "wall_time": 1}]},
        },
        {"type": "shout", "payload": {}},
        {"type": "end", "payload": {"status": "cancelled"}},
        {"type": "warning", "payload": {"plugin": "p", "message": "m", "severity": "dire"}},
    ],
)
def test_invalid_batches_are_refused_whole(http: Http, event: dict[str, Any]) -> None:
    record = create(http)
    path = f"/v1/jobs/{record['job_id']}/events"
    good = metric(("loss",), range(2))
    status, answer = http.call("POST", path, batch(1, good, event), token=record["producer_token"])
    assert status == 400 and answer["error"]["code"].startswith("MSG_")
    _, body = http.call("GET", f"/v1/jobs/{record['job_id']}/metrics")
    assert body["metrics"] == {}


def test_end_event_ends_the_job_and_later_batches_are_refused(http: Http) -> None:
    record = create(http)
    job_id, token = record["job_id"], record["producer_token"]
    path = f"/v1/jobs/{job_id}/events"
    end = {"type": "end", "payload": {"status": "failed", "error": "Traceback: boom"}}
    _, ack = http.call("POST", path, batch(1, metric(("loss",), range(2)), end), token=token)
    assert ack["status"] == "failed"
    _, job = http.call("GET", f"/v1/jobs/{job_id}")
    assert job["status"] == "failed" and job["error"] == "Traceback: boom"
    status, answer = http.call("POST", path, batch(2, metric(("loss",), range(2, 3))), token=token)
    assert (status, answer["error"]["code"]) == (409, "JOB_ENDED")


def test_silent_producer_ends_interrupted_and_comes_back_running(server_factory: Any) -> None:
    server = server_factory(heartbeat_timeout_s=1.0)
    http = Http(server.url, server.token)
    record = create(http)
    job_id, token = record["job_id"], record["producer_token"]
    job = wait_until(
        lambda: (j := http.call("GET", f"/v1/jobs/{job_id}")[1])["status"] == "interrupted" and j,
        10,
        "interrupted",
    )
    assert "no word from the producer" in job["error"]

    async def connect() -> dict[str, Any]:  # a producer that connects is alive again
        ws = await _ingest(http, job_id, token)
        ready: dict[str, Any] = json.loads(await ws.read_message())
        await close_ws(ws)
        return ready

    assert asyncio.run(connect())["status"] == "running"
    assert http.call("GET", f"/v1/jobs/{job_id}")[1]["status"] == "running"
    wait_until(
        lambda: http.call("GET", f"/v1/jobs/{job_id}")[1]["status"] == "interrupted",
        10,
        "interrupted again once silent",
    )
    _, ack = http.call(
        "POST", f"/v1/jobs/{job_id}/events", batch(1, metric(("l",), range(1))), token=token
    )
    assert ack["applied"] and ack["status"] == "running"


def test_cancelled_experiment_ends_cancelled(http: Http) -> None:
    record = create(http, options={"heartbeat_timeout_s": 60})
    job_id = record["job_id"]
    assert http.call("DELETE", f"/v1/jobs/{job_id}")[0] == 202
    wait_until(
        lambda: http.call("GET", f"/v1/jobs/{job_id}")[1]["status"] == "cancelled", 10, "cancelled"
    )
    status, answer = http.call(
        "POST", f"/v1/jobs/{job_id}/events", batch(1), token=record["producer_token"]
    )
    assert (status, answer["error"]["code"]) == (409, "JOB_ENDED")


def test_schema_covers_the_new_messages(http: Http) -> None:
    _, schema = http.call("GET", "/v1/schema")
    defs = schema["$defs"]
    for name in (
        "MetricMessage",
        "MetricPoint",
        "IngestBatch",
        "IngestAck",
        "IngestReady",
        "ExperimentRequest",
    ):
        assert name in defs
    assert "producer_to_server" in schema and "server_to_producer" in schema


async def _ingest(http: Http, job_id: str, token: str | None) -> Any:
    url = http.url.replace("http", "ws", 1) + f"/v1/ingest?job_id={job_id}"
    headers = {"Authorization": f"token {token}"} if token else {}
    return await websocket_connect(HTTPRequest(url, headers=headers))


def test_ingest_socket_acks_batches_and_tells_where_the_job_stands(http: Http) -> None:
    record = create(http)
    job_id, token = record["job_id"], record["producer_token"]

    async def talk() -> list[dict[str, Any]]:
        ws = await _ingest(http, job_id, token)
        answers = [json.loads(await ws.read_message())]
        for message in (
            batch(1, metric(("loss",), range(3))),
            batch(1, metric(("loss",), range(3))),  # resent after a lost ack: ignored
            {"type": "heartbeat"},
            {"type": "nonsense"},
            batch(2, {"type": "progress", "payload": {"job_id": "other", "progress": 50}}),
        ):
            await ws.write_message(json.dumps(message))
            if message["type"] != "heartbeat":
                answers.append(json.loads(await ws.read_message()))
        await close_ws(ws)
        ws = await _ingest(http, job_id, token)  # a reconnect learns the last batch applied
        answers.append(json.loads(await ws.read_message()))
        await close_ws(ws)
        return answers

    ready, ack1, dup, bad, ack2, again = asyncio.run(talk())
    assert ready == {
        "type": "ready",
        "job_id": job_id,
        "status": "running",
        "last_batch": 0,
        "heartbeat_timeout_s": 30.0,
    }
    assert ack1["type"] == "ack" and ack1["applied"] and not dup["applied"]
    assert bad["type"] == "rejected" and bad["code"] == "MSG_INVALID"
    assert ack2["applied"] and ack2["last_seq"] == ack1["last_seq"] + 1
    assert again["last_batch"] == 2
    _, job = http.call("GET", f"/v1/jobs/{job_id}")
    assert job["progress"] == 50.0  # the progress went to this job, whatever id it named


def test_ingest_socket_refuses_a_wrong_token(http: Http) -> None:
    a, b = create(http), create(http)

    async def refused(token: str | None) -> int:
        with pytest.raises(HTTPClientError) as info:
            await _ingest(http, a["job_id"], token)
        return info.value.code

    assert asyncio.run(refused(b["producer_token"])) == 401
    assert asyncio.run(refused(http.token)) == 401
    assert asyncio.run(refused(None)) == 401


def test_images_reach_a_watching_client_as_previews(http: Http) -> None:
    record = create(http)
    job_id, token = record["job_id"], record["producer_token"]
    header = PreviewHeader(job_id=job_id, frame_id="confusion #0", frame_index=0, width=4, height=2)
    image = encode_preview(header, b"\xff\xd8jpeg")

    async def watch() -> bytes:
        url = http.url.replace("http", "ws", 1) + f"/v1/realtime?token={http.token}&job_id={job_id}"
        watcher = await websocket_connect(url)
        producer = await _ingest(http, job_id, token)
        await producer.read_message()  # ready
        await asyncio.sleep(0.2)
        await producer.write_message(image, binary=True)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            msg = await asyncio.wait_for(watcher.read_message(), 10)
            if isinstance(msg, bytes):
                await close_ws(producer)
                await close_ws(watcher)
                return msg
        raise AssertionError("no preview")

    got = asyncio.run(watch())
    decoded, jpeg = decode_preview(got)
    assert decoded.frame_id == "confusion #0" and jpeg == b"\xff\xd8jpeg"


def test_an_oversized_producer_batch_gets_the_json_413(http: Http) -> None:
    run = create(http)
    huge = batch(1, metric(("loss",), range(60_000)))  # about 2 MB, past the 1 MiB body limit
    status, body = http.call(
        "POST", f"/v1/jobs/{run['job_id']}/events", huge, token=run["producer_token"]
    )
    assert status == 413, body
    assert body["error"]["code"] == "MSG_TOO_LARGE"


def test_ended_experiments_leave_nothing_behind_in_memory(server_factory: Any) -> None:
    server = server_factory(heartbeat_timeout_s=1.0)
    http = Http(server.url, server.token)
    ingest = server.running.context.ingest
    end = {"type": "end", "payload": {"status": "completed"}}
    ended_by_producer = []
    for _ in range(8):  # ended by their producer: a batch of points, then the end
        run = create(http)
        path, token = f"/v1/jobs/{run['job_id']}/events", run["producer_token"]
        assert http.call("POST", path, batch(1, metric(("loss",), range(3))), token=token)[0] == 200
        assert http.call("POST", path, batch(2, end), token=token)[1]["status"] == "completed"
        ended_by_producer.append((path, token))
    cancelled = [create(http, options={"heartbeat_timeout_s": 60}) for _ in range(2)]
    for run in cancelled:
        assert http.call("DELETE", f"/v1/jobs/{run['job_id']}")[0] == 202
    silent = [create(http) for _ in range(2)]  # interrupted by the heartbeat sweep
    for run in silent:
        path = f"/v1/jobs/{run['job_id']}/events"
        http.call("POST", path, batch(1, metric(("loss",), range(2))), token=run["producer_token"])
    ids = [r["job_id"] for r in cancelled + silent]
    wait_until(
        lambda: all(http.call("GET", f"/v1/jobs/{i}")[1]["status"] != "running" for i in ids),
        15,
        "the sweep to end the cancelled and silent experiments",
    )

    # The sweep forgets a job while it holds that job's lock: wait for all three maps.
    def forgotten() -> bool:
        return not ingest._seen and not ingest._job_locks and not ingest._last_batch

    wait_until(forgotten, 5, "the sweep to forget them")
    # What was forgotten in memory is still answered from the store: the end sent again is
    # acknowledged as applied before, a new batch is refused.
    path, token = ended_by_producer[0]
    _, again = http.call("POST", path, batch(2, end), token=token)
    assert (again["applied"], again["status"]) == (False, "completed")
    status, answer = http.call("POST", path, batch(3, metric(("loss",), range(3, 4))), token=token)
    assert (status, answer["error"]["code"]) == (409, "JOB_ENDED")
    # The end sent again touched the job: the next sweep forgets it once more.
    wait_until(forgotten, 5, "the sweep to forget the touched job")


def test_a_batch_that_meets_the_experiment_ending_is_refused_not_sent_after_its_end(
    server: Any, http: Http
) -> None:
    """A shutdown or a sweep may end an experiment while a producer's batch is being applied:
    the batch gets 409 (and is applied on the next server by the producer's retry), and
    nothing follows the job's last message."""
    import threading

    run = create(http)
    job_id, token = run["job_id"], run["producer_token"]
    jobs = server.running.context.jobs
    job = jobs._jobs[job_id]
    answers: list[tuple[int, Any]] = []
    with job.apply_lock:  # the end and the batch both wait here, the end marked first
        ender = threading.Thread(target=jobs.finish_external, args=(job_id, "interrupted"))
        ender.start()
        wait_until(lambda: job.finishing, 5, "the end to begin")
        body = batch(1, metric(("loss",), range(3)))
        path = f"/v1/jobs/{job_id}/events"
        poster = threading.Thread(
            target=lambda: answers.append(http.call("POST", path, body, token=token))
        )
        poster.start()
        time.sleep(0.3)  # the batch reaches the apply lock (or would be sent, before the fix)
    ender.join(10)
    poster.join(10)
    status, answer = answers[0]
    assert (status, answer["error"]["code"]) == (409, "JOB_ENDED"), answer
    _, events = http.call("GET", f"/v1/jobs/{job_id}/events?since_seq=0")
    kinds = [m["type"] for m in events["events"]]
    assert "metric" not in kinds and kinds[-1] == "job", kinds
