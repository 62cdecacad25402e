"""Draw what the tracker sees: landmarks, box, track id, iris, pose and hands (``--show-landmarks``)."""

from __future__ import annotations

import cv2
import numpy as np

from livefake.pipeline.frame import Face, Frame
from livefake.pipeline.stage import Stage
from livefake.types import Image, Landmarks

LANDMARK_COLOUR = (80, 255, 80)  # BGR
BOX_COLOUR = (255, 200, 0)
IRIS_COLOUR = (0, 80, 255)
HAND_COLOUR = (255, 80, 255)


def draw_points(image: Image, points: Landmarks, colour: tuple[int, int, int]) -> None:
    """Mark each point with a 2x2 dot, in place, skipping points outside the image."""
    height, width = image.shape[:2]
    xy = np.round(points).astype(np.int64)
    for dx, dy in ((0, 0), (1, 0), (0, 1), (1, 1)):
        x, y = xy[:, 0] + dx, xy[:, 1] + dy
        inside = (x >= 0) & (x < width) & (y >= 0) & (y < height)
        image[y[inside], x[inside]] = colour


def draw_face(image: Image, face: Face) -> None:
    """Draw one face onto ``image`` (uint8 BGR) in place."""
    x0, y0, x1, y1 = (int(round(v)) for v in face.box)
    cv2.rectangle(image, (x0, y0), (x1, y1), BOX_COLOUR, 1, cv2.LINE_AA)
    label = f"#{face.track_id} {face.score:.2f}"
    if face.pose is not None:
        label += " yaw {:+.0f} pitch {:+.0f} roll {:+.0f}".format(*face.pose)
    cv2.putText(image, label, (x0, max(y0 - 6, 12)), cv2.FONT_HERSHEY_SIMPLEX, 0.45, BOX_COLOUR, 1, cv2.LINE_AA)
    if face.landmarks is not None:
        draw_points(image, face.landmarks, LANDMARK_COLOUR)
    if face.iris is not None:
        for centre in face.iris[[0, 5]]:
            radius = max(1, int(round(float(np.linalg.norm(face.iris[1] - face.iris[0])))))
            cv2.circle(image, tuple(int(round(v)) for v in centre), radius, IRIS_COLOUR, 1, cv2.LINE_AA)


def draw_faces(image: Image, faces: list[Face]) -> Image:
    """A copy of ``image`` with every face drawn on it."""
    canvas = image.copy()
    for face in faces:
        draw_face(canvas, face)
    return canvas


class LandmarkOverlayStage(Stage):
    """Draws ``frame.faces`` and ``frame.hands`` onto the frame image (a debugging view; place it
    last before the sinks)."""

    name = "landmarks"

    def process(self, frame: Frame) -> Frame | None:
        if frame.faces or frame.hands:
            frame.image = draw_faces(frame.image, frame.faces)
            for hand in frame.hands:
                draw_points(frame.image, hand.landmarks, HAND_COLOUR)
        return frame
