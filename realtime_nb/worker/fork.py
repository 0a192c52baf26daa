"""Forking a worker from a threaded server so that the worker can begin.

A fork copies only the thread that forks. In the child, Python then clears every other
thread's state, which finalises what only those threads held in thread-local storage, and a
collection there would finalise the server's garbage. A finaliser that waits on threads the
child does not have never returns: PyAV 18 keeps one scaler per thread in a
``threading.local`` (``av.video.frame``), and freeing one joins its slice threads. A server
whose main thread ever converted a video frame (a notebook that wrote an annotated video, a
test that decoded H.264) then hung every process job in the fork, before the job began.

:func:`start_forked` therefore, under one lock:

- swaps PyAV's per-thread scaler cache for one that keeps nothing, so the server finalises the
  cached scalers (where their threads live) and no thread caches a new one across the fork;
- pauses the collector and freezes every object, so the child inherits the server's garbage as
  permanent and never finalises it;

and afterwards gives the server a new cache and its collector back. :func:`begin_in_worker`,
the first thing a worker does, gives the worker the same. A hang this does not foresee (another
library's thread-local state) is caught by the executor's start timeout.
"""

from __future__ import annotations

import gc
import sys
import threading
from typing import Any

__all__ = ["begin_in_worker", "start_forked"]

# Modules that keep per-thread state a fork cannot carry, and the attribute holding it.
THREAD_LOCAL_CACHES = (("av.video.frame", "_thread_local"),)

# One fork at a time: the collector's paused state and the swapped caches are the process's.
_lock = threading.Lock()
# Whether the server collected garbage when it forked: the child reads its copy.
_server_collects = True


class _KeepsNothing:
    """Stands in for a thread-local cache across a fork: every attribute set is dropped, so
    every read misses and the caller makes (and frees) its own object."""

    def __setattr__(self, name: str, value: object) -> None:
        """Drop the value."""


def _swap_caches(make: Any) -> None:
    for module_name, attribute in THREAD_LOCAL_CACHES:
        module = sys.modules.get(module_name)
        if module is not None and hasattr(module, attribute):
            setattr(module, attribute, make())


def start_forked(process: Any) -> None:
    """Start ``process`` (a fork-context :class:`multiprocessing.Process`) so that nothing the
    server's other threads or its garbage hold is finalised in the child; see the module
    docstring."""
    global _server_collects
    with _lock:
        _swap_caches(_KeepsNothing)
        _server_collects = gc.isenabled()
        gc.disable()  # a collection between the freeze and the fork would undo it
        gc.freeze()
        try:
            process.start()
        finally:
            gc.unfreeze()
            if _server_collects:
                gc.enable()
            _swap_caches(threading.local)


def begin_in_worker() -> None:
    """In a child of :func:`start_forked`: the collector as the server had it (what was frozen
    stays out of its reach) and fresh thread-local caches."""
    if _server_collects:
        gc.enable()
    _swap_caches(threading.local)
