"""Small facesets cut from the generated clips (livefake.sources.synthetic) without the face tracker.

For tests, benchmarks and demos. The landmarks are MediaPipe's canonical face
(``mesh.MEAN_FACE``, 468 points) placed on the portrait by a similarity fitted to eye and
mouth centres picked by hand on the bundled photos, then carried into every frame by the
clip's true homography. They are an approximation: a frontal template, no expression.
The generated clips have no expressions or 3-D turns, so a model trained on these facesets
says nothing about swap quality on real faces.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from livefake.face import mesh
from livefake.face.align import alignment_matrix, similarity_fit, transform_points, warp_to_crop
from livefake.faceset.format import Faceset, FacesetFace, write_faceset
from livefake.sources.synthetic import ClipSpec, render_frames

# Portrait pixels of (right eye centre, left eye centre, mouth centre): subject's right = image left.
PORTRAIT_KEYPOINTS = {
    "hopper": ((222.0, 187.0), (305.0, 185.0), (261.0, 277.0)),
    "collins": ((203.0, 102.0), (247.0, 102.0), (225.0, 143.0)),
}


def portrait_landmarks(photo: str) -> np.ndarray:
    """The 468-point template placed on a bundled portrait (portrait pixels, float64)."""
    canonical = np.array(
        [
            mesh.MEAN_FACE[list(mesh.RIGHT_EYE)].mean(axis=0),
            mesh.MEAN_FACE[list(mesh.LEFT_EYE)].mean(axis=0),
            mesh.MEAN_FACE[list(mesh.LIPS_OUTER)].mean(axis=0),
        ]
    )
    fit = similarity_fit(canonical, np.array(PORTRAIT_KEYPOINTS[photo]))
    return transform_points(mesh.MEAN_FACE, fit)


def write_synthetic_faceset(
    photo: str,
    folder: str | Path,
    count: int = 24,
    resolution: int = 64,
    face_type: str = "whole",
    seed: int = 0,
    frame_size: tuple[int, int] = (640, 480),
) -> Faceset:
    """Render a clip of ``photo``, cut ``count`` aligned crops and write a faceset to ``folder``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    template = portrait_landmarks(photo)
    spec = ClipSpec(photo=photo, size=frame_size, fps=10.0, seconds=count / 10.0, seed=seed)
    faces = []
    for index, (frame, homography) in enumerate(render_frames(spec)):
        landmarks = _apply_homography(template, homography)
        matrix = alignment_matrix(landmarks, face_type, resolution)  # type: ignore[arg-type]
        crop = warp_to_crop(frame, matrix, resolution)
        name = f"{index:06d}.jpg"
        cv2.imwrite(str(folder / name), crop, [cv2.IMWRITE_JPEG_QUALITY, 95])
        grey = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)
        roll = float(np.degrees(np.arctan2(matrix[0, 1], matrix[0, 0])))
        face = FacesetFace(
            file=name,
            source=f"synthetic:{photo}:seed{seed}",
            frame=index,
            landmarks=transform_points(landmarks, matrix).tolist(),
            matrix=np.asarray(matrix).tolist(),
            roll=roll,
            blur=float(cv2.Laplacian(grey, cv2.CV_64F).var()),
            score=1.0,
        )
        faces.append(face)
    faceset = Faceset(face_type=face_type, resolution=resolution, faces=faces)
    write_faceset(folder, faceset)
    return faceset


def _apply_homography(points: np.ndarray, homography: np.ndarray) -> np.ndarray:
    projected = cv2.perspectiveTransform(points.reshape(-1, 1, 2).astype(np.float64), homography)
    return projected.reshape(-1, 2)
