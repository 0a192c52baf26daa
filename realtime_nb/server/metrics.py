"""MetricStore: experiments' metric points and producer credentials, in the job store's SQLite.

The tables live in the same database as jobs and events and are written by the same single
writer thread (:meth:`JobStore.save_rows`), so a batch's metric points, its events and the
producer's "last batch applied" mark are committed in the order they were queued.

A producer token is never stored: only its SHA-256, compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from typing import Any

from realtime_nb.core.protocol import MetricPoint
from realtime_nb.server.store import JobStore

__all__ = ["MetricRow", "MetricStore"]

_TABLES = """
CREATE TABLE IF NOT EXISTS metrics (
    job_id TEXT NOT NULL,
    batch INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    name TEXT NOT NULL,
    step INTEGER NOT NULL,
    value REAL,
    wall_time REAL NOT NULL,
    PRIMARY KEY (job_id, batch, idx)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS metrics_by_name ON metrics(job_id, name, batch, idx);
CREATE TABLE IF NOT EXISTS producers (
    job_id TEXT PRIMARY KEY,
    token_sha256 TEXT NOT NULL,
    last_batch INTEGER NOT NULL
);
"""

MetricRow = tuple[str, int, int, str, int, float | None, float]
"""(job_id, batch, index in the batch, name, step, value, wall_time)."""

_INSERT_METRICS = "INSERT OR IGNORE INTO metrics VALUES (?, ?, ?, ?, ?, ?, ?)"
_UPSERT_PRODUCER = "INSERT OR REPLACE INTO producers VALUES (?, ?, ?)"
_SET_LAST_BATCH = "UPDATE producers SET last_batch = ? WHERE job_id = ? AND last_batch < ?"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class MetricStore:
    """Metric points and producer tokens of experiments.

    Args:
        store: The job store whose database and writer thread this uses.
    """

    def __init__(self, store: JobStore) -> None:
        self.store = store
        store.add_tables(_TABLES)

    # --- writes (queued on the store's writer) ------------------------------------------------

    def save_producer(self, job_id: str, token: str) -> None:
        """Queue a new producer credential for ``job_id`` (no batch applied yet)."""
        self.store.save_rows(job_id, _UPSERT_PRODUCER, [(job_id, _digest(token), 0)])

    def save_batch(
        self, job_id: str, batch: int, points: Sequence[MetricPoint], start_index: int = 0
    ) -> None:
        """Queue a batch's metric points and mark the batch applied (in that order)."""
        rows: list[MetricRow] = [
            (job_id, batch, start_index + i, p.name, p.step, p.value, p.wall_time)
            for i, p in enumerate(points)
        ]
        self.store.save_rows(job_id, _INSERT_METRICS, rows)
        self.store.save_rows(job_id, _SET_LAST_BATCH, [(batch, job_id, batch)])

    # --- reads ----------------------------------------------------------------------------

    def producer_ok(self, job_id: str, token: str) -> bool:
        """True when ``token`` is the producer token of ``job_id``."""
        rows = self.store.query("SELECT token_sha256 FROM producers WHERE job_id = ?", (job_id,))
        return bool(rows) and hmac.compare_digest(str(rows[0][0]), _digest(token))

    def last_batch(self, job_id: str) -> int:
        """The last batch applied for ``job_id`` (0 if none)."""
        rows = self.store.query("SELECT last_batch FROM producers WHERE job_id = ?", (job_id,))
        return int(rows[0][0]) if rows else 0

    def metrics(
        self, job_id: str, name: str | None = None
    ) -> dict[str, list[tuple[int, float | None, float]]]:
        """Every stored point of a job, ``{name: [(step, value, wall_time), ...]}``, each list
        in the order the producer logged it."""
        sql = "SELECT name, step, value, wall_time FROM metrics WHERE job_id = ?"
        args: tuple[Any, ...] = (job_id,)
        if name is not None:
            sql += " AND name = ?"
            args += (name,)
        out: dict[str, list[tuple[int, float | None, float]]] = {}
        for metric, step, value, wall_time in self.store.query(sql + " ORDER BY batch, idx", args):
            out.setdefault(metric, []).append((step, value, wall_time))
        return out

    def summary(self, job_id: str) -> dict[str, dict[str, Any]]:
        """Per metric: ``count``, ``min``, ``max`` and the last point's ``step`` and ``value``."""
        rows = self.store.query(
            "SELECT name, COUNT(*), MIN(value), MAX(value), MAX(batch * 1000000 + idx) "
            "FROM metrics WHERE job_id = ? GROUP BY name",
            (job_id,),
        )
        out: dict[str, dict[str, Any]] = {}
        for name, count, low, high, last in rows:
            step, value = self.store.query(
                "SELECT step, value FROM metrics WHERE job_id = ? AND batch = ? AND idx = ?",
                (job_id, last // 1_000_000, last % 1_000_000),
            )[0]
            out[name] = {"count": count, "min": low, "max": high, "step": step, "value": value}
        return out
