"""Eyes in the photo swap: the person's own (``live``) or the target's, unsqueezed (``target``).

- ``live``: the target's lids follow the live lids (the mesh does that) and the inside of each
  live eye is cut out of the swap mask, so the person's own eyeballs, blinks and gaze show
  through, the way the inside of the live mouth already does.
- ``target``: the target's eyes keep their own shape: the mesh points around each eye are
  moved to where the target's eye would sit on the live eye corners (a similarity fitted to
  the two corners), fading back to the live mesh further out, so live blinks neither squeeze
  nor close the target's eyes.
"""

from __future__ import annotations

import cv2
import numpy as np

from livefake.face import mesh

# (outer corner, inner corner, upper lid middle, lower lid middle) for each eye
EYE_POINTS = ((33, 133, 159, 145), (263, 362, 386, 374))
EYE_CONTOURS = (mesh.RIGHT_EYE, mesh.LEFT_EYE)
EYE_CUT_SCALE = 1.1  # the live-eye cut, about each eye's centre: the lash line comes from the live face
KEEP_INNER = 0.55  # mesh points nearer an eye's centre than this many eye widths take the target's eye,
KEEP_OUTER = 0.9  # fading to the live mesh at this many eye widths
SUBPIXEL_BITS = 4


def eye_openness(landmarks: np.ndarray) -> float:
    """Mean lid gap over eye width of the two eyes: about 0.25-0.35 open, under 0.1 shut."""
    points = np.asarray(landmarks, dtype=np.float64)[:, :2]
    ratios = []
    for outer, inner, upper, lower in EYE_POINTS:
        width = float(np.linalg.norm(points[outer] - points[inner]))
        ratios.append(float(np.linalg.norm(points[upper] - points[lower])) / max(width, 1e-6))
    return float(np.mean(ratios))


def _eye_weights() -> tuple[np.ndarray, ...]:
    """Per eye, each mesh point's share of the target's eye (1 at the eye, 0 well outside)."""
    face = np.asarray(mesh.MEAN_FACE, dtype=np.float64)
    weights = []
    for (outer, inner, _, _), contour in zip(EYE_POINTS, EYE_CONTOURS, strict=True):
        centre = face[list(contour)].mean(axis=0)
        width = float(np.linalg.norm(face[outer] - face[inner]))
        distance = np.linalg.norm(face - centre, axis=1) / width
        weights.append(np.clip((KEEP_OUTER - distance) / (KEEP_OUTER - KEEP_INNER), 0.0, 1.0))
    return tuple(weights)


EYE_WEIGHTS = _eye_weights()


def _corner_similarity(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The (2, 2) linear part and shift of the similarity taking two source points onto two target points."""
    s = complex(*(source[1] - source[0]))
    t = complex(*(target[1] - target[0]))
    a = t / s if abs(s) > 1e-9 else 1.0 + 0j
    linear = np.array([[a.real, -a.imag], [a.imag, a.real]])
    return np.hstack([linear, (target[0] - linear @ source[0])[:, None]])


def keep_target_eyes(live: np.ndarray, target: np.ndarray) -> np.ndarray:
    """``live`` landmarks with each eye region replaced by the target's eye set on the live corners."""
    driven = np.asarray(live, dtype=np.float64)[:, :2].copy()
    source = np.asarray(target, dtype=np.float64)[:, :2]
    for (outer, inner, _, _), weight in zip(EYE_POINTS, EYE_WEIGHTS, strict=True):
        fit = _corner_similarity(source[[outer, inner]], driven[[outer, inner]])
        placed = source @ fit[:, :2].T + fit[:, 2]
        driven += weight[:, None] * (placed - driven)
    return driven.astype(np.float32)


def cut_live_eyes(covered: np.ndarray, local_landmarks: np.ndarray) -> None:
    """Clear the inside of both live eyes (a little enlarged) from a uint8 mask, in place."""
    for contour in EYE_CONTOURS:
        ring = np.asarray(local_landmarks, dtype=np.float64)[list(contour), :2]
        centre = ring.mean(axis=0)
        ring = centre + EYE_CUT_SCALE * (ring - centre)
        fixed = np.round(ring * (1 << SUBPIXEL_BITS)).astype(np.int32)
        cv2.fillPoly(covered, [fixed], 0, cv2.LINE_AA, SUBPIXEL_BITS)
