"""What runs a job: plugins over frames, and the executors that host that work.

- :mod:`~realtime_nb.worker.runner`: :class:`ToolRunner`, one job's plugins over its frames,
  emitting metadata, plugin_status, frame, progress, warning and error payloads.

See ``docs/architecture.md``.
"""
