"""Executors: where a job's plugins run. ``process`` (the default) or ``thread``.

Both run :func:`run_job` (open the source, run the plugins with a
:class:`~realtime_nb.worker.runner.ToolRunner`, encode results and previews) and report through
a :class:`JobEvents`; the server side (:mod:`realtime_nb.server.jobs`) numbers, stores and
publishes what they report, so the server stays the only authority for ``seq``.

:class:`ProcessExecutor` runs each job in a worker process forked from the server for that job
(so plugins registered in a notebook after the server started are there too). The server keeps
one supervising thread per running job, which reads the worker's pipe and watches it:

- a worker that dies (an exit, a signal, the kernel's OOM killer) fails its job with
  ``PLUGIN_CRASH``, naming the plugin and frame it was on and the exit code or signal;
- a plugin call that runs longer than the frame timeout is ``PLUGIN_TIMEOUT``: the worker is
  killed;
- cancel asks the worker to stop after its current frame and kills it if it has not stopped
  within :data:`CANCEL_GRACE_S`;
- with a memory limit (``RLIMIT_AS`` in the worker), a plugin that exceeds it fails the job
  with a message that says so;
- anything raised outside a plugin's ``process`` (``SystemExit`` included) is caught at the
  worker's boundary and fails the job with its traceback;
- a worker that has not begun its work within :data:`WORKER_START_TIMEOUT_S` of the fork is
  killed and fails its job with ``INTERNAL``, rather than leaving the job running for ever.

The fork itself is :func:`realtime_nb.worker.fork.start_forked`: neither PyAV's per-thread
scalers nor the server's garbage from before the fork is finalised in a worker (a finaliser there
can wait for ever on threads the worker does not have); the start timeout above catches what it
does not foresee.

Concurrency is bounded by the number of supervising threads (``--workers``); a new process per
job means a crashed, hung or bloated worker is never reused. :class:`ThreadExecutor` runs the
same code on a thread of the server process, watched the same way, for tests and debugging: it
fails a timed-out job and ends a cancelled one, but cannot kill a hung plugin (its thread is
left behind) nor survive one that exits or crashes the process.
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import logging
import multiprocessing
import os
import resource
import signal
import threading
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Protocol

from realtime_nb.core.frame import Frame, VideoInfo
from realtime_nb.core.protocol import (
    ErrorCode,
    ErrorDetails,
    ErrorPayload,
    FramePayload,
    PreviewHeader,
    encode_preview,
)
from realtime_nb.vision.plugins.registry import PluginRegistry
from realtime_nb.vision.video import open_source
from realtime_nb.vision.video_writer import VideoWriter, encode_jpeg
from realtime_nb.worker.fork import begin_in_worker, start_forked
from realtime_nb.worker.runner import CancelFlag, FrameResults, RunSummary, ToolRunner

__all__ = [
    "CANCEL_GRACE_S",
    "DEFAULT_FRAME_TIMEOUT_S",
    "WORKER_START_TIMEOUT_S",
    "Executor",
    "JobEvents",
    "JobOutcome",
    "JobSpec",
    "ProcessExecutor",
    "ThreadExecutor",
    "run_job",
]

log = logging.getLogger(__name__)

DEFAULT_FRAME_TIMEOUT_S = 30.0
"""How long one plugin call on one frame may take before the worker is killed."""

WORKER_START_TIMEOUT_S = 30.0
"""How long a forked worker may take to begin its job before it is killed and the job failed."""

CANCEL_GRACE_S = 0.5
"""How long a cancelled worker may take to stop by itself before it is killed."""


@dataclass(frozen=True)
class JobSpec:
    """Everything a worker needs to run a job (plain data: it crosses a fork).

    Attributes:
        job_id: The job.
        source: A file path, ``file://`` URL or ``synthetic://`` source.
        allowed_roots: Folders file sources must lie in.
        plugin_names: Plugins in pipeline order.
        preview_interval_s: Least time between previews.
        start_frame: First frame to process (a resumed job).
        resumed_totals: Per plugin (frames, ms, warnings) from before the resume.
        output_path: Where to write the annotated video, or None.
        frame_timeout_s: Longest one plugin call may take (process executor).
        memory_limit_bytes: Address-space limit of the worker (process executor), or None.
        plugin_options: Each plugin's options in this job, by plugin name (checked at submit).
    """

    job_id: str
    source: str
    allowed_roots: list[Path]
    plugin_names: list[str]
    preview_interval_s: float = 0.1
    start_frame: int = 0
    resumed_totals: dict[str, tuple[int, float, int]] = field(default_factory=dict)
    output_path: Path | None = None
    frame_timeout_s: float = DEFAULT_FRAME_TIMEOUT_S
    memory_limit_bytes: int | None = None
    plugin_options: dict[str, dict[str, Any]] = field(default_factory=dict)


class JobEvents(Protocol):
    """What a running job reports, in order, from the thread that supervises it."""

    def started(self, info: VideoInfo) -> None:
        """The source opened: its size, rate and frame count are known."""

    def emit(self, batch: list[Any]) -> None:
        """A batch of payload structs (one frame's, at most)."""

    def preview(self, data: bytes) -> None:
        """An encoded binary preview."""


@dataclass
class JobOutcome:
    """How a run ended. ``summary`` is None when it did not end by itself (a crash, a timeout,
    an error outside the plugins); ``error`` is then the job's error text."""

    summary: RunSummary | None
    error: str | None = None


def run_job(
    spec: JobSpec,
    registry: PluginRegistry,
    events: JobEvents,
    cancel: CancelFlag,
    earlier: Iterable[FrameResults] = (),
    on_plugin_call: Callable[[int, int], None] | None = None,
) -> RunSummary:
    """Run a job's plugins over its source, reporting through ``events``.

    Raises:
        SourceError: The source cannot be opened.
        MemoryError: A plugin ran out of memory (not treated as a per-frame failure).
    """
    plugins = [
        registry.get(name).create(spec.plugin_options.get(name)) for name in spec.plugin_names
    ]
    with open_source(spec.source, spec.allowed_roots) as source:
        events.started(source.info)
        writer = None
        if spec.output_path is not None:
            size = (source.info.width, source.info.height)
            writer = VideoWriter(spec.output_path, source.info.fps, size)

        def preview(header: PreviewHeader, frame: Frame) -> None:
            events.preview(encode_preview(header, encode_jpeg(frame, quality=75, max_width=640)))

        runner = ToolRunner(
            plugins=plugins,
            info=source.info,
            emit=events.emit,
            job_id=spec.job_id,
            preview=preview,
            annotated=writer.write if writer is not None else None,
            cancel=cancel,
            preview_interval_s=spec.preview_interval_s,
            start_frame=spec.start_frame,
            resumed_totals=spec.resumed_totals,
            earlier_results=earlier,
            on_plugin_call=on_plugin_call,
        )
        try:
            return runner.execute(source)
        finally:
            if writer is not None:
                writer.close()


class Executor(Protocol):
    """Runs one job to its end on the calling (supervising) thread."""

    name: str

    def run(
        self,
        spec: JobSpec,
        events: JobEvents,
        cancel: threading.Event,
        earlier: Iterable[FrameResults] = (),
    ) -> JobOutcome:
        """Run the job; never raises for what its plugins do."""
        ...


class ThreadExecutor:
    """Runs the job on a thread inside the server process (tests, debugging).

    The supervising thread watches that thread as it would a worker process: a plugin call
    longer than the frame timeout fails the job with ``PLUGIN_TIMEOUT``, and a cancel the
    plugins do not honour within :data:`CANCEL_GRACE_S` ends the job. A thread cannot be killed,
    though: a hung one is left behind (a daemon, so it does not keep the process alive) and
    whatever it reports afterwards is dropped. A plugin that exits, crashes the process or eats
    its memory still takes the server with it: use the process executor for anything but
    trusted plugins.
    """

    name = "thread"

    def __init__(self, registry: PluginRegistry) -> None:
        self.registry = registry

    def run(
        self,
        spec: JobSpec,
        events: JobEvents,
        cancel: threading.Event,
        earlier: Iterable[FrameResults] = (),
    ) -> JobOutcome:
        """Run the job on a thread and watch its clock and cancel until it ends."""
        gate = _GatedEvents(events)
        status = [_IDLE, _IDLE, 0.0]
        on_plugin_call = _clock(status)

        outcome: list[JobOutcome] = []

        def target() -> None:
            outcome.append(self._run_here(spec, gate, cancel, earlier, on_plugin_call))

        thread = threading.Thread(
            target=target, name=f"realtime-nb-thread-{spec.job_id}", daemon=True
        )
        thread.start()
        stop_asked_at: float | None = None
        while True:
            thread.join(0.05)
            if not thread.is_alive():
                return outcome[0]
            if cancel.is_set():
                if stop_asked_at is None:
                    stop_asked_at = time.monotonic()
                elif time.monotonic() - stop_asked_at > CANCEL_GRACE_S:
                    gate.close()
                    log.warning(
                        "job %s did not stop when asked; its thread is left behind %s",
                        spec.job_id,
                        _where(spec, status),
                    )
                    return JobOutcome(RunSummary(frames=gate.frames, cancelled=True))
            if _over_time(spec, status):
                gate.close()
                return _timed_out(events, spec, status, "its thread is left behind")

    def _run_here(
        self,
        spec: JobSpec,
        events: JobEvents,
        cancel: threading.Event,
        earlier: Iterable[FrameResults],
        on_plugin_call: Callable[[int, int], None],
    ) -> JobOutcome:
        """Run the job on this thread; BaseException from plugin code fails the job."""
        try:
            summary = run_job(spec, self.registry, events, cancel, earlier, on_plugin_call)
            return JobOutcome(summary)
        except MemoryError:
            return _failed(events, ErrorCode.PLUGIN_CRASH, "a plugin ran out of memory", None)
        except BaseException as exc:  # SystemExit, KeyboardInterrupt from plugin code too
            log.exception("job %s failed", spec.job_id)
            text = f"{type(exc).__name__}: {exc}"
            return _failed(events, ErrorCode.INTERNAL, f"job failed: {text}", exc)


class _GatedEvents:
    """Passes a job's reports on until :meth:`close`, then drops them (a thread left behind
    must not speak for a job that has ended); counts the frames reported."""

    def __init__(self, events: JobEvents) -> None:
        self.events = events
        self.frames = 0
        self._closed = False
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            self._closed = True

    def started(self, info: VideoInfo) -> None:
        with self._lock:
            if not self._closed:
                self.events.started(info)

    def emit(self, batch: list[Any]) -> None:
        with self._lock:
            if not self._closed:
                self.events.emit(batch)
                self.frames = max(self.frames, _frames_through(batch))

    def preview(self, data: bytes) -> None:
        with self._lock:
            if not self._closed:
                self.events.preview(data)


def _frames_through(batch: list[Any]) -> int:
    """1 + the highest frame index with a result in ``batch`` (0 if none)."""
    return max(
        (
            p.frame_index + 1
            for p in batch
            if isinstance(p, FramePayload) and p.frame_index is not None
        ),
        default=0,
    )


# Slots of the status a worker writes before and after each plugin call, and (the process
# executor's only) the one it sets when it begins.
_FRAME, _PLUGIN, _SINCE, _BEGUN = 0, 1, 2, 3
_IDLE = -1.0


def _clock(status: Any) -> Callable[[int, int], None]:
    """The ``on_plugin_call`` hook that writes a worker's status before each plugin call (the
    plugin slot last, see :func:`_over_time`)."""

    def on_plugin_call(frame_index: int, plugin_index: int) -> None:
        status[_FRAME] = float(frame_index)
        status[_SINCE] = time.monotonic()
        status[_PLUGIN] = float(plugin_index)

    return on_plugin_call


def _over_time(spec: JobSpec, status: Any) -> bool:
    """Whether the plugin call in progress has run longer than the frame timeout."""
    # The plugin slot first: the worker writes it after the time, so a busy plugin's time
    # read next is never an older call's.
    busy = status[_PLUGIN] != _IDLE
    return bool(busy and time.monotonic() - status[_SINCE] > spec.frame_timeout_s)


def _plugin_at(spec: JobSpec, status: Any) -> str | None:
    """The plugin being called, from a worker's status, or None between calls."""
    index = int(status[_PLUGIN])
    names = spec.plugin_names
    return names[index] if 0 <= index < len(names) else None


def _frame_id_at(status: Any) -> str | None:
    """The frame last started, from a worker's status, or None before the first."""
    index = int(status[_FRAME])
    return f"f-{index:06d}" if index >= 0 else None


def _where(spec: JobSpec, status: Any) -> str:
    """Where a worker is, in words, e.g. ``while ball processed frame f-000004``."""
    plugin, frame_id = _plugin_at(spec, status), _frame_id_at(status)
    if plugin is None:
        return "outside any plugin" + (f", after frame {frame_id}" if frame_id else "")
    return f"while {plugin} processed frame {frame_id}"


def _timed_out(events: JobEvents, spec: JobSpec, status: Any, fate: str) -> JobOutcome:
    plugin, frame_id = _plugin_at(spec, status), _frame_id_at(status)
    text = f"{plugin} took longer than {spec.frame_timeout_s:g} s on frame {frame_id}; {fate}"
    return _failed(events, ErrorCode.PLUGIN_TIMEOUT, text, None, None, plugin, frame_id)


# --- the process executor -------------------------------------------------------------------


class ProcessExecutor:
    """Runs each job in its own forked worker process; see the module docstring.

    Args:
        registry: Plugins (inherited by the forked worker, with everything registered so far).
        memory_limit_bytes: Default address-space limit of each worker, or None.
    """

    name = "process"

    def __init__(self, registry: PluginRegistry, memory_limit_bytes: int | None = None) -> None:
        self.registry = registry
        self.memory_limit_bytes = memory_limit_bytes
        self._context = multiprocessing.get_context("fork")

    def run(
        self,
        spec: JobSpec,
        events: JobEvents,
        cancel: threading.Event,
        earlier: Iterable[FrameResults] = (),
    ) -> JobOutcome:
        """Run the job in a new worker process and supervise it until it ends."""
        if spec.memory_limit_bytes is None and self.memory_limit_bytes is not None:
            spec = dataclasses.replace(spec, memory_limit_bytes=self.memory_limit_bytes)
        receive, send = self._context.Pipe(duplex=False)
        status = self._context.Array("d", [_IDLE, _IDLE, 0.0, 0.0], lock=False)
        stop = self._context.Event()
        process = self._context.Process(
            target=_worker_main,
            args=(spec, self.registry, send, status, stop, earlier),
            name=f"realtime-nb-worker-{spec.job_id}",
            daemon=True,
        )
        start_forked(process)
        send.close()
        try:
            return _Supervisor(spec, process, receive, status, stop, events, cancel).watch()
        finally:
            receive.close()
            if process.is_alive():
                process.kill()
            process.join(5)


class _Supervisor:
    """The server side of one worker: reads its pipe, watches its clock, its cancel and its
    life."""

    def __init__(
        self,
        spec: JobSpec,
        process: Any,
        receive: Connection,
        status: Any,
        stop: Any,
        events: JobEvents,
        cancel: threading.Event,
    ) -> None:
        self.spec = spec
        self.process = process
        self.receive = receive
        self.status = status
        self.stop = stop
        self.events = events
        self.cancel = cancel
        self.frames = 0
        self.forked_at = time.monotonic()

    def watch(self) -> JobOutcome:
        stop_asked_at: float | None = None
        while True:
            try:
                # Drain what is there, but check cancel and the clock between messages too: a
                # busy worker never leaves the pipe empty.
                if self.receive.poll(0.05):
                    outcome = self._handle(self.receive.recv())
                    if outcome is not None:
                        return outcome
            except (EOFError, OSError):
                return self._died()
            if self.cancel.is_set():
                if stop_asked_at is None:
                    self.stop.set()
                    stop_asked_at = time.monotonic()
                elif time.monotonic() - stop_asked_at > CANCEL_GRACE_S:
                    self.process.kill()
                    return JobOutcome(RunSummary(frames=self.frames, cancelled=True))
            if _over_time(self.spec, self.status):
                self.process.kill()
                return _timed_out(self.events, self.spec, self.status, "its worker was stopped")
            if (
                not self.status[_BEGUN]
                and time.monotonic() - self.forked_at > WORKER_START_TIMEOUT_S
            ):
                return self._never_began()
            if not self.process.is_alive() and not self.receive.poll(0):
                return self._died()

    def _handle(self, message: tuple[Any, ...]) -> JobOutcome | None:
        kind = message[0]
        if kind == "emit":
            self.events.emit(message[1])
            # From the batch, not the status: the worker may already be on the next frame.
            self.frames = max(self.frames, _frames_through(message[1]))
        elif kind == "preview":
            self.events.preview(message[1])
        elif kind == "started":
            self.events.started(message[1])
        elif kind == "done":
            summary: RunSummary = message[1]
            return JobOutcome(summary)
        elif kind == "failed":
            _, code, text, details = message
            plugin, frame_id = _plugin_at(self.spec, self.status), _frame_id_at(self.status)
            return _failed(self.events, code, text, None, details, plugin, frame_id)
        return None

    def _never_began(self) -> JobOutcome:
        self.process.kill()
        self.process.join(5)
        if self.cancel.is_set():
            return JobOutcome(RunSummary(frames=0, cancelled=True))
        text = (
            f"the worker process did not begin the job within {WORKER_START_TIMEOUT_S:g} s of "
            "being forked and was killed; the job did not run"
        )
        return _failed(self.events, ErrorCode.INTERNAL, text, None)

    def _died(self) -> JobOutcome:
        self.process.join(5)
        if self.cancel.is_set():  # stopped on purpose (cancel, shutdown): not a crash
            return JobOutcome(RunSummary(frames=self.frames, cancelled=True))
        code = self.process.exitcode
        if code is not None and code < 0:
            sig = -code
            name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else "?"
            how = f"killed by signal {sig} ({name})"
            if sig == signal.SIGKILL:
                how += ", perhaps by the kernel for lack of memory"
        else:
            how = f"exited with code {code}"
        text = f"the worker process {how} {_where(self.spec, self.status)}"
        plugin, frame_id = _plugin_at(self.spec, self.status), _frame_id_at(self.status)
        return _failed(self.events, ErrorCode.PLUGIN_CRASH, text, None, None, plugin, frame_id)


def _failed(
    events: JobEvents,
    code: ErrorCode,
    text: str,
    exc: BaseException | None,
    details: str | None = None,
    plugin: str | None = None,
    frame_id: str | None = None,
) -> JobOutcome:
    if details is None and exc is not None:
        details = "".join(traceback.format_exception(exc))
    log.error("%s%s", text, f"\n{details}" if details else "")
    events.emit(
        [
            ErrorPayload(
                error=text,
                plugin=plugin,
                details=ErrorDetails(error_code=code, message=details or text),
                frame_id=frame_id,
            )
        ]
    )
    return JobOutcome(None, text)


class _PipeEvents:
    """The worker's :class:`JobEvents`: everything goes down the pipe, in order."""

    def __init__(self, send: Connection) -> None:
        self.send = send

    def started(self, info: VideoInfo) -> None:
        self.send.send(("started", info))

    def emit(self, batch: list[Any]) -> None:
        self.send.send(("emit", batch))

    def preview(self, data: bytes) -> None:
        self.send.send(("preview", data))


def _worker_main(
    spec: JobSpec,
    registry: PluginRegistry,
    send: Connection,
    status: Any,
    stop: Any,
    earlier: Iterable[FrameResults],
) -> None:
    """The worker process: run the job, report through the pipe, and exit."""
    status[_BEGUN] = 1.0
    begin_in_worker()
    # Forked from the server: its signal handlers are not ours. A SIGTERM or Ctrl-C sent to
    # the whole process group is the server's to handle: it tells the worker to stop, then
    # kills it. If the server itself dies, the kernel kills the worker (Linux).
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_parent()
    limit = spec.memory_limit_bytes
    if limit is not None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    on_plugin_call = _clock(status)
    code = 0
    try:
        summary = run_job(spec, registry, _PipeEvents(send), stop, earlier, on_plugin_call)
        send.send(("done", summary))
    except MemoryError:
        where = _where(spec, status)
        shown = f"{limit / 2**30:.1f} GiB" if limit else "the machine's memory"
        text = f"the worker ran out of memory ({shown}) {where}"
        _send_failure(send, ErrorCode.PLUGIN_CRASH, text, None)
        code = 3
    except BaseException as exc:  # SystemExit and KeyboardInterrupt from plugin code too
        text = f"{type(exc).__name__}: {exc} ({_where(spec, status)})"
        _send_failure(send, ErrorCode.INTERNAL, f"job failed: {text}", exc)
        code = 2
    finally:
        send.close()
        os._exit(code)  # no atexit handlers or finalizers inherited from the server


def _die_with_parent() -> None:
    """Ask Linux to SIGKILL this process when the server dies (best effort elsewhere)."""
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL)


def _send_failure(send: Connection, code: ErrorCode, text: str, exc: BaseException | None) -> None:
    details = "".join(traceback.format_exception(exc)) if exc is not None else None
    # If even this fails, the server sees the worker die and reports that instead.
    with contextlib.suppress(Exception):
        send.send(("failed", code, text, details))
