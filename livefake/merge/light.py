"""Relight: carry the live face's shading (a lamp on one side, a shadow) onto the swapped face.

Colour transfer matches only the face's overall colour. Shading is what varies slowly across
the face, so it is read from low-frequency luminance, in crop space, on a small copy of both
crops (``LIGHT_SIZE`` pixels square):

    shading(face) = lowpass(luma) / mean(luma)           inside the mask
    gain          = (shading(live) / shading(swapped)) ** relight

The swapped face's own shading is divided out, so a target photo lit from one side does not
keep its lamp, and the live face's is multiplied in. ``lowpass`` is a mask-normalised
Gaussian (``blur(luma * mask) / blur(mask)``), so the background never leaks into the face's
edge. The gain map is smoothed over time per face track, then scaled up and applied to the
swapped crop's three channels. It costs about 0.3 ms per 256-px face on one core.
"""

from __future__ import annotations

from collections import OrderedDict

import cv2
import numpy as np

LIGHT_SIZE = 48  # side of the small copies the shading is measured on
SIGMA_PER_FACE = 0.12  # low-pass width, as a share of the face's size in the crop
MIN_WEIGHT = 0.05  # blurred mask below this: no shading estimate, gain 1
GAIN_LIMITS = (0.4, 2.5)
MAX_TRACKS = 16


def shrink(image: np.ndarray) -> np.ndarray:
    """``image`` at ``LIGHT_SIZE`` square: halvings (cheap) while it is at least twice as big, then area."""
    while min(image.shape[:2]) >= 2 * LIGHT_SIZE:
        image = cv2.pyrDown(image)
    return cv2.resize(image, (LIGHT_SIZE, LIGHT_SIZE), interpolation=cv2.INTER_AREA)


def luminance(image_bgr: np.ndarray) -> np.ndarray:
    """Rec. 601 luma at ``LIGHT_SIZE`` square as float32, plus one so black never divides by zero."""
    return shrink(cv2.cvtColor(image_bgr, cv2.COLOR_BGR2GRAY)).astype(np.float32) + 1.0


def shading(luma: np.ndarray, weight: np.ndarray, sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """Low-frequency luminance over its weighted mean, and where it is defined (blurred weight)."""
    blurred_weight = cv2.GaussianBlur(weight, (0, 0), sigma)
    low = cv2.GaussianBlur(luma * weight, (0, 0), sigma) / np.maximum(blurred_weight, MIN_WEIGHT)
    mean = float((luma * weight).sum() / max(float(weight.sum()), 1e-6))
    return low / max(mean, 1e-6), blurred_weight


def shading_gain(
    swapped_bgr: np.ndarray, live_bgr: np.ndarray, mask: np.ndarray, face_px: float
) -> np.ndarray:
    """The unsmoothed gain map (``LIGHT_SIZE`` square, float32) taking the swapped face's shading
    to the live face's; 1 where the mask gives no estimate."""
    height, width = mask.shape[:2]
    weight = shrink(mask.astype(np.float32))
    sigma = max(SIGMA_PER_FACE * face_px * LIGHT_SIZE / max(height, width), 0.5)
    live, swapped = luminance(live_bgr), luminance(swapped_bgr)
    live_shading, defined = shading(live, weight, sigma)
    swapped_shading, _ = shading(swapped, weight, sigma)
    gain = np.clip(live_shading / np.maximum(swapped_shading, 1e-3), *GAIN_LIMITS)
    return np.where(defined > MIN_WEIGHT, gain, 1.0).astype(np.float32)


def apply_gain(image_bgr: np.ndarray, gain: np.ndarray, strength: float) -> np.ndarray:
    """``image * gain ** strength``, the small gain map scaled up to the image (uint8 out)."""
    height, width = image_bgr.shape[:2]
    full = cv2.resize(gain, (width, height), interpolation=cv2.INTER_LINEAR)
    if strength != 1.0:
        full = cv2.pow(full, strength)
    return cv2.multiply(image_bgr, cv2.cvtColor(full, cv2.COLOR_GRAY2BGR), dtype=cv2.CV_8U)


class Relighter:
    """Shading transfer with the gain map smoothed over time, one history per face track.

    ``strength`` (0..1) is the exponent on the gain (0 = off); ``smoothing`` the share of the
    previous gain map kept each frame.
    """

    def __init__(self, strength: float, smoothing: float = 0.8, max_tracks: int = MAX_TRACKS) -> None:
        self.strength = strength
        self.smoothing = smoothing
        self.max_tracks = max_tracks
        self._history: OrderedDict[int, np.ndarray] = OrderedDict()

    def reset(self) -> None:
        self._history.clear()

    def apply(
        self, track_id: int, swapped_bgr: np.ndarray, live_bgr: np.ndarray, mask: np.ndarray, face_px: float
    ) -> np.ndarray:
        """The swapped crop relit to the live crop's shading (same crop space, same mask)."""
        if self.strength <= 0.0:
            return swapped_bgr
        gain = self.smoothed(track_id, shading_gain(swapped_bgr, live_bgr, mask, face_px))
        return apply_gain(swapped_bgr, gain, self.strength)

    def smoothed(self, track_id: int, gain: np.ndarray) -> np.ndarray:
        """Blend this frame's gain map into the track's history and return it."""
        previous = self._history.pop(track_id, None)
        if previous is not None:
            gain = cv2.addWeighted(previous, self.smoothing, gain, 1.0 - self.smoothing, 0.0)
        self._history[track_id] = gain
        while len(self._history) > self.max_tracks:
            self._history.popitem(last=False)
        return gain
