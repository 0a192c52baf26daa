"""A broadcast-like football match renderer with ground truth, independent of the synthetic one.

This renderer was written apart from :mod:`realtime_nb.vision.synthetic`, without reading it,
so that the football plugins (tuned on that generator's frames) can be scored on frames their
own generator did not make. It shares only the truth types
(:class:`~realtime_nb.vision.synthetic.truth.FrameTruth` and friends) so that the same scoring
applies.

What it draws: a pitch ray-cast per pixel (mowing stripes along x, y or diagonal, grass
texture, an optional roof shadow, FIFA markings anti-aliased over each pixel's ground
footprint), advertising boards along the far touchline and behind the goals, a wall and a
sloping crowd stand, goals with nets; 22 players, two keepers and a referee as 3-D capsule
bodies in kits (striped socks, skin tones, hair, long-sleeved keepers) running with a stride
cycle and casting ground shadows; a patched ball that is dribbled, passed and sometimes lofted.
A pinhole camera high on the near side follows the smoothed ball with a slow zoom; each frame
is then blurred, given noise and passed through JPEG. The truth gives people's boxes, the
ball (or the ball covered by a person in front), the visible pitch corners and the exact
pitch-to-image homography.

Known limits: the boards are crisp, saturated blocks with large lettering, and the text on the
end board behind the right goal reads mirrored; the ball is rarely hidden (only when a person
drawn in front covers its centre); there are no camera cuts, replays, graphics overlays or
close-ups, one camera only; play is a simple agent model (no set pieces, no tackles, no
crowding in the boxes); people have no faces or numbers and limbs are capsules. A clip's
camera spot is drawn after its play, so clips of different lengths are filmed from slightly
different spots.

Example:
    >>> clip = Clip(ClipConfig(seed=3, width=160, height=90, frames=2))
    >>> frame, truth = clip.render(0)
    >>> frame.shape
    (90, 160, 3)
"""

from __future__ import annotations

from realtime_nb.vision.broadcast.clip import Clip, draw_truth
from realtime_nb.vision.broadcast.match import (
    BROADCAST_CLIPS,
    BroadcastMatch,
    TuningClipError,
    broadcast_match,
    check_tuning_clip,
    tuning_match,
)
from realtime_nb.vision.broadcast.scene import (
    FPS,
    KITS,
    PITCH_LENGTH,
    PITCH_WIDTH,
    Camera,
    ClipConfig,
)

__all__ = [
    "BROADCAST_CLIPS",
    "FPS",
    "KITS",
    "PITCH_LENGTH",
    "PITCH_WIDTH",
    "BroadcastMatch",
    "Camera",
    "Clip",
    "ClipConfig",
    "TuningClipError",
    "broadcast_match",
    "check_tuning_clip",
    "draw_truth",
    "tuning_match",
]
