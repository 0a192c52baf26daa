"""The wire protocol: message structs, encode/decode, priorities and error codes.

This module is pure (no I/O, no event loop) and is the one source of truth for what travels
between the server and its clients. Every message is an envelope::

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

import enum
import re
import struct
import time
from typing import Annotated, Any, Literal

import msgspec

__all__ = [
    "CLIENT_MESSAGE_TYPES",
    "MAX_EVENTS_PER_BATCH",
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

PROTOCOL_VERSION = 1

Severity = Literal["low", "medium", "high"]
PluginState = Literal["started", "running", "completed", "failed"]
JobKind = Literal["video", "experiment"]
JobStatus = Literal["queued", "running", "completed", "failed", "cancelled", "interrupted"]
TERMINAL_STATUSES: frozenset[str] = frozenset({"completed", "failed", "cancelled", "interrupted"})

Timestamp = Annotated[str, msgspec.Meta(pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")]
Percent = Annotated[float, msgspec.Meta(ge=0, le=100)]
NonNegative = Annotated[float, msgspec.Meta(ge=0)]
Seq = Annotated[int, msgspec.Meta(ge=1)]


class ErrorCode(enum.StrEnum):
    """Machine-readable error codes used in ``error`` messages and REST error bodies."""

    MSG_INVALID_JSON = "MSG_INVALID_JSON"
    MSG_MISSING_FIELD = "MSG_MISSING_FIELD"
    MSG_INVALID = "MSG_INVALID"
    MSG_TOO_LARGE = "MSG_TOO_LARGE"
    MSG_UNKNOWN_TYPE = "MSG_UNKNOWN_TYPE"
    OPTION_INVALID = "OPTION_INVALID"
    TOO_MANY_CONNECTIONS = "TOO_MANY_CONNECTIONS"
    TOO_MANY_SUBSCRIPTIONS = "TOO_MANY_SUBSCRIPTIONS"
    RATE_LIMITED = "RATE_LIMITED"
    UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE"
    PLUGIN_TIMEOUT = "PLUGIN_TIMEOUT"
    PLUGIN_CRASH = "PLUGIN_CRASH"
    PLUGIN_UNKNOWN = "PLUGIN_UNKNOWN"
    PIPELINE_INVALID = "PIPELINE_INVALID"
    DEVICE_UNAVAILABLE = "DEVICE_UNAVAILABLE"
    CONNECTION_LOST = "CONNECTION_LOST"
    UNAUTHORIZED = "UNAUTHORIZED"
    FORBIDDEN_ORIGIN = "FORBIDDEN_ORIGIN"
    NOT_FOUND = "NOT_FOUND"
    METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
    SOURCE_INVALID = "SOURCE_INVALID"
    SOURCE_NOT_ALLOWED = "SOURCE_NOT_ALLOWED"
    SOURCE_NOT_FOUND = "SOURCE_NOT_FOUND"
    SOURCE_UNREADABLE = "SOURCE_UNREADABLE"
    JOB_NOT_CANCELLABLE = "JOB_NOT_CANCELLABLE"
    TOO_MANY_JOBS = "TOO_MANY_JOBS"
    STORAGE_UNAVAILABLE = "STORAGE_UNAVAILABLE"
    UNAVAILABLE = "UNAVAILABLE"
    JOB_ENDED = "JOB_ENDED"
    JOB_NOT_FINISHED = "JOB_NOT_FINISHED"
    INTERNAL = "INTERNAL"


class ProtocolError(ValueError):
    """Raised when bytes cannot be decoded into a valid message.

    Attributes:
        code: The :class:`ErrorCode` that names what was wrong.
    """

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code


class Priority(enum.IntEnum):
    """How a message fares in a full per-connection queue; lower is dropped first."""

    PREVIEW = 0
    FRAME = 1
    PROGRESS = 2
    PROTECTED = 3


class _Struct(msgspec.Struct, omit_defaults=True, kw_only=True):
    """Base of every payload: optional fields that are unset are left out of the JSON."""


# --- payloads -----------------------------------------------------------------------------------


class ProgressPayload(_Struct):
    """Job progress, 0 to 100, never going backwards within a job."""

    job_id: str
    progress: Percent
    stage: str | None = None
    plugin: str | None = None


class FramePayload(_Struct):
    """One plugin's result for one frame; ``data`` is whatever the plugin returned."""

    frame_id: str
    plugin: str
    data: dict[str, Any]
    timing_ms: NonNegative
    device_used: str | None = None
    frame_index: int | None = None


class PluginStatusPayload(_Struct):
    """A plugin's lifecycle within a job."""

    plugin: str
    status: PluginState
    timing_ms: NonNegative | None = None
    frames_processed: int | None = None
    warnings_count: int | None = None


class WarningPayload(_Struct):
    """A soft failure: the job goes on."""

    plugin: str
    message: str
    severity: Severity
    frame_id: str | None = None


class ErrorDetails(_Struct):
    """Structured detail of an error."""

    error_code: str
    message: str
    fallback: str | None = None


class ErrorPayload(_Struct):
    """A hard failure of a plugin, a frame, or the job; or, with ``code`` and ``message`` and
    no job, the server's answer to a client message it could not use (the connection stays
    open)."""

    error: str
    plugin: str | None = None
    details: ErrorDetails | None = None
    frame_id: str | None = None
    code: str | None = None
    message: str | None = None


class PluginMetadata(_Struct):
    """What a plugin says about itself (sent once per plugin per job)."""

    version: str
    model: str
    input_shape: list[int | None]
    output_format: str
    confidence_default: float
    capabilities: list[str]


class MetadataPayload(_Struct):
    """A plugin's metadata, sent before it starts."""

    plugin: str
    metadata: PluginMetadata


MetricName = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class MetricPoint(msgspec.Struct, array_like=True):
    """One value of one metric at one step, on the wire as the array
    ``[name, step, value, wall_time]`` (half the bytes of an object, for the type sent most).

    ``value`` is None when the value was not finite (NaN or infinity have no JSON form); a
    chart shows it as a gap. ``wall_time`` is when the producer logged it, in seconds since the
    epoch.
    """

    name: MetricName
    step: int
    value: float | None
    wall_time: float


class MetricPayload(_Struct):
    """A batch of metric points of one job (an experiment's ``run.log`` calls), in log order."""

    points: list[MetricPoint]


class RunEndPayload(_Struct):
    """A producer says its run is over: ``completed``, or ``failed`` with the error."""

    status: Literal["completed", "failed"]
    error: str | None = None


class PingPayload(_Struct):
    """Server heartbeat. Carries the last measured round trip and the connection's drop count."""

    interval_seconds: NonNegative
    latency_ms: float | None = None
    dropped: int = 0


class PongPayload(_Struct):
    """Client answer to a ping, with the client's clock."""

    timestamp: str


class ConnectionPayload(_Struct):
    """Sent first on every WebSocket connection."""

    connection_id: str
    server_version: str
    protocol_version: int
    subscriptions: list[str]
    ping_interval_seconds: float
    max_queue: int


class JobPayload(_Struct):
    """A job's lifecycle change, so a client knows a job ended even if it missed progress 100."""

    job_id: str
    status: JobStatus
    frames_total: int | None = None
    frames_done: int | None = None
    error: str | None = None


MAX_SEQ = 2**63 - 1
"""Largest ``seq`` (SQLite's integer range); a ``since_seq`` above it is refused."""


class SubscribePayload(_Struct):
    """Client asks for a job's messages (``"*"``: all jobs), optionally resuming after a seq."""

    job_id: str
    since_seq: Annotated[int, msgspec.Meta(ge=0, le=MAX_SEQ)] | None = None


class UnsubscribePayload(_Struct):
    """Client stops receiving a job's messages."""

    job_id: str


class SubscribedPayload(_Struct):
    """Server's answer to ``subscribe``.

    ``recovered`` is False when the replay log no longer holds everything after ``since_seq``;
    the client must then reload the job through REST.
    """

    job_id: str
    recovered: bool
    replayed: int = 0
    last_seq: int = 0


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


# --- REST bodies --------------------------------------------------------------------------------


class JobOptions(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True, kw_only=True):
    """The ``options`` of ``POST /v1/jobs``; an unknown option is refused.

    Attributes:
        preview_interval_s: Least seconds between two binary previews (0.1 by default).
        frame_timeout_s: Longest one plugin call may take, overriding the server's default.
        annotate_video: Write an annotated video (``GET /v1/jobs/{id}/video``).
        plugin_options: Options of each plugin, by plugin name, checked against the options
            that plugin declares.
        labels: The user's own labels, kept with the job and never read by the server.
        executor: Where the job runs (``process``, or ``dask`` on a server started with
            ``--executor dask``); None: the server's default.
    """

    preview_interval_s: Annotated[float, msgspec.Meta(ge=0, le=3600)] = 0.1
    frame_timeout_s: Annotated[float, msgspec.Meta(gt=0, le=86400)] | None = None
    annotate_video: bool = False
    plugin_options: dict[str, dict[str, Any]] = {}
    labels: dict[str, str] = {}
    executor: str | None = None


class JobRequest(msgspec.Struct, forbid_unknown_fields=True):
    """Body of ``POST /v1/jobs``."""

    source: str
    plugins: list[str]
    options: JobOptions = msgspec.field(default_factory=JobOptions)
    cwd: str | None = None
    """The client's working directory: a relative file path in ``source`` is taken from here
    (without it, from the server's first allowed root)."""


class ExperimentRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Body of ``POST /v1/jobs`` for an experiment: a job fed by an outside producer (a user's
    training loop) instead of plugins over a video."""

    kind: Literal["experiment"]
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    total: Annotated[int, msgspec.Meta(ge=1)] | None = None
    config: dict[str, Any] = {}
    options: dict[str, Any] = {}


class JobRecord(msgspec.Struct, kw_only=True):
    """A job as REST returns it and the store keeps it (every field always present).

    ``kind`` is ``video`` (plugins over a source) or ``experiment`` (a producer's run, with its
    ``name`` and ``config``; ``frames_total`` is its ``total``).
    ``executor`` is where a video job runs (``process``, ``thread`` or ``dask``) and
    ``dashboard_url`` the Dask dashboard's address when it runs on Dask.
    """

    job_id: str
    status: JobStatus
    created_at: str
    source: str
    plugins: list[str]
    options: dict[str, Any] = {}
    kind: JobKind = "video"
    name: str | None = None
    config: dict[str, Any] = {}
    started_at: str | None = None
    finished_at: str | None = None
    frames_total: int | None = None
    frames_done: int = 0
    progress: float = 0.0
    error: str | None = None
    output_path: str | None = None
    last_seq: int = 0
    executor: str | None = None
    dashboard_url: str | None = None


# --- producer ingest (experiments) ------------------------------------------------------------


class _Produced(msgspec.Struct, tag_field="type", forbid_unknown_fields=True):
    """An event as a producer sends it: a type and a payload. The server adds ``seq``,
    ``job_id`` and ``timestamp``."""


class ProducedMetric(_Produced, tag="metric"):
    """Metric points from a producer."""

    payload: MetricPayload


class ProducedProgress(_Produced, tag="progress"):
    """Progress from a producer."""

    payload: ProgressPayload


class ProducedWarning(_Produced, tag="warning"):
    """A warning from a producer."""

    payload: WarningPayload


class ProducedError(_Produced, tag="error"):
    """An error from a producer (the run goes on until it ends)."""

    payload: ErrorPayload


class ProducedEnd(_Produced, tag="end"):
    """The producer's run ended; the server ends the job with this status."""

    payload: RunEndPayload


ProducedEvent = ProducedMetric | ProducedProgress | ProducedWarning | ProducedError | ProducedEnd

MAX_EVENTS_PER_BATCH = 10_000


class IngestBatch(msgspec.Struct, tag_field="type", tag="batch", forbid_unknown_fields=True):
    """Producer to server: events of one job, applied all or nothing, once.

    ``batch`` numbers a producer's batches from 1. The server applies a batch only if its
    number is above the last one it applied for the job, so a producer that resends a batch
    after a lost acknowledgement never doubles anything.
    """

    batch: Annotated[int, msgspec.Meta(ge=1)]
    events: Annotated[list[ProducedEvent], msgspec.Meta(max_length=MAX_EVENTS_PER_BATCH)]


class IngestHeartbeat(msgspec.Struct, tag_field="type", tag="heartbeat"):
    """Producer to server: still alive, nothing to send."""


ProducerMessage = IngestBatch | IngestHeartbeat


class IngestReady(msgspec.Struct, tag_field="type", tag="ready", kw_only=True):
    """Server to producer, first on the ingest socket: where the job stands."""

    job_id: str
    status: JobStatus
    last_batch: int
    heartbeat_timeout_s: float


class IngestAck(msgspec.Struct, tag_field="type", tag="ack", kw_only=True):
    """Server to producer: batch ``batch`` is committed to the store (``applied`` False: it
    had been applied before, and was ignored this time)."""

    batch: int
    applied: bool
    last_seq: int
    status: JobStatus


class IngestRejected(msgspec.Struct, tag_field="type", tag="rejected", kw_only=True):
    """Server to producer: a message that was not valid, with why; nothing of it was applied."""

    code: str
    message: str
    batch: int | None = None


# --- chunk producers (video jobs run in chunks, e.g. on Dask) ---------------------------------


class ProducedFrame(_Produced, tag="frame"):
    """One plugin's result for one frame, from a chunk task."""

    payload: FramePayload


class ProducedFrameEvents(msgspec.Struct, forbid_unknown_fields=True):
    """Everything one frame gave a chunk task, in order: each plugin's ``frame`` result and
    the ``warning`` and ``error`` events of that frame. Applied whole, at most once per job
    and frame, whichever task (or retry of a task) sends it first."""

    index: Annotated[int, msgspec.Meta(ge=0)]
    events: list[ProducedFrame | ProducedWarning | ProducedError]


MAX_FRAMES_PER_BATCH = 1000


class IngestFrames(msgspec.Struct, tag_field="type", tag="frames", forbid_unknown_fields=True):
    """Chunk task to server (``POST /v1/jobs/{id}/frames``, the job's producer token): frames
    of a video job processed elsewhere. The server numbers, stores and publishes each frame
    not applied before and drops the others, so a retried chunk never doubles a frame."""

    chunk: Annotated[int, msgspec.Meta(ge=0)]
    frames: Annotated[list[ProducedFrameEvents], msgspec.Meta(max_length=MAX_FRAMES_PER_BATCH)]


class IngestFramesAck(msgspec.Struct, tag_field="type", tag="frames_ack", kw_only=True):
    """Server to chunk task: the frames are applied (numbered, published, queued for the
    store; the job ends only once they are committed); ``applied`` were new, ``duplicates``
    had been applied before and were dropped."""

    applied: int
    duplicates: int
    last_seq: int
    status: JobStatus


# --- functions ----------------------------------------------------------------------------------


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
_job_request_decoder = msgspec.json.Decoder(JobRequest)
_experiment_request_decoder = msgspec.json.Decoder(ExperimentRequest)
_producer_decoder = msgspec.json.Decoder(ProducerMessage)
_batch_decoder = msgspec.json.Decoder(IngestBatch)
_frames_decoder = msgspec.json.Decoder(IngestFrames)


class _KindOnly(msgspec.Struct):
    kind: str = "video"


_kind_decoder = msgspec.json.Decoder(_KindOnly)
_job_record_decoder = msgspec.json.Decoder(JobRecord)


class _AnyEnvelope(msgspec.Struct):
    type: str


_type_only_decoder = msgspec.json.Decoder(_AnyEnvelope)


def encode(obj: Any) -> bytes:
    """Encode a message or any struct to JSON bytes."""
    return _encoder.encode(obj)


def _decode(decoder: msgspec.json.Decoder[Any], data: bytes | str) -> Any:
    try:
        return decoder.decode(data)
    except RecursionError:
        raise ProtocolError(ErrorCode.MSG_INVALID, "JSON nested too deeply") from None
    except msgspec.ValidationError as exc:
        text = str(exc)
        code = (
            ErrorCode.MSG_MISSING_FIELD
            if "missing required field" in text
            else ErrorCode.MSG_INVALID
        )
        raise ProtocolError(code, text) from None
    except msgspec.DecodeError as exc:
        raise ProtocolError(ErrorCode.MSG_INVALID_JSON, str(exc)) from None


def decode_server_message(data: bytes | str) -> ServerMessage:
    """Decode and validate a server-to-client message.

    Raises:
        ProtocolError: Malformed JSON, unknown type, or a payload that fails validation.
    """
    result: ServerMessage = _decode(_server_decoder, data)
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
    result: ClientMessage = _decode(_client_decoder, data)
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


def decode_job_request(data: bytes | str) -> JobRequest:
    """Decode the body of ``POST /v1/jobs``.

    Raises:
        ProtocolError: Malformed JSON, missing ``source``/``plugins``, or wrong types.
    """
    request: JobRequest = _decode(_job_request_decoder, data)
    return request


def is_experiment_request(data: bytes | str) -> bool:
    """True when a ``POST /v1/jobs`` body asks for an experiment (``"kind": "experiment"``)."""
    try:
        return _kind_decoder.decode(data).kind == "experiment"
    except (msgspec.ValidationError, msgspec.DecodeError, RecursionError):
        return False  # not an experiment's; the job request's decoder says what is wrong


def decode_experiment_request(data: bytes | str) -> ExperimentRequest:
    """Decode an experiment's ``POST /v1/jobs`` body.

    Raises:
        ProtocolError: Malformed JSON, a missing ``name``, or wrong types.
    """
    request: ExperimentRequest = _decode(_experiment_request_decoder, data)
    return request


def decode_producer_message(data: bytes | str) -> ProducerMessage:
    """Decode a producer's message on the ingest socket.

    Raises:
        ProtocolError: Malformed JSON, unknown type, or a payload that fails validation.
    """
    result: ProducerMessage = _decode(_producer_decoder, data)
    return result


def decode_ingest_batch(data: bytes | str) -> IngestBatch:
    """Decode the body of ``POST /v1/jobs/{id}/events`` (one :class:`IngestBatch`).

    Raises:
        ProtocolError: Malformed JSON, unknown event type, or a payload that fails validation.
    """
    result: IngestBatch = _decode(_batch_decoder, data)
    return result


def decode_ingest_frames(data: bytes | str) -> IngestFrames:
    """Decode the body of ``POST /v1/jobs/{id}/frames`` (one :class:`IngestFrames`).

    Raises:
        ProtocolError: Malformed JSON, unknown event type, or a payload that fails validation.
    """
    result: IngestFrames = _decode(_frames_decoder, data)
    return result


_JSON_STRING_OR_BRACKET = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]')
STORED_RECORD_MAX_DEPTH = 64
"""Nesting past which :func:`decode_job_record` replaces a stored value by ``null``."""


def clip_json_depth(data: bytes, max_depth: int) -> bytes:
    """``data`` (JSON) with every list or object nested deeper than ``max_depth`` replaced by
    ``null``. Linear and not recursive, so it works on JSON nested past any decoder's limit."""
    out: list[bytes] = []
    depth = 0
    copied = 0
    clipped_at = -1
    for match in _JSON_STRING_OR_BRACKET.finditer(data):
        token = match.group()
        if token[0] == 0x22:  # a string: brackets inside it are text
            continue
        if token in (b"[", b"{"):
            depth += 1
            if depth == max_depth + 1:
                out.append(data[copied : match.start()])
                out.append(b"null")
                clipped_at = match.start()
        else:
            if depth == max_depth + 1 and clipped_at >= 0:
                copied = match.end()
                clipped_at = -1
            depth -= 1
    out.append(data[copied:])
    return b"".join(out)


def decode_job_record(data: bytes | str) -> JobRecord:
    """Decode a stored :class:`JobRecord`. A record whose ``options`` nest past what the
    decoder can follow (an older server accepted them) is still read, with the values past
    :data:`STORED_RECORD_MAX_DEPTH` levels replaced by ``null``, so one bad record cannot stop
    a listing or a restart.

    Raises:
        msgspec.DecodeError: Not JSON; msgspec.ValidationError: not a job record.
    """
    try:
        record: JobRecord = _job_record_decoder.decode(data)
    except RecursionError:
        raw = data.encode() if isinstance(data, str) else bytes(data)
        record = _job_record_decoder.decode(clip_json_depth(raw, STORED_RECORD_MAX_DEPTH))
    return record


# --- binary previews ----------------------------------------------------------------------------

PREVIEW_MAGIC = b"RNBP"
_PREVIEW_PREFIX = struct.Struct(">4sI")
PREVIEW_PREFIX_BYTES = _PREVIEW_PREFIX.size
"""Bytes before a preview's JSON header: the magic and the header's length."""


class PreviewHeader(_Struct):
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
    header: PreviewHeader = _decode(_preview_header_decoder, data[start : start + head_len])
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
