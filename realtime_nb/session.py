"""``realtime_nb.connect()`` lives here: a client for a running server, or for the embedded one.

The module is not called ``connect`` on purpose: a submodule of that name would shadow the
``realtime_nb.connect`` function once anything imported it.
"""

from __future__ import annotations

import atexit
import os
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from realtime_nb.notebook.client import RealtimeClient
from realtime_nb.notebook.experiment import Tracked
from realtime_nb.notebook.frames import DEFAULT_MAX_FRAMES
from realtime_nb.server.app import EmbeddedServer, ServerConfig

__all__ = ["connect", "embedded_server", "track"]

_embedded: EmbeddedServer | None = None
_lock = threading.Lock()


def embedded_server(data_dir: str | Path | None = None) -> EmbeddedServer:
    """The process-wide embedded server (127.0.0.1, random port, random token), started once.

    Args:
        data_dir: Where its store lives; default ``$REALTIME_NB_DATA_DIR`` or
            ``~/.local/share/realtime_nb``. Only the first call's value counts.
    """
    global _embedded
    with _lock:
        if _embedded is None:
            config = ServerConfig(host="127.0.0.1", port=0)
            if data_dir is not None:
                config.data_dir = Path(data_dir)
            _embedded = EmbeddedServer(config).start()
            atexit.register(_embedded.stop)
        return _embedded


def connect(
    url: str | None = None,
    token: str | None = None,
    *,
    render_hz: float = 10.0,
    max_frames: int = DEFAULT_MAX_FRAMES,
) -> RealtimeClient:
    """Connect to a realtime_nb server and return a started :class:`RealtimeClient`.

    Args:
        url: ``http://host:port`` of a running server; default ``$REALTIME_NB_URL``; when
            neither is set, the embedded server is started.
        token: The server's token (default: ``$REALTIME_NB_TOKEN``).
        render_hz: Overlay refresh rate (at most 30).
        max_frames: Previewed frames kept per job for the frame viewer's scrubber.

    Raises:
        ConnectionError: The server could not be reached.
        ValueError: A URL without a token.
    """
    url = url or os.environ.get("REALTIME_NB_URL") or None
    if url is None:
        server = embedded_server()
        url, token = server.url, server.token
    token = token or os.environ.get("REALTIME_NB_TOKEN")
    if not token:
        raise ValueError("a token is needed: pass token=... or set REALTIME_NB_TOKEN")
    return RealtimeClient(url, token, render_hz=render_hz, max_frames=max_frames).start()


def track(
    iterable: Iterable[Any],
    client: RealtimeClient | None = None,
    name: str = "track",
    total: int | None = None,
    config: Mapping[str, Any] | None = None,
) -> Tracked:
    """Wrap an iterable like ``tqdm``: each item counts one step of an experiment's progress.

    Args:
        iterable: What to iterate over.
        client: The client to report through (default: a new ``rt.connect()``, closed when
            the iteration ends).
        name: The experiment's name.
        total: Items to expect (default ``len(iterable)`` when it has one).
        config: Stored with the experiment.

    Example:
        >>> import realtime_nb as rt
        >>> [x * x for x in rt.track(range(4), name="squares")]
        [0, 1, 4, 9]
    """
    return Tracked(iterable, client, name, total, config, connect if client is None else None)
