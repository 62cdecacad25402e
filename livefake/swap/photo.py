"""Zero-training face swap: one target photo, warped onto each live face triangle by triangle.

The target's 468 landmarks are triangulated once (Delaunay, kept inside the face oval) and the
photo is cut to its face and stored as a small pyramid. Every frame, each live face's mesh
drives a piecewise-affine warp of the target (``TriangleWarper``) into a crop the size of the
live face's landmark box, so the target follows the live pose and expression. The inside of the
live mouth is cut out of the mask: teeth and tongue come from the live frame; so is the inside
of the live eyes with ``eyes="live"`` (``swap.eyes``). Triangles a head turn would magnify
read from the target's mirrored side or fade to the live face (``swap.turns``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from livefake.config import EyesMode, LiveConfig, SwapConfig, TrackConfig
from livefake.errors import InputError
from livefake.face import mesh
from livefake.face.align import face_box
from livefake.pipeline.frame import Face, Frame, SwappedFace
from livefake.pipeline.stage import Stage
from livefake.swap.eyes import BlinkFollower, cut_live_eyes, keep_target_eyes
from livefake.swap.steady import StillHold
from livefake.swap.triangles import TriangleWarper, delaunay_triangles
from livefake.swap.turns import TurnChoice, TurnGuard, magnified_share, mirrored_source
from livefake.types import Image, Landmarks, PixelBox

MIN_TARGET_FACE_PX = 80  # narrower target faces are too blurry to swap in
TARGET_MARGIN = 0.15  # of the face size, kept around the target face when cutting the photo
SMALLEST_LEVEL_PX = 48  # the target pyramid stops at this face width
MASK_SUBPIXEL_BITS = 4
OVERLAP_LIMIT = 0.5  # a face with more of its box inside a larger face's is not swapped
EXTRA_WARP_POINTS = 80  # mesh points beyond the contours that the swap triangulates
# Mouth openness = inner-lip area / mouth width^2: about 0.02-0.04 closed, 0.15 in a wide smile.
# Below OPEN_MOUTH_START the target's lips cover the mouth; the cut fades in over OPEN_MOUTH_RAMP.
OPEN_MOUTH_START = 0.05
OPEN_MOUTH_RAMP = 0.04


@dataclass(frozen=True)
class TargetFace:
    """A photo and the one face in it: 468 landmarks in photo pixels."""

    image: np.ndarray  # uint8 BGR
    landmarks: np.ndarray  # (468, 2) float32
    path: str

    @property
    def width_px(self) -> float:
        return float(np.ptp(self.landmarks[:, 0]))


def load_target_face(path: str | None, models_dir: str | None = None) -> TargetFace:
    """Read a target photo (default: the bundled Hopper portrait) and find its one usable face."""
    from livefake.face.track import find_faces
    from livefake.sources.assets import bundled_photo, load_photo

    source = str(path) if path is not None else str(bundled_photo("hopper"))
    image = load_photo(source)
    faces = [face for face in find_faces(image, models_dir=models_dir) if face.landmarks is not None]
    return target_from_faces(image, faces, source)


def target_from_faces(image: Image, faces: list[Face], source: str) -> TargetFace:
    """Check that ``faces`` holds exactly one usable face and make the target from it."""
    name = Path(source).name
    if not faces:
        raise InputError(f"no face found in target photo {name}: use a clear, frontal, well-lit portrait")
    if len(faces) > 1:
        raise InputError(
            f"{len(faces)} faces found in target photo {name}: crop it to the one face to swap in"
        )
    target = TargetFace(image, np.asarray(faces[0].landmarks, dtype=np.float32), source)
    if target.width_px < MIN_TARGET_FACE_PX:
        raise InputError(
            f"the face in target photo {name} is {target.width_px:.0f} px wide: use a photo where it is "
            f"at least {MIN_TARGET_FACE_PX} px wide"
        )
    return target


def warp_points(extra: int = EXTRA_WARP_POINTS) -> np.ndarray:
    """Mesh indices the swap triangulates: every contour point plus ``extra`` spread over the rest.

    All 468 points give ~900 triangles, and each costs a rasteriser call; the contours (oval,
    eyes, brows, lips, nose) carry the expression, so the flat cheeks and forehead get just
    enough points, picked farthest-first on the canonical face, to follow the head's shape.
    """
    chosen = list(dict.fromkeys(mesh.FACE_OVAL + mesh.RIGHT_EYE + mesh.LEFT_EYE + mesh.RIGHT_EYEBROW
                                + mesh.LEFT_EYEBROW + mesh.LIPS_OUTER + mesh.LIPS_INNER + mesh.NOSE))
    canonical = np.asarray(mesh.MEAN_FACE, dtype=np.float64)
    nearest = np.min(np.linalg.norm(canonical[:, None] - canonical[chosen][None], axis=2), axis=1)
    for _ in range(extra):
        pick = int(np.argmax(nearest))
        chosen.append(pick)
        nearest = np.minimum(nearest, np.linalg.norm(canonical - canonical[pick], axis=1))
    return np.array(chosen, dtype=np.int32)


def triangles_inside(points: Landmarks, contour: tuple[int, ...], subset: np.ndarray) -> np.ndarray:
    """Delaunay triangles over ``points[subset]`` (as indices into ``points``) inside ``contour``."""
    triangles = subset[delaunay_triangles(points[subset])]
    polygon = points[list(contour)].astype(np.float32).reshape(-1, 1, 2)
    centroids = points[triangles].mean(axis=1)
    inside = [cv2.pointPolygonTest(polygon, (float(x), float(y)), False) >= 0 for x, y in centroids]
    return triangles[np.array(inside, dtype=bool)]


@dataclass(frozen=True)
class PyramidLevel:
    image: np.ndarray  # the target crop at this level, its mirror image to the right of it
    scale: float  # level pixels per crop-of-level-0 pixel
    face_width_px: float
    mirrored_points: np.ndarray  # (468, 2) each point's mirror partner in the mirror image, level pixels


class PhotoSwapper:
    """Swaps one target face onto live faces; the per-frame engine behind ``PhotoSwapStage``."""

    def __init__(
        self, target: TargetFace, eyes: EyesMode | None = "live", mirror_turns: bool = True, hold: bool = True
    ) -> None:
        """``eyes=None`` lets the live mesh alone drive the target's eyes (their lids squeezed onto
        the live lids, nothing cut), ``mirror_turns=False`` keeps every triangle on its own side
        at full weight and ``hold=False`` follows every landmark wobble: the swap as it was
        before these existed, for comparisons."""
        self.target = target
        self.eyes = eyes
        origin, crop = _cut_face(target)
        self.points = target.landmarks - origin
        self.levels = _pyramid(crop, self.points, target.width_px)
        self.warper = TriangleWarper(self.points, triangles_inside(self.points, mesh.FACE_OVAL, warp_points()))
        self.turns = TurnGuard(self.points, self.warper.triangles, enabled=mirror_turns)
        self.hold = StillHold() if hold else StillHold(radius=0.0)
        self.blinks = BlinkFollower()
        self._inner_mouth = np.array(mesh.LIPS_INNER, dtype=np.int32)
        self.last_magnified_share = 0.0

    def swap(
        self, image: np.ndarray, landmarks: np.ndarray, face_index: int, track_id: int = -1, measure: bool = False
    ) -> SwappedFace | None:
        """The target warped onto ``landmarks`` (frame px) in a crop of their box; None if off-frame.

        ``measure`` also sets ``last_magnified_share`` (share of swapped pixels from triangles
        magnified more than 2.5x), which costs a pass over the crop.
        """
        box = landmark_box(landmarks, image.shape[1], image.shape[0])
        if box is None:
            return None
        x0, y0, x1, y1 = box
        landmarks = self.hold(track_id, landmarks)
        drive = keep_target_eyes(landmarks, self.points) if self.eyes == "target" else landmarks
        level = self._level_for(float(np.ptp(landmarks[:, 0])))
        choice = self.turns.choose(track_id, drive)
        self.warper.use_alternate = choice.mirrored
        live = image[y0:y1, x0:x1].copy()
        output = live.copy()
        index = self.warper.warp(level.image, drive, (x0, y0), output, level.scale, level.mirrored_points)
        mask = self._mask(index, landmarks - np.array([x0, y0], dtype=np.float32), choice, track_id)
        if measure:
            self.last_magnified_share = magnified_share(index, mask, choice.stretch)
        matrix = np.array([[1.0, 0.0, -x0], [0.0, 1.0, -y0]], dtype=np.float32)
        to_frame = np.array([[1.0, 0.0, x0], [0.0, 1.0, y0]], dtype=np.float64)
        return SwappedFace(face_index, output, mask, matrix, crop=live, crop_to_frame=to_frame)

    def _level_for(self, live_width: float) -> PyramidLevel:
        """The smallest pyramid level whose face is at least as wide as the live face."""
        for level in reversed(self.levels):
            if level.face_width_px >= live_width:
                return level
        return self.levels[0]

    def _mask(self, index: np.ndarray, local_landmarks: np.ndarray, choice: TurnChoice, track_id: int) -> np.ndarray:
        """Covered pixels (faded where magnified), less the inside of the live mouth as far as it
        is open, and of the live eyes with ``eyes="live"``."""
        if bool(np.all(choice.weight >= 1.0)):
            covered = cv2.compare(index, 0, cv2.CMP_GT)  # type: ignore[call-overload]  # 255 where covered
        else:
            table = np.concatenate([[0], np.round(255.0 * choice.weight)]).astype(np.uint8)
            covered = np.take(table, index)
        inner_lips = local_landmarks[self._inner_mouth]
        cut = float(np.clip((mouth_openness(inner_lips) - OPEN_MOUTH_START) / OPEN_MOUTH_RAMP, 0.0, 1.0))
        if cut > 0.0:
            mouth = np.round(inner_lips * (1 << MASK_SUBPIXEL_BITS)).astype(np.int32)
            cv2.fillPoly(covered, [mouth], round(255 * (1.0 - cut)), cv2.LINE_AA, MASK_SUBPIXEL_BITS)
        if self.eyes == "live":
            cut_live_eyes(covered, local_landmarks, self.blinks.closing(track_id, local_landmarks))
        return covered.astype(np.float32) * np.float32(1.0 / 255.0)


def mouth_openness(inner_lips: Landmarks) -> float:
    """Area inside the inner lip contour over the squared mouth width (0 when shut)."""
    width = float(np.ptp(inner_lips[:, 0]))
    if width < 1.0:
        return 0.0
    return abs(float(cv2.contourArea(inner_lips.astype(np.float32)))) / (width * width)


def faces_to_swap(faces: list[Face]) -> list[tuple[int, np.ndarray]]:
    """(index, landmarks) of the faces with landmarks, less any lying mostly inside a larger one.

    Two overlapping swaps would paste over each other; a face mostly inside a bigger face is
    almost always a false detection of part of it, so only the bigger one is swapped.
    """
    landmarks = {i: face.landmarks for i, face in enumerate(faces) if face.landmarks is not None}
    boxes = {i: face_box(points) for i, points in landmarks.items()}
    keep = []
    for index, box in boxes.items():
        area = _area(box)
        inside_larger = any(
            _area(other) > area and _area(_intersection(box, other)) > OVERLAP_LIMIT * area
            for other_index, other in boxes.items() if other_index != index
        )
        if not inside_larger:
            keep.append((index, landmarks[index]))
    return keep


def _intersection(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.concatenate([np.maximum(a[:2], b[:2]), np.minimum(a[2:], b[2:])])


def _area(box: np.ndarray) -> float:
    return float(max(box[2] - box[0], 0.0) * max(box[3] - box[1], 0.0))


def landmark_box(landmarks: Landmarks, width: int, height: int) -> PixelBox | None:
    """Integer box (x0, y0, x1, y1) around the landmarks, one pixel of margin, clipped to the frame."""
    x0, y0 = np.floor(landmarks.min(axis=0)).astype(int) - 1
    x1, y1 = np.ceil(landmarks.max(axis=0)).astype(int) + 2
    x0, y0, x1, y1 = max(int(x0), 0), max(int(y0), 0), min(int(x1), width), min(int(y1), height)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return None
    return x0, y0, x1, y1


def _cut_face(target: TargetFace) -> tuple[np.ndarray, np.ndarray]:
    """The target photo cut to its face plus a margin, and the cut's origin in photo pixels."""
    height, width = target.image.shape[:2]
    low, high = target.landmarks.min(axis=0), target.landmarks.max(axis=0)
    margin = TARGET_MARGIN * float(np.max(high - low))
    x0, y0 = (max(int(v - margin), 0) for v in low)
    x1, y1 = min(int(high[0] + margin) + 1, width), min(int(high[1] + margin) + 1, height)
    return np.array([x0, y0], dtype=np.float32), np.ascontiguousarray(target.image[y0:y1, x0:x1])


def _pyramid(crop: np.ndarray, points: np.ndarray, face_width: float) -> list[PyramidLevel]:
    """Halvings of the target crop until its face is about ``SMALLEST_LEVEL_PX`` wide (no aliasing),
    each with its mirror image beside it (for triangles a head turn would magnify)."""
    images, scales = [crop], [1.0]
    while face_width * scales[-1] / 2 >= SMALLEST_LEVEL_PX:
        images.append(cv2.pyrDown(images[-1]))
        scales.append(scales[-1] / 2)
    levels = []
    for image, scale in zip(images, scales, strict=True):
        side_by_side = np.ascontiguousarray(np.hstack([image, image[:, ::-1]]))
        mirrored = mirrored_source(points * scale, image.shape[1])
        levels.append(PyramidLevel(side_by_side, scale, face_width * scale, mirrored))
    return levels


class PhotoSwapStage(Stage):
    """Live stage: every face with landmarks gets the target photo's face (``frame.swapped``)."""

    name = "swap"

    def __init__(
        self, config: SwapConfig, track: TrackConfig, target: TargetFace | None = None, eyes: EyesMode = "live"
    ) -> None:
        self.config = config
        self.track = track
        self.eyes = eyes
        self._target = target
        self._swapper: PhotoSwapper | None = None

    def configure(self, settings: LiveConfig) -> None:
        """Follow the live settings' ``merge.eyes`` from the next frame on."""
        self.eyes = settings.merge.eyes
        if self._swapper is not None:
            self._swapper.eyes = self.eyes

    def open(self) -> None:
        target = self._target or load_target_face(self.config.face, self.track.models_dir)
        self._swapper = PhotoSwapper(target, eyes=self.eyes)

    def process(self, frame: Frame) -> Frame | None:
        frame.swapped = []
        return self.swap_chosen(frame, faces_to_swap(frame.faces))

    def swap_chosen(self, frame: Frame, chosen: list[tuple[int, np.ndarray]]) -> Frame:
        """Swap the ``chosen`` (face index, landmarks) only, adding to ``frame.swapped`` (livefake.swap.select)."""
        if self._swapper is None:
            raise RuntimeError("PhotoSwapStage.process called before open")
        for face_index, landmarks in chosen:
            result = self._swapper.swap(frame.image, landmarks, face_index, frame.faces[face_index].track_id)
            if result is not None:
                frame.swapped.append(result)
        return frame
