"""Head turns in the photo swap: target triangles the live pose would magnify.

When the live head turns, the target photo's triangles on one side are drawn much larger than
the photo holds them (a target photo that is itself a little turned has its far cheek
foreshortened, and the live pose stretches it out again): blurred, smeared skin. Faces are
nearly symmetric, so such a triangle is read instead from the target's mirrored other side,
where the same part of the face is seen more squarely; what is still magnified after that
fades to the live face. Both choices are kept per face track with hysteresis and smoothing, so
a still face never flickers between sources.

Magnification is ``triangle_stretch``: a triangle's largest stretch from target to live,
over the face's overall scale (its forehead-to-chin length, which a turn does not shorten).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from livefake.face import mesh
from livefake.swap.triangles import OUTSIDE, triangle_stretch

MAGNIFIED = 2.5  # the stretch above which a triangle counts as magnified (the reported share)
MIRROR_ON = 1.9  # a triangle stretched more than this is read from the mirrored side ...
MIRROR_OFF = 1.6  # ... until its stretch falls below this again (hysteresis)
MIRROR_GAIN = 0.8  # ... if the mirrored side is stretched at most this share as much (kept while it is less)
FADE_FROM = 2.0  # a triangle still stretched from here on fades to the live face,
FADE_TO = 2.5  # gone entirely at this stretch
WEIGHT_KEEP = 0.6  # share of last frame's per-triangle weight kept (smoothing per track)
MAX_TRACKS = 16


def mirror_partners() -> np.ndarray:
    """For each of the 468 mesh points, the point mirrored across the face's midline (itself on it)."""
    face = np.asarray(mesh.MEAN_FACE, dtype=np.float64)
    mirrored = face * np.array([-1.0, 1.0])
    distances = np.linalg.norm(mirrored[:, None] - face[None], axis=2)
    return np.argmin(distances, axis=1).astype(np.int32)


def face_scale(destination: np.ndarray, source: np.ndarray) -> float:
    """Destination over source forehead-to-chin length: the face's scale, whatever its yaw."""
    top, chin = mesh.FOREHEAD, mesh.CHIN
    source_length = float(np.linalg.norm(source[top] - source[chin]))
    return float(np.linalg.norm(destination[top] - destination[chin])) / max(source_length, 1e-6)


def mirrored_source(points: np.ndarray, width: int) -> np.ndarray:
    """The source points as found in a horizontally flipped copy of the ``width``-px-wide source
    placed right of it: point i reads its mirror partner's pixels."""
    partners = mirror_partners()
    mirrored = points[partners].astype(np.float64).copy()
    mirrored[:, 0] = 2 * width - 1 - mirrored[:, 0]
    return mirrored.astype(np.float32)


@dataclass
class TurnState:
    """One track's choices: which triangles read the mirrored side, and each triangle's weight."""

    mirrored: np.ndarray  # (T,) bool
    weight: np.ndarray  # (T,) float32 in [0, 1]


@dataclass(frozen=True)
class TurnChoice:
    """This frame's choice for one face."""

    mirrored: np.ndarray  # (T,) bool: read from the mirrored side
    weight: np.ndarray  # (T,) float32: how much of the target each triangle keeps
    stretch: np.ndarray  # (T,) the stretch of the source each triangle reads from


class TurnGuard:
    """Per-track mirror choice and fade for triangles the live pose magnifies."""

    def __init__(self, source_points: np.ndarray, triangles: np.ndarray, enabled: bool = True) -> None:
        self.source = np.asarray(source_points, dtype=np.float64)
        self.partner_source = self.source[mirror_partners()] * np.array([-1.0, 1.0])
        self.triangles = triangles
        self.enabled = enabled
        self._tracks: OrderedDict[int, TurnState] = OrderedDict()

    def reset(self) -> None:
        self._tracks.clear()

    def choose(self, track_id: int, destination: np.ndarray) -> TurnChoice:
        """Mirror and fade choices for a face whose mesh is at ``destination`` (any pixel frame)."""
        scale = face_scale(destination, self.source)
        stretch = triangle_stretch(destination, self.source, self.triangles, scale)
        if not self.enabled:
            return TurnChoice(np.zeros(len(stretch), bool), np.ones(len(stretch), np.float32), stretch)
        mirrored_stretch = triangle_stretch(destination, self.partner_source, self.triangles, scale)
        state = self._state(track_id)
        keep = state.mirrored & (stretch > MIRROR_OFF) & (mirrored_stretch < stretch)
        start = (stretch > MIRROR_ON) & (mirrored_stretch < MIRROR_GAIN * stretch)
        state.mirrored = keep | start
        chosen = np.where(state.mirrored, mirrored_stretch, stretch)
        target_weight = np.clip((FADE_TO - chosen) / (FADE_TO - FADE_FROM), 0.0, 1.0).astype(np.float32)
        state.weight = WEIGHT_KEEP * state.weight + (1.0 - WEIGHT_KEEP) * target_weight
        state.weight[target_weight == 0.0] = 0.0  # never keep showing a triangle past the limit
        return TurnChoice(state.mirrored.copy(), state.weight.copy(), chosen)

    def _state(self, track_id: int) -> TurnState:
        state = self._tracks.pop(track_id, None)
        if state is None:
            count = len(self.triangles)
            state = TurnState(np.zeros(count, dtype=bool), np.ones(count, dtype=np.float32))
        self._tracks[track_id] = state
        while len(self._tracks) > MAX_TRACKS:
            self._tracks.popitem(last=False)
        return state


def magnified_share(index: np.ndarray, mask: np.ndarray, stretch: np.ndarray, limit: float = MAGNIFIED) -> float:
    """Share of the swapped pixels (``mask``-weighted) drawn from triangles stretched over ``limit``."""
    weights = np.asarray(mask, dtype=np.float64).ravel()
    covered = index.ravel() != OUTSIDE
    total = float(weights[covered].sum())
    if total <= 0.0:
        return 0.0
    magnified_table = np.concatenate([[False], stretch > limit])
    return float(weights[magnified_table[index.ravel()]].sum()) / total
