"""Forking from a threaded server, with real forked children started from a thread that is
not the main one (as the server's job threads do): neither a scaler PyAV cached for another
thread nor the server's garbage from before the fork is finalised in the child."""

from __future__ import annotations

import gc
import multiprocessing
import os
import sys
import threading
from pathlib import Path
from typing import Any

import numpy as np
from av.video.frame import VideoFrame

from realtime_nb.worker.fork import begin_in_worker, start_forked

FORK = multiprocessing.get_context("fork")


class Finalised:
    """Half of a reference cycle whose finaliser writes the finalising process's id to a file
    (a decoder's scaler would join threads that only the server has)."""

    def __init__(self, marks: Path) -> None:
        self.marks = marks
        self.other: Any = None

    def __del__(self) -> None:
        with self.marks.open("a") as out:
            out.write(f"{os.getpid()}\n")


def converted_shape(size: int) -> tuple[int, ...]:
    """The shape of a BGR frame converted to YUV with PyAV (which caches this thread's
    scaler)."""
    frame = VideoFrame.from_ndarray(np.zeros((size, size, 3), np.uint8), format="bgr24")
    return tuple(frame.reformat(format="yuv420p").to_ndarray().shape)


def collects(send: Any) -> None:
    """In the child: whether the collector is on, and what a full collection found."""
    begin_in_worker()
    send.send((gc.isenabled(), gc.collect()))
    os._exit(0)


def converts(send: Any) -> None:
    """In the child: a frame converted with PyAV."""
    begin_in_worker()
    send.send(converted_shape(32))
    os._exit(0)


def fork_from_a_thread(target: Any) -> tuple[Any, int | None]:
    """Start ``target`` in a forked child from a new thread; the child's report (None if it
    sent none within 20 s: it hung, and is killed) and its exit code."""
    receive, send = FORK.Pipe(duplex=False)
    process = FORK.Process(target=target, args=(send,), daemon=True)
    thread = threading.Thread(target=start_forked, args=(process,))
    thread.start()
    thread.join(20)
    send.close()
    report = receive.recv() if receive.poll(20) else None
    process.join(10)
    if process.is_alive():
        process.kill()
        process.join(5)
    return report, process.exitcode


def test_garbage_left_in_the_server_is_not_finalised_in_the_child(tmp_path: Path) -> None:
    marks = tmp_path / "finalised.txt"
    gc.disable()  # the cycle must still be uncollected garbage at the fork
    try:
        first, second = Finalised(marks), Finalised(marks)
        first.other, second.other = second, first
        del first, second
        report, code = fork_from_a_thread(collects)
        assert not gc.isenabled()  # the server's own choice is left as it was
    finally:
        gc.enable()
    assert report is not None and report[0] is False and code == 0  # as the server had it
    assert not marks.exists()  # the child's full collection left the cycle alone
    gc.collect()
    assert marks.read_text().split() == [str(os.getpid())] * 2  # the server finalised it


def test_the_child_collects_as_the_server_did_and_the_server_goes_on_collecting() -> None:
    assert gc.isenabled()
    report, code = fork_from_a_thread(collects)
    assert report is not None and report[0] is True and code == 0
    assert gc.isenabled() and gc.get_freeze_count() == 0


def test_the_child_begins_after_the_main_thread_converted_frames_with_pyav() -> None:
    assert converted_shape(64) == (96, 64)  # the main thread now holds a scaler and its threads
    report, code = fork_from_a_thread(converts)
    assert report == (48, 32) and code == 0  # began, and converts frames itself
    cache = getattr(sys.modules["av.video.frame"], "_thread_local", threading.local())
    assert type(cache) is threading.local  # the server's cache is back (PyAV 18 on)
    assert converted_shape(64) == (96, 64)
