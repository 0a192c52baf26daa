"""The client's connection lifecycle as a pure state machine.

States: IDLE → CONNECTING → CONNECTED → DISCONNECTED → RECONNECTING → CLOSED. The machine does no
I/O and never sleeps: each method returns what the caller must do next (connect with a timeout, wait
a delay, or stop), and records the events a UI wants (``connectionChange``, ``reconnecting`` with
attempt and delay, ``error``). :class:`~realtime_nb.notebook.client.RealtimeClient` is the thin I/O
glue around it; tests drive it with a seeded random source and no sockets.

Example:
    >>> m = ConnectionMachine(rng=random.Random(0))
    >>> m.start()
    Connect(timeout=10.0)
    >>> m.connect_failed("refused")
    Wait(attempt=1, delay=1.0...)
"""

from __future__ import annotations

import enum
import random
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "Action",
    "Connect",
    "ConnectionMachine",
    "ConnectionState",
    "ReconnectPolicy",
    "Stop",
    "Wait",
]


class ConnectionState(enum.StrEnum):
    """Where the connection is."""

    IDLE = "IDLE"
    CONNECTING = "CONNECTING"
    CONNECTED = "CONNECTED"
    DISCONNECTED = "DISCONNECTED"
    RECONNECTING = "RECONNECTING"
    CLOSED = "CLOSED"


@dataclass(frozen=True)
class ReconnectPolicy:
    """Backoff before each reconnect attempt; CLOSED once they are all used up in a row.

    Attributes:
        delays: Seconds to wait before attempt 1, 2, ....
        jitter: Each delay is spread by up to ± this fraction.
        connect_timeout: Seconds each handshake may take.
    """

    delays: tuple[float, ...] = (1.0, 2.0, 4.0, 8.0, 16.0)
    jitter: float = 0.1
    connect_timeout: float = 10.0

    @property
    def max_attempts(self) -> int:
        """Reconnect attempts in a row before giving up."""
        return len(self.delays)


@dataclass(frozen=True)
class Connect:
    """Open the connection now, giving up after ``timeout`` seconds."""

    timeout: float


@dataclass(frozen=True)
class Wait:
    """Wait ``delay`` seconds, then call :meth:`ConnectionMachine.attempt`."""

    attempt: int
    delay: float


@dataclass(frozen=True)
class Stop:
    """Do nothing more until :meth:`ConnectionMachine.retry` (CLOSED) or for good."""


Action = Connect | Wait | Stop


@dataclass
class ConnectionMachine:
    """The lifecycle of one client connection.

    Args:
        policy: Backoff and timeout.
        rng: Source of jitter (inject a seeded one in tests).
    """

    policy: ReconnectPolicy = field(default_factory=ReconnectPolicy)
    rng: random.Random = field(default_factory=random.Random)
    state: ConnectionState = ConnectionState.IDLE
    failures: int = 0
    """Failed reconnect attempts in a row (reset by a success)."""
    events: list[tuple[str, Any]] = field(default_factory=list)
    """``(name, data)`` for every event since the caller last cleared the list."""
    closed_for_good: bool = False

    def _go(self, state: ConnectionState) -> None:
        if state is not self.state:
            self.state = state
            self.events.append(("connectionChange", state))

    def start(self) -> Action:
        """First connection: IDLE → CONNECTING."""
        self._go(ConnectionState.CONNECTING)
        return Connect(self.policy.connect_timeout)

    def connected(self) -> None:
        """The handshake succeeded (and the server's metadata arrived)."""
        self.failures = 0
        self._go(ConnectionState.CONNECTED)

    def connect_failed(self, error: object) -> Action:
        """A connect attempt failed: wait and try again, or give up (CLOSED)."""
        self.events.append(("error", error))
        if self.closed_for_good:
            return self._close()
        if self.state is ConnectionState.RECONNECTING:
            self.failures += 1  # a first connect that fails is not yet a reconnect attempt
        return self._backoff()

    def lost(self, error: object = "connection lost") -> Action:
        """An open connection dropped: CONNECTED → DISCONNECTED → RECONNECTING."""
        if self.closed_for_good:
            return self._close()
        self.events.append(("error", error))
        self._go(ConnectionState.DISCONNECTED)
        self.failures = 0
        return self._backoff()

    def _backoff(self) -> Action:
        if self.failures >= self.policy.max_attempts:
            return self._close()
        attempt = self.failures + 1
        base = self.policy.delays[self.failures]
        delay = base * (1 + self.rng.uniform(-self.policy.jitter, self.policy.jitter))
        self._go(ConnectionState.RECONNECTING)
        self.events.append(("reconnecting", {"attempt": attempt, "delay": delay}))
        return Wait(attempt, delay)

    def attempt(self) -> Action:
        """The wait is over: try to connect (still RECONNECTING)."""
        if self.closed_for_good or self.state is ConnectionState.CLOSED:
            return Stop()
        return Connect(self.policy.connect_timeout)

    def _close(self) -> Stop:
        self._go(ConnectionState.CLOSED)
        return Stop()

    def retry(self) -> Action:
        """The user asked to try again after CLOSED (the Retry button)."""
        if self.closed_for_good or self.state is not ConnectionState.CLOSED:
            return Stop()
        self.failures = 0
        self._go(ConnectionState.CONNECTING)
        return Connect(self.policy.connect_timeout)

    def close(self) -> Stop:
        """The user closed the client: CLOSED, and no retry."""
        self.closed_for_good = True
        return self._close()
