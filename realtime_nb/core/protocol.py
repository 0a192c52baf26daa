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
    "FrameMessage",
    "FramePayload",
    "JobMessage",
    "JobOptions",
    "JobPayload",
    "JobRecord",
    "JobRequest",
    "JobStatus",
    "MetadataMessage",
    "MetadataPayload",
    "PingMessage",
    "PingPayload",
    "PluginMetadata",
    "PluginStatusMessage",
    "PluginStatusPayload",
    "PongMessage",
    "PongPayload",
    "PreviewHeader",
    "Priority",
    "ProgressMessage",
    "ProgressPayload",
    "ProtocolError",
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
    "decode_job_record",
    "decode_job_request",
    "decode_preview",
    "decode_server_message",
    "encode",
    "encode_preview",
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
    JOB_NOT_CANCELLABLE = "JOB_NOT_CANCELLABLE"
    TOO_MANY_JOBS = "TOO_MANY_JOBS"
    STORAGE_UNAVAILABLE = "STORAGE_UNAVAILABLE"
    UNAVAILABLE = "UNAVAILABLE"
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
    """

    preview_interval_s: Annotated[float, msgspec.Meta(ge=0, le=3600)] = 0.1
    frame_timeout_s: Annotated[float, msgspec.Meta(gt=0, le=86400)] | None = None
    annotate_video: bool = False
    plugin_options: dict[str, dict[str, Any]] = {}
    labels: dict[str, str] = {}


class JobRequest(msgspec.Struct, forbid_unknown_fields=True):
    """Body of ``POST /v1/jobs``."""

    source: str
    plugins: list[str]
    options: JobOptions = msgspec.field(default_factory=JobOptions)


class JobRecord(msgspec.Struct, kw_only=True):
    """A job as REST returns it and the store keeps it (every field always present)."""

    job_id: str
    status: JobStatus
    created_at: str
    source: str
    plugins: list[str]
    options: dict[str, Any] = {}
    started_at: str | None = None
    finished_at: str | None = None
    frames_total: int | None = None
    frames_done: int = 0
    progress: float = 0.0
    error: str | None = None
    output_path: str | None = None
    last_seq: int = 0


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
    (server, client), components = msgspec.json.schema_components(
        [ServerMessage, ClientMessage], ref_template="#/$defs/{name}"
    )
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "realtime_nb wire protocol",
        "version": PROTOCOL_VERSION,
        "server_to_client": server,
        "client_to_server": client,
        "$defs": components,
    }
