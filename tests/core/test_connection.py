"""Tests of realtime_nb.core.connection: the lifecycle state machine, no sockets, no sleeping."""

from __future__ import annotations

import random

import pytest

from realtime_nb.core.connection import (
    Connect,
    ConnectionMachine,
    ConnectionState,
    ReconnectPolicy,
    Stop,
    Wait,
)

S = ConnectionState


def machine(jitter: float = 0.1) -> ConnectionMachine:
    return ConnectionMachine(ReconnectPolicy(jitter=jitter), random.Random(1))


def states(m: ConnectionMachine) -> list[str]:
    return [str(data) for name, data in m.events if name == "connectionChange"]


def test_seed_lifecycle_connect_lose_fail_twice_then_succeed() -> None:
    m = machine(jitter=0)
    assert m.start() == Connect(10.0)
    m.connected()
    assert m.lost() == Wait(1, 1.0)
    assert m.attempt() == Connect(10.0)
    assert m.connect_failed("server still restarting") == Wait(2, 2.0)
    assert m.attempt() == Connect(10.0)
    assert m.connect_failed("network down") == Wait(3, 4.0)
    m.connected()
    assert m.state is S.CONNECTED and m.failures == 0
    assert states(m) == ["CONNECTING", "CONNECTED", "DISCONNECTED", "RECONNECTING", "CONNECTED"]
    reconnecting = [d for n, d in m.events if n == "reconnecting"]
    assert [r["attempt"] for r in reconnecting] == [1, 2, 3]
    assert sum(1 for n, _ in m.events if n == "error") == 3


def test_closed_after_five_failed_attempts_with_doubling_backoff() -> None:
    m = machine(jitter=0)
    m.start()
    m.connected()
    delays = []
    action = m.lost()
    while isinstance(action, Wait):
        delays.append(action.delay)
        assert m.attempt() == Connect(10.0)
        action = m.connect_failed("refused")
    assert delays == [1.0, 2.0, 4.0, 8.0, 16.0]
    assert action == Stop() and m.state is S.CLOSED
    assert m.attempt() == Stop()


def test_counter_resets_on_success() -> None:
    m = machine(jitter=0)
    m.start()
    m.connected()
    m.lost()
    for _ in range(4):
        m.attempt()
        m.connect_failed("x")
    m.attempt()
    m.connected()
    action = m.lost()
    assert action == Wait(1, 1.0)  # a fresh series, not the sixth attempt


@pytest.mark.parametrize("seed", range(20))
def test_jitter_stays_within_ten_percent(seed: int) -> None:
    m = ConnectionMachine(ReconnectPolicy(), random.Random(seed))
    m.start()
    m.connected()
    action = m.lost()
    while isinstance(action, Wait):
        base = ReconnectPolicy().delays[action.attempt - 1]
        assert base * 0.9 <= action.delay <= base * 1.1
        m.attempt()
        action = m.connect_failed("x")


def test_first_connect_failure_starts_backoff_and_retry_after_closed() -> None:
    m = machine(jitter=0)
    m.start()
    assert m.connect_failed("refused") == Wait(1, 1.0)
    for _ in range(5):
        m.attempt()
        m.connect_failed("refused")
    assert m.state is S.CLOSED
    assert m.retry() == Connect(10.0) and m.state is S.CONNECTING and m.failures == 0
    m.connected()
    assert m.state is S.CONNECTED


def test_close_is_final() -> None:
    m = machine()
    m.start()
    m.connected()
    assert m.close() == Stop() and m.state is S.CLOSED
    assert m.retry() == Stop()
    assert m.lost() == Stop()
