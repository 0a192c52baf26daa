"""What runs a job: plugins over frames, and the executors that host that work.

- :mod:`~realtime_nb.worker.runner`: :class:`ToolRunner`, one job's plugins over its frames,
  emitting metadata, plugin_status, frame, progress, warning and error payloads.
- :mod:`~realtime_nb.worker.executors`: where a job runs: a worker process of its own (the
  default) or a thread of the server, and the supervision of that worker.

See ``docs/architecture.md``.
"""
