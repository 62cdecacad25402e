"""Palm detection and hand landmarks: geometry, and the converted models on real hand photos.

The photos are the ``fingerpose`` npm package's (MIT), fetched by ``perf.hand_media`` (npm
pack, sha256-checked, cached); tests that need them skip when npm or the registry is missing.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from livefake.face.hands import (
    HandLandmarkModel,
    PalmDetector,
    palm_anchors,
    region_from_landmarks,
    region_from_palm,
    upright_angle,
)
from livefake.face.landmarks import FaceRegion
from perf.hand_media import HAND_PHOTOS, HandCutout, cut_out
from perf.real_media import MediaUnavailable


def cutout_or_skip(name: str) -> HandCutout:
    try:
        return cut_out(name)
    except MediaUnavailable as error:
        pytest.skip(f"hand photos unavailable: {error}")


def test_palm_anchors_follow_the_model_layout() -> None:
    anchors = palm_anchors()
    assert anchors.shape == (2016, 2)
    assert np.allclose(anchors[0], anchors[1]) and np.allclose(anchors[0], 0.5 / 24)  # 2 per 8-px cell
    assert np.allclose(anchors[1152], 0.5 / 12) and np.allclose(anchors[1152:1158], anchors[1152])  # 6 per 16-px cell
    assert anchors.min() > 0 and anchors.max() < 1


def test_upright_angle_turns_the_fingers_to_the_top_of_the_crop() -> None:
    assert upright_angle(np.array([0, 0]), np.array([0, -5])) == pytest.approx(0.0)
    assert upright_angle(np.array([0, 0]), np.array([5, 0])) == pytest.approx(np.pi / 2)
    assert abs(upright_angle(np.array([0, 0]), np.array([0, 5]))) == pytest.approx(np.pi)


def test_region_from_landmarks_holds_the_whole_palm() -> None:
    rng = np.random.default_rng(0)
    landmarks = (rng.uniform(-40, 40, (21, 2)) + [300, 200]).astype(np.float32)
    landmarks[9] = landmarks[0] + [0, -60]
    region = region_from_landmarks(landmarks)
    knuckle = (landmarks[5] + landmarks[13]) / 4 + landmarks[9] / 2
    assert region.angle == pytest.approx(upright_angle(landmarks[0], knuckle))
    assert np.all(np.linalg.norm(landmarks - region.centre, axis=1) < region.size / 2 * 1.42)


@pytest.mark.parametrize("name", HAND_PHOTOS)
def test_palm_and_landmarks_on_a_real_hand_photo(face_models, name: str) -> None:  # type: ignore[no-untyped-def]
    cutout = cutout_or_skip(name)
    height, width = cutout.image.shape[:2]
    whole = FaceRegion(np.array([(width - 1) / 2, (height - 1) / 2]), float(max(width, height)), 0.0)
    palms = PalmDetector(face_models.palm).detect(cutout.image, whole)
    assert len(palms) == 1 and palms[0].score > 0.9
    box = palms[0].box.astype(int)
    assert cutout.alpha[box[1] : box[3], box[0] : box[2]].mean() > 0.5  # the box is on the hand
    model = HandLandmarkModel(face_models.hand)
    fit = model.fit_many(cutout.image, [region_from_palm(palms[0])])[0]
    fit = model.fit_many(cutout.image, [region_from_landmarks(fit.landmarks)])[0]
    assert fit.score > 0.9
    near_hand = cv2.dilate((cutout.alpha > 0.5).astype(np.uint8), np.ones((15, 15), np.uint8))
    x, y = np.clip(np.round(fit.landmarks).astype(int), 0, [width - 1, height - 1]).T
    assert near_hand[y, x].sum() >= 20
    assert fit.landmarks[12, 1] < fit.landmarks[0, 1]  # fingers above the wrist, as photographed


def test_palm_detector_finds_no_palm_in_a_face(face_models) -> None:  # type: ignore[no-untyped-def]
    from livefake.sources.assets import load_photo

    portrait = load_photo("hopper")
    height, width = portrait.shape[:2]
    region = FaceRegion(np.array([width / 2, height / 2]), float(max(width, height)), 0.0)
    assert PalmDetector(face_models.palm).detect(portrait, region) == []
