"""Frames with two generated faces in view: Hopper (left, larger) and Collins (right, smaller).

Each portrait is cut around its face and moved by its own smooth translation and roll, so the
tracker follows two faces of clearly different sizes that never overlap. Like every generated
clip, the faces have no expressions or 3-D turns.
"""

from __future__ import annotations

import cv2
import numpy as np

from livefake.face.track import find_faces
from livefake.sources.assets import load_photo

SIZE = (640, 360)
PLACES = {"hopper": ((185.0, 180.0), 130.0, 0.0), "collins": ((470.0, 180.0), 92.0, 1.7)}  # centre, face px, phase


def _face_cut(photo: str) -> tuple[np.ndarray, np.ndarray]:
    """The portrait cut to its face plus a margin, and the face box in the cut's pixels."""
    image = load_photo(photo)
    box = find_faces(image)[0].box
    margin = 0.6 * float(box[2] - box[0])
    x0, y0 = int(max(box[0] - margin, 0)), int(max(box[1] - margin, 0))
    x1, y1 = int(min(box[2] + margin, image.shape[1])), int(min(box[3] + margin, image.shape[0]))
    return image[y0:y1, x0:x1].copy(), box - np.array([x0, y0, x0, y0], dtype=np.float32)


def two_face_frames(count: int, seed: int = 0) -> list[np.ndarray]:
    """``count`` frames (uint8 BGR, 640x360) of the two moving faces on a grey gradient."""
    rng = np.random.default_rng(seed)
    noises = [rng.normal(0.0, 1.5, (SIZE[1], SIZE[0], 3)).astype(np.float32) for _ in range(8)]
    cuts = {name: _face_cut(name) for name in PLACES}
    background = np.tile(np.linspace(70, 120, SIZE[0], dtype=np.float32)[None, :, None], (SIZE[1], 1, 3))
    frames = []
    for index in range(count):
        frame = background.astype(np.uint8)
        t = index / 30.0
        for name, ((cx, cy), face_px, phase) in PLACES.items():
            cut, box = cuts[name]
            scale = face_px / float(box[2] - box[0])
            angle = 5.0 * np.sin(0.8 * t + phase)
            centre = ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2)
            matrix = cv2.getRotationMatrix2D((float(centre[0]), float(centre[1])), angle, scale)
            shift = (cx + 14 * np.sin(0.6 * t + phase), cy + 8 * np.sin(0.9 * t + phase))
            matrix[:, 2] += (shift[0] - centre[0], shift[1] - centre[1])
            cv2.warpAffine(cut, matrix, SIZE, dst=frame, borderMode=cv2.BORDER_TRANSPARENT)
        frames.append(np.clip(frame + noises[index % len(noises)], 0, 255).astype(np.uint8))
    return frames


def face_side(box: np.ndarray) -> str:
    """Which portrait a face box belongs to, by where it is."""
    return "hopper" if (box[0] + box[2]) / 2 < SIZE[0] / 2 else "collins"
