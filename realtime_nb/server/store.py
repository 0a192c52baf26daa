"""JobStore: jobs and per-frame results in SQLite (stdlib, WAL), one batched writer thread.

Writes are queued and committed by a single writer thread in batches, so neither the event loop
nor a job's supervising thread waits on disk. Reads open their own short-lived connection (WAL lets
them run beside the writer). :meth:`JobStore.flush` waits until everything queued so far is
committed; the job manager calls it before announcing that a job ended, so a client that sees
``completed`` and asks for results gets all of them.

Storage faults (a full disk, a read-only data dir, an I/O error):

- a job record (its status) that cannot be written is kept and retried with backoff until it
  is stored, never dropped while the process lives; only its latest version is kept, so memory
  stays bounded by the number of jobs;
- results and messages that cannot be written are recorded per job (:meth:`JobStore.write_failure`)
  and fail that job, never silently;
- :meth:`JobStore.save_job_now` writes a new job's record and says whether it was stored, so a
  job that cannot be stored is refused at submit;
- a store that cannot be written at start (full disk, read-only folder) opens read-only and says
  why (:attr:`JobStore.read_only_reason`): stored jobs are still served.
"""

from __future__ import annotations

import itertools
import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Generator, Iterator, Sequence
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

import msgspec

from realtime_nb.core.protocol import JobRecord, decode_job_record

__all__ = ["EventRow", "JobStore", "ResultRow", "StoreUnavailable"]

log = logging.getLogger(__name__)

ResultRow = tuple[str, int, str, str, float, bytes, int]
"""(job_id, frame_index, plugin, frame_id, timing_ms, data as JSON bytes, seq)."""
EventRow = tuple[str, int, str, bytes]
"""(job_id, seq, type, the whole message as JSON bytes): every message but frame messages."""

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
    seq INTEGER NOT NULL,
    PRIMARY KEY (job_id, frame_index, plugin)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS events (
    job_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    type TEXT NOT NULL,
    message BLOB NOT NULL,
    PRIMARY KEY (job_id, seq)
) WITHOUT ROWID;
"""

SCHEMA_VERSION = 2
"""1: jobs + results; 2: results.seq and the events table (replay after restart)."""


RETRY_FIRST_S = 0.05
"""First wait before a job record that could not be written is tried again (doubling)."""
RETRY_MAX_S = 5.0
"""Longest wait between two tries of a job record that could not be written."""


class StoreUnavailable(RuntimeError):
    """The store can be neither opened nor created (e.g. no database in a read-only folder)."""


def _migrate(conn: sqlite3.Connection) -> None:
    """Bring a store written by an older version up to :data:`SCHEMA_VERSION`, in place.

    A store already at this version is left untouched (no write at all), so a full disk or a
    read-only folder does not stop a server from opening it.
    """
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if version > SCHEMA_VERSION:
        raise RuntimeError(
            f"{conn} was written by a newer realtime_nb (store schema {version}); upgrade"
        )
    if version == SCHEMA_VERSION and {"jobs", "results", "events"} <= tables:
        return
    if "results" in tables:
        columns = {r[1] for r in conn.execute("PRAGMA table_info(results)")}
        if "seq" not in columns:
            conn.execute("ALTER TABLE results ADD COLUMN seq INTEGER NOT NULL DEFAULT 0")
    conn.executescript(_SCHEMA)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


_STOP = object()


class JobStore:
    """SQLite persistence of jobs and results.

    Args:
        path: The database file; its folder is created if needed.
        batch_size: Most operations committed in one transaction.
        max_pending: Queued operations (each a batch of rows) before writers wait.
        max_bytes: Largest size the database may grow to, or None for no limit; past it writes
            fail as they would on a full disk.

    Raises:
        StoreUnavailable: There is no database and none can be created.
    """

    def __init__(
        self,
        path: Path,
        batch_size: int = 500,
        max_pending: int = 256,
        max_bytes: int | None = None,
    ) -> None:
        self.path = Path(path)
        self.batch_size = batch_size
        self.max_bytes = max_bytes
        self.read_only_reason: str | None = None
        self._failures: dict[str, str] = {}
        self._failure_lock = threading.Lock()
        # job_id -> the latest record that could not be written yet (retried by the writer).
        self._unsaved_jobs: dict[str, tuple[Any, ...]] = {}
        self._read_uri: str | None = None
        self._open()
        # Bounded: a job that outruns SQLite waits for its own storage (never for a client),
        # so memory stays flat however fast plugins emit.
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=max_pending)
        self._writer = threading.Thread(
            target=self._write_loop, name="realtime-nb-store", daemon=True
        )
        self._writer.start()

    def _open(self) -> None:
        """Create or migrate the database; fall back to read-only when it cannot be written."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with closing(self._connect()) as conn, conn:
                if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                    conn.execute("PRAGMA journal_mode=WAL")
                _migrate(conn)
                # Can it be written at all? A change rolled back never reaches the disk: a full
                # disk passes here and shows at the first real write instead.
                conn.isolation_level = None
                conn.execute("BEGIN IMMEDIATE")
                try:
                    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                finally:
                    conn.execute("ROLLBACK")
        except (OSError, sqlite3.OperationalError) as exc:
            if not self.path.is_file():
                raise StoreUnavailable(
                    f"cannot create the store {self.path}: {exc} (choose another --data-dir)"
                ) from exc
            self.read_only_reason = f"the store {self.path} cannot be written: {exc}"
            log.error(
                "%s; serving stored jobs read-only, new jobs are refused", self.read_only_reason
            )
            self._read_uri = self._readable_uri()

    def _readable_uri(self) -> str:
        """How to read a store that cannot be written: read-only, else immutable (a WAL store
        in a read-only folder cannot make its shared-memory file; immutable needs none, but
        does not see what a crashed writer left in the WAL file)."""
        plain = f"file:{self.path}?mode=ro"
        try:
            with closing(sqlite3.connect(plain, uri=True)) as conn:
                conn.execute("SELECT COUNT(*) FROM jobs").fetchone()
            return plain
        except sqlite3.Error:
            log.warning("reading %s as immutable: later changes to it are not seen", self.path)
            return plain + "&immutable=1"

    def _connect(self, read: bool = False) -> sqlite3.Connection:
        if read and self._read_uri is not None:
            return sqlite3.connect(self._read_uri, uri=True, check_same_thread=False)
        conn = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
        conn.execute("PRAGMA synchronous=NORMAL")
        if self.max_bytes is not None:
            page_size = conn.execute("PRAGMA page_size").fetchone()[0]
            conn.execute(f"PRAGMA max_page_count = {max(1, self.max_bytes // page_size)}")
        return conn

    @contextmanager
    def _reader(self) -> Iterator[sqlite3.Connection]:
        conn = self._connect(read=True)
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

    def save_events(self, rows: Sequence[EventRow]) -> None:
        """Queue messages for the replay log."""
        if rows:
            self._queue.put(("events", rows))

    def save_job_now(self, record: JobRecord, timeout: float = 30.0) -> str | None:
        """Write a job record and wait until it is committed.

        Returns:
            None when stored, else why not (the record is not retried: the caller refuses the
            job instead).
        """
        if self.read_only_reason is not None:
            return self.read_only_reason
        done = threading.Event()
        outcome: list[str] = []
        blob = msgspec.json.encode(record)
        self._queue.put(
            ("job_now", record.job_id, record.status, record.created_at, blob, done, outcome)
        )
        if not done.wait(timeout):
            return f"the store did not answer within {timeout:g} s"
        return outcome[0] if outcome else None

    def unsaved_jobs(self) -> int:
        """How many job records wait to be written again (after a storage fault)."""
        return len(self._unsaved_jobs)

    def is_unsaved(self, job_id: str) -> bool:
        """Whether the job's latest record still waits to be written (after a storage fault)."""
        return job_id in self._unsaved_jobs

    def save_rows(self, job_id: str, sql: str, rows: Sequence[tuple[Any, ...]]) -> None:
        """Queue ``executemany(sql, rows)`` for a table another module owns (see
        :meth:`add_tables`); committed in order with every other write of the store."""
        if rows:
            self._queue.put(("sql", job_id, sql, rows))

    def add_tables(self, ddl: str) -> None:
        """Create tables (and indexes) another module owns, if they do not exist yet."""
        if self.read_only_reason is not None:
            return  # a read-only store serves what it has; the tables exist or stay absent
        with closing(self._connect()) as conn, conn:
            conn.executescript(ddl)

    def query(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run a read-only query on a short-lived connection and return every row."""
        with self._reader() as conn:
            return conn.execute(sql, tuple(args)).fetchall()

    def write_failure(self, job_id: str) -> str | None:
        """Why some of a job's results or events could not be stored, or None if all were."""
        with self._failure_lock:
            return self._failures.get(job_id)

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
        conn: sqlite3.Connection | None = None
        backoff = RETRY_FIRST_S
        retry_at = 0.0
        try:
            while True:
                try:
                    if self._unsaved_jobs:
                        wait = max(0.0, retry_at - time.monotonic())
                        ops = [self._queue.get(timeout=wait)]
                    else:
                        ops = [self._queue.get()]
                except queue.Empty:
                    ops = []
                while len(ops) < self.batch_size:
                    try:
                        ops.append(self._queue.get_nowait())
                    except queue.Empty:
                        break
                if self._unsaved_jobs and time.monotonic() >= retry_at:
                    # Older versions first: a version queued meanwhile (in ops) replaces them.
                    # Kept in the dict until written (_record_success removes each), so the job
                    # is never taken for saved while its retry is in flight.
                    ops = list(self._unsaved_jobs.values()) + ops
                    retried = True
                else:
                    retried = False
                conn = self._writer_connection(conn)
                stop = self._apply(conn, ops)
                if self._unsaved_jobs:
                    if retried:
                        backoff = min(backoff * 2, RETRY_MAX_S)
                    if retried or retry_at == 0.0:
                        retry_at = time.monotonic() + backoff
                else:
                    backoff, retry_at = RETRY_FIRST_S, 0.0
                if stop:
                    if self._unsaved_jobs:
                        log.error(
                            "store closed with %d job record(s) not written: %s",
                            len(self._unsaved_jobs),
                            ", ".join(sorted(self._unsaved_jobs)),
                        )
                    return
        finally:
            if conn is not None:
                conn.close()

    def _writer_connection(self, conn: sqlite3.Connection | None) -> sqlite3.Connection | None:
        """The writer's connection, opened on first use and again after it could not be
        (a store read-only at start may become writable)."""
        if conn is not None:
            return conn
        try:
            return self._connect()
        except sqlite3.Error as exc:
            log.debug("store writer cannot connect: %s", exc)
            return None

    def _apply(self, conn: sqlite3.Connection | None, ops: list[Any]) -> bool:
        """Commit ``ops`` in one transaction; if SQLite refuses it, retry each operation in
        its own, so one bad operation loses only itself (and its job is told). Returns True
        when the writer should stop."""
        stop = any(op is _STOP for op in ops)
        writes = [op for op in ops if op is not _STOP and op[0] != "flush"]
        if conn is None:
            failure = sqlite3.OperationalError(self.read_only_reason or "cannot open the store")
            for op in writes:
                self._record_failure(op, failure)
        elif writes:
            self._commit(conn, writes)
        for op in ops:
            if op is not _STOP and op[0] == "flush":
                op[1].set()
        return stop

    def _commit(self, conn: sqlite3.Connection, writes: list[Any]) -> None:
        try:
            with conn:
                for op in writes:
                    self._write(conn, op)
        except sqlite3.Error:
            for op in writes:
                try:
                    with conn:
                        self._write(conn, op)
                except sqlite3.Error as exc:
                    self._record_failure(op, exc)
                else:
                    self._record_success(op)
        else:
            for op in writes:
                self._record_success(op)

    @staticmethod
    def _write(conn: sqlite3.Connection, op: tuple[Any, ...]) -> None:
        if op[0] in ("job", "job_now"):
            conn.execute(
                "INSERT OR REPLACE INTO jobs(job_id, status, created_at, record) "
                "VALUES (?, ?, ?, ?)",
                op[1:5],
            )
        elif op[0] == "results":
            conn.executemany("INSERT OR REPLACE INTO results VALUES (?, ?, ?, ?, ?, ?, ?)", op[1])
        elif op[0] == "events":
            conn.executemany("INSERT OR REPLACE INTO events VALUES (?, ?, ?, ?)", op[1])
        elif op[0] == "sql":
            conn.executemany(op[2], op[3])

    def _record_success(self, op: tuple[Any, ...]) -> None:
        if op[0] == "job_now":
            op[5].set()
        elif op[0] == "job" and op[1] in self._unsaved_jobs:
            del self._unsaved_jobs[op[1]]  # an older version that failed is now superseded

    def _record_failure(self, op: tuple[Any, ...], exc: sqlite3.Error) -> None:
        if op[0] == "job_now":
            op[6].append(str(exc))
            op[5].set()
            return
        if op[0] == "job":
            if op[1] not in self._unsaved_jobs:
                log.error("store could not write job %s (%s); retrying until it can", op[1], exc)
            self._unsaved_jobs[op[1]] = op
            return
        job_id = op[1] if op[0] == "sql" else (op[1][0][0] if op[1] else "?")
        log.error("store could not write %s of job %s: %s", op[0], job_id, exc)
        with self._failure_lock:
            self._failures.setdefault(job_id, str(exc))

    # --- reads -----------------------------------------------------------------------------

    def get_job(self, job_id: str) -> JobRecord | None:
        """The stored record of a job, or None."""
        with self._reader() as conn:
            row = conn.execute("SELECT record FROM jobs WHERE job_id = ?", (job_id,)).fetchone()
        return decode_job_record(row[0]) if row else None

    def list_jobs(self, limit: int = 100) -> list[JobRecord]:
        """The newest ``limit`` jobs, newest first."""
        with self._reader() as conn:
            rows = conn.execute(
                "SELECT record FROM jobs ORDER BY created_at DESC LIMIT ?", (limit,)
            ).fetchall()
        return [decode_job_record(r[0]) for r in rows]

    def results(self, job_id: str, plugin: str | None = None) -> list[dict[str, Any]]:
        """Per-frame, per-plugin results of a job, in frame order, then by plugin name."""
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

    def results_of_frame(self, job_id: str, frame_index: int) -> list[tuple[str, float, Any]]:
        """One frame's results: ``(plugin, timing_ms, data)`` per plugin that has one."""
        with self._reader() as conn:
            rows = conn.execute(
                "SELECT plugin, timing_ms, data FROM results WHERE job_id = ? AND frame_index = ?",
                (job_id, frame_index),
            ).fetchall()
        return [(plugin, timing, msgspec.json.decode(data)) for plugin, timing, data in rows]

    def frame_results(
        self, job_id: str, before_frame: int
    ) -> Generator[tuple[int, dict[str, dict[str, Any]]]]:
        """The results of each frame before ``before_frame``, frame by frame in frame order:
        ``(frame_index, {plugin: data})``, read as they are consumed (to redraw a resumed job's
        earlier frames). Frames without a result are left out. Close the iterator (or exhaust
        it) to release its database connection."""
        with self._reader() as conn:
            rows = conn.execute(
                "SELECT frame_index, plugin, data FROM results "
                "WHERE job_id = ? AND frame_index < ? ORDER BY frame_index",
                (job_id, before_frame),
            )
            for index, group in itertools.groupby(rows, key=lambda row: int(row[0])):
                yield index, {plugin: msgspec.json.decode(data) for _, plugin, data in group}

    def events(self, job_id: str, since_seq: int = 0, limit: int = 10_000) -> list[bytes]:
        """The job's non-frame messages after ``since_seq``, in order, as JSON bytes."""
        with self._reader() as conn:
            rows = conn.execute(
                "SELECT message FROM events WHERE job_id = ? AND seq > ? ORDER BY seq LIMIT ?",
                (job_id, since_seq, limit),
            ).fetchall()
        return [bytes(r[0]) for r in rows]

    def last_seq(self, job_id: str) -> int:
        """The highest seq the job ever used (events and results), 0 if none."""
        with self._reader() as conn:
            a = conn.execute("SELECT MAX(seq) FROM events WHERE job_id = ?", (job_id,)).fetchone()
            b = conn.execute("SELECT MAX(seq) FROM results WHERE job_id = ?", (job_id,)).fetchone()
        return max(a[0] or 0, b[0] or 0)

    def frames_done(self, job_id: str) -> int:
        """How many leading frames have a result (where a resumed job starts again)."""
        with self._reader() as conn:
            row = conn.execute(
                "SELECT MAX(frame_index) FROM results WHERE job_id = ?", (job_id,)
            ).fetchone()
        return 0 if row[0] is None else int(row[0]) + 1

    def plugin_totals(self, job_id: str) -> dict[str, tuple[int, float, int]]:
        """Per plugin: frames processed, total ms and warnings so far (to resume a job)."""
        with self._reader() as conn:
            rows = conn.execute(
                "SELECT plugin, COUNT(*), SUM(timing_ms) FROM results WHERE job_id = ? "
                "GROUP BY plugin",
                (job_id,),
            ).fetchall()
            warnings = conn.execute(
                "SELECT message FROM events WHERE job_id = ? AND type = 'warning'", (job_id,)
            ).fetchall()
        totals = {name: (int(n), float(ms or 0.0), 0) for name, n, ms in rows}
        for (blob,) in warnings:
            plugin = msgspec.json.decode(blob).get("payload", {}).get("plugin", "")
            n, ms, w = totals.get(plugin, (0, 0.0, 0))
            totals[plugin] = (n, ms, w + 1)
        return totals

    def _with_progress_so_far(self, record: JobRecord) -> JobRecord:
        return msgspec.structs.replace(
            record,
            last_seq=max(record.last_seq, self.last_seq(record.job_id)),
            frames_done=self.frames_done(record.job_id),
        )

    def mark_interrupted(self) -> list[JobRecord]:
        """Mark jobs left queued or running by a previous server (one that crashed) as
        ``interrupted``, with ``last_seq`` and ``frames_done`` taken from what was stored.

        Returns:
            The records so marked.
        """
        with self._reader() as conn:
            rows = conn.execute(
                "SELECT record FROM jobs WHERE status IN ('queued', 'running')"
            ).fetchall()
        marked = []
        for (blob,) in rows:
            record = decode_job_record(blob)
            record = self._with_progress_so_far(
                msgspec.structs.replace(record, status="interrupted")
            )
            self.save_job(record)
            marked.append(record)
        self.flush()
        return marked

    def interrupted_jobs(self) -> list[JobRecord]:
        """Every ``interrupted`` job, oldest first, with its stored progress."""
        with self._reader() as conn:
            rows = conn.execute(
                "SELECT record FROM jobs WHERE status = 'interrupted' ORDER BY created_at"
            ).fetchall()
        return [self._with_progress_so_far(decode_job_record(r[0])) for r in rows]
