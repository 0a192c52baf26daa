"""JobStore: jobs and per-frame results in SQLite (stdlib, WAL), one batched writer thread.

Writes are queued and committed by a single writer thread in batches, so neither the event loop
nor a job's worker thread waits on disk. Reads open their own short-lived connection (WAL lets
them run beside the writer). :meth:`JobStore.flush` waits until everything queued so far is
committed; the job manager calls it before announcing that a job ended, so a client that sees
``completed`` and asks for results gets all of them.
"""

from __future__ import annotations

import logging
import queue
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import msgspec

from realtime_nb.protocol import JobRecord

__all__ = ["JobStore", "ResultRow"]

log = logging.getLogger(__name__)

ResultRow = tuple[str, int, str, str, float, bytes]
"""(job_id, frame_index, plugin, frame_id, timing_ms, data as JSON bytes)."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    job_id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL,
    record BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_created ON jobs(created_at);
CREATE TABLE IF NOT EXISTS results (
    job_id TEXT NOT NULL,
    frame_index INTEGER NOT NULL,
    plugin TEXT NOT NULL,
    frame_id TEXT NOT NULL,
    timing_ms REAL NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (job_id, frame_index, plugin)
) WITHOUT ROWID;
"""

_record_decoder = msgspec.json.Decoder(JobRecord)
_STOP = object()


class JobStore:
    """SQLite persistence of jobs and results.

    Args:
        path: The database file; its folder is created if needed.
        batch_size: Most operations committed in one transaction.
    """

    def __init__(self, path: Path, batch_size: int = 500) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.batch_size = batch_size
        with self._connect() as conn:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(_SCHEMA)
        self._queue: queue.Queue[Any] = queue.Queue()
        self._writer = threading.Thread(
            target=self._write_loop, name="realtime-nb-store", daemon=True
        )
        self._writer.start()

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
        conn.execute("PRAGMA synchronous=NORMAL")
        return conn

    @contextmanager
    def _reader(self) -> Iterator[sqlite3.Connection]:
        conn = self._connect()
        try:
            yield conn
        finally:
            conn.close()

    # --- writes (queued) ------------------------------------------------------------------

    def save_job(self, record: JobRecord) -> None:
        """Queue an insert-or-replace of a job record."""
        self._queue.put(
            ("job", record.job_id, record.status, record.created_at, msgspec.json.encode(record))
        )

    def save_results(self, rows: Sequence[ResultRow]) -> None:
        """Queue per-frame results."""
        if rows:
            self._queue.put(("results", rows))

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until every write queued before this call is committed. False on timeout."""
        done = threading.Event()
        self._queue.put(("flush", done))
        return done.wait(timeout)

    def close(self) -> None:
        """Commit what is queued and stop the writer thread."""
        if self._writer.is_alive():
            self._queue.put(_STOP)
            self._writer.join(timeout=30)

    def _write_loop(self) -> None:
        conn = self._connect()
        try:
            while True:
                ops = [self._queue.get()]
                while len(ops) < self.batch_size:
                    try:
                        ops.append(self._queue.get_nowait())
                    except queue.Empty:
                        break
                stop = self._apply(conn, ops)
                if stop:
                    return
        finally:
            conn.close()

    def _apply(self, conn: sqlite3.Connection, ops: list[Any]) -> bool:
        stop = False
        flushed: list[threading.Event] = []
        try:
            with conn:
                for op in ops:
                    if op is _STOP:
                        stop = True
                    elif op[0] == "job":
                        conn.execute(
                            "INSERT OR REPLACE INTO jobs(job_id, status, created_at, record) "
                            "VALUES (?, ?, ?, ?)",
                            op[1:],
                        )
                    elif op[0] == "results":
                        conn.executemany(
                            "INSERT OR REPLACE INTO results VALUES (?, ?, ?, ?, ?, ?)", op[1]
                        )
                    elif op[0] == "flush":
                        flushed.append(op[1])
        except sqlite3.Error:
            log.exception("store write failed; %d operations lost", len(ops))
        for event in flushed:
            event.set()
        return stop

    # --- reads -----------------------------------------------------------------------------

    def get_job(self, job_id: str) -> JobRecord | None:
        """The stored record of a job, or None."""
        with self._reader() as conn:
            row = conn.execute("SELECT record FROM jobs WHERE job_id = ?", (job_id,)).fetchone()
        return _record_decoder.decode(row[0]) if row else None

    def list_jobs(self, limit: int = 100) -> list[JobRecord]:
        """The newest ``limit`` jobs, newest first."""
        with self._reader() as conn:
            rows = conn.execute(
                "SELECT record FROM jobs ORDER BY created_at DESC LIMIT ?", (limit,)
            ).fetchall()
        return [_record_decoder.decode(r[0]) for r in rows]

    def results(self, job_id: str, plugin: str | None = None) -> list[dict[str, Any]]:
        """Per-frame, per-plugin results of a job, in frame then pipeline order."""
        sql = "SELECT frame_index, plugin, frame_id, timing_ms, data FROM results WHERE job_id = ?"
        args: tuple[Any, ...] = (job_id,)
        if plugin is not None:
            sql += " AND plugin = ?"
            args += (plugin,)
        with self._reader() as conn:
            rows = conn.execute(sql + " ORDER BY frame_index", args).fetchall()
        return [
            {
                "frame_id": frame_id,
                "frame_index": index,
                "plugin": name,
                "timing_ms": timing,
                "data": msgspec.json.decode(data),
            }
            for index, name, frame_id, timing, data in rows
        ]

    def mark_interrupted(self) -> list[str]:
        """Mark jobs left queued or running by a previous server as ``interrupted``.

        Returns:
            The ids of the jobs so marked.
        """
        with self._reader() as conn:
            rows = conn.execute(
                "SELECT record FROM jobs WHERE status IN ('queued', 'running')"
            ).fetchall()
        ids = []
        for (blob,) in rows:
            record = msgspec.structs.replace(_record_decoder.decode(blob), status="interrupted")
            self.save_job(record)
            ids.append(record.job_id)
        self.flush()
        return ids
