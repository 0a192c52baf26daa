"""The Dask executor: a job's frames split into chunks that run on a Dask cluster's workers.

The server keeps one supervising thread per job, as with the other executors; it plans the
chunks (:mod:`realtime_nb.core.chunks`, from the plugins' declared ``history_frames``),
submits one Dask task per chunk and watches them. Each task (:func:`run_chunk`, on a worker;
see :mod:`realtime_nb.worker.dask_chunk`) opens the source, processes its frames with the
job's plugins and posts the results to the server's ``POST /v1/jobs/{id}/frames`` with the
job's producer token: a chunk task is one more producer, and the server stays the only
authority for ``seq``, the store and progress.

- Frames reach subscribers while chunks run: a task posts what it has every
  :data:`FLUSH_INTERVAL_S` (and when :data:`FLUSH_BYTES` of results wait).
- A worker that dies mid-chunk: Dask runs the chunk again on another worker; the server drops
  the frames the first attempt had already posted (it applies each frame of a job once).
- A task that raises (the source cannot be read there, the server cannot be reached, a plugin
  is not installed on the worker) is retried ``retries`` times, then fails the job with its
  error.
- The scheduler gone for longer than ``scheduler_grace_s``: the job fails, saying so; the
  server goes on serving (the next Dask job tries to connect again).

``distributed`` is an optional dependency: ``pip install 'realtime-nb[dask]'``.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import threading
import time
import traceback
from collections.abc import Callable, Iterable
from typing import Any

from realtime_nb.core.chunks import Chunk, pipeline_history, plan
from realtime_nb.core.protocol import (
    ErrorCode,
    ErrorPayload,
    MetadataPayload,
    PluginStatusPayload,
    ProgressPayload,
    WarningPayload,
)
from realtime_nb.vision.plugins.registry import PluginRegistry
from realtime_nb.vision.video import open_source
from realtime_nb.worker.dask_chunk import (
    FLUSH_BYTES,
    FLUSH_INTERVAL_S,
    ChunkResult,
    ChunkTask,
    run_chunk,
)
from realtime_nb.worker.executors import JobEvents, JobOutcome, JobSpec, _failed
from realtime_nb.worker.runner import FrameResults, RunSummary

__all__ = [
    "FLUSH_BYTES",
    "FLUSH_INTERVAL_S",
    "INSTALL_HINT",
    "ChunkResult",
    "ChunkTask",
    "DaskExecutor",
    "DaskUnavailableError",
    "require_distributed",
    "run_chunk",
]

log = logging.getLogger(__name__)

INSTALL_HINT = "pip install 'realtime-nb[dask]'"


class DaskUnavailableError(RuntimeError):
    """``distributed`` is not installed, or the cluster cannot be reached."""


def require_distributed() -> Any:
    """The ``distributed`` module.

    Raises:
        DaskUnavailableError: It is not installed (the message says how to install it).
    """
    try:
        import distributed
    except ImportError:
        raise DaskUnavailableError(
            f"the dask executor needs the 'distributed' package: {INSTALL_HINT}"
        ) from None
    return distributed


class DaskExecutor:
    """Runs each job as chunks on a Dask cluster; see the module docstring.

    Args:
        registry: Plugins (their classes are sent to the workers).
        scheduler_address: Attach to this running scheduler (``tcp://host:8786``); or
        n_workers: start a ``LocalCluster`` of this many worker processes (one thread each).
        chunk_frames: Frames per chunk; default: about two chunks per worker.
        retries: Times a chunk that raised is run again before the job fails.
        scheduler_grace_s: How long a job waits for a lost scheduler to come back.
        connect_timeout_s: How long connecting to the scheduler may take.

    The server sets :attr:`server_url` (where workers post frames) and :attr:`issue_token`
    (a job's producer token) before the first job runs.
    """

    name = "dask"

    def __init__(
        self,
        registry: PluginRegistry,
        scheduler_address: str | None = None,
        n_workers: int | None = None,
        chunk_frames: int | None = None,
        retries: int = 2,
        scheduler_grace_s: float = 10.0,
        connect_timeout_s: float = 30.0,
    ) -> None:
        require_distributed()
        if (scheduler_address is None) == (n_workers is None):
            raise ValueError("give either a scheduler address or a number of local workers")
        if n_workers is not None and n_workers < 1:
            raise ValueError(f"the number of Dask workers must be >= 1, got {n_workers}")
        self.registry = registry
        self.scheduler_address = scheduler_address
        self.n_workers = n_workers
        self.chunk_frames = chunk_frames
        self.retries = retries
        self.scheduler_grace_s = scheduler_grace_s
        self.connect_timeout_s = connect_timeout_s
        self.server_url: str | None = None
        self.issue_token: Callable[[str], str] | None = None
        self._cluster: Any = None
        self._client: Any = None
        self._lock = threading.Lock()
        self._closed = False

    @property
    def where(self) -> str:
        """The cluster, for messages: its scheduler address or the local cluster's size."""
        if self.scheduler_address is not None:
            return f"the Dask scheduler at {self.scheduler_address}"
        return f"a local Dask cluster of {self.n_workers} worker(s)"

    @property
    def dashboard_link(self) -> str | None:
        """The Dask dashboard's URL, once connected (None without bokeh or before)."""
        client = self._client
        if client is None:
            return None
        with contextlib.suppress(Exception):
            link = client.dashboard_link
            return str(link) if link else None
        return None

    def connect(self) -> Any:
        """The connected Dask client, connecting (or starting the local cluster) if needed.
        Call from any thread but the server's event loop.

        Raises:
            DaskUnavailableError: The cluster cannot be reached or started.
        """
        distributed = require_distributed()
        with self._lock:
            if self._closed:
                raise DaskUnavailableError("the dask executor is closed")
            client = self._client
            if client is not None and client.status == "running":
                return client
            if client is not None:
                with contextlib.suppress(Exception):
                    client.close(timeout=2)
                self._client = None
            try:
                if self.scheduler_address is not None:
                    client = distributed.Client(
                        self.scheduler_address,
                        timeout=self.connect_timeout_s,
                        set_as_default=False,
                    )
                else:
                    if self._cluster is None:
                        self._cluster = distributed.LocalCluster(
                            n_workers=self.n_workers,
                            threads_per_worker=1,
                            processes=True,
                            host="127.0.0.1",
                            dashboard_address="127.0.0.1:0",
                        )
                    client = distributed.Client(self._cluster, set_as_default=False)
            except Exception as exc:
                raise DaskUnavailableError(f"could not reach {self.where}: {exc}") from exc
            self._client = client
            log.info("dask executor: %s, dashboard %s", self.where, self.dashboard_link)
            return client

    def close(self) -> None:
        """Disconnect and stop the local cluster, if this executor started one."""
        with self._lock:
            self._closed = True
            client, cluster = self._client, self._cluster
            self._client = self._cluster = None
        with contextlib.suppress(Exception):
            if client is not None:
                client.close(timeout=5)
        with contextlib.suppress(Exception):
            if cluster is not None:
                cluster.close(timeout=10)

    def run(
        self,
        spec: JobSpec,
        events: JobEvents,
        cancel: threading.Event,
        earlier: Iterable[FrameResults] = (),
    ) -> JobOutcome:
        """Run the job's chunks on the cluster and watch them until they end; never raises
        for what the plugins or the cluster do."""
        try:
            return self._run(spec, events, cancel)
        except DaskUnavailableError as exc:
            return _failed(events, ErrorCode.INTERNAL, f"dask executor: {exc}", None)
        except Exception as exc:
            text = f"dask executor: {type(exc).__name__}: {exc}"
            return _failed(events, ErrorCode.INTERNAL, text, exc)

    def _run(self, spec: JobSpec, events: JobEvents, cancel: threading.Event) -> JobOutcome:
        if self.server_url is None or self.issue_token is None:
            raise DaskUnavailableError("the server has not told the executor its URL yet")
        client = self.connect()
        classes = [self.registry.get(name) for name in spec.plugin_names]
        with open_source(spec.source, spec.allowed_roots) as source:
            info = source.info
        events.started(info)
        self._emit_start(spec, events)
        workers = max(1, len(client.scheduler_info().get("workers", {})))
        history = pipeline_history(cls.history_frames for cls in classes)
        chunks = plan(info.frame_count, workers, history, spec.start_frame, self.chunk_frames)
        token = self.issue_token(spec.job_id)
        run_key = secrets.token_hex(4)
        futures = [
            client.submit(
                run_chunk,
                ChunkTask(
                    spec.job_id,
                    spec.source,
                    list(spec.allowed_roots),
                    classes,
                    chunk,
                    self.server_url,
                    token,
                    spec.preview_interval_s * min(len(chunks), workers),
                    spec.plugin_options,
                ),
                key=f"realtime-nb-{spec.job_id}-{run_key}-chunk-{chunk.index}",
                retries=self.retries,
                pure=False,
            )
            for chunk in chunks
        ]
        log.info(
            "job %s: %d chunk(s) on %s (plugin history %s)",
            spec.job_id,
            len(chunks),
            self.where,
            history,
        )
        try:
            results = self._watch(client, futures, chunks, cancel, events)
        finally:
            with contextlib.suppress(Exception):
                client.cancel([f for f in futures if f.status == "pending"])
        if isinstance(results, JobOutcome):
            return results
        return JobOutcome(self._emit_end(spec, events, results))

    def _watch(
        self,
        client: Any,
        futures: list[Any],
        chunks: list[Chunk],
        cancel: threading.Event,
        events: JobEvents,
    ) -> list[ChunkResult] | JobOutcome:
        lost_since: float | None = None
        while True:
            if cancel.is_set():
                client.cancel(futures)
                return JobOutcome(RunSummary(cancelled=True))
            statuses = [f.status for f in futures]
            if all(s == "finished" for s in statuses):
                return [f.result() for f in futures]
            for future, chunk, status in zip(futures, chunks, statuses, strict=True):
                if status == "error":
                    return self._chunk_failed(future, chunk, events)
            if client.status != "running" or any(s in ("lost", "cancelled") for s in statuses):
                lost_since = lost_since if lost_since is not None else time.monotonic()
                if (
                    client.status == "closed"
                    or time.monotonic() - lost_since > self.scheduler_grace_s
                ):
                    text = (
                        f"lost {self.where} (client {client.status}, chunks "
                        f"{', '.join(sorted(set(statuses)))}); the job cannot finish on Dask"
                    )
                    return _failed(events, ErrorCode.INTERNAL, text, None)
            else:
                lost_since = None
            time.sleep(0.05)

    def _chunk_failed(self, future: Any, chunk: Chunk, events: JobEvents) -> JobOutcome:
        exc = future.exception(timeout=5)
        tb = future.traceback(timeout=5)
        details = "".join(traceback.format_exception(type(exc), exc, tb)) if tb else None
        frames = f"frames {chunk.start}-{(chunk.stop or 0) - 1}" if chunk.stop else "frames"
        text = f"chunk {chunk.index} ({frames}) failed on Dask: {type(exc).__name__}: {exc}"
        if isinstance(exc, ImportError | AttributeError) or "deserializ" in str(exc):
            text += " (the scheduler and workers need realtime_nb and the job's plugins installed)"
        return _failed(events, ErrorCode.INTERNAL, text, None, details)

    def _emit_start(self, spec: JobSpec, events: JobEvents) -> None:
        batch: list[Any] = []
        if spec.start_frame == 0:
            batch.append(ProgressPayload(job_id=spec.job_id, progress=0, stage="Starting"))
            for name in spec.plugin_names:
                metadata = self.registry.get(name).metadata
                batch.append(MetadataPayload(plugin=name, metadata=metadata))
                batch.append(PluginStatusPayload(plugin=name, status="started"))
        if spec.output_path is not None:
            batch.append(
                WarningPayload(
                    plugin=spec.plugin_names[0] if spec.plugin_names else "job",
                    message="annotate_video is not supported by the dask executor: no video",
                    severity="medium",
                )
            )
        events.emit(batch)

    def _emit_end(self, spec: JobSpec, events: JobEvents, results: list[ChunkResult]) -> RunSummary:
        summary = RunSummary()
        summary.frames = max([spec.start_frame] + [r.last_index + 1 for r in results])
        summary.cancelled = any(r.stopped for r in results)
        failed = sorted({name for r in results for name in r.failed_plugins})
        summary.failed_plugins = [n for n in spec.plugin_names if n in failed]
        batch: list[Any] = []
        for error in dict.fromkeys(e for r in results for e in r.setup_errors):
            batch.append(ErrorPayload(error=error))
        for name in spec.plugin_names:
            frames, ms, warnings = spec.resumed_totals.get(name, (0, 0.0, 0))
            frames += sum(r.processed.get(name, 0) for r in results)
            ms += sum(r.plugin_ms.get(name, 0.0) for r in results)
            warnings += sum(r.warnings.get(name, 0) for r in results)
            summary.plugin_ms[name] = ms
            summary.warnings += warnings
            batch.append(
                PluginStatusPayload(
                    plugin=name,
                    status="failed" if name in failed else "completed",
                    timing_ms=round(ms, 3),
                    frames_processed=frames,
                    warnings_count=warnings,
                )
            )
        if not summary.cancelled:
            batch.append(ProgressPayload(job_id=spec.job_id, progress=100, stage="Completed"))
            events.emit(batch)
        return summary
