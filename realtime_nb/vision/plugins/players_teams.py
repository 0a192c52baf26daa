"""Teams and roles from jersey colours, for player_detection.

The two team colours are the densest jersey colours of the first frames (in Lab, lightness
counting half; two kits nearer each other than twice a team's radius are also looked for, and
taken when the second colour found is only a goalkeeper's and they explain the jerseys far
better, or when it is a diffuse spread of off-colour readings where they are dense), learnt
again on every second later frame that misses a team (more jerseys off both colours than a
match has goalkeepers) if that explains the frame and gathers the jerseys no less tightly than
the colours before; a jersey far from both is a referee when dark and grey, else a goalkeeper,
unless a larger player's lies on a team's line away from the grass's hue (that team's colour
learnt from its far players' washed jerseys), and a frame keeps at most two goalkeepers. A
jersey is compared with each team's colour as it looks blended with some of the grass (a far
player's few pixels take in the grass around them), or as clean as it would be were the team's
colour learnt from such blended jerseys, or, on a small player, as its shirt takes the grass's
hue alone under JPEG; and the second team's colour is never the first's blended with the
grass, nor the first the second's. The teams' ids follow the players' tracks: a refit that
gave each team the other's id is swapped back. Where both teams wear one shirt (one shirt colour
gathers nearly every jersey while the shorts split in two), the team is read from the shorts.
"""

from __future__ import annotations

import math
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from realtime_nb.vision.plugins.arrays import clip
from realtime_nb.vision.plugins.base import Frame
from realtime_nb.vision.plugins.players_tracks import Verdict

__all__ = [
    "BLENDED",
    "CLASH_SHARE",
    "CUT_SHARE",
    "GATHERED_WITHIN",
    "KEEPERS",
    "OFF_COLOUR",
    "OFF_THE_MIX",
    "PURER",
    "REFIT_EVERY",
    "SHIRT_ROWS",
    "SHORTS_ROWS",
    "SMALL_BOX",
    "SMALL_SHIRT_END",
    "SPLIT_SHARE",
    "SWAPPED_AT_LEAST",
    "UNLIKE_GRASS",
    "UNWASHED",
    "WASHED_BOX",
    "Labels",
    "TeamModel",
    "at_most_two_keepers",
    "blend_distances",
    "jersey_colour",
    "kit_cue",
    "lab_features",
    "person_rows",
    "share_near",
    "shorts_colour",
    "unwashed_distances",
]

Labels = npt.NDArray[np.integer[Any]]
"""A label image: the blob each pixel belongs to, 0 for none."""

SHIRT_ROWS = (0.18, 0.45)
"""The rows of a person's box a jersey is read from, as shares of its height from the top: below
the head and neck, and above the shorts, whose waistband is at about 0.45 of a person's height
from the top of the head (0.55 above the soles). On a far player, blur spreads white shorts a
row higher, and a row of them in a shirt of four or five, with an arm beside it, can outvote
the shirt. A box under :data:`SMALL_BOX` rows is read down to :data:`SMALL_SHIRT_END`."""
SMALL_BOX = 16
"""Rows under which a box's jersey is read down to :data:`SMALL_SHIRT_END` of its height: a
row is then over 6 % of the height, and ending the read at 0.45 would drop one of the shirt's
three or four rows (a quarter of them on a 12-row box) for the part of a row of shorts it
leaves out; the few pixels left let the neck and one stray reading spread a team's colour."""
SMALL_SHIRT_END = 0.48
"""Where a small box's jersey rows end (:data:`SMALL_BOX`), as a share of its height."""
WASHED_BOX = 16
"""Rows under which a person's box is small enough for its jersey to have taken the grass's
hue under compression (:func:`blend_distances`' ``washed``): its shirt, about a quarter of its
height wide, is then under 4 px across, a quarter of JPEG's 16 px block of colour. Chosen on
tuning looks: 320x180 to 392x221 with JPEG 40 to 60 gained as much with 24 rows, which took
broadcast-like tuning clips' wrong team readings from 644 to 666 (16 rows: 645)."""
UNLIKE_GRASS = 40.0
"""How far (BGR units) a pixel must be from the grass's colour to be clearly unlike it
(:func:`jersey_colour`)."""


def jersey_colour(
    frame: Frame,
    labels: Labels,
    box: list[int],
    label: int,
    grass: npt.NDArray[np.floating[Any]],
    tall: float | None = None,
) -> list[int]:
    """Median BGR of the blob's upper body (rows :data:`SHIRT_ROWS` of the box, or to
    :data:`SMALL_SHIRT_END` on a small one: below the head, above the shorts; between the arms;
    of a box the frame's top or bottom edge cuts, the rows of a whole person ``tall`` rows high
    standing at its feet or hanging from its head, :func:`person_rows`, small or not by that
    person's height, those outside the frame left out; when none of them is in the frame, the
    box's own rows, as without ``tall``),
    over its pixels clearly unlike the grass (:data:`UNLIKE_GRASS` BGR units away, in float32) when
    they are at least half of them, else over all of them; when fewer than two are left, over those
    at least three quarters as far from the grass as the furthest. A small player's edge pixels are
    half grass, and are left out; but when most of the shirt is that close to the grass, the kit
    itself is (a dark green shirt on olive grass, which blur and JPEG turn into the grass darkened),
    and the few pixels unlike the grass are the arms, skin and white shorts beside it, which would
    read as another team. ``grass``: its BGR, best as float32 already (made once a frame, not once a
    box)."""
    x1, y1, x2, y2 = box
    bw = x2 - x1 + 1
    head, feet = person_rows(box, frame.shape[0], tall)
    top, bottom = _shirt_rows(head, feet)
    top, bottom = max(top, 0), min(bottom, frame.shape[0])
    if bottom <= top:  # the shirt is out of view: the box's own rows, as for any box
        top, bottom = _shirt_rows(y1, y2)
    left, right = x1 + round(0.2 * bw), x2 + 1 - round(0.2 * bw)
    if right - left < 1:
        left, right = x1, x2 + 1
    # When the blob covers less than half of that, pixels of no blob count too: a pale shirt
    # looks like line paint and is left out of the blob. The grass among them is left out
    # below with the grass-blended pixels, unless those are over half.
    region = labels[top:bottom, left:right]
    own = region == label
    pixels = frame[top:bottom, left:right][
        own if 2 * np.count_nonzero(own) >= own.size else own | (region == 0)
    ]
    if len(pixels) == 0:
        pixels = frame[y1 : y2 + 1, x1 : x2 + 1][labels[y1 : y2 + 1, x1 : x2 + 1] == label]
    return _kit_median(pixels, grass)


def _kit_median(pixels: npt.NDArray[np.uint8], grass: npt.NDArray[np.floating[Any]]) -> list[int]:
    """Median BGR of a kit's ``pixels`` (at least one), those clearly unlike the ``grass``
    (:data:`UNLIKE_GRASS`) when they are at least half, else all; when fewer than two are left,
    those at least three quarters as far from the grass as the furthest (:func:`jersey_colour`)."""
    offset = pixels - np.asarray(grass, np.float32)
    away = np.einsum("ij,ij->i", offset, offset)  # squared distances
    # Grass-blended edge pixels out, but not "the half least like grass": a pale arm or face
    # is further from the grass than a dark shirt and would win.
    unlike = away >= UNLIKE_GRASS**2
    keep = pixels[unlike] if 2 * np.count_nonzero(unlike) >= len(pixels) else pixels
    if len(keep) < 2:
        keep = pixels[away >= away.max() * 0.75**2]
    return _median(keep)


SHORTS_ROWS = (0.50, 0.64)
"""The rows of a person a pair of shorts is read from, as shares of the person's height from
the top of the head (the waistband at about 0.45, the knees at about 0.72)."""


def shorts_colour(
    frame: Frame,
    box: list[int],
    grass: npt.NDArray[np.floating[Any]],
    tall: float | None = None,
) -> list[int] | None:
    """Median BGR of the shorts of the person whose box is ``box`` (``[x1, y1, x2, y2]``,
    inclusive), a lone person being ``tall`` rows high at its feet: rows :data:`SHORTS_ROWS` of a
    person standing at the box's bottom (of the box itself without ``tall``, or when it is
    taller), over the middle half of its columns, every pixel there (the blob may have left
    out shorts that look like the grass), chosen as :func:`jersey_colour` chooses a shirt's. A
    box the frame's bottom edge cuts is read as if its bottom were the feet.
    None when those rows are out of the frame or under one row."""
    x1, y1, x2, y2 = box
    height = y2 - y1 + 1
    if tall is not None and 0 < tall < math.inf:
        height = max(height, round(tall))
    head = y2 + 1 - height
    top = max(head + round(SHORTS_ROWS[0] * height), 0)
    bottom = min(head + round(SHORTS_ROWS[1] * height), frame.shape[0])
    bw = x2 - x1 + 1
    left, right = x1 + bw // 4, x2 + 1 - bw // 4
    if right - left < 1:
        left, right = x1, x2 + 1
    if bottom <= top:
        return None
    pixels = frame[top:bottom, max(left, 0) : right].reshape(-1, 3)
    if len(pixels) == 0:
        return None
    return _kit_median(pixels.copy(), grass)


CLASH_SHARE = 0.85
"""Share of the learnt shirts within a team colour's reach that one of the two must gather to
say both teams wear one shirt (:func:`kit_cue`): the other colour is then a goalkeeper's or a
referee's, not a team's. Two teams in view gather about half each."""
SPLIT_SHARE = 0.2
"""Share of the learnt shorts within a colour's reach that each of their two colours must
gather for the shorts to tell the teams apart (:func:`kit_cue`)."""


def kit_cue(shirts: dict[str, Any], shorts: dict[str, Any]) -> str:
    """Which part of the kit tells the teams apart, from a :class:`TeamModel`'s state learnt from
    the shirts (``shirts``) and one learnt from the shorts (``shorts``) over the same warm-up
    (on some of its frames): ``"shorts"`` when, of the shirts within either colour's reach, one
    colour gathers :data:`CLASH_SHARE` or more (both teams wear one shirt), while, of the
    shorts within either colour's reach, each colour gathers :data:`SPLIT_SHARE` or more and
    the two are more than twice :attr:`TeamModel.radius` apart; else ``"shirts"``."""
    shirt_shares = _gathered(shirts)
    shorts_shares = _gathered(shorts)
    if shirt_shares is None or shorts_shares is None or max(shirt_shares) < CLASH_SHARE:
        return "shirts"
    centres = np.asarray(shorts["team_centres"], np.float64)
    apart = float(np.linalg.norm(centres[0] - centres[1]))
    if min(shorts_shares) >= SPLIT_SHARE and apart > 2 * TeamModel.radius:
        return "shorts"
    return "shirts"


def _gathered(state: dict[str, Any]) -> tuple[float, float] | None:
    """Of a :class:`TeamModel` state's kept samples within a team colour's reach (of the
    colour they are nearer), the share of each colour; None before the colours are learnt or
    with no sample within reach."""
    centres, reaches = state.get("team_centres"), state.get("team_reach")
    samples = state.get("team_samples")
    if not centres or not reaches or not samples:
        return None
    features = np.asarray(samples, np.float64)[:, :3]
    near = _pairwise(features, np.asarray(centres, np.float64))
    owner = np.argmin(near, axis=1)
    counts = [int(np.count_nonzero((owner == k) & (near[:, k] <= reaches[k]))) for k in (0, 1)]
    total = counts[0] + counts[1]
    if not total:
        return None
    return counts[0] / total, counts[1] / total


CUT_SHARE = 0.8
"""Share of a lone person's height under which a box the frame's edge cuts is read as part of a
whole person (:func:`person_rows`). Under it the box's own rows :data:`SHIRT_ROWS` start below a
third of the person's height, half of them on the shorts; a box cut by less still shows the
shirt there. A person's height through the homography can be a tenth more than the box of one
seen whole (a near camera 12 m up: 47.5 rows for a 43-row player whose hair the top edge cut,
a 41-row box, 0.86 of that), so such a box is near whole. On tuning clips 0.8, 0.9 and any
cut box (1.0) read the close cameras alike; broadcast tuning clips 300 to 329 had 867, 871 and
868 wrong team readings (867 before)."""


def _shirt_rows(head: int, feet: int) -> tuple[int, int]:
    """The image rows (first, and one past the last) a jersey is read from, of a person whose
    rows are ``head`` to ``feet`` (inclusive): :data:`SHIRT_ROWS` of the height, or to
    :data:`SMALL_SHIRT_END` under :data:`SMALL_BOX` rows; at least one row."""
    rows = feet - head + 1
    first, last = SHIRT_ROWS[0], SHIRT_ROWS[1] if rows >= SMALL_BOX else SMALL_SHIRT_END
    return head + round(first * rows), head + max(round(last * rows), round(first * rows) + 1)


def person_rows(box: list[int], rows: int, tall: float | None) -> tuple[int, int]:
    """The first and last image rows of the whole person whose box is ``box`` (``[x1, y1, x2,
    y2]``, inclusive) in a frame of ``rows`` rows, a lone person being ``tall`` rows high at its
    feet: the box's own, unless the frame's top edge cuts it (its top on row 0), when the person
    stands at its bottom and its head is above the frame (a negative row), or the bottom edge
    does (its bottom on the last row), when the person's feet are below the frame; either only
    when the box is shorter than :data:`CUT_SHARE` of ``tall``. (For a box the bottom edge
    cuts, the caller's ``tall`` is a person's height at the frame's last row, a little less
    than at the feet below it.) A near camera cuts its nearest and furthest players: a jersey
    read from the rows :data:`SHIRT_ROWS` of such a box reads the shorts (cut at the top) or
    the neck (cut at the bottom).

    Example:
        >>> person_rows([10, 0, 13, 23], 360, 45.0)  # cut by the top: the head is off view
        (-21, 23)
        >>> person_rows([10, 330, 13, 359], 360, 45.0)  # cut by the bottom
        (330, 374)
        >>> person_rows([10, 0, 13, 23], 360, None), person_rows([10, 5, 13, 28], 360, 45.0)
        ((0, 23), (5, 28))
    """
    _, y1, _, y2 = box
    if tall is None or not 0 < tall < math.inf or y2 - y1 + 1 >= CUT_SHARE * tall:
        return y1, y2
    whole = round(tall)
    if y1 <= 0:
        return y2 + 1 - whole, y2
    if y2 >= rows - 1:
        return y1, y1 + whole - 1
    return y1, y2


def _median(pixels: npt.NDArray[np.uint8]) -> list[int]:
    """Per channel, the median of ``pixels`` (the mean of the middle two of an even count)
    rounded down: ``np.median(pixels, axis=0)``'s, at a third of its cost on a few pixels.
    ``pixels`` is sorted in place (each channel on its own)."""
    pixels.sort(axis=0)
    ordered = pixels
    middle = len(ordered) // 2
    if len(ordered) % 2:
        odd: list[int] = ordered[middle].tolist()
        return odd
    # Halved and rounded down in Python's integers: the same as in floats, for less.
    below, above = ordered[middle - 1].tolist(), ordered[middle].tolist()
    return [(a + b) // 2 for a, b in zip(below, above, strict=True)]


def lab_features(colours: list[list[int]]) -> npt.NDArray[np.float64]:
    """(L/2, a, b) per colour: lightness counts half so shade matters less than hue."""
    if not colours:
        return np.zeros((0, 3))
    lab = cv2.cvtColor(np.asarray(colours, np.uint8).reshape(-1, 1, 3), cv2.COLOR_BGR2LAB)
    features = lab.reshape(-1, 3).astype(np.float64) - (0.0, 128.0, 128.0)
    features[:, 0] *= 0.5
    return features


class TeamModel:
    """Team jersey colours kept in the plugin's state as plain lists."""

    radius = 18.0  # Lab units: one team's jerseys fall within this of its centre
    assign = 30.0

    def __init__(self, state: dict[str, Any]) -> None:
        self.state = state

    def learn(
        self,
        features: npt.NDArray[np.float64],
        colours: list[list[int]],
        grass: npt.NDArray[np.float64] | None = None,
        grass_colour: npt.NDArray[np.floating[Any]] | None = None,
    ) -> None:
        """Add one frame's jerseys and refit the two team centres (with the ``grass``'s
        feature, the second neither a blend of the first with the grass nor the first a blend
        of it; with the grass's BGR ``grass_colour`` too, a blend must also be one in BGR; it is
        not read without ``grass``: :func:`_fit_two_clusters`)."""
        self._add(features, colours)
        self.state["team_frames"] = self.state.get("team_frames", 0) + 1
        self._refit(grass, grass_colour)

    def _add(self, features: npt.NDArray[np.float64], colours: list[list[int]]) -> None:
        """Keep one frame's jerseys among the last 400."""
        samples = self.state.setdefault("team_samples", [])
        samples.extend([*f, *c] for f, c in zip(features.tolist(), colours, strict=True))
        del samples[:-400]

    def _refit(
        self,
        grass: npt.NDArray[np.float64] | None,
        grass_colour: npt.NDArray[np.floating[Any]] | None,
    ) -> None:
        """Fit the two team centres to the kept jerseys (:meth:`learn`; after :meth:`_add`)."""
        data = np.asarray(self.state["team_samples"], np.float64)
        fitted = _fit_two_clusters(data, self.radius, grass, grass_colour)
        if fitted is not None:
            centres, bgr = _keep_ids(fitted, self.state.get("team_centres"))
            self.state["team_centres"] = centres.tolist()
            self.state["team_bgr"] = [[int(v) for v in c] for c in bgr]
            self.state["team_reach"] = _reach(data[:, :3], centres, self.assign)

    def missing_a_team(
        self, readings: list[Verdict], features: npt.NDArray[np.float64] | None = None
    ) -> bool:
        """Whether a frame's ``readings`` (:meth:`read`'s) have :data:`OFF_COLOUR` or more
        goalkeepers, more than the two a match has: a team was out of view while the colours
        were learnt (or a blend of the other's took its place), and its players' jerseys are
        far from both colours. Given the jerseys' ``features``, also when two goalkeepers
        wear one colour (within :attr:`radius` of each other): the two goalkeepers' kits
        differ from each other's, so two such jerseys are a team's."""
        if _keepers(readings) >= OFF_COLOUR:
            return True
        return features is not None and self._keepers_alike(readings, features)

    def _keepers_alike(
        self,
        readings: list[Verdict],
        features: npt.NDArray[np.float64],
        known: frozenset[int] = frozenset(),
    ) -> bool:
        """Whether two goalkeepers of ``readings`` have jerseys (``features``) within
        :attr:`radius` of each other, a pair of two ``known`` jerseys (indices) left out."""
        keepers = _keeper_indices(readings)
        if len(keepers) < 2:
            return False
        near = _pairwise(features[keepers], features[keepers])
        return any(
            near[a, b] <= self.radius and not (keepers[a] in known and keepers[b] in known)
            for a in range(len(keepers))
            for b in range(a + 1, len(keepers))
        )

    def relearn(
        self,
        features: npt.NDArray[np.float64],
        colours: list[list[int]],
        readings: list[Verdict],
        grass: npt.NDArray[np.float64] | None = None,
        grass_colour: npt.NDArray[np.floating[Any]] | None = None,
        washed: npt.NDArray[np.bool_] | None = None,
    ) -> list[Verdict]:
        """Learn a frame's jerseys after the warm-up, whose ``readings`` say
        :meth:`missing_a_team`, and return them read again (``washed`` as :meth:`read`).

        The jerseys join the samples on every such frame, so that a team that came into view
        becomes a centre once it is as dense as the colour it replaces (it takes frames); the
        centres are refitted on the first such frame and every :data:`REFIT_EVERY` after it
        (the 1st, 3rd, 5th, ... of the job), else the ``readings`` are returned as they are.
        The refitted centres are kept only if they explain the frame: no more goalkeepers in
        it than a match has, no two of them of one colour that were not so before
        (:meth:`missing_a_team`), and fewer than before by more than the players they move (to
        the other team, or off both colours; a player turned goalkeeper counts both ways); and
        only if they gather the kept jerseys (this frame's among them) no less tightly than the
        centres before: at least as large a share within :data:`GATHERED_WITHIN` of
        :attr:`radius` of the nearer centre (:func:`share_near`). A centre fitted between two
        close kits takes in both within its reach and so explains a frame, but gathers
        neither, and later frames can read both teams as one.
        Any other refit (footage whose jersey readings wander, under a roof's shadow or with
        two kits a blend apart) would only trade one team's id for another's from frame to
        frame; the centres before stay."""
        self._add(features, colours)
        misses = self.state.get("team_misses", 0)
        self.state["team_misses"] = misses + 1
        if misses % REFIT_EVERY:
            return readings
        before = {k: self.state[k] for k in _FITTED if k in self.state}
        self._refit(grass, grass_colour)
        again = self.read(features, grass, washed)
        moved = sum(
            a[0] == "player" and a[:2] != b[:2] for a, b in zip(readings, again, strict=True)
        )
        # Two alike goalkeepers that were both goalkeepers before (so alike then too) do not
        # count against the refit: a referee and an assistant share a kit, and would keep any
        # refit out while in view. A pair the refit made does.
        keepers_before = frozenset(_keeper_indices(readings))
        alike = self._keepers_alike(again, features, keepers_before)
        if (
            _keepers(again) < OFF_COLOUR
            and not alike
            and _keepers(again) + moved < _keepers(readings)
            and self._gathers_as_tightly(before.get("team_centres"))
        ):
            return again
        for key in _FITTED:
            if key in before:
                self.state[key] = before[key]
            else:
                self.state.pop(key, None)
        return readings

    def _gathers_as_tightly(self, centres_before: list[list[float]] | None) -> bool:
        """Whether the team centres now gather at least as large a share of the kept jerseys
        within :data:`GATHERED_WITHIN` of :attr:`radius` as ``centres_before`` did."""
        kept = np.asarray(self.state.get("team_samples") or np.zeros((0, 3)), np.float64)
        kept_features = kept[:, :3]
        within = GATHERED_WITHIN * self.radius
        now = share_near(kept_features, self.state.get("team_centres"), within)
        return now >= share_near(kept_features, centres_before, within)

    def follow_tracks(
        self,
        readings: list[Verdict],
        tracked: list[int | None],
        features: npt.NDArray[np.float64],
        grass: npt.NDArray[np.float64] | None = None,
        washed: npt.NDArray[np.bool_] | None = None,
    ) -> list[Verdict]:
        """``readings`` (:meth:`read`'s of ``features``), or, when at least
        :data:`SWAPPED_AT_LEAST` of them give the other team than their box's track has voted
        for (``tracked``, :func:`~realtime_nb.vision.plugins.players_tracks.track_teams`) and
        more do so than agree, the two teams' ids swapped back and the jerseys read again.

        While the colours are learnt a centre can wander from one team's jerseys to a blend of
        the other's (a kit whose small players JPEG washes grey) and a later fit then finds each
        team nearer the other's old place: every player would change team at once. The
        players' tracks remember which id each team had."""
        same = sum(q is not None and r[1] == q for r, q in zip(readings, tracked, strict=True))
        other = sum(q is not None and r[1] == 1 - q for r, q in zip(readings, tracked, strict=True))
        if other < SWAPPED_AT_LEAST or other <= same:
            return readings
        for key in _FITTED:
            if key in self.state:
                self.state[key] = self.state[key][::-1]
        return self.read(features, grass, washed)

    def classify(
        self, feature: npt.NDArray[np.float64], grass: npt.NDArray[np.float64] | None = None
    ) -> Verdict:
        """Role, team and confidence of one jersey feature (the grass's feature ``grass``,
        when given, blended in: :func:`blend_distances`)."""
        return self.read(feature[None, :], grass)[0]

    def read(
        self,
        features: npt.NDArray[np.float64],
        grass: npt.NDArray[np.float64] | None = None,
        washed: npt.NDArray[np.bool_] | None = None,
    ) -> list[Verdict]:
        """Role, team and confidence of each jersey feature (one a row), as :meth:`classify`;
        a row ``washed`` marks (a small player's jersey) may also have taken the grass's hue
        alone (:func:`blend_distances`). With ``washed`` and the ``grass``, a larger player's
        jersey read as a goalkeeper's (off both colours, and not a referee's dark grey) is also
        read against each team's line away from the grass's hue (:func:`unwashed_distances`):
        within the team's reach, it is that team's player at confidence 0.6."""
        centres = self.state.get("team_centres")
        if not centres:
            return [("player", None, 0.5)] * len(features)
        reaches = self.state.get("team_reach") or [self.assign] * 2
        lab_centres = np.asarray(centres, np.float64)
        table = blend_distances(lab_centres, features, grass, washed)
        verdicts = [
            self._verdict(feature, distances.tolist(), reaches)
            for feature, distances in zip(features, table, strict=True)
        ]
        if grass is None or washed is None:
            return verdicts
        # A larger player off both colours (not the referee's dark grey) may wear the kit whose
        # washed far players the centre was learnt from.
        off = [i for i, v in enumerate(verdicts) if v[0] == "goalkeeper" and not washed[i]]
        if off:
            unwashed = unwashed_distances(lab_centres, features[off], grass)
            for i, distances in zip(off, unwashed.tolist(), strict=True):
                team = 0 if distances[0] <= distances[1] else 1
                if distances[team] <= reaches[team]:
                    verdicts[i] = ("player", team, 0.6)
        return verdicts

    @staticmethod
    def _verdict(
        feature: npt.NDArray[np.float64], distances: list[float], reaches: list[float]
    ) -> Verdict:
        """Role, team and confidence of a jersey ``feature`` at ``distances`` from the two
        teams, whose jerseys reach as far as ``reaches``."""
        team = 0 if distances[0] <= distances[1] else 1
        reach = float(reaches[team])
        if distances[team] <= reach:
            return "player", team, 0.6 + 0.39 * (1 - distances[team] / reach)
        if distances[team] <= 2 * reach and distances[team] < 0.4 * distances[1 - team]:
            # Off its team's colour (a far, small player blends with the grass) but still far
            # nearer one team than the other.
            return "player", team, 0.6
        lightness, chroma = feature[0] * 2 / 2.55, math.hypot(feature[1], feature[2])
        if lightness < 25 and chroma < 20:
            return "referee", None, 0.7
        return "goalkeeper", None, 0.6


KEEPERS = 2
"""Goalkeepers a frame may have: a match has one at each goal (:func:`at_most_two_keepers`)."""
OFF_COLOUR = KEEPERS + 1
"""Jerseys off both team colours in one frame that say a team's colour is missing
(:meth:`TeamModel.missing_a_team`): more than the :data:`KEEPERS` a match has."""
REFIT_EVERY = 2
"""Of the frames that miss a team (:meth:`TeamModel.missing_a_team`; counted over the whole
job), the centres are refitted on the first and every second after it, half of them: a refit
costs about a fifth of player_detection's time on a frame, and footage whose jerseys wander
can ask on most frames. Their jerseys are kept on every one."""
_FITTED = ("team_centres", "team_bgr", "team_reach")
SWAPPED_AT_LEAST = 3
"""Players of one frame reading the other team than their track has voted for, at least, for
:meth:`TeamModel.follow_tracks` to swap the teams' ids back: more than the one or two far
players a washed frame misreads."""


GATHERED_WITHIN = 0.5
"""The distance, as a fraction of :attr:`TeamModel.radius`, within which a kept jersey counts as
gathered by its nearer team centre when a refit is weighed against the centres before
(:meth:`TeamModel.relearn`). A centre fitted between two close kits some 30 Lab units apart
lies some 15 from each: within the radius (18) and the team's reach, so it explains the frame,
but not within half the radius."""


def share_near(
    features: npt.NDArray[np.float64], centres: list[list[float]] | None, within: float
) -> float:
    """The share of jersey ``features`` (one a row, as :func:`lab_features`) within ``within``
    of the nearest of the team ``centres``; 0 without centres or features."""
    if centres is None or len(centres) == 0 or len(features) == 0:
        return 0.0
    near = _pairwise(features, np.asarray(centres, np.float64)).min(axis=1)
    return float(np.count_nonzero(near <= within)) / len(features)


def _keepers(readings: list[Verdict]) -> int:
    """How many of ``readings`` are goalkeepers (off both team colours)."""
    return sum(role == "goalkeeper" for role, _, _ in readings)


def _keeper_indices(readings: list[Verdict]) -> list[int]:
    """Where in ``readings`` the goalkeepers are (off both team colours)."""
    return [i for i, (role, _, _) in enumerate(readings) if role == "goalkeeper"]


BLENDED = 0.5
"""How much of the grass's colour a jersey's reading may have taken in (blur or JPEG blending
a far player's few pixels with the grass around them): :func:`blend_distances`."""
PURER = 0.5
"""How much further from the grass than its team's centre a jersey may be, in steps of the
centre's own distance from the grass: a centre learnt while far players filled the view is
their grass-blended colour, and a near player's jersey is the clean one
(:func:`blend_distances`)."""


UNWASHED = 1.0
"""How far past a team's centre, away from the grass's hue, the jersey of a larger player read
as a goalkeeper may lie, in steps of the centre's own distance from that hue, its lightness kept
(:func:`unwashed_distances`, :meth:`TeamModel.read`). A centre learnt while far players filled
the view is their JPEG-washed colour, and a near player's shirt is the kit's own, as light and
further from the grass's hue: on a 320x180 JPEG 45 tuning clip a violet team's centre was its
far players' grey, and its near players, 36 to 45 Lab units from it, read as goalkeepers."""


def blend_distances(
    centres: npt.NDArray[np.float64],
    features: npt.NDArray[np.float64],
    grass: npt.NDArray[np.float64] | None,
    washed: npt.NDArray[np.bool_] | None = None,
) -> npt.NDArray[np.float64]:
    """Distances from jersey ``features`` (one a row, or one feature) to each of the team
    ``centres``, or, with the ``grass``'s feature, to the nearest point of each centre's line
    through the grass, from the centre blended with up to :data:`BLENDED` of the grass to
    :data:`PURER` past the centre away from it: ``(n, k)``, one column per centre, or ``(k,)``
    for one feature.

    The rows ``washed`` marks (one flag a row of ``features``: shape ``features.shape[:-1]``)
    are also measured, when the ``grass`` is given, against each centre's line toward the
    grass's hue alone, its lightness kept, and the nearer counts:
    JPEG, like video codecs, keeps colour at half the resolution of brightness and compresses
    it in blocks of 16 px, so a small player's shirt, a few pixels wide, takes the hue of the
    grass around it and keeps its own lightness (a dark blue shirt reads a dark grey-blue, a
    violet one grey); the full blend moves the lightness toward the grass's too."""
    offsets = np.asarray(features, np.float64)[..., None, :] - centres
    if grass is None:
        return np.asarray(np.linalg.norm(offsets, axis=-1), np.float64)
    toward = grass - centres
    mixed = _off_the_mix(offsets, toward)
    if washed is None or not np.any(washed):
        return mixed
    hue_only = toward.copy()
    hue_only[..., 0] = 0.0
    in_hue = _off_the_mix(offsets, hue_only)
    flags = np.asarray(washed, bool).reshape(np.shape(features)[:-1])[..., None]
    return np.asarray(np.where(flags, np.minimum(mixed, in_hue), mixed), np.float64)


def unwashed_distances(
    centres: npt.NDArray[np.float64],
    features: npt.NDArray[np.float64],
    grass: npt.NDArray[np.float64],
) -> npt.NDArray[np.float64]:
    """Distances from jersey ``features`` (one a row) to each of the team ``centres``' lines
    away from the ``grass``'s hue, lightness kept, from the centre to :data:`UNWASHED` past it:
    ``(n, k)``. A centre learnt while far players filled the view is their JPEG-washed colour
    (:func:`blend_distances`' ``washed``), and a near player's shirt is the kit's own: as light,
    and further from the grass's hue."""
    offsets = np.asarray(features, np.float64)[..., None, :] - centres
    toward_hue = grass - centres
    toward_hue[..., 0] = 0.0
    return _off_the_mix(offsets, toward_hue, purer=UNWASHED, blended=0.0)


def _off_the_mix(
    offsets: npt.NDArray[np.float64],
    toward: npt.NDArray[np.float64],
    lighter_free: bool = False,
    purer: float = PURER,
    blended: float = BLENDED,
) -> npt.NDArray[np.float64]:
    """How far each point is from a colour's mix with the grass: ``offsets`` are the points
    less the colour, ``toward`` the grass less the colour (in Lab features for
    :func:`blend_distances`, in BGR for :data:`OFF_THE_MIX`; leading axes broadcast against
    each other, the last is the three channels). The mix runs from the colour blended with up
    to ``blended`` (:data:`BLENDED`) of the grass to ``purer`` (:data:`PURER`) past the colour,
    away from the grass.
    With ``lighter_free`` (BGR only), the part of a point's offset from the mix that is the
    same in every channel is not counted when it makes the point lighter than the mix.
    Returns the distances, the broadcast shape without the last axis."""
    share = clip(
        (offsets * toward).sum(axis=-1) / np.maximum((toward * toward).sum(axis=-1), 1e-9),
        -purer,
        blended,
    )
    off = offsets - share[..., None] * toward
    if lighter_free:
        off = off - np.maximum(off.mean(axis=-1, keepdims=True), 0.0)
    return np.asarray(np.linalg.norm(off, axis=-1), np.float64)


OFF_THE_MIX = 15.0
"""How far (BGR levels) a jersey's colour may be from a mix of another jersey's colour and the
grass's (:func:`_off_the_mix`) and still be taken for a blend of the two
(:func:`_fit_two_clusters`). Where a far player's pixels take in the grass beside them (blur,
or a pixel covering both), each pixel's BGR is a mix of the two colours, every channel by the
same share, so a grass-blended jersey's reading (a per-channel median of such pixels) lies on
the straight BGR line between them; JPEG mixes only the colour at half resolution and keeps
the brightness, so with it the line holds only roughly. In the Lab features (lightness counted
half, and Lab's axes bend that line) a dark grey kit is 11 to 14 units from a dark blue kit's
blend with the grass, within a team's 18 (``TeamModel.radius``); in BGR it is 29 to 36 levels
off their mix, darker. Being lighter than the mix is not counted: a far player's few pixels
also take in its white shorts or socks and its skin, all lighter than the grass, so a red
shirt whose colour JPEG has thinned reads as red, grass and some white."""


def at_most_two_keepers(
    verdicts: list[Verdict],
    teams: TeamModel,
    features: npt.NDArray[np.float64],
) -> list[Verdict]:
    """``verdicts`` (role, team and confidence of each jersey, whose colour features are
    ``features``) with at most two goalkeepers: a match has one at each goal. When more
    jerseys are goalkeepers (a far player's jersey blended with the grass by JPEG), the two
    furthest from their nearer team stay goalkeepers and the others go to their nearer team,
    at confidence 0.5; nearness is over each team's reach, as a team whose jerseys spread wide
    takes a far-off jersey sooner."""
    out = list(verdicts)
    keepers = _keeper_indices(out)
    if len(keepers) <= KEEPERS:
        return out
    centres = np.asarray(teams.state["team_centres"], np.float64)
    near = np.linalg.norm(features[keepers][:, None, :] - centres[None], axis=2)
    # Furthest from its nearer team, relative to that team's reach.
    reach = np.asarray(teams.state.get("team_reach") or [TeamModel.assign] * 2, np.float64)
    off = (near / reach).min(axis=1)
    for k in np.argsort(off)[: len(keepers) - KEEPERS]:
        out[keepers[k]] = ("player", int(np.argmin(near[k] / reach)), 0.5)
    return out


def _keep_ids(
    fitted: tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]],
    previous: list[list[float]] | None,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """The refitted ``(Lab centres, BGR)`` in the order of the ``previous`` centres, when
    swapping them brings each nearer its previous one: a team keeps its id while its colour is
    learnt (the hue-angle order flips between frames for grey or white kits)."""
    centres, bgr = fitted
    if not previous:
        return centres, bgr
    before = np.asarray(previous, np.float64)
    kept = np.linalg.norm(centres - before, axis=1).sum()
    swapped = np.linalg.norm(centres[::-1] - before, axis=1).sum()
    return (centres[::-1], bgr[::-1]) if swapped < kept else (centres, bgr)


def _reach(
    features: npt.NDArray[np.float64], centres: npt.NDArray[np.float64], floor: float
) -> list[float]:
    """How far (Lab units) from each team's centre its jerseys still fall: 1.3 times the 80th
    percentile of its own jerseys' distances, never below ``floor``. Far players' jerseys blend
    with the grass and the skin of their arms, so a team's spread depends on the footage; the
    jerseys of goalkeepers and referee (a few, far off) do not move the percentile."""
    near = _pairwise(features, centres)
    owner = np.argmin(near, axis=1)
    other = np.linalg.norm(centres[0] - centres[1])
    out = []
    for k in (0, 1):
        own = near[owner == k, k]
        spread = _percentile(own, 80) if len(own) else 0.0
        # Never reach past the middle between the two teams.
        out.append(float(min(max(floor, 1.3 * spread), 0.5 * other if other > 0 else floor)))
    return out


def _percentile(values: npt.NDArray[np.float64], q: float) -> float:
    """``float(np.percentile(values, q))`` of non-empty ``values`` (its default, linear
    method, with numpy's arithmetic), without its Python-level path: 1.7 us a call against
    np.percentile's 23 (timeit, 300 distances; the same value on 200,000 random arrays). One
    input differs, never a distance: a lone infinite value, which this gives and numpy turns
    into NaN."""
    ordered = np.sort(values)
    last = float(ordered[-1])
    if math.isnan(last):  # NaN sorts last: the percentile is NaN
        return last
    virtual = (len(ordered) - 1) * (q / 100)
    if virtual >= len(ordered) - 1:
        return last
    below = math.floor(virtual)
    gamma = virtual - below
    a, b = float(ordered[below]), float(ordered[below + 1])
    # numpy's lerp: from the nearer end, so a weight of 1 gives b exactly.
    if gamma >= 0.5:
        return b - (b - a) * (1 - gamma)
    return a + (b - a) * gamma


def _fit_two_clusters(
    samples: npt.NDArray[np.float64],
    radius: float,
    grass: npt.NDArray[np.float64] | None = None,
    grass_colour: npt.NDArray[np.floating[Any]] | None = None,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]] | None:
    """The two densest colour clusters of ``samples`` (rows of Lab feature then BGR colour;
    density peaks, so a few goalkeepers and referees do not drag them), ordered by hue angle
    so team ids are stable. Returns (Lab centres, BGR).

    The second peak is the densest jersey more than ``2 * radius`` from the first
    (:func:`_two_peaks`; not a blend of the first with the grass, nor the first a blend of it).
    Two kits may lie nearer each other than ``2 * radius`` with the first peak a jersey between
    them (motion blur mixing them as players cross), whose ``radius`` takes in both. So two
    peaks at half the radius and at least 1.5 radius apart are also looked for, and taken when
    the first peak lies within ``2 * radius`` of both and either the second has under
    :data:`THIN_SECOND` of the first's jerseys (a goalkeeper's or referee's colour, not a
    team's) and they explain the jerseys far better (:data:`CLOSE_KITS_BETTER`; better, when the
    thin second is also diffuse: :data:`THIN_DIFFUSE_BETTER`), or the second is not thin but
    diffuse where they are dense (:data:`DIFFUSE_SECOND`: two dark kits a few units apart, the
    far second a spread of off-colour readings); or, beside a thin and diffuse second, when
    the two close peaks are alike in number with a valley between them (:func:`_two_kits`),
    whatever their spread. When the first two centres are one kit, washed and clean
    (:func:`_one_kit_washed`), the second peak is looked for again away from the second centre,
    and taken unless it is thin (a grey team and a violet one of one lightness lie that way
    too: then a referee's colour would take the violet's place)."""
    if len(samples) < 4:
        return None
    feats = samples[:, :3]
    dist = _pairwise(feats, feats)
    peaks = _two_peaks(samples, dist, radius, 2 * radius, grass, grass_colour)
    if peaks is None:
        return None
    first, second, thin = peaks
    centres = _refined(feats, feats[[first, second]], radius)
    if grass is not None and _one_kit_washed(centres, grass, radius):
        # One kit twice: its far players washed by JPEG and its near ones clean. The second
        # peak is looked for again among the jerseys outside the second centre's radius; a
        # thin one there is a referee's or goalkeeper's colour, and the pair stays.
        beside = _pairwise(feats, centres[1][None])[:, 0] <= radius
        again = _two_peaks(samples, dist, radius, 2 * radius, grass, grass_colour, beside)
        if again is not None and not again[2]:
            first, second, thin = again
            centres = _refined(feats, feats[[first, second]], radius)
    closer = _two_peaks(samples, dist, radius / 2, 1.5 * radius, grass, grass_colour)
    if closer is not None and not closer[2]:
        other = _refined(feats, feats[list(closer[:2])], radius)
        between = bool((_pairwise(feats[first][None], other) <= 2 * radius).all())
        half = (dist[[second, *closer[:2]]] < radius / 2).sum(axis=1)
        diffuse = bool(half[0] < DIFFUSE_SECOND * half[1:].min())
        if thin and diffuse and _two_kits(feats, other, half[1:], radius / 2):
            # A referee's or goalkeeper's colour beside a first peak between two kits of alike
            # numbers of jerseys, fewer between them: the two teams, each washed toward the grass.
            better = True
        elif thin:
            reach = 1.5 * radius
            share = THIN_DIFFUSE_BETTER if diffuse else CLOSE_KITS_BETTER
            better = _spread(feats, other, reach) < share * _spread(feats, centres, reach)
        else:
            better = diffuse
        if between and better:
            centres = other
    near = _pairwise(feats, centres)
    owner = np.argmin(near, axis=1)
    bgr = np.array([_medians(samples[owner == k, 3:]) for k in (0, 1)])
    order = np.argsort(np.mod(np.degrees(np.arctan2(centres[:, 2], centres[:, 1])), 360))
    return centres[order], bgr[order]


THIN_SECOND = 0.25
"""The share of the first peak's jerseys (within the radius) under which a second peak is
thin: a goalkeeper's or the referee's colour, one jersey a frame, where a team has several
(:func:`_fit_two_clusters`)."""
CLOSE_KITS_BETTER = 0.7
"""How much nearer the jerseys must lie to two close peaks than to a thin pair for the close
ones to be taken: the sum of each jersey's distance to its nearer centre (capped at 1.5 radius,
so that off-colour jerseys weigh alike) under this share of the thin pair's
(:func:`_fit_two_clusters`). On tuning clips whose two kits were a blend apart (orange and
pale yellow under motion blur), the close peaks' sum was under half; on a broadcast tuning
clip with two orange kits and a stand's shadow, where they split one team's lit and shaded
jerseys, 0.8 to 0.9."""


THIN_DIFFUSE_BETTER = 0.8
""":data:`CLOSE_KITS_BETTER` for a thin second that is also diffuse (:data:`DIFFUSE_SECOND`):
a goalkeeper's colour and a few pale readings, not a kit, so two close peaks that explain the
jerseys better are taken at this share (:func:`_fit_two_clusters`). On 320x180 JPEG 45 and 55
tuning clips (random seed 63) a dark green kit and a tan one, both washed toward olive, some
22 Lab units apart: the first peak lay between them, the second was the goalkeeper's and the
white shorts' readings (6 jerseys within half the radius against the close peaks' 47 and 30),
and the close peaks' sum was 0.78 of the pair's: every player was read as one team (team
accuracy 0.53). Wrong team readings on 320x180 JPEG 45 and 55 tuning clips (random seeds 0 to
79), broadcast tuning clips 300 to 319, 352x198 JPEG 45 and motion blur 5 with JPEG 45 (seeds
42 to 53): 4,960 -> 3,906 (the two seed-63 clips 1,111 -> 73, broadcast 621 -> 607); nine
other looks and fresh seeds 2,539 -> 2,536, none more. The diffuse test alone for a thin
second took one orange team's lit and shaded jerseys for two teams on a broadcast tuning clip
(random seed 306), where the close peaks' sum is 0.8 to 0.9 of the pair's."""


def _two_kits(
    feats: npt.NDArray[np.float64],
    centres: npt.NDArray[np.float64],
    peaks: npt.NDArray[np.integer[Any]],
    within: float,
) -> bool:
    """Whether two close peaks, with ``peaks`` jerseys of ``feats`` within ``within`` of each
    peak's own jersey (before refining) and refined to ``centres``, are two kits: alike in
    number (the fewer at least :data:`BALANCED_KITS` of the more) and with a valley between
    them (at most :data:`VALLEY` of the fewer near the centres within ``within`` of their
    midpoint)."""
    if peaks.min() < BALANCED_KITS * peaks.max():
        return False
    points = np.vstack([centres, centres.mean(axis=0)[None]])
    near = (_pairwise(feats, points) < within).sum(axis=0)
    return bool(near[2] <= VALLEY * near[:2].min())


BALANCED_KITS = 0.75
"""The share of the larger of two close peaks' jerseys within half the radius that the smaller
must reach for them to be taken beside a thin, diffuse second without weighing their spread
(:func:`_fit_two_clusters`): two teams field alike numbers of players, where one kit's lit and
shaded (or washed and clean) jerseys seldom split evenly. On a 320x180 JPEG 30 tuning clip
(random seed 41, skin tones) a violet kit and a dark navy one, both washed toward the grass,
some 25 Lab units apart: the first peak lay between them and the second was the referee's (20
jerseys within the radius against the first's 86); the close peaks had 31 and 30 jerseys
within half the radius, but explained the jerseys only 0.86 as far as the pair (team accuracy
0.52). On a broadcast tuning clip (random seed 306) whose close peaks split one orange kit's
lit and shaded jerseys they had 45 and 21. Wrong team readings, 320x180 JPEG 30 with skin tones
(random seeds 0 to 23 and 30 to 53): 2,448 -> 1,967, seed 41 558 -> 77 and every other clip as
before; so were 320x180 JPEG 30, 40, 45, 55 and 60 clips (most without skin tones), 376x212
and 392x221 JPEG, white shorts, a camera 20 m up and the broadcast tuning clips (300 to 319, 440
to 449, 470 to 481, 520 to 531, 600 to 607)."""


VALLEY = 0.5
"""The share of the fewer jerseys near two close peaks' centres (within half the radius) that
their midpoint may have for the two to be two kits (:func:`_two_kits`): one kit spread evenly
from lit to shaded has as many between as at either end. Seed 41 (:data:`BALANCED_KITS`): 10
at the midpoint against 29 and 25; broadcast seed 306: 16 against 40 and 21."""


DIFFUSE_SECOND = 0.5
"""The share of each of two close peaks' jerseys within half the radius under which a second
peak more than twice the radius away is diffuse: a spread of off-colour readings (a dark shirt
read with its white shorts or a line's paint, a goalkeeper, the referee), not a kit, so the
close peaks are taken when the first lies between them (:func:`_fit_two_clusters`). On a
320x180 JPEG 45 tuning clip with black and maroon kits, 20 Lab units apart once JPEG had washed
the maroon, the first peak was a jersey between the two kits and the second a pale spread with 5
jerseys within half the radius; the close peaks had 40 and 37."""


def _two_peaks(
    samples: npt.NDArray[np.float64],
    dist: npt.NDArray[np.float64],
    radius: float,
    apart: float,
    grass: npt.NDArray[np.float64] | None,
    grass_colour: npt.NDArray[np.floating[Any]] | None,
    excluded: npt.NDArray[np.bool_] | None = None,
) -> tuple[int, int, bool] | None:
    """The densest jersey of ``samples`` (Lab feature then BGR colour, a row each; ``dist``
    their pairwise Lab distances), counting those within ``radius``, then the densest more
    than ``apart`` from it and not ``excluded`` (a mask of the jerseys), and whether the second
    is thin (:data:`THIN_SECOND`); None when no second has two jerseys.

    With the ``grass``'s feature, when any jersey is, the second is also not a blend of the
    first with the grass, nor the first a blend of it: when one team fills the view (a low
    camera), its far players' grass-blended jerseys outnumber the other team's, and would make
    a second peak of the same team. A blend is within ``radius`` of the other's line through
    the grass in Lab (as :func:`blend_distances` measures: from :data:`BLENDED` towards the
    grass to :data:`PURER` away from it) and, given the grass's BGR ``grass_colour``, within
    :data:`OFF_THE_MIX` of the other's mix with it in BGR, lighter not counted."""
    feats = samples[:, :3]
    density = (dist < radius).sum(axis=1)
    first = int(np.argmax(density))
    far = dist[first] > apart
    if excluded is not None:
        far &= ~excluded
    if grass is not None:
        # Neither a blend of the first with the grass, nor the first a blend of it: the densest
        # jersey colour can itself be a team's grass-blended far players.
        of_first = blend_distances(feats[first][None], feats, grass)[:, 0] <= radius
        first_of = blend_distances(feats, feats[first], grass) <= radius
        if grass_colour is not None:
            colours, grass_bgr = samples[:, 3:], np.asarray(grass_colour, np.float64)
            of_first &= (
                _off_the_mix(colours - colours[first], grass_bgr - colours[first], True)
                <= OFF_THE_MIX
            )
            first_of &= (
                _off_the_mix(colours[first] - colours, grass_bgr - colours, True) <= OFF_THE_MIX
            )
        unblended = far & ~of_first & ~first_of
        if unblended.any():
            far = unblended
    if not far.any():
        return None
    second = int(np.argmax(np.where(far, density, -1)))
    if density[second] < 2:
        return None
    return first, second, bool(density[second] < THIN_SECOND * density[first])


WASHED_PAIR = 0.5
"""Share of the radius within which one of two team centres lies of the other's line away from the
grass's hue (lightness kept, :func:`unwashed_distances`) for the two to be one kit: its far
players' colour washed by JPEG and its near players' clean one (:func:`_one_kit_washed`). On a
320x180 JPEG 30 tuning clip (random seed 1, skin tones) the densest jerseys were one team's far
players, washed grey, and the second peak its near players' violet, 2.7 Lab units off the grey's
line (42 to 44 BGR levels off its mix with the grass, so :data:`OFF_THE_MIX` kept it); the other
team, a dark purple, was never learnt (team accuracy 0.61 over 4 s). Two dark kits the BGR test
was made for (dark blue and dark grey, seed 47) are some 15 units apart this way. Wrong team
readings, 320x180 JPEG 30 with skin tones (random seeds 0 to 23): 1,033 -> 696 (seed 1: 419 ->
82); the same at JPEG 45 (seeds 0 to 23, 30 to 53) 863 -> 855; 320x180 JPEG 55 (seeds 0 to 79)
1,327 -> 1,333 (seed 68, 251 -> 258, before a thin second found again was left alone); broadcast
tuning clips (300 to 319, 440 to 449, 470 to 481, 520 to 531, 600 to 607), nine synthetic tuning
looks and fresh 320x180 JPEG 30, 45 and 55 clips (seeds 80 to 91) as before."""


def _one_kit_washed(
    centres: npt.NDArray[np.floating[Any]], grass: npt.NDArray[np.float64], radius: float
) -> bool:
    """Whether either of two Lab ``centres`` lies within :data:`WASHED_PAIR` of ``radius`` of
    the other's line away from the ``grass``'s hue (its feature): one kit, washed and clean."""
    pair = np.asarray(centres, np.float64)
    # Each centre read against both centres' lines: the off-diagonal is each against the other.
    across = unwashed_distances(pair, pair, grass)
    return min(float(across[0, 1]), float(across[1, 0])) <= WASHED_PAIR * radius


def _refined(
    feats: npt.NDArray[np.float64], centres: npt.NDArray[np.float64], radius: float
) -> npt.NDArray[np.float64]:
    """Two Lab ``centres`` moved twice to the medians of the jerseys ``feats`` nearest each,
    within 1.5 ``radius`` of it."""
    for _ in range(2):
        near = _pairwise(feats, centres)
        owner = np.argmin(near, axis=1)
        close = near[np.arange(len(feats)), owner] < 1.5 * radius
        centres = np.array([_medians(feats[(owner == k) & close]) for k in (0, 1)])
    return centres


def _spread(
    feats: npt.NDArray[np.float64], centres: npt.NDArray[np.float64], reach: float
) -> float:
    """The sum over jerseys ``feats`` of the distance to the nearer of ``centres``, each capped
    at ``reach``."""
    return float(np.minimum(_pairwise(feats, centres).min(axis=1), reach).sum())


def _medians(values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Per column, the median of ``values`` (finite; the mean of the middle two of an even
    count): ``np.median(values, axis=0)``'s, without its Python-level checks, which cost more
    than the sort on a cluster's few hundred rows (a median of -0.0 alone stays -0.0, where
    np.median gives 0.0: equal as numbers)."""
    if not len(values):
        return np.asarray(np.median(values, axis=0), np.float64)  # NaN, as it warns
    ordered = np.sort(values, axis=0)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        odd: npt.NDArray[np.float64] = ordered[middle]
        return odd
    even: npt.NDArray[np.float64] = (ordered[middle - 1] + ordered[middle]) / 2
    return even


def _pairwise(
    first: npt.NDArray[np.float64], second: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """Euclidean distances from each row of ``first`` (n x 3) to each of ``second`` (m x 3),
    n x m: ``np.linalg.norm(first[:, None] - second[None], axis=2)``'s values (the squares are
    summed in the same order), several times as fast on hundreds of rows, whose sum along a
    last axis of three numpy does slowly."""
    d0, d1, d2 = (first[:, None, k] - second[None, :, k] for k in range(3))
    return np.asarray(np.sqrt(d0 * d0 + d1 * d1 + d2 * d2), np.float64)
