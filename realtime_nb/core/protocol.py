"""The wire protocol: message structs, encode/decode, priorities and error codes.

This module is pure (no I/O, no event loop) and is the one source of truth for what travels
between the server and its clients: it holds the envelopes, encoding and decoding, binary
previews and the JSON Schema, and re-exports the structs of ``protocol_types`` (field types,
error codes, priorities), ``protocol_payloads`` (what each message carries), ``protocol_records``
(REST bodies) and ``protocol_ingest`` (what producers and chunk tasks send), so callers import
everything from here. Every message is an envelope::

    {"type": "frame", "payload": {...}, "timestamp": "2026-11-25T10:00:00.123Z",
     "seq": 42, "job_id": "j-..."}

``seq`` (per job, from 1, strictly increasing) and ``job_id`` are absent on connection-level
messages (``connection``, ``ping``). Each envelope type is a msgspec struct tagged by ``type``, so
decoding validates the payload in one pass.

Example:
    >>> msg = make_message(ProgressPayload(job_id="j1", progress=50), job_id="j1", seq=3)
    >>> decode_server_message(encode(msg)).payload.progress
    50.0
"""

from __future__ import annotations

import struct
import time
from typing import Any

import msgspec

from realtime_nb.core.protocol_ingest import (
    MAX_EVENTS_PER_BATCH,
    MAX_FRAMES_PER_BATCH,
    IngestAck,
    IngestBatch,
    IngestFrames,
    IngestFramesAck,
    IngestHeartbeat,
    IngestReady,
    IngestRejected,
    ProducedEnd,
    ProducedError,
    ProducedEvent,
    ProducedFrame,
    ProducedFrameEvents,
    ProducedMetric,
    ProducedProgress,
    ProducedWarning,
    ProducerMessage,
    decode_ingest_batch,
    decode_ingest_frames,
    decode_producer_message,
)
from realtime_nb.core.protocol_payloads import (
    MAX_SEQ,
    ConnectionPayload,
    ErrorDetails,
    ErrorPayload,
    FramePayload,
    JobPayload,
    MetadataPayload,
    MetricPayload,
    MetricPoint,
    PingPayload,
    PluginMetadata,
    PluginStatusPayload,
    PongPayload,
    ProgressPayload,
    RunEndPayload,
    SubscribedPayload,
    SubscribePayload,
    UnsubscribePayload,
    WarningPayload,
)
from realtime_nb.core.protocol_records import (
    STORED_RECORD_MAX_DEPTH,
    ExperimentRequest,
    JobOptions,
    JobRecord,
    JobRequest,
    clip_json_depth,
    decode_experiment_request,
    decode_job_record,
    decode_job_request,
    is_experiment_request,
)
from realtime_nb.core.protocol_types import (
    PROTOCOL_VERSION,
    TERMINAL_STATUSES,
    ErrorCode,
    JobKind,
    JobStatus,
    PayloadStruct,
    PluginState,
    Priority,
    ProtocolError,
    Seq,
    Severity,
    Timestamp,
    decode_with,
)

__all__ = [
    "CLIENT_MESSAGE_TYPES",
    "MAX_EVENTS_PER_BATCH",
    "MAX_FRAMES_PER_BATCH",
    "MAX_SEQ",
    "PREVIEW_PREFIX_BYTES",
    "PROTOCOL_VERSION",
    "SERVER_MESSAGE_TYPES",
    "STORED_RECORD_MAX_DEPTH",
    "TERMINAL_STATUSES",
    "ClientMessage",
    "ConnectionMessage",
    "ConnectionPayload",
    "ErrorCode",
    "ErrorDetails",
    "ErrorMessage",
    "ErrorPayload",
    "ExperimentRequest",
    "FrameMessage",
    "FramePayload",
    "IngestAck",
    "IngestBatch",
    "IngestFrames",
    "IngestFramesAck",
    "IngestHeartbeat",
    "IngestReady",
    "IngestRejected",
    "JobKind",
    "JobMessage",
    "JobOptions",
    "JobPayload",
    "JobRecord",
    "JobRequest",
    "JobStatus",
    "MetadataMessage",
    "MetadataPayload",
    "MetricMessage",
    "MetricPayload",
    "MetricPoint",
    "PingMessage",
    "PingPayload",
    "PluginMetadata",
    "PluginState",
    "PluginStatusMessage",
    "PluginStatusPayload",
    "PongMessage",
    "PongPayload",
    "PreviewHeader",
    "Priority",
    "ProducedEnd",
    "ProducedError",
    "ProducedEvent",
    "ProducedFrame",
    "ProducedFrameEvents",
    "ProducedMetric",
    "ProducedProgress",
    "ProducedWarning",
    "ProducerMessage",
    "ProgressMessage",
    "ProgressPayload",
    "ProtocolError",
    "RunEndPayload",
    "ServerMessage",
    "Severity",
    "SubscribeMessage",
    "SubscribePayload",
    "SubscribedMessage",
    "SubscribedPayload",
    "UnsubscribeMessage",
    "UnsubscribePayload",
    "WarningMessage",
    "WarningPayload",
    "clip_json_depth",
    "decode_client_message",
    "decode_experiment_request",
    "decode_ingest_batch",
    "decode_ingest_frames",
    "decode_job_record",
    "decode_job_request",
    "decode_preview",
    "decode_producer_message",
    "decode_server_message",
    "encode",
    "encode_preview",
    "is_experiment_request",
    "is_terminal",
    "make_message",
    "message_type_of",
    "now_iso",
    "peek_type",
    "priority_of",
    "schema",
]

# --- envelopes ----------------------------------------------------------------------------------


class _Envelope(msgspec.Struct, tag_field="type", omit_defaults=True, kw_only=True):
    timestamp: Timestamp
    seq: Seq | None = None
    job_id: str | None = None


class ProgressMessage(_Envelope, tag="progress"):
    """Envelope of a :class:`ProgressPayload`."""

    payload: ProgressPayload


class FrameMessage(_Envelope, tag="frame"):
    """Envelope of a :class:`FramePayload`."""

    payload: FramePayload


class PluginStatusMessage(_Envelope, tag="plugin_status"):
    """Envelope of a :class:`PluginStatusPayload`."""

    payload: PluginStatusPayload


class WarningMessage(_Envelope, tag="warning"):
    """Envelope of a :class:`WarningPayload`."""

    payload: WarningPayload


class ErrorMessage(_Envelope, tag="error"):
    """Envelope of an :class:`ErrorPayload`."""

    payload: ErrorPayload


class MetadataMessage(_Envelope, tag="metadata"):
    """Envelope of a :class:`MetadataPayload`."""

    payload: MetadataPayload


class JobMessage(_Envelope, tag="job"):
    """Envelope of a :class:`JobPayload` (job lifecycle)."""

    payload: JobPayload


class MetricMessage(_Envelope, tag="metric"):
    """Envelope of a :class:`MetricPayload`."""

    payload: MetricPayload


class PingMessage(_Envelope, tag="ping"):
    """Envelope of a :class:`PingPayload`."""

    payload: PingPayload


class ConnectionMessage(_Envelope, tag="connection"):
    """Envelope of a :class:`ConnectionPayload`."""

    payload: ConnectionPayload


class SubscribedMessage(_Envelope, tag="subscribed"):
    """Envelope of a :class:`SubscribedPayload`."""

    payload: SubscribedPayload


class _ClientEnvelope(_Envelope, kw_only=True):
    # A client may leave ``timestamp`` out: the server stamps the time it received the message.
    timestamp: Timestamp | None = None  # type: ignore[assignment]


class PongMessage(_ClientEnvelope, tag="pong"):
    """Envelope of a :class:`PongPayload` (client to server)."""

    payload: PongPayload


class SubscribeMessage(_ClientEnvelope, tag="subscribe"):
    """Envelope of a :class:`SubscribePayload` (client to server)."""

    payload: SubscribePayload


class UnsubscribeMessage(_ClientEnvelope, tag="unsubscribe"):
    """Envelope of an :class:`UnsubscribePayload` (client to server)."""

    payload: UnsubscribePayload


ServerMessage = (
    ProgressMessage
    | FrameMessage
    | PluginStatusMessage
    | WarningMessage
    | ErrorMessage
    | MetadataMessage
    | JobMessage
    | MetricMessage
    | PingMessage
    | ConnectionMessage
    | SubscribedMessage
)
ClientMessage = PongMessage | SubscribeMessage | UnsubscribeMessage

_PAYLOAD_TO_ENVELOPE: dict[type[Any], type[Any]] = {
    ProgressPayload: ProgressMessage,
    FramePayload: FrameMessage,
    PluginStatusPayload: PluginStatusMessage,
    WarningPayload: WarningMessage,
    ErrorPayload: ErrorMessage,
    MetadataPayload: MetadataMessage,
    JobPayload: JobMessage,
    MetricPayload: MetricMessage,
    PingPayload: PingMessage,
    ConnectionPayload: ConnectionMessage,
    SubscribedPayload: SubscribedMessage,
    PongPayload: PongMessage,
    SubscribePayload: SubscribeMessage,
    UnsubscribePayload: UnsubscribeMessage,
}

_PRIORITY: dict[str, Priority] = {
    "frame": Priority.FRAME,
    "progress": Priority.PROGRESS,
}


def now_iso(t: float | None = None) -> str:
    """Return ``t`` (seconds since the epoch, default now) as ISO 8601 UTC with ms and ``Z``."""
    t = time.time() if t is None else t
    millis = int(t * 1000) % 1000
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{millis:03d}Z"


def make_message(
    payload: Any, *, job_id: str | None = None, seq: int | None = None, timestamp: str | None = None
) -> Any:
    """Wrap a payload struct in its envelope.

    Args:
        payload: One of the ``*Payload`` structs.
        job_id: The job the message belongs to; None on connection-level messages.
        seq: The per-job sequence number; None until the job's channel assigns one.
        timestamp: ISO 8601 timestamp; default now.

    Returns:
        The envelope struct (e.g. :class:`ProgressMessage`).

    Raises:
        TypeError: ``payload`` is not a payload struct.
    """
    envelope = _PAYLOAD_TO_ENVELOPE.get(type(payload))
    if envelope is None:
        raise TypeError(f"not a payload struct: {type(payload).__name__}")
    return envelope(payload=payload, job_id=job_id, seq=seq, timestamp=timestamp or now_iso())


def message_type_of(message: Any) -> str:
    """Return the wire ``type`` of an envelope struct."""
    tag: str = message.__struct_config__.tag
    return tag


def priority_of(message_type: str) -> Priority:
    """Return how droppable a message of this type is in a full queue."""
    return _PRIORITY.get(message_type, Priority.PROTECTED)


def is_terminal(status: str) -> bool:
    """True when a job status means the job will emit nothing more."""
    return status in TERMINAL_STATUSES


def _encode_numpy(obj: Any) -> Any:
    """Let plugin results hold numpy scalars and arrays (an easy slip in OpenCV code): both
    have ``tolist()``, so this module need not import numpy."""
    tolist = getattr(obj, "tolist", None)
    if callable(tolist):
        return tolist()
    raise TypeError(f"Encoding objects of type {type(obj).__name__} is unsupported")


_encoder = msgspec.json.Encoder(enc_hook=_encode_numpy)
_server_decoder = msgspec.json.Decoder(ServerMessage)
_client_decoder = msgspec.json.Decoder(ClientMessage)


class _AnyEnvelope(msgspec.Struct):
    type: str


_type_only_decoder = msgspec.json.Decoder(_AnyEnvelope)


def encode(obj: Any) -> bytes:
    """Encode a message or any struct to JSON bytes."""
    return _encoder.encode(obj)


def decode_server_message(data: bytes | str) -> ServerMessage:
    """Decode and validate a server-to-client message.

    Raises:
        ProtocolError: Malformed JSON, unknown type, or a payload that fails validation.
    """
    result: ServerMessage = decode_with(_server_decoder, data)
    return result


CLIENT_MESSAGE_TYPES: frozenset[str] = frozenset(
    t.__struct_config__.tag for t in ClientMessage.__args__
)


def decode_client_message(data: bytes | str) -> ClientMessage:
    """Decode and validate a client-to-server message.

    Raises:
        ProtocolError: Malformed JSON (MSG_INVALID_JSON), no ``type`` or another required field
            missing (MSG_MISSING_FIELD), a ``type`` clients may not send (MSG_UNKNOWN_TYPE), or
            a payload that fails validation (MSG_INVALID).
    """
    try:
        kind = _type_only_decoder.decode(data).type
    except RecursionError:
        raise ProtocolError(ErrorCode.MSG_INVALID, "JSON nested too deeply") from None
    except msgspec.ValidationError as exc:
        code = ErrorCode.MSG_MISSING_FIELD if "missing required field" in str(exc) else None
        raise ProtocolError(code or ErrorCode.MSG_INVALID, str(exc)) from None
    except msgspec.DecodeError as exc:
        raise ProtocolError(ErrorCode.MSG_INVALID_JSON, str(exc)) from None
    if kind not in CLIENT_MESSAGE_TYPES:
        known = ", ".join(sorted(CLIENT_MESSAGE_TYPES))
        raise ProtocolError(
            ErrorCode.MSG_UNKNOWN_TYPE, f"unknown message type {kind[:64]!r}; clients send {known}"
        )
    result: ClientMessage = decode_with(_client_decoder, data)
    return result


def peek_type(data: bytes | str) -> str | None:
    """Return the ``type`` field of a JSON envelope without validating the rest, or None."""
    try:
        return _type_only_decoder.decode(data).type
    except (msgspec.ValidationError, msgspec.DecodeError):
        return None


SERVER_MESSAGE_TYPES: frozenset[str] = frozenset(
    t.__struct_config__.tag for t in ServerMessage.__args__
)


# --- binary previews ----------------------------------------------------------------------------

PREVIEW_MAGIC = b"RNBP"
_PREVIEW_PREFIX = struct.Struct(">4sI")
PREVIEW_PREFIX_BYTES = _PREVIEW_PREFIX.size
"""Bytes before a preview's JSON header: the magic and the header's length."""


class PreviewHeader(PayloadStruct):
    """Header of a binary preview frame: which job and frame the JPEG shows, and what each
    plugin found on that frame.

    The JPEG is the frame as the source gave it (scaled down to at most 640 pixels wide), with
    no drawings: ``width`` and ``height`` are the frame's own size, the coordinates the
    ``results`` use. A client draws each plugin's result over the image itself, so a viewer can
    switch each plugin's drawing on and off and scrub back through the frames it kept, each with
    its own per-plugin ``timings_ms`` and ``warnings``.
    """

    job_id: str
    frame_id: str
    frame_index: int
    width: int
    height: int
    results: dict[str, dict[str, Any]] = msgspec.field(default_factory=dict)
    timings_ms: dict[str, float] = msgspec.field(default_factory=dict)
    warnings: list[WarningPayload] = msgspec.field(default_factory=list)


_preview_header_decoder = msgspec.json.Decoder(PreviewHeader)


def encode_preview(header: PreviewHeader, jpeg: bytes) -> bytes:
    """Pack a preview as ``b"RNBP" | u32 header length | JSON header | JPEG bytes``."""
    head = _encoder.encode(header)
    return _PREVIEW_PREFIX.pack(PREVIEW_MAGIC, len(head)) + head + jpeg


def decode_preview(data: bytes) -> tuple[PreviewHeader, bytes]:
    """Unpack a binary preview frame.

    Raises:
        ProtocolError: Not a preview frame, or a header that fails validation.
    """
    if len(data) < _PREVIEW_PREFIX.size:
        raise ProtocolError(ErrorCode.MSG_INVALID, "preview frame too short")
    magic, head_len = _PREVIEW_PREFIX.unpack_from(data)
    if magic != PREVIEW_MAGIC:
        raise ProtocolError(ErrorCode.MSG_INVALID, "not a preview frame")
    start = _PREVIEW_PREFIX.size
    header: PreviewHeader = decode_with(_preview_header_decoder, data[start : start + head_len])
    return header, bytes(data[start + head_len :])


def schema() -> dict[str, Any]:
    """Return the JSON Schema of every message, generated from the structs."""
    (server, client, producer, to_producer, experiment, chunk, to_chunk), components = (
        msgspec.json.schema_components(
            [
                ServerMessage,
                ClientMessage,
                ProducerMessage,
                IngestReady | IngestAck | IngestRejected,
                ExperimentRequest,
                IngestFrames,
                IngestFramesAck,
            ],
            ref_template="#/$defs/{name}",
        )
    )
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "realtime_nb wire protocol",
        "version": PROTOCOL_VERSION,
        "server_to_client": server,
        "client_to_server": client,
        "producer_to_server": producer,
        "server_to_producer": to_producer,
        "experiment_request": experiment,
        "chunk_to_server": chunk,
        "server_to_chunk": to_chunk,
        "$defs": components,
    }
