"""Storage faults: a store that fills up while a job runs, a job that cannot be stored, and a
data dir that cannot be written at all.

A full disk is made with the store's own size limit (``--max-store-size``, SQLite's
``max_page_count``): writes past it fail with the same ``database or disk is full`` error a full
disk gives, and deleting rows frees room again, as deleting files frees a disk. A read-only
data dir is a real one: a folder without write permission, served by a process that cannot
write it (when the tests run as root, who may write anywhere, with the capabilities that
override file permissions dropped by ``setpriv``).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
import threading
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from conftest import TEST_METADATA, Http, ServeProcess, wait_until

from realtime_nb.core.protocol import JobRecord
from realtime_nb.plugins import Frame, Plugin, PluginContext
from realtime_nb.server.store import JobStore
from realtime_nb.vision.plugins.registry import PluginRegistry

CLIP = "synthetic://match?seconds=2&fps=10&width=64&height=64&players_per_team=0&noise=0"
BIG_OPTIONS = {
    "labels": {"note": "n" * 6000}
}  # a record larger than a page: storing it needs new pages


def fill(path: Path, nbytes: int) -> None:
    """Take ``nbytes`` of the store's room, from another connection (another program)."""
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS filler (b BLOB)")
        conn.execute("INSERT INTO filler VALUES (?)", (b"\0" * nbytes,))
        conn.commit()


def free(path: Path) -> None:
    """Give the room back."""
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("DELETE FROM filler")
        conn.commit()


def record(job_id: str, status: str, options: dict[str, Any] | None = None) -> JobRecord:
    return JobRecord(
        job_id=job_id,
        status=status,
        created_at="2026-11-30T00:00:00Z",
        source=CLIP,
        plugins=["noop_0"],
        options=options or {},
    )


def test_a_status_that_cannot_be_written_is_retried_until_it_is(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    JobStore(path).close()
    fill(path, 64 << 10)
    store = JobStore(path, max_bytes=path.stat().st_size)  # no room for a page more
    try:
        assert "full" in (store.save_job_now(record("j-new", "queued", BIG_OPTIONS)) or "")
        store.save_job(record("j-1", "running", BIG_OPTIONS))
        store.save_job(record("j-1", "failed", BIG_OPTIONS))  # the newer version wins
        assert store.flush()
        assert store.unsaved_jobs() == 1 and store.is_unsaved("j-1")
        assert store.get_job("j-1") is None

        free(path)
        wait_until(lambda: store.unsaved_jobs() == 0, 15, "the retry to store the record")
        stored = store.get_job("j-1")
        assert stored is not None and stored.status == "failed"
        assert store.get_job("j-new") is None  # refused at once, never retried
    finally:
        store.close()


class Held(Plugin):
    """Holds frame 3 until ``gate`` is set, so a test can fill the store mid-job."""

    name = "held"
    metadata = TEST_METADATA
    reached = threading.Event()
    gate = threading.Event()

    def process(self, frame: Frame, ctx: PluginContext) -> dict[str, Any]:
        if ctx.frame_index == 3:
            self.reached.set()
            assert self.gate.wait(30)
        return {"i": ctx.frame_index}


@pytest.fixture
def held() -> Iterator[type[Held]]:
    Held.reached.clear()
    Held.gate.clear()
    yield Held
    Held.gate.set()


def test_a_store_that_fills_mid_job_fails_it_keeps_its_status_and_refuses_new_jobs(
    server_factory: Any, tmp_path: Path, held: type[Held]
) -> None:
    registry = PluginRegistry()
    registry.register(held)
    data = tmp_path / "data"
    path = data / "realtime_nb.sqlite3"
    data.mkdir()
    JobStore(path).close()
    limit = path.stat().st_size + (1 << 20)
    # The thread executor: the held plugin waits on an Event of this process.
    server = server_factory(registry, data_dir=data, store_max_bytes=limit, executor="thread")
    http = Http(server.url, server.token)
    status, body = http.call(
        "POST", "/v1/jobs", {"source": CLIP, "plugins": ["held"], "options": BIG_OPTIONS}
    )
    assert status == 201, body
    job_id = body["job_id"]
    assert held.reached.wait(30)
    fill(path, 2 << 20)  # the disk fills up while the job runs
    held.gate.set()

    def ended() -> dict[str, Any] | None:
        job: dict[str, Any] = http.call("GET", f"/v1/jobs/{job_id}")[1]
        return job if job["status"] not in ("queued", "running") else None

    job = wait_until(ended, 30, "the job to end")
    assert job["status"] == "failed"
    assert "could not be stored" in job["error"] and "full" in job["error"]

    status, body = http.call(
        "POST", "/v1/jobs", {"source": CLIP, "plugins": ["held"], "options": BIG_OPTIONS}
    )
    assert status == 507, body
    assert body["error"]["code"] == "STORAGE_UNAVAILABLE" and "full" in body["error"]["message"]

    free(path)
    # Whether the final status needed new pages (then it waited and was retried) or fitted
    # in the old record's, it ends stored, and the job leaves memory.
    wait_until(lambda: http.call("GET", "/v1/health")[1]["status"] == "ok", 30, "the retry")
    wait_until(lambda: http.call("GET", "/v1/health")[1]["jobs"] == {}, 10, "eviction")
    assert http.call("GET", f"/v1/jobs/{job_id}")[1]["status"] == "failed"  # from the store
    server.stop()

    again = server_factory(registry, data_dir=data)
    stored = Http(again.url, again.token).call("GET", f"/v1/jobs/{job_id}")[1]
    assert stored["status"] == "failed" and "could not be stored" in stored["error"]


@pytest.fixture
def read_only_data() -> Iterator[Path]:
    """A data dir holding one completed job, then made read-only (readable by anyone)."""
    top = Path(tempfile.mkdtemp(prefix="realtime-nb-ro-"))
    data = top / "data"
    data.mkdir()
    store = JobStore(data / "realtime_nb.sqlite3")
    store.save_job(record("j-stored", "completed"))
    assert store.flush()
    store.close()
    top.chmod(0o755)
    for file in data.iterdir():
        file.chmod(0o444)
    data.chmod(0o555)
    yield data
    data.chmod(0o755)
    shutil.rmtree(top)


def test_a_read_only_data_dir_serves_stored_jobs_and_refuses_new_ones(
    read_only_data: Path, serve_processes: list[ServeProcess]
) -> None:
    prefix: list[str] = []
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        assert setpriv, "as root this test needs setpriv (util-linux) to obey file permissions"
        prefix = [setpriv, "--bounding-set=-dac_override,-dac_read_search,-fowner"]
    serve = ServeProcess(read_only_data, 0, "tok", prefix=prefix)
    serve_processes.append(serve)
    health = serve.http.call("GET", "/v1/health")[1]
    assert health["status"] == "read-only" and "cannot be written" in health["store"]
    assert serve.record("j-stored")["status"] == "completed"
    status, body = serve.http.call(
        "POST", "/v1/jobs", {"source": CLIP, "plugins": ["noop_0"], "options": {}}
    )
    assert status == 507, body
    assert body["error"]["code"] == "STORAGE_UNAVAILABLE"
    assert "cannot be written" in body["error"]["message"]
