"""The merge stage: put each swapped face back into its frame.

Per face, all in crop space (the swap's own crop, a few hundred pixels square): the mask is
the swap's mask times the landmark hull, eroded and feathered relative to the face's size;
the swapped face is recoloured to the face it replaces (statistics smoothed per track),
optionally sharpened, scaled and shifted; then it is blended back inside the face's box only.
The frame's image is changed in place; frames with no swapped faces pass through untouched.
"""

from __future__ import annotations

import cv2

from livefake.config import MergeConfig
from livefake.errors import InputError
from livefake.face.align import transform_points, warp_to_crop
from livefake.merge.color import ColorMatcher
from livefake.merge.mask import face_size_px, merge_mask
from livefake.merge.paste import paste_back, scaled_matrix
from livefake.pipeline.frame import Face, Frame, SwappedFace
from livefake.pipeline.stage import Stage
from livefake.types import Image


def sharpen(image_bgr: Image, amount: float) -> Image:
    """Unsharp mask: ``image + amount * (image - blur(image))``."""
    blurred = cv2.GaussianBlur(image_bgr, (0, 0), 1.5)
    return cv2.addWeighted(image_bgr, 1.0 + amount, blurred, -amount, 0.0)


class MergeStage(Stage):
    """Colour transfer, mask composition and paste-back for every ``SwappedFace`` of a frame."""

    name = "merge"

    def __init__(self, config: MergeConfig) -> None:
        self.config = config
        self.colors = ColorMatcher(config.color, config.color_smoothing)

    def close(self) -> None:
        self.colors.reset()

    def process(self, frame: Frame) -> Frame:
        for swapped in frame.swapped:
            if not 0 <= swapped.face_index < len(frame.faces):
                raise InputError(
                    f"merge: swapped face index {swapped.face_index} has no face in frame {frame.index}"
                )
            self.merge_face(frame.image, frame.faces[swapped.face_index], swapped)
        return frame

    def merge_face(self, image: Image, face: Face, swapped: SwappedFace) -> None:
        """Blend one swapped face into ``image`` in place."""
        if face.landmarks is None:
            raise InputError("merge: a swapped face has no landmarks; the track stage must supply them")
        config = self.config
        height, width = swapped.image.shape[:2]
        crop_landmarks = transform_points(face.landmarks, swapped.matrix)
        mask = merge_mask(
            crop_landmarks,
            (height, width),
            swapped.mask,
            config.mask_type,
            config.mask_erode,
            config.mask_blur,
        )
        face_crop = swapped.image
        if config.color != "none":
            destination = warp_to_crop(image, swapped.matrix, (width, height))
            face_crop = self.colors.apply(face.track_id, face_crop, destination, mask)
        if config.sharpen > 0.0:
            face_crop = sharpen(face_crop, config.sharpen)
        matrix = swapped.matrix
        if config.face_scale != 1.0 or config.face_offset != (0.0, 0.0):
            size_px = face_size_px(crop_landmarks)
            offset = (config.face_offset[0] * size_px, config.face_offset[1] * size_px)
            matrix = scaled_matrix(matrix, (width, height), config.face_scale, offset)
        paste_back(image, face_crop, mask, matrix, seamless=config.seamless)
