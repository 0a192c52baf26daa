"""The pure core, shared by every process: no sockets, threads, files, OpenCV or widgets.

- :mod:`~realtime_nb.core.protocol`: message structs, encode/decode, the published schema.
- :mod:`~realtime_nb.core.state`: the client's reducer, ``reduce(state, action) -> state``.
- :mod:`~realtime_nb.core.delivery`: the per-connection outbox and the per-job replay log.
- :mod:`~realtime_nb.core.connection`: the client's connection lifecycle as a state machine.
- :mod:`~realtime_nb.core.frame`: :class:`Frame` and :class:`VideoInfo`, what plugins see.
- :mod:`~realtime_nb.core.geometry`: box arithmetic (IoU) shared by plugins and evaluation.

Everything here is tested without sockets. See ``docs/architecture.md``.
"""
