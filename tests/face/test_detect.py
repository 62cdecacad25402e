"""BlazeFace detection: anchors, keypoints, several faces, odd frames."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from livefake.face.detect import FaceDetector, blazeface_anchors, detection_windows
from livefake.sources.assets import load_photo
from livefake.sources.synthetic import ClipSpec, render_frames


@pytest.fixture(scope="module")
def detector(face_models) -> FaceDetector:  # type: ignore[no-untyped-def]
    return FaceDetector(face_models.detector)


def portrait_grid(count: int, size: tuple[int, int] = (1280, 720)) -> np.ndarray:
    """``count`` copies of the Hopper portrait in a grid (3 per row) on a grey frame."""
    width, height = size
    frame = np.full((height, width, 3), 90, np.uint8)
    rows = (count + 2) // 3
    tile_w, tile_h = width // 3, height // rows
    photo = cv2.resize(load_photo("hopper"), (tile_w - 20, tile_h - 10))
    for index in range(count):
        x, y = (index % 3) * tile_w + 10, (index // 3) * tile_h + 5
        frame[y : y + photo.shape[0], x : x + photo.shape[1]] = photo
    return frame


def test_anchors_cover_the_input_in_model_order() -> None:
    anchors = blazeface_anchors()
    assert anchors.shape == (896, 2)
    assert anchors.min() > 0 and anchors.max() < 1
    assert np.allclose(anchors[0], [0.5 / 16, 0.5 / 16]) and np.allclose(anchors[512], [0.5 / 8, 0.5 / 8])


def test_wide_frames_add_square_tiles() -> None:
    assert detection_windows(128, 128) == [(0, 0, 128, 128)]
    windows = detection_windows(228, 128)
    assert windows[0] == (0, 0, 228, 128) and windows[1:] == [(0, 0, 128, 128), (100, 0, 228, 128)]


@pytest.mark.parametrize("photo", ["hopper", "collins"])
def test_portrait_face_and_keypoints(detector: FaceDetector, photo: str) -> None:
    (face,) = detector.detect(load_photo(photo))
    right_eye, left_eye, nose, mouth = face.keypoints[:4]
    assert face.score > 0.8
    assert right_eye[0] < left_eye[0]  # the subject's right eye is on the image's left
    assert max(right_eye[1], left_eye[1]) < nose[1] < mouth[1]
    x0, y0, x1, y1 = face.box
    assert np.all((face.keypoints[:4] > [x0, y0]) & (face.keypoints[:4] < [x1, y1]))


def test_keypoints_follow_the_true_transform(detector: FaceDetector) -> None:
    photo = load_photo("hopper")
    (reference,) = detector.detect(photo)
    image, transform = next(render_frames(ClipSpec("hopper", (1280, 720), seconds=1, seed=3)))
    (face,) = detector.detect(image)
    expected = cv2.perspectiveTransform(reference.keypoints[None].astype(np.float64), transform)[0]
    eye_distance = np.linalg.norm(expected[1] - expected[0])
    assert np.abs(face.keypoints[:4] - expected[:4]).max() < 0.15 * eye_distance


def test_five_faces(detector: FaceDetector) -> None:
    faces = detector.detect(portrait_grid(5))
    assert len(faces) == 5
    centres = sorted(((f.box[:2] + f.box[2:]) / 2).round().tolist() for f in faces)
    assert len({tuple(c) for c in centres}) == 5


def test_small_face_in_a_wide_frame(detector: FaceDetector) -> None:
    image, _ = next(render_frames(ClipSpec("collins", (1920, 1080), seconds=1)))
    assert len(detector.detect(image)) == 1


@pytest.mark.parametrize("shape", [(64, 64, 3), (1, 1, 3), (480, 640), (2160, 3840, 3)])
def test_no_face_frames(detector: FaceDetector, shape: tuple[int, ...]) -> None:
    image = np.random.default_rng(0).integers(0, 40, shape, dtype=np.uint8)
    assert detector.detect(image) == []


def test_grey_and_4k_frames(detector: FaceDetector) -> None:
    photo = load_photo("hopper")
    grey = cv2.cvtColor(photo, cv2.COLOR_BGR2GRAY)
    assert len(detector.detect(grey)) == 1
    assert len(detector.detect(grey[:, :, None])) == 1
    frame_4k, _ = next(render_frames(ClipSpec("hopper", (3840, 2160), seconds=1)))
    assert len(detector.detect(frame_4k)) == 1
    assert detector.detect(cv2.resize(photo, (64, 64))) is not None
