"""Eyes in the photo swap: the person's own (``live``) or the target's, unsqueezed (``target``).

- ``live``: the target's lids follow the live lids (the mesh does that) and the inside of each
  live eye is cut out of the swap mask, so the person's own eyeballs and gaze show through,
  the way the inside of the live mouth already does; as an eye closes below its own usual
  opening (followed per face track), its upper lid (up to the brow) fades to the live one too,
  so a blink is the person's own.
- ``target``: the target's eyes keep their own shape: the mesh points around each eye are
  moved to where the target's eye would sit on the live eye corners (a similarity fitted to
  the two corners), fading back to the live mesh further out, so live blinks neither squeeze
  nor close the target's eyes.
"""

from __future__ import annotations

from collections import OrderedDict

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
OPEN_RATIO = 0.30  # an eye's lid gap / width when open, for a face with no track
BLINK_START = 0.85  # an eye closing below this share of its open level starts the blink fade,
BLINK_FULL = 0.5  # ... and at this share the whole upper lid is the live one
OPEN_LEVEL_DECAY = 0.998  # per frame: the open level follows the eye's recent peaks, slowly forgetting
MAX_TRACKS = 16
# per eye: the lower lid, outer to inner corner, then the brow's lower edge, inner to outer
LID_REGIONS = (mesh.RIGHT_EYE[:9] + mesh.RIGHT_EYEBROW[4::-1], mesh.LEFT_EYE[:9] + mesh.LEFT_EYEBROW[4::-1])


def eye_ratios(landmarks: np.ndarray) -> tuple[float, float]:
    """Lid gap over eye width of each eye: about 0.25-0.35 open, under 0.1 shut."""
    points = np.asarray(landmarks, dtype=np.float64)[:, :2]
    ratios = []
    for outer, inner, upper, lower in EYE_POINTS:
        width = float(np.linalg.norm(points[outer] - points[inner]))
        ratios.append(float(np.linalg.norm(points[upper] - points[lower])) / max(width, 1e-6))
    return ratios[0], ratios[1]


def eye_openness(landmarks: np.ndarray) -> float:
    """Mean lid gap over eye width of the two eyes."""
    return float(np.mean(eye_ratios(landmarks)))


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


class BlinkFollower:
    """How far each eye is closing, against that face track's own open level (a slow peak follower)."""

    def __init__(self, max_tracks: int = MAX_TRACKS) -> None:
        self.max_tracks = max_tracks
        self._open: OrderedDict[int, np.ndarray] = OrderedDict()

    def reset(self) -> None:
        self._open.clear()

    def closing(self, track_id: int, landmarks: np.ndarray) -> tuple[float, float]:
        """Per eye, 0 (open as usual) to 1 (shut)."""
        ratios = np.array(eye_ratios(landmarks))
        level = self._open.pop(track_id, None)
        if track_id < 0:
            level = np.full(2, OPEN_RATIO)
        elif level is None:
            level = ratios.copy()  # a new face: its eyes are taken as open; a later wider opening raises it
        level = np.maximum(ratios, level * OPEN_LEVEL_DECAY)
        if track_id >= 0:
            self._open[track_id] = level
            while len(self._open) > self.max_tracks:
                self._open.popitem(last=False)
        share = ratios / np.maximum(level, 1e-6)
        closing = np.clip((BLINK_START - share) / (BLINK_START - BLINK_FULL), 0.0, 1.0)
        return float(closing[0]), float(closing[1])


def cut_live_eyes(covered: np.ndarray, local_landmarks: np.ndarray, closing: tuple[float, float]) -> None:
    """Clear the inside of both live eyes (a little enlarged) from a uint8 mask, in place, and
    fade each upper lid as far as that eye is ``closing`` (0..1, see ``BlinkFollower``)."""
    points = np.asarray(local_landmarks, dtype=np.float64)[:, :2]
    for contour, lid, amount in zip(EYE_CONTOURS, LID_REGIONS, closing, strict=True):
        if amount > 0.0:
            _lower_within(covered, points[list(lid)], round(255 * (1.0 - amount)))
        ring = points[list(contour)]
        centre = ring.mean(axis=0)
        ring = centre + EYE_CUT_SCALE * (ring - centre)
        cv2.fillPoly(covered, [_fixed(ring)], 0, cv2.LINE_AA, SUBPIXEL_BITS)


def _fixed(points: np.ndarray) -> np.ndarray:
    return np.round(points * (1 << SUBPIXEL_BITS)).astype(np.int32)


def _lower_within(covered: np.ndarray, polygon: np.ndarray, value: int) -> None:
    """Lower ``covered`` to at most ``value`` inside ``polygon`` (anti-aliased), touching only its box."""
    x, y, w, h = cv2.boundingRect(polygon.astype(np.float32))
    x0, y0 = max(x - 1, 0), max(y - 1, 0)
    x1, y1 = min(x + w + 1, covered.shape[1]), min(y + h + 1, covered.shape[0])
    if x1 <= x0 or y1 <= y0:
        return
    inside = np.zeros((y1 - y0, x1 - x0), dtype=np.uint8)
    cv2.fillPoly(inside, [_fixed(polygon - (x0, y0))], 255, cv2.LINE_AA, SUBPIXEL_BITS)
    region = covered[y0:y1, x0:x1]
    limit = 255 - cv2.multiply(inside, np.full_like(inside, 255 - value), scale=1 / 255)
    np.minimum(region, limit, out=region)
