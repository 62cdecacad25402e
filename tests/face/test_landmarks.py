"""468-point landmarks and iris: regions, mapping back to the frame, equivariance."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from livefake.face.detect import FaceDetector
from livefake.face.landmarks import (
    EYE_LINE,
    FaceRegion,
    LandmarkModel,
    crop_matrix,
    to_frame,
    warp_region,
)
from livefake.sources.assets import load_photo


@pytest.fixture(scope="module")
def models(face_models) -> tuple[FaceDetector, LandmarkModel]:  # type: ignore[no-untyped-def]
    return FaceDetector(face_models.detector), LandmarkModel(face_models.landmarks, face_models.iris)


def fit_photo(models: tuple[FaceDetector, LandmarkModel], image: np.ndarray) -> np.ndarray:
    detector, landmark_model = models
    (detection,) = detector.detect(image)
    first = landmark_model.fit(image, FaceRegion.from_detection(detection))
    return landmark_model.fit(image, FaceRegion.from_landmarks(first.landmarks)).landmarks


def iod(landmarks: np.ndarray) -> float:
    return float(np.linalg.norm(landmarks[EYE_LINE[1]] - landmarks[EYE_LINE[0]]))


def test_crop_matrix_round_trip_and_orientation() -> None:
    region = FaceRegion(np.array([300.0, 200.0]), 150.0, np.deg2rad(20))
    matrix = crop_matrix(region, 192)
    points = np.array([[0.0, 0.0], [191.0, 5.0], [95.5, 95.5]])
    back = to_frame(points, matrix)
    assert np.allclose(back[2], region.centre)
    assert np.allclose(back @ matrix[:, :2].T + matrix[:, 2], points)
    direction = back[1] - back[0]
    assert np.isclose(np.arctan2(direction[1], direction[0]), np.deg2rad(20), atol=0.05)


def test_region_from_landmarks_is_upright_square_around_them() -> None:
    ys, xs = np.mgrid[0:20, 0:25]
    points = np.zeros((468, 2))
    points[:500] = np.stack([xs.ravel() * 4 + 100, ys.ravel() * 5 + 50], axis=1)[:468]
    points[EYE_LINE[0]], points[EYE_LINE[1]] = [120, 80], [180, 80]
    region = FaceRegion.from_landmarks(points)
    assert abs(region.angle) < 1e-9
    assert np.isclose(region.size, 96 * 1.5)


@pytest.mark.parametrize("photo", ["hopper", "collins"])
def test_landmarks_on_portraits(models: tuple[FaceDetector, LandmarkModel], photo: str) -> None:
    image = load_photo(photo)
    (detection,) = models[0].detect(image)
    fit = models[1].fit(image, FaceRegion.from_detection(detection))
    assert fit.landmarks.shape == (468, 2) and fit.landmarks.dtype == np.float32
    assert fit.score > 0.9
    right_eye, left_eye = detection.keypoints[:2]
    assert np.linalg.norm(fit.landmarks[[33, 133]].mean(0) - right_eye) < 0.15 * iod(fit.landmarks)
    assert np.linalg.norm(fit.landmarks[[362, 263]].mean(0) - left_eye) < 0.15 * iod(fit.landmarks)
    assert fit.iris is not None and fit.iris.shape == (10, 2)
    for centre, corners in ((fit.iris[0], (33, 133)), (fit.iris[5], (362, 263))):
        a, b = fit.landmarks[list(corners)]
        assert min(a[0], b[0]) < centre[0] < max(a[0], b[0])


@pytest.mark.parametrize("angle, scale, shift", [(15.0, 1.3, (40, -20)), (-25.0, 0.8, (-30, 10))])
def test_landmarks_follow_a_similarity_transform(
    models: tuple[FaceDetector, LandmarkModel], angle: float, scale: float, shift: tuple[int, int]
) -> None:
    image = load_photo("hopper")
    reference = fit_photo(models, image)
    centre = reference.mean(axis=0)
    matrix = cv2.getRotationMatrix2D((float(centre[0]), float(centre[1])), angle, scale)
    matrix[:, 2] += shift
    moved = cv2.warpAffine(image, matrix, (image.shape[1], image.shape[0]), borderMode=cv2.BORDER_REPLICATE)
    expected = reference @ matrix[:, :2].T + matrix[:, 2]
    error = np.linalg.norm(fit_photo(models, moved) - expected, axis=1).mean()
    assert error < 0.02 * iod(expected)


def test_batched_fit_equals_single_fits(models: tuple[FaceDetector, LandmarkModel]) -> None:
    image = load_photo("collins")
    landmarks = fit_photo(models, image)
    regions = [FaceRegion.from_landmarks(landmarks), FaceRegion.from_landmarks(landmarks + 3)]
    together = models[1].fit_many(image, regions)
    for fit, region in zip(together, regions, strict=True):
        assert np.abs(fit.landmarks - models[1].fit(image, region).landmarks).max() < 1e-2


def test_big_regions_are_shrunk_before_warping() -> None:
    image = np.zeros((2000, 2000, 3), np.uint8)
    image[::2] = 255  # a pattern that aliases badly without area averaging
    crop, _ = warp_region(image, FaceRegion(np.array([1000.0, 1000.0]), 1600.0, 0.1), 192)
    assert abs(float(crop.mean()) - 127.5) < 10 and crop.std() < 40
