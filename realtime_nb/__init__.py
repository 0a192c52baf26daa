"""realtime_nb: watch video-analysis jobs and experiments (any Python loop) live from Jupyter.

Example:
    >>> import realtime_nb as rt
    >>> client = rt.connect()  # starts the embedded server on 127.0.0.1
    >>> job = client.submit("synthetic://match?seconds=1", plugins=["ball_detection"])
    >>> job.overlay()  # in a notebook cell, the live widget
    RealtimeOverlay(job_id='j-...')
    >>> job.wait(timeout=60)["status"]
    'completed'
    >>> client.close()

The heavy parts (Tornado, OpenCV, ipywidgets) load on first use, so ``import realtime_nb`` and
the pure modules (protocol, state, delivery) stay cheap.
"""

from __future__ import annotations

import importlib
import logging
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# A library does not print its logs unless the application configures logging.
logging.getLogger(__name__).addHandler(logging.NullHandler())

if TYPE_CHECKING:
    from realtime_nb.core.protocol import PluginMetadata
    from realtime_nb.notebook.client import ApiError, Job, RealtimeClient
    from realtime_nb.notebook.experiment import Run
    from realtime_nb.notebook.widgets import RealtimeOverlay
    from realtime_nb.session import connect, embedded_server, track
    from realtime_nb.vision.plugins import Plugin, PluginContext, register_plugin
    from realtime_nb.vision.synthetic import synthetic_match

_LAZY = {
    "ApiError": "realtime_nb.notebook.client",
    "Job": "realtime_nb.notebook.client",
    "RealtimeClient": "realtime_nb.notebook.client",
    "connect": "realtime_nb.session",
    "embedded_server": "realtime_nb.session",
    "Plugin": "realtime_nb.plugins",
    "PluginContext": "realtime_nb.plugins",
    "register_plugin": "realtime_nb.plugins",
    "PluginMetadata": "realtime_nb.core.protocol",
    "synthetic_match": "realtime_nb.vision.synthetic",
    "RealtimeOverlay": "realtime_nb.notebook.widgets",
    "Run": "realtime_nb.notebook.experiment",
    "track": "realtime_nb.session",
}

__all__ = [
    "ApiError",
    "Job",
    "Plugin",
    "PluginContext",
    "PluginMetadata",
    "RealtimeClient",
    "RealtimeOverlay",
    "Run",
    "__version__",
    "connect",
    "embedded_server",
    "register_plugin",
    "synthetic_match",
    "track",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'realtime_nb' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
