"""Video and what looks at it: video I/O, plugins, the synthetic match and its evaluation.

- :mod:`~realtime_nb.vision.video`: frame sources (files, synthetic) and their confinement;
  :mod:`~realtime_nb.vision.video_writer`: video files and JPEG previews written out.
- :mod:`~realtime_nb.vision.plugins`: the plugin API, the registry and the built-in plugins.
- :mod:`~realtime_nb.vision.synthetic`: a synthetic football match with ground truth.
- :mod:`~realtime_nb.vision.evaluation`: scores the football plugins against that truth.

Used by the worker (to run jobs), the server (the plugin registry, source checks) and the
notebook (to draw results). See
``docs/architecture.md``.
"""
