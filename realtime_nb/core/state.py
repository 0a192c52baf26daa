"""RealtimeState and :func:`reduce`: the client's reducer, pure.

One :class:`RealtimeState` describes one job as seen by one client. ``reduce(state, action)``
returns a new state and never mutates the old one, so a renderer can keep the previous state and
compare; an action that changes nothing (a duplicate, a ping with the same figures) returns the
very same object. Lists are bounded: the state keeps the total count and the last
``max_items`` entries.

Example:
    >>> from realtime_nb.core.protocol import ProgressPayload, make_message
    >>> s = reduce(RealtimeState(), MessageReceived(make_message(
    ...     ProgressPayload(job_id="j1", progress=40, stage="Running"), job_id="j1", seq=1)))
    >>> s.progress, s.stage
    (40.0, 'Running')
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

from realtime_nb.core.protocol import (
    ConnectionMessage,
    ErrorMessage,
    ErrorPayload,
    FrameMessage,
    JobMessage,
    MetadataMessage,
    MetricMessage,
    PingMessage,
    PluginMetadata,
    PluginStatusMessage,
    ProgressMessage,
    ServerMessage,
    SubscribedMessage,
    WarningMessage,
    WarningPayload,
    is_terminal,
)
from realtime_nb.core.series import MetricSeries

__all__ = [
    "ConnectionChanged",
    "FrameData",
    "MessageReceived",
    "PreviewReceived",
    "RealtimeState",
    "TimingStats",
    "reduce",
    "reduce_all",
]

MAX_ITEMS = 50
"""How many warnings and errors a state keeps (the counts are always complete)."""


@dataclass(frozen=True, slots=True)
class FrameData:
    """The latest frame result: which frame, which plugin, what it found."""

    frame_id: str
    plugin: str
    data: dict[str, Any]
    timing_ms: float
    frame_index: int | None = None


_BUCKETS_PER_DOUBLING = 8
_BUCKET_BASE_MS = 0.001


def _bucket(ms: float) -> int:
    """Index of the log-scale histogram bucket holding ``ms`` (8 per doubling, from 1 µs)."""
    if ms <= _BUCKET_BASE_MS:
        return 0
    return int(math.log2(ms / _BUCKET_BASE_MS) * _BUCKETS_PER_DOUBLING)


def _bucket_middle(index: int) -> float:
    """The geometric middle of a bucket: within 4.4 % of any value in it."""
    return float(_BUCKET_BASE_MS * 2 ** ((index + 0.5) / _BUCKETS_PER_DOUBLING))


@dataclass(frozen=True, slots=True)
class TimingStats:
    """Running per-frame timing of one plugin, with percentiles from a log-scale histogram.

    The histogram has 8 buckets per doubling (from 1 µs), kept sparse as sorted
    ``(bucket, count)`` pairs: a plugin's timings fall in a few dozen buckets, so a job of any
    length costs a few hundred bytes and each frame a small tuple copy. A percentile is the
    middle of its bucket, within 4.4 % of the exact figure, and never above :attr:`max_ms`.
    """

    count: int = 0
    total_ms: float = 0.0
    max_ms: float = 0.0
    last_ms: float = 0.0
    buckets: tuple[tuple[int, int], ...] = ()

    @property
    def mean_ms(self) -> float:
        """Mean time per frame, 0 before the first frame."""
        return self.total_ms / self.count if self.count else 0.0

    @property
    def p95_ms(self) -> float:
        """95th percentile time per frame, 0 before the first frame."""
        return self.percentile(95.0)

    def percentile(self, q: float) -> float:
        """The ``q``-th percentile (0-100) of the frame times, 0 before the first frame."""
        if not self.count:
            return 0.0
        rank = max(1, math.ceil(self.count * min(max(q, 0.0), 100.0) / 100.0))
        if rank >= self.count:
            return self.max_ms
        seen = 0
        for index, n in self.buckets:
            seen += n
            if seen >= rank:
                return min(_bucket_middle(index), self.max_ms)
        return self.max_ms

    def add(self, ms: float) -> TimingStats:
        """Return the stats with one more sample."""
        index = _bucket(ms)
        buckets = self.buckets
        pos = bisect_left(buckets, (index, 0))
        if pos < len(buckets) and buckets[pos][0] == index:
            buckets = (*buckets[:pos], (index, buckets[pos][1] + 1), *buckets[pos + 1 :])
        else:
            buckets = (*buckets[:pos], (index, 1), *buckets[pos:])
        return TimingStats(self.count + 1, self.total_ms + ms, max(self.max_ms, ms), ms, buckets)


_EMPTY: MappingProxyType[str, Any] = MappingProxyType({})


def _empty() -> MappingProxyType[str, Any]:
    return _EMPTY


@dataclass(frozen=True, slots=True)
class RealtimeState:
    """Everything the overlay shows for one job.

    The first fields are the protocol's reducer fields (is_connected, progress, current_frame,
    plugin_timings, plugin_status, warnings, errors); the rest add connection, latency, drop
    counts, job status and bounded history (see ``docs/protocol.md``).
    """

    is_connected: bool = False
    progress: float = 0.0
    current_frame: FrameData | None = None
    plugin_timings: MappingProxyType[str, float] = field(default_factory=_empty)
    plugin_status: MappingProxyType[str, str] = field(default_factory=_empty)
    warnings: tuple[WarningPayload, ...] = ()
    errors: tuple[ErrorPayload, ...] = ()
    job_id: str | None = None
    job_status: str | None = None
    stage: str | None = None
    connection: str = "IDLE"
    latency_ms: float | None = None
    reconnect_attempt: int = 0
    """The reconnect attempt under way or next, while ``connection`` is RECONNECTING."""
    dropped: int = 0
    last_seq: int = 0
    messages_received: int = 0
    frames_received: int = 0
    warnings_count: int = 0
    errors_count: int = 0
    frame_timings: MappingProxyType[str, TimingStats] = field(default_factory=_empty)
    plugin_metadata: MappingProxyType[str, PluginMetadata] = field(default_factory=_empty)
    plugin_frames: MappingProxyType[str, int] = field(default_factory=_empty)
    """Frames each plugin processed, as its last status said (complete even when frame
    messages were dropped or missed while disconnected)."""
    preview_frame_id: str | None = None
    metrics: MappingProxyType[str, MetricSeries] = field(default_factory=_empty)
    """An experiment's metrics by name: latest and best value, downsampled history."""
    metric_points: int = 0
    """Metric points received, over every metric."""
    max_items: int = field(default=MAX_ITEMS, compare=False)

    @property
    def finished(self) -> bool:
        """True once the job reached a terminal status."""
        return self.job_status is not None and is_terminal(self.job_status)


@dataclass(frozen=True, slots=True)
class MessageReceived:
    """A server message arrived (``MESSAGE_RECEIVED``)."""

    message: ServerMessage


@dataclass(frozen=True, slots=True)
class ConnectionChanged:
    """The client's connection state changed (IDLE, CONNECTING, CONNECTED, ...)."""

    connection: str
    latency_ms: float | None = None
    reconnect_attempt: int = 0
    """Which reconnect attempt is next (1 to 5) while RECONNECTING; 0 otherwise."""


@dataclass(frozen=True, slots=True)
class PreviewReceived:
    """A binary JPEG preview arrived for ``frame_id``."""

    frame_id: str


Action = MessageReceived | ConnectionChanged | PreviewReceived


def _with(mapping: MappingProxyType[str, Any], key: str, value: Any) -> MappingProxyType[str, Any]:
    new = dict(mapping)
    new[key] = value
    return MappingProxyType(new)


def _append(items: tuple[Any, ...], item: Any, bound: int) -> tuple[Any, ...]:
    items = (*items, item)
    return items[-bound:] if len(items) > bound else items


def reduce(state: RealtimeState, action: Action) -> RealtimeState:
    """Return the state after ``action``; ``state`` is left as it was.

    Messages with a ``seq`` at or below the last one applied are duplicates (a replay after a
    reconnect) and change nothing. Unknown message types change nothing.
    """
    if isinstance(action, ConnectionChanged):
        latency = action.latency_ms if action.latency_ms is not None else state.latency_ms
        attempt = action.reconnect_attempt if action.connection == "RECONNECTING" else 0
        if (action.connection, latency, attempt) == (
            state.connection,
            state.latency_ms,
            state.reconnect_attempt,
        ):
            return state  # the very same object: callers tell "nothing changed" by identity
        return replace(
            state,
            connection=action.connection,
            is_connected=action.connection == "CONNECTED",
            latency_ms=latency,
            reconnect_attempt=attempt,
        )
    if isinstance(action, PreviewReceived):
        return replace(state, preview_frame_id=action.frame_id)
    return _reduce_message(state, action.message)


def _reduce_message(state: RealtimeState, msg: ServerMessage) -> RealtimeState:
    if isinstance(msg, PingMessage):
        return _on_ping(state, msg)
    if isinstance(msg, ConnectionMessage | SubscribedMessage):
        return state  # connection-level: the client acts on them, the job's state does not
    seq = msg.seq
    if seq is not None and seq <= state.last_seq:
        return state
    common: dict[str, Any] = {
        "messages_received": state.messages_received + 1,
        "last_seq": seq if seq is not None else state.last_seq,
    }
    if msg.job_id is not None and state.job_id is None:
        common["job_id"] = msg.job_id
    handler = _HANDLERS.get(type(msg))
    changes = handler(state, msg) if handler is not None else {}
    return replace(state, **common, **changes)


# One handler per job message type: each returns the fields its message changes (the seq and
# counters common to every job message are set by _reduce_message).
Changes = dict[str, Any]


def _on_ping(state: RealtimeState, msg: PingMessage) -> RealtimeState:
    ping = msg.payload
    latency = ping.latency_ms if ping.latency_ms is not None else state.latency_ms
    if (latency, ping.dropped) == (state.latency_ms, state.dropped):
        return state
    return replace(state, latency_ms=latency, dropped=ping.dropped)


def _on_progress(state: RealtimeState, msg: ProgressMessage) -> Changes:
    p = msg.payload
    return {
        "progress": float(max(state.progress, p.progress)),
        "stage": p.stage if p.stage is not None else state.stage,
    }


def _on_frame(state: RealtimeState, msg: FrameMessage) -> Changes:
    f = msg.payload
    stats = state.frame_timings.get(f.plugin, TimingStats()).add(f.timing_ms)
    return {
        "current_frame": FrameData(f.frame_id, f.plugin, f.data, f.timing_ms, f.frame_index),
        "frames_received": state.frames_received + 1,
        "frame_timings": _with(state.frame_timings, f.plugin, stats),
    }


def _on_plugin_status(state: RealtimeState, msg: PluginStatusMessage) -> Changes:
    s = msg.payload
    changes: Changes = {"plugin_status": _with(state.plugin_status, s.plugin, s.status)}
    if s.timing_ms is not None:
        changes["plugin_timings"] = _with(state.plugin_timings, s.plugin, s.timing_ms)
    if s.frames_processed is not None:
        changes["plugin_frames"] = _with(state.plugin_frames, s.plugin, s.frames_processed)
    return changes


def _on_warning(state: RealtimeState, msg: WarningMessage) -> Changes:
    return {
        "warnings": _append(state.warnings, msg.payload, state.max_items),
        "warnings_count": state.warnings_count + 1,
    }


def _on_error(state: RealtimeState, msg: ErrorMessage) -> Changes:
    return {
        "errors": _append(state.errors, msg.payload, state.max_items),
        "errors_count": state.errors_count + 1,
    }


def _on_metadata(state: RealtimeState, msg: MetadataMessage) -> Changes:
    m = msg.payload
    return {"plugin_metadata": _with(state.plugin_metadata, m.plugin, m.metadata)}


def _on_metric(state: RealtimeState, msg: MetricMessage) -> Changes:
    by_name: dict[str, list[tuple[int, float | None]]] = {}
    for point in msg.payload.points:
        by_name.setdefault(point.name, []).append((point.step, point.value))
    metrics = dict(state.metrics)
    for name, points in by_name.items():
        metrics[name] = metrics.get(name, MetricSeries(name)).add(points)
    return {
        "metrics": MappingProxyType(metrics),
        "metric_points": state.metric_points + len(msg.payload.points),
    }


def _on_job(state: RealtimeState, msg: JobMessage) -> Changes:
    job = msg.payload
    status = job.status
    changes: Changes = {"job_status": status}
    if status == "completed":
        total, done = job.frames_total, job.frames_done
        if total and done is not None and done < total:
            # The video decoded fewer frames than it announced: progress says how far it got.
            changes.update(
                progress=max(state.progress, float(done * 100 // total)),
                stage=f"Completed: {done} of {total} frames decoded",
            )
        else:
            changes.update(progress=100.0, stage="Completed")
    elif is_terminal(status):
        changes["stage"] = status.capitalize()
        # Plugins that had not finished stop with the job: the inspector must not say running.
        stopped = {
            name: status
            for name, plugin_state in state.plugin_status.items()
            if plugin_state in ("started", "running")
        }
        if stopped:
            changes["plugin_status"] = MappingProxyType({**state.plugin_status, **stopped})
    return changes


_HANDLERS: dict[type, Callable[[RealtimeState, Any], Changes]] = {
    ProgressMessage: _on_progress,
    FrameMessage: _on_frame,
    PluginStatusMessage: _on_plugin_status,
    WarningMessage: _on_warning,
    ErrorMessage: _on_error,
    MetadataMessage: _on_metadata,
    JobMessage: _on_job,
    MetricMessage: _on_metric,
}


def reduce_all(state: RealtimeState, messages: list[ServerMessage]) -> RealtimeState:
    """Apply :class:`MessageReceived` for each message in order."""
    for msg in messages:
        state = _reduce_message(state, msg)
    return state
