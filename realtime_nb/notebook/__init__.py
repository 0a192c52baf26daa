"""The notebook kernel's side: the client, its REST calls, the render clock, the widgets, and
the producer side of experiments.

- :mod:`~realtime_nb.notebook.client_core`: the client without sockets or threads (decode,
  reduce, seq and versions, the resync buffer).
- :mod:`~realtime_nb.notebook.client`: :class:`RealtimeClient`, the thread and socket glue,
  and :class:`Job`.
- :mod:`~realtime_nb.notebook.rest`: REST calls and :class:`ApiError`.
- :mod:`~realtime_nb.notebook.render`: the render clock and the per-process widget budget.
- :mod:`~realtime_nb.notebook.frames`: previewed frames kept per job, and drawing on them.
- :mod:`~realtime_nb.notebook.widgets`: :class:`RealtimeOverlay` and its parts.
- :mod:`~realtime_nb.notebook.report`: the static HTML report.
- :mod:`~realtime_nb.notebook.view`: formatting shared by the widgets and the report.
- :mod:`~realtime_nb.notebook.experiment`: :class:`Run` (``client.experiment``) and ``track``.
- :mod:`~realtime_nb.notebook.run_sender`: a run's buffer and the thread that sends it.
- :mod:`~realtime_nb.notebook.charts`: inline SVG line charts.
- :mod:`~realtime_nb.notebook.runs`: the runs table (``client.runs()``).

The notebook never imports :mod:`realtime_nb.server`; only :mod:`realtime_nb.session` starts an
embedded server. See ``docs/architecture.md``.
"""
