"""Forking a worker from a threaded server so that the worker can begin.

A fork copies only the thread that forks. In the child, Python then clears every other
thread's state, which finalises what those threads held in thread-local storage, and a
collection there would finalise the server's garbage. A finaliser that waits on threads the
child does not have never returns: PyAV 18 keeps one scaler per thread in a
``threading.local`` (``av.video.frame``), and freeing one joins its slice threads. A server
where any thread other than the forking one had ever converted a video frame (the main thread
of a notebook that wrote an annotated video, of a test run that decoded H.264) then hung every
process job in the fork, before the job began.

:func:`start_forked` therefore, under one lock:

- swaps PyAV's per-thread scaler cache (:data:`THREAD_LOCAL_CACHES`) for one that keeps
  nothing across the fork, so the server frees the cached scalers (where their threads live)
  and no thread caches a new one in the child's copy;
- freezes every object and pauses the collector, so the child inherits the server's garbage
  from before the fork as permanent and does not collect before the worker begins;

and afterwards gives the server a new cache and its collector back. :func:`begin_in_worker`,
the first thing a worker does, gives the worker the same. Only these two hazards are met:
another library's thread-local objects are still finalised in the child, and garbage another
thread makes during the fork is not frozen; a hang from either is caught by the executor's start
timeout. The collector's state is the process's: a server that froze objects itself has them
unfrozen by a fork, and one whose thread turns the collector off during a fork has it turned on
again after.
"""

from __future__ import annotations

import gc
import sys
import threading
from collections.abc import Callable
from multiprocessing.process import BaseProcess

__all__ = ["THREAD_LOCAL_CACHES", "begin_in_worker", "start_forked"]

THREAD_LOCAL_CACHES = (("av.video.frame", "_thread_local"),)
"""Per-thread state a fork cannot carry: (module, attribute holding a ``threading.local``)
pairs, swapped only where the module is imported and has the attribute (PyAV 18 and later)."""

# One fork at a time: the collector's paused state and the swapped caches are the process's.
_lock = threading.Lock()
# Whether the server collected garbage when it forked: the child reads its copy.
_server_collects = True


class _KeepsNothing:
    """Stands in for a thread-local cache across a fork: every attribute set is dropped, so
    every read misses and the caller makes (and frees) its own object."""

    def __setattr__(self, name: str, value: object) -> None:
        """Drop the value."""


def _swap_caches(make: Callable[[], object]) -> None:
    for module_name, attribute in THREAD_LOCAL_CACHES:
        module = sys.modules.get(module_name)
        if module is not None and hasattr(module, attribute):
            setattr(module, attribute, make())


def start_forked(process: BaseProcess) -> None:
    """Start ``process`` (of the ``fork`` context) so that neither PyAV's per-thread scalers
    nor the server's garbage from before the fork is finalised in the child; see the module
    docstring."""
    global _server_collects
    with _lock:
        _swap_caches(_KeepsNothing)
        _server_collects = gc.isenabled()
        gc.disable()  # the child collects nothing until begin_in_worker
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
    stays out of its reach), fresh thread-local caches, and a fork lock of its own (the copy
    was taken when the child was forked)."""
    global _lock
    _lock = threading.Lock()
    if _server_collects:
        gc.enable()
    _swap_caches(threading.local)
