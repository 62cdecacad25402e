"""Hold a still face still: a per-point dead band on the landmarks that drive the photo swap.

The tracker's smoothed landmarks still wander by a few tenths of a pixel on a face that does
not move; warped onto them, the target's sharp texture shimmers where the live face is
steady. Each point here trails its live position by at most ``HOLD_RADIUS`` inter-ocular
distances (a backlash): motion within that band moves nothing, larger motion is followed
at once, less that small band, so there is no jump and no visible lag. The lids and lips move
fast and far (a blink closes in two frames), so their band is narrower: they lag less.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

from livefake.face import mesh

HOLD_RADIUS = 0.015  # of the inter-ocular distance: about 1.5 px for a face 250 px wide
EYE_CORNERS = (33, 263)
MAX_TRACKS = 16
EXPRESSION_SHARE = 0.3  # of the band, for the eye and inner-lip contours
EXPRESSION_POINTS = mesh.RIGHT_EYE + mesh.LEFT_EYE + mesh.LIPS_INNER


def _band_shares() -> np.ndarray:
    shares = np.ones((mesh.LANDMARK_COUNT, 1), dtype=np.float32)
    shares[list(EXPRESSION_POINTS)] = EXPRESSION_SHARE
    return shares


BAND_SHARES = _band_shares()


class StillHold:
    """Per-track held landmarks, each within ``radius`` inter-ocular distances of the live ones."""

    def __init__(self, radius: float = HOLD_RADIUS, max_tracks: int = MAX_TRACKS) -> None:
        self.radius = radius
        self.max_tracks = max_tracks
        self._held: OrderedDict[int, np.ndarray] = OrderedDict()

    def reset(self) -> None:
        self._held.clear()

    def __call__(self, track_id: int, landmarks: np.ndarray) -> np.ndarray:
        """The held landmarks for this frame (float32, same shape as ``landmarks``); a face with
        no track (``track_id`` < 0) is passed through."""
        live = np.asarray(landmarks, dtype=np.float32)
        if track_id < 0:
            return live.copy()
        held = self._held.pop(track_id, None)
        if held is None or held.shape != live.shape or self.radius <= 0.0:
            held = live.copy()
        else:
            inter_ocular = float(np.linalg.norm(live[EYE_CORNERS[0], :2] - live[EYE_CORNERS[1], :2]))
            band = self.radius * inter_ocular * (BAND_SHARES if len(live) == len(BAND_SHARES) else 1.0)
            step = live - held
            length = np.linalg.norm(step[:, :2], axis=1, keepdims=True)
            share = np.clip(1.0 - band / np.maximum(length, 1e-9), 0.0, 1.0)
            held = held + step * share
        self._held[track_id] = held
        while len(self._held) > self.max_tracks:
            self._held.popitem(last=False)
        return held.copy()
