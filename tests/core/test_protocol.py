"""Tests of realtime_nb.core.protocol: envelopes, validation, previews, schema."""

from __future__ import annotations

import re

import pytest

from realtime_nb.core import protocol as p


def test_envelope_has_the_design_fields() -> None:
    msg = p.make_message(
        p.ProgressPayload(job_id="j1", progress=25, stage="Running"), job_id="j1", seq=3
    )
    data = p.encode(msg)
    import json

    obj = json.loads(data)
    assert obj["type"] == "progress"
    assert obj["payload"] == {"job_id": "j1", "progress": 25.0, "stage": "Running"}
    assert obj["seq"] == 3 and obj["job_id"] == "j1"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", obj["timestamp"])


def test_connection_level_messages_have_no_seq_or_job_id() -> None:
    obj = p.decode_server_message(p.encode(p.make_message(p.PingPayload(interval_seconds=30))))
    assert isinstance(obj, p.PingMessage)
    raw = p.encode(p.make_message(p.PingPayload(interval_seconds=30)))
    assert b'"seq"' not in raw and b'"job_id"' not in raw


@pytest.mark.parametrize(
    "payload",
    [
        p.ProgressPayload(job_id="j", progress=100, stage="Completed", plugin="x"),
        p.FramePayload(
            frame_id="f-000001",
            plugin="ball_detection",
            data={"ball": None},
            timing_ms=1.5,
            frame_index=1,
        ),
        p.PluginStatusPayload(
            plugin="x", status="completed", timing_ms=10, frames_processed=3, warnings_count=1
        ),
        p.WarningPayload(
            plugin="x", message="Confidence too low", severity="medium", frame_id="f-000002"
        ),
        p.ErrorPayload(
            error="boom",
            plugin="x",
            details=p.ErrorDetails(error_code="PLUGIN_CRASH", message="e", fallback="skip"),
        ),
        p.MetadataPayload(
            plugin="x",
            metadata=p.PluginMetadata(
                version="1",
                model="m",
                input_shape=[None, None, 3],
                output_format="json",
                confidence_default=0.5,
                capabilities=["a"],
            ),
        ),
        p.JobPayload(job_id="j", status="completed", frames_total=10, frames_done=10),
        p.SubscribedPayload(job_id="j", recovered=False, replayed=0, last_seq=9),
        p.ConnectionPayload(
            connection_id="c",
            server_version="0",
            protocol_version=1,
            subscriptions=["*"],
            ping_interval_seconds=30,
            max_queue=1000,
        ),
    ],
)
def test_server_messages_round_trip(payload: object) -> None:
    msg = p.make_message(payload, job_id="j", seq=7)
    back = p.decode_server_message(p.encode(msg))
    assert back == msg


@pytest.mark.parametrize(
    "payload",
    [
        p.PongPayload(timestamp=p.now_iso()),
        p.SubscribePayload(job_id="*", since_seq=4),
        p.UnsubscribePayload(job_id="j"),
    ],
)
def test_client_messages_round_trip(payload: object) -> None:
    msg = p.make_message(payload)
    assert p.decode_client_message(p.encode(msg)) == msg


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (b"{not json", p.ErrorCode.MSG_INVALID_JSON),
        (
            b'{"type": "progress", "timestamp": "2026-01-01T00:00:00.000Z"}',
            p.ErrorCode.MSG_MISSING_FIELD,
        ),
        (
            b'{"type": "progress", "timestamp": "2026-01-01T00:00:00.000Z", "payload": {"job_id": "j", "progress": 101}}',
            p.ErrorCode.MSG_INVALID,
        ),
        (
            b'{"type": "progress", "timestamp": "yesterday", "payload": {"job_id": "j", "progress": 1}}',
            p.ErrorCode.MSG_INVALID,
        ),
        (
            b'{"type": "warning", "timestamp": "2026-01-01T00:00:00.000Z", "payload": {"plugin": "x", "message": "m", "severity": "huge"}}',
            p.ErrorCode.MSG_INVALID,
        ),
        (
            b'{"type": "nonsense", "timestamp": "2026-01-01T00:00:00.000Z", "payload": {}}',
            p.ErrorCode.MSG_INVALID,
        ),
        (
            b'{"type": "progress", "seq": 0, "timestamp": "2026-01-01T00:00:00.000Z", "payload": {"job_id": "j", "progress": 1}}',
            p.ErrorCode.MSG_INVALID,
        ),
    ],
)
def test_invalid_server_messages_raise_protocol_error(raw: bytes, code: p.ErrorCode) -> None:
    with pytest.raises(p.ProtocolError) as info:
        p.decode_server_message(raw)
    assert info.value.code == code


def test_peek_type_reads_unknown_types() -> None:
    assert p.peek_type(b'{"type": "future_thing", "x": 1}') == "future_thing"
    assert p.peek_type(b"garbage") is None


def test_preview_round_trip_and_rejects_garbage() -> None:
    header = p.PreviewHeader(job_id="j", frame_id="f-000003", frame_index=3, width=640, height=360)
    data = p.encode_preview(header, b"\xff\xd8jpeg")
    assert p.decode_preview(data) == (header, b"\xff\xd8jpeg")
    with pytest.raises(p.ProtocolError):
        p.decode_preview(b"XXXX\x00\x00\x00\x01{")
    with pytest.raises(p.ProtocolError):
        p.decode_preview(b"RN")


def test_priorities_protect_everything_but_frames_and_progress() -> None:
    assert p.priority_of("frame") is p.Priority.FRAME
    assert p.priority_of("progress") is p.Priority.PROGRESS
    for kind in ("error", "warning", "plugin_status", "metadata", "job"):
        assert p.priority_of(kind) is p.Priority.PROTECTED


def test_schema_covers_every_message_type() -> None:
    s = p.schema()
    text = str(s)
    for kind in [*sorted(p.SERVER_MESSAGE_TYPES), "pong", "subscribe", "unsubscribe"]:
        assert f"'{kind}'" in text, kind
    assert "$defs" in s


def test_make_message_rejects_non_payloads() -> None:
    with pytest.raises(TypeError):
        p.make_message({"progress": 1})


def test_now_iso_format() -> None:
    assert p.now_iso(0) == "1970-01-01T00:00:00.000Z"
    assert p.now_iso(1.5) == "1970-01-01T00:00:01.500Z"


def test_numpy_values_in_plugin_results_encode_as_plain_json() -> None:
    import numpy as np

    data = {"x": np.float64(1.5), "n": np.int32(3), "box": np.array([1, 2]), "ok": np.bool_(True)}
    payload = p.FramePayload(frame_id="f-000001", plugin="a", data=data, timing_ms=1.0)
    msg = p.decode_server_message(p.encode(p.make_message(payload, job_id="j", seq=1)))
    assert msg.payload.data == {"x": 1.5, "n": 3, "box": [1, 2], "ok": True}  # type: ignore[union-attr]
    with pytest.raises(TypeError, match="object"):
        p.encode(
            p.make_message(
                p.FramePayload(frame_id="f", plugin="a", data={"o": object()}, timing_ms=1.0)
            )
        )


# --- hostile input ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "code"),
    [
        ("{", "MSG_INVALID_JSON"),
        ("[]", "MSG_INVALID"),
        ("{}", "MSG_MISSING_FIELD"),
        ('{"type": "frame", "payload": {}}', "MSG_UNKNOWN_TYPE"),
        ('{"type": "subscribe"}', "MSG_MISSING_FIELD"),
        ('{"type": "subscribe", "payload": {"job_id": "a", "since_seq": -1}}', "MSG_INVALID"),
        ("[" * 10_000, "MSG_INVALID"),
    ],
)
def test_a_bad_client_message_names_what_is_wrong(data: str, code: str) -> None:
    with pytest.raises(p.ProtocolError) as info:
        p.decode_client_message(data)
    assert info.value.code == code


def test_a_client_message_may_leave_out_its_timestamp() -> None:
    msg = p.decode_client_message('{"type": "subscribe", "payload": {"job_id": "j-1"}}')
    assert isinstance(msg, p.SubscribeMessage) and msg.timestamp is None
