"""The payloads of the protocol's messages: what each message type carries.

Each is wrapped in its envelope by :func:`realtime_nb.core.protocol.make_message`. Pure: no I/O.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

from realtime_nb.core.protocol_types import (
    JobStatus,
    NonNegative,
    PayloadStruct,
    Percent,
    PluginState,
    Severity,
)

__all__ = [
    "MAX_SEQ",
    "ConnectionPayload",
    "ErrorDetails",
    "ErrorPayload",
    "FramePayload",
    "JobPayload",
    "MetadataPayload",
    "MetricName",
    "MetricPayload",
    "MetricPoint",
    "PingPayload",
    "PluginMetadata",
    "PluginStatusPayload",
    "PongPayload",
    "ProgressPayload",
    "RunEndPayload",
    "SubscribePayload",
    "SubscribedPayload",
    "UnsubscribePayload",
    "WarningPayload",
]


class ProgressPayload(PayloadStruct):
    """Job progress, 0 to 100, never going backwards within a job."""

    job_id: str
    progress: Percent
    stage: str | None = None
    plugin: str | None = None


class FramePayload(PayloadStruct):
    """One plugin's result for one frame; ``data`` is whatever the plugin returned."""

    frame_id: str
    plugin: str
    data: dict[str, Any]
    timing_ms: NonNegative
    device_used: str | None = None
    frame_index: int | None = None


class PluginStatusPayload(PayloadStruct):
    """A plugin's lifecycle within a job."""

    plugin: str
    status: PluginState
    timing_ms: NonNegative | None = None
    frames_processed: int | None = None
    warnings_count: int | None = None


class WarningPayload(PayloadStruct):
    """A soft failure: the job goes on."""

    plugin: str
    message: str
    severity: Severity
    frame_id: str | None = None


class ErrorDetails(PayloadStruct):
    """Structured detail of an error."""

    error_code: str
    message: str
    fallback: str | None = None


class ErrorPayload(PayloadStruct):
    """A hard failure of a plugin, a frame, or the job; or, with ``code`` and ``message`` and
    no job, the server's answer to a client message it could not use (the connection stays
    open)."""

    error: str
    plugin: str | None = None
    details: ErrorDetails | None = None
    frame_id: str | None = None
    code: str | None = None
    message: str | None = None


class PluginMetadata(PayloadStruct):
    """What a plugin says about itself (sent once per plugin per job)."""

    version: str
    model: str
    input_shape: list[int | None]
    output_format: str
    confidence_default: float
    capabilities: list[str]


class MetadataPayload(PayloadStruct):
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


class MetricPayload(PayloadStruct):
    """A batch of metric points of one job (an experiment's ``run.log`` calls), in log order."""

    points: list[MetricPoint]


class RunEndPayload(PayloadStruct):
    """A producer says its run is over: ``completed``, or ``failed`` with the error."""

    status: Literal["completed", "failed"]
    error: str | None = None


class PingPayload(PayloadStruct):
    """Server heartbeat. Carries the last measured round trip and the connection's drop count."""

    interval_seconds: NonNegative
    latency_ms: float | None = None
    dropped: int = 0


class PongPayload(PayloadStruct):
    """Client answer to a ping, with the client's clock."""

    timestamp: str


class ConnectionPayload(PayloadStruct):
    """Sent first on every WebSocket connection."""

    connection_id: str
    server_version: str
    protocol_version: int
    subscriptions: list[str]
    ping_interval_seconds: float
    max_queue: int


class JobPayload(PayloadStruct):
    """A job's lifecycle change, so a client knows a job ended even if it missed progress 100."""

    job_id: str
    status: JobStatus
    frames_total: int | None = None
    frames_done: int | None = None
    error: str | None = None


MAX_SEQ = 2**63 - 1
"""Largest ``seq`` (SQLite's integer range); a ``since_seq`` above it is refused."""


class SubscribePayload(PayloadStruct):
    """Client asks for a job's messages (``"*"``: all jobs), optionally resuming after a seq."""

    job_id: str
    since_seq: Annotated[int, msgspec.Meta(ge=0, le=MAX_SEQ)] | None = None


class UnsubscribePayload(PayloadStruct):
    """Client stops receiving a job's messages."""

    job_id: str


class SubscribedPayload(PayloadStruct):
    """Server's answer to ``subscribe``.

    ``recovered`` is False when the replay log no longer holds everything after ``since_seq``;
    the client must then reload the job through REST.
    """

    job_id: str
    recovered: bool
    replayed: int = 0
    last_seq: int = 0
