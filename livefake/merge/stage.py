"""The merge stage: put each swapped face back into its frame.

Per face, all in crop space (the swap's own crop, a few hundred pixels square): the mask is
the swap's mask times the landmark hull, eroded and feathered relative to the face's size;
hands in front of the face are carved out of it (``merge.occlusion``);
the swapped face is recoloured to the face it replaces (statistics smoothed per track),
relit with the live face's shading (``relight``, gain map smoothed per track), optionally
sharpened, scaled and shifted; then it is blended back inside the face's box only. The live
pixels compared against are the crop the swap stage cut (``SwappedFace.crop``); only a swap
stage that kept none makes merge cut it again. The frame's image is changed in place; frames
with no swapped faces pass through untouched.
"""

from __future__ import annotations

import cv2
import numpy as np

from livefake.config import LiveConfig, MergeConfig
from livefake.errors import InputError
from livefake.face.align import transform_points, warp_to_crop
from livefake.merge.color import ColorMatcher, warm_up_conversions
from livefake.merge.light import Relighter
from livefake.merge.mask import face_size_px, merge_mask
from livefake.merge.occlusion import HandOcclusion
from livefake.merge.paste import paste_back, scaled_matrix
from livefake.pipeline.frame import Face, Frame, Hand, SwappedFace
from livefake.pipeline.stage import Stage
from livefake.types import Image


def sharpen(image_bgr: Image, amount: float) -> Image:
    """Unsharp mask: ``image + amount * (image - blur(image))``."""
    blurred = cv2.GaussianBlur(image_bgr, (0, 0), 1.5)
    return cv2.addWeighted(image_bgr, 1.0 + amount, blurred, -amount, 0.0)


def live_crop(image: np.ndarray, swapped: SwappedFace) -> np.ndarray:
    """The live pixels under the swapped face: the swap stage's own crop, else cut again."""
    if swapped.crop is not None:
        return swapped.crop
    height, width = swapped.image.shape[:2]
    return warp_to_crop(image, swapped.matrix, (width, height))


class MergeStage(Stage):
    """Colour transfer, relight, mask composition and paste-back for every ``SwappedFace`` of a frame."""

    name = "merge"

    def __init__(self, config: MergeConfig) -> None:
        self.config = config
        self.colors = ColorMatcher(config.color, config.color_smoothing)
        self.light = Relighter(config.relight, config.color_smoothing)
        self.occlusion = HandOcclusion()
        self._target: tuple[str | None, str | None] | None = None

    def configure(self, settings: LiveConfig) -> None:
        """Every merge setting changes live; a new colour method, smoothing or swap target starts a
        fresh colour history (and a new target a fresh relight one); the occlusion history carries on."""
        merge = settings.merge
        if (merge.color, merge.color_smoothing) != (self.config.color, self.config.color_smoothing):
            self.colors = ColorMatcher(merge.color, merge.color_smoothing)
        self.light.strength, self.light.smoothing = merge.relight, merge.color_smoothing
        target = (settings.swap.face, settings.swap.model)
        if target != self._target:  # another face to paste: its own colours and shading, not the last one's
            self.colors.reset()
            self.light.reset()
            self._target = target
        self.config = merge

    def open(self) -> None:
        """OpenCV builds its colour-space tables at the first conversion (~80 ms): pay that before
        capture starts, or the first frame's merge drops the two behind it."""
        warm_up_conversions()

    def close(self) -> None:
        self.colors.reset()
        self.light.reset()
        self.occlusion.reset()

    def process(self, frame: Frame) -> Frame:
        for swapped in frame.swapped:
            if not 0 <= swapped.face_index < len(frame.faces):
                raise InputError(
                    f"merge: swapped face index {swapped.face_index} has no face in frame {frame.index}"
                )
            self.merge_face(frame.image, frame.faces[swapped.face_index], swapped, frame.hands)
        return frame

    def merge_face(self, image: np.ndarray, face: Face, swapped: SwappedFace, hands: list[Hand] | None = None) -> None:
        """Blend one swapped face into ``image`` in place, leaving ``hands`` in front of it."""
        if face.landmarks is None:
            raise InputError("merge: a swapped face has no landmarks; the track stage must supply them")
        config = self.config
        height, width = swapped.image.shape[:2]
        crop_landmarks = transform_points(face.landmarks, swapped.matrix)
        mask = merge_mask(
            crop_landmarks, (height, width), swapped.mask, config.mask_type, config.mask_erode, config.mask_blur
        )
        if config.occlusion == "hands" and hands is not None:
            mask = self.occlusion.carve(mask, face.track_id, hands, swapped.matrix)
        face_crop = self.recolour(image, face, swapped, mask, face_size_px(crop_landmarks))
        if config.sharpen > 0.0:
            face_crop = sharpen(face_crop, config.sharpen)
        matrix, to_frame = swapped.matrix, swapped.crop_to_frame
        if config.face_scale != 1.0 or config.face_offset != (0.0, 0.0):
            size_px = face_size_px(crop_landmarks)
            offset = (config.face_offset[0] * size_px, config.face_offset[1] * size_px)
            matrix, to_frame = scaled_matrix(matrix, (width, height), config.face_scale, offset), None
        paste_back(image, face_crop, mask, matrix, seamless=config.seamless, crop_to_frame=to_frame)

    def recolour(
        self, image: np.ndarray, face: Face, swapped: SwappedFace, mask: np.ndarray, face_px: float
    ) -> np.ndarray:
        """The swapped crop with the live face's colour and shading (per-track smoothed)."""
        face_crop = swapped.image
        if self.config.color == "none" and self.config.relight <= 0.0:
            return face_crop
        live = live_crop(image, swapped)
        if self.config.color != "none":
            face_crop = self.colors.apply(face.track_id, face_crop, live, mask)
        return self.light.apply(face.track_id, face_crop, live, mask, face_px)
