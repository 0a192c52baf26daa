"""Synthetic football clips with ground truth, so the football plugins are measured, not assumed.

A broadcast-like camera (a pinhole at the side of the pitch, panning slowly) looks at a 105 x 68 m
pitch drawn once in pitch coordinates and warped into each frame. Two teams, their goalkeepers and
a referee move smoothly; a ball is passed between players along straight lines. Everything is a
closed-form function of time, so any frame (and its truth) can be computed on its own, in any
order, and a clip is never held in memory.

The look is randomisable (domain randomisation) so the plugins can be measured on footage unlike
what they were tuned on: camera height, distance and field of view, kits of any colour, skin
tones and hair, penalty and centre spots, line width and wear, grass stripes and texture,
shadows, motion blur and JPEG compression (see :func:`synthetic_match`). Every such knob
defaults to the classic look, whose frames are unchanged.

The parts: ``params`` (the knobs and their bounds), ``camera`` (pitch geometry and projection),
``cast`` (everyone's motion and the ball's passes), ``render`` (drawing), ``truth`` (what a
frame shows) and ``match`` (:class:`SyntheticMatch`, which puts them together).

Example:
    >>> clip = synthetic_match(seconds=2, fps=25, seed=3)
    >>> len(clip), clip.info.width
    (50, 640)
    >>> frame = clip.frame(0)
    >>> truth = clip.truth[0]
    >>> truth.players[0].role in ("player", "goalkeeper", "referee")
    True
"""

from __future__ import annotations

# PITCH_LENGTH, PITCH_WIDTH, Param and Role are re-exported (``as``) though not in __all__:
# the single-file module had them at its top level.
from realtime_nb.vision.synthetic.camera import PITCH_LENGTH as PITCH_LENGTH
from realtime_nb.vision.synthetic.camera import PITCH_WIDTH as PITCH_WIDTH
from realtime_nb.vision.synthetic.match import SyntheticMatch, synthetic_match
from realtime_nb.vision.synthetic.params import (
    SYNTHETIC_DEFAULTS,
    SyntheticParamError,
    check_synthetic_params,
)
from realtime_nb.vision.synthetic.params import Param as Param
from realtime_nb.vision.synthetic.truth import BallTruth, FrameTruth, PlayerTruth, TruthTrack
from realtime_nb.vision.synthetic.truth import Role as Role

__all__ = [
    "SYNTHETIC_DEFAULTS",
    "BallTruth",
    "FrameTruth",
    "PlayerTruth",
    "SyntheticMatch",
    "SyntheticParamError",
    "TruthTrack",
    "check_synthetic_params",
    "synthetic_match",
]
