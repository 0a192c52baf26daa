"""The server process: the Tornado app (REST + WebSocket), the hub, jobs and the store.

- :mod:`~realtime_nb.server.app`: handlers, auth, :class:`ServerConfig`, the embedded server.
- :mod:`~realtime_nb.server.hub`: subscriptions, replay, one writer per connection.
- :mod:`~realtime_nb.server.jobs`: the job manager: queue, lifecycle; each job's channel
  assigns its ``seq`` and queues results for the store.
- :mod:`~realtime_nb.server.store`: SQLite (WAL), one writer thread, batched.

The server never imports :mod:`realtime_nb.notebook`. See ``docs/architecture.md``.
"""
