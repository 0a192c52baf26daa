"""Delivery policy, pure: the per-connection :class:`Outbox` and the per-job :class:`ReplayLog`.

No sockets and no event loop here: the hub pushes :class:`Outgoing` items and its writer task
pops them. The rules (``docs/protocol.md``, delivery):

- a producer never waits: :meth:`Outbox.push` always returns at once;
- when the outbox is full, drop frame previews first, then frame messages (oldest first), and
  coalesce progress to the latest per job; never drop anything else. The outbox may exceed its
  capacity only by those protected messages, and :attr:`Outbox.overflowing` tells the hub when a
  connection cannot keep up even with them;
- previews are "latest wins" per job at all times;
- what is kept leaves in the order it arrived.
"""

from __future__ import annotations

import heapq
from collections import deque
from dataclasses import dataclass, field

from realtime_nb.core.protocol import Priority

__all__ = ["Outbox", "Outgoing", "ReplayLog"]


@dataclass(frozen=True, slots=True)
class Outgoing:
    """An encoded message ready to send.

    Attributes:
        data: The bytes to write (JSON text, or a binary preview frame).
        priority: How droppable it is.
        job_id: The job it belongs to, or None for connection-level messages.
        seq: Its per-job sequence number, or None (previews, ping, connection).
        message_type: The wire ``type`` (``"preview"`` for binary previews).
    """

    data: bytes
    priority: Priority
    job_id: str | None = None
    seq: int | None = None
    message_type: str = ""

    @property
    def binary(self) -> bool:
        """True for binary WebSocket frames (previews)."""
        return self.priority is Priority.PREVIEW


@dataclass(slots=True)
class _Entry:
    order: int
    item: Outgoing
    alive: bool = True


@dataclass
class Outbox:
    """A bounded priority queue of outgoing messages for one connection.

    Args:
        capacity: Size at which droppable messages start to be shed.
        hard_limit: Size of protected backlog at which the connection should be closed.
    """

    capacity: int = 1000
    hard_limit: int = 20_000
    dropped: int = 0
    dropped_by_type: dict[str, int] = field(default_factory=dict)
    _entries: deque[_Entry] = field(default_factory=deque)
    _by_priority: dict[Priority, deque[_Entry]] = field(default_factory=dict)
    _latest_preview: dict[str | None, _Entry] = field(default_factory=dict)
    _latest_progress: dict[str | None, _Entry] = field(default_factory=dict)
    _size: int = 0
    _order: int = 0

    def __len__(self) -> int:
        return self._size

    @property
    def overflowing(self) -> bool:
        """True when even protected messages exceed the hard limit: close the connection."""
        return self._size > self.hard_limit

    def push(self, item: Outgoing) -> None:
        """Queue ``item``, shedding droppable messages if the outbox is full. Never blocks."""
        if item.priority is Priority.PREVIEW:
            old = self._latest_preview.get(item.job_id)
            if old is not None and old.alive:
                self._kill(old, count=False)
        if self._size >= self.capacity and not self._make_room(item):
            self._count_drop(item)
            return
        self._order += 1
        entry = _Entry(self._order, item)
        self._entries.append(entry)
        self._by_priority.setdefault(item.priority, deque()).append(entry)
        self._size += 1
        if item.priority is Priority.PREVIEW:
            self._latest_preview[item.job_id] = entry
        elif item.priority is Priority.PROGRESS:
            self._latest_progress[item.job_id] = entry

    def _make_room(self, incoming: Outgoing) -> bool:
        """Drop one queued message to make room for ``incoming``; False to drop ``incoming``."""
        if incoming.priority is Priority.PROGRESS:
            old = self._latest_progress.get(incoming.job_id)
            if old is not None and old.alive:
                self._kill(old, count=True)
                return True
        for victim_priority in (Priority.PREVIEW, Priority.FRAME):
            if victim_priority > incoming.priority:
                break
            victim = self._oldest(victim_priority)
            if victim is not None:
                self._kill(victim, count=True)
                return True
        # Nothing droppable is queued. Progress (the latest per job) and protected messages go
        # in anyway, and the hub watches ``overflowing``; previews and frames are shed.
        return incoming.priority >= Priority.PROGRESS

    def _oldest(self, priority: Priority) -> _Entry | None:
        queue = self._by_priority.get(priority)
        while queue:
            if queue[0].alive:
                return queue[0]
            queue.popleft()
        return None

    def _kill(self, entry: _Entry, *, count: bool) -> None:
        entry.alive = False
        self._size -= 1
        if count:
            self._count_drop(entry.item)
        if len(self._entries) > 2 * self._size + self.capacity:
            self._compact()

    def _compact(self) -> None:
        """Forget dead entries, so a stalled connection costs O(capacity) memory, not O(pushes)."""
        self._entries = deque(e for e in self._entries if e.alive)
        for priority, queue in self._by_priority.items():
            self._by_priority[priority] = deque(e for e in queue if e.alive)

    def _count_drop(self, item: Outgoing) -> None:
        self.dropped += 1
        key = item.message_type or item.priority.name.lower()
        self.dropped_by_type[key] = self.dropped_by_type.get(key, 0) + 1

    def pop(self) -> Outgoing | None:
        """Return the oldest kept message, or None when empty."""
        while self._entries:
            entry = self._entries.popleft()
            if not entry.alive:
                continue
            entry.alive = False
            self._size -= 1
            queue = self._by_priority[entry.item.priority]
            while queue and not queue[0].alive:
                queue.popleft()
            return entry.item
        return None

    def drain(self, limit: int) -> list[Outgoing]:
        """Pop up to ``limit`` messages at once."""
        out: list[Outgoing] = []
        while len(out) < limit:
            item = self.pop()
            if item is None:
                break
            out.append(item)
        return out


@dataclass
class ReplayLog:
    """Everything a reconnecting client may ask for again, for one job.

    Keeps every message that is neither a frame nor a metric message, plus the last
    ``frame_tail`` frame messages and the last ``metric_tail`` metric messages (an experiment
    logs millions of points: the store keeps them all, the log only the newest batches).
    :meth:`since` answers a resume request.
    """

    frame_tail: int = 2000
    metric_tail: int = 200
    base_seq: int = 0
    """Seqs up to this one were never in this log (a job resumed by a restarted server)."""
    last_seq: int = 0
    _protected: list[Outgoing] = field(default_factory=list)
    _frames: deque[Outgoing] = field(default_factory=deque)
    _metrics: deque[Outgoing] = field(default_factory=deque)
    _evicted_upto: int = 0

    def __post_init__(self) -> None:
        self._evicted_upto = self.last_seq = self.base_seq

    def append(self, item: Outgoing) -> None:
        """Record a message with a seq (messages without one are not replayable)."""
        if item.seq is None:
            return
        self.last_seq = max(self.last_seq, item.seq)
        if item.priority is Priority.FRAME:
            self._keep(self._frames, item, self.frame_tail)
        elif item.message_type == "metric":
            self._keep(self._metrics, item, self.metric_tail)
        else:
            self._protected.append(item)

    def _keep(self, tail: deque[Outgoing], item: Outgoing, bound: int) -> None:
        tail.append(item)
        if len(tail) > bound:
            evicted = tail.popleft()
            self._evicted_upto = max(self._evicted_upto, evicted.seq or 0)

    def since(self, seq: int) -> tuple[list[Outgoing], bool]:
        """Messages after ``seq`` in order, and whether that is all of them.

        Returns:
            ``(items, recovered)``: ``recovered`` is False when frame or metric messages after
            ``seq`` were already evicted (the client must reload the job through REST).
        """
        recovered = seq >= self._evicted_upto
        merged = heapq.merge(self._protected, self._frames, self._metrics, key=_seq_of)
        items = [m for m in merged if (m.seq or 0) > seq]
        return items, recovered


def _seq_of(item: Outgoing) -> int:
    return item.seq or 0
