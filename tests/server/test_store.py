"""Tests of realtime_nb.server.store: batched SQLite writes, flush, reads, interrupted jobs."""

from __future__ import annotations

from pathlib import Path

import msgspec

from realtime_nb.core.protocol import JobRecord
from realtime_nb.server.store import JobStore


def record(
    job_id: str, status: str = "running", created: str = "2026-01-01T00:00:00.000Z"
) -> JobRecord:
    return JobRecord(job_id=job_id, status=status, created_at=created, source="s", plugins=["a"])  # type: ignore[arg-type]


def test_jobs_and_results_round_trip(tmp_path: Path) -> None:
    store = JobStore(tmp_path / "db.sqlite3")
    try:
        store.save_job(record("j1"))
        rows = [
            ("j1", i, "a", f"f-{i:06d}", 1.5, msgspec.json.encode({"i": i}), i + 1)
            for i in range(1000)
        ]
        store.save_results(rows)
        assert store.flush()
        assert store.get_job("j1") == record("j1")
        results = store.results("j1")
        assert [r["data"]["i"] for r in results] == list(range(1000))
        assert store.results("j1", plugin="other") == []
        assert store.get_job("nope") is None
    finally:
        store.close()


def test_newest_first_and_limit(tmp_path: Path) -> None:
    store = JobStore(tmp_path / "db.sqlite3")
    try:
        for i in range(5):
            store.save_job(record(f"j{i}", "completed", f"2026-01-01T00:00:0{i}.000Z"))
        store.flush()
        assert [r.job_id for r in store.list_jobs(3)] == ["j4", "j3", "j2"]
    finally:
        store.close()


def test_restart_marks_unfinished_jobs_interrupted_and_keeps_results(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    store = JobStore(path)
    store.save_job(record("running"))
    store.save_job(record("done", "completed"))
    store.save_results([("running", 0, "a", "f-000000", 1.0, b"{}", 7)])
    store.save_events([("running", 8, "warning", b'{"type":"warning"}')])
    store.close()
    reopened = JobStore(path)
    try:
        assert [r.job_id for r in reopened.mark_interrupted()] == ["running"]
        job = reopened.get_job("running")
        assert job is not None and job.status == "interrupted"
        assert job.last_seq == 8 and job.frames_done == 1
        assert reopened.events("running", 0) == [b'{"type":"warning"}']
        assert reopened.events("running", 8) == []
        done = reopened.get_job("done")
        assert done is not None and done.status == "completed"
        assert len(reopened.results("running")) == 1
    finally:
        reopened.close()


def test_a_version_1_store_is_migrated_in_place(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(path)
    conn.executescript(
        "CREATE TABLE jobs (job_id TEXT PRIMARY KEY, status TEXT NOT NULL, created_at TEXT NOT NULL,"
        " record BLOB NOT NULL);"
        "CREATE TABLE results (job_id TEXT NOT NULL, frame_index INTEGER NOT NULL, plugin TEXT NOT NULL,"
        " frame_id TEXT NOT NULL, timing_ms REAL NOT NULL, data BLOB NOT NULL,"
        " PRIMARY KEY (job_id, frame_index, plugin)) WITHOUT ROWID;"
    )
    conn.execute("INSERT INTO results VALUES ('old', 0, 'a', 'f-000000', 1.0, '{}')")
    conn.commit()
    conn.close()
    store = JobStore(path)
    try:
        store.save_results([("new", 0, "a", "f-000000", 1.0, b"{}", 3)])
        store.flush()
        assert len(store.results("old")) == 1 and len(store.results("new")) == 1
        assert store.last_seq("new") == 3
    finally:
        store.close()


def test_a_failed_write_is_remembered_for_its_job(tmp_path: Path) -> None:
    store = JobStore(tmp_path / "db.sqlite3")
    try:
        # NOT NULL violation on data: the batch is rejected by SQLite
        store.save_results([("bad", 0, "a", "f-000000", 1.0, None, 1)])  # type: ignore[list-item]
        store.save_results([("good", 0, "a", "f-000000", 1.0, b"{}", 1)])
        store.flush()
        assert store.write_failure("bad") is not None and "NOT NULL" in str(
            store.write_failure("bad")
        )
        assert store.write_failure("good") is None
    finally:
        store.close()


def test_frame_results_groups_each_frame_in_order_before_a_frame(tmp_path: Path) -> None:
    store = JobStore(tmp_path / "db.sqlite3")
    try:
        rows = [
            ("j", i, name, f"f-{i:06d}", 1.0, msgspec.json.encode({name: i}), 2 * i + k)
            for i in (4, 0, 1, 3, 5)  # frame 2 has no result, and rows arrive out of order
            for k, name in enumerate(("b", "a"))
        ]
        store.save_results([*rows, ("other", 0, "a", "f-000000", 1.0, b"{}", 1)])
        assert store.flush()
        assert list(store.frame_results("j", 5)) == [
            (i, {"a": {"a": i}, "b": {"b": i}}) for i in (0, 1, 3, 4)
        ]
        assert list(store.frame_results("j", 0)) == []
        partly = store.frame_results("j", 5)
        assert next(partly)[0] == 0
        partly.close()  # releases its connection (an unclosed one would warn, an error here)
    finally:
        store.close()
