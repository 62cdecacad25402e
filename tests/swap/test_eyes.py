"""Eyes in the photo swap: openness, the live-eye cut, blink fade, and the target's eyes kept."""

from __future__ import annotations

import cv2
import numpy as np

from livefake.face import mesh
from livefake.pipeline.frame import Face
from livefake.swap.eyes import EYE_POINTS, BlinkFollower, cut_live_eyes, eye_openness, keep_target_eyes
from livefake.swap.photo import PhotoSwapper, TargetFace

UPPER_LIDS = [159, 158, 160, 157, 161, 386, 385, 387, 384, 388]


def _face(width: float = 240.0, centre: tuple[float, float] = (320.0, 300.0)) -> np.ndarray:
    face = mesh.MEAN_FACE - mesh.MEAN_FACE.mean(axis=0)
    return (face * (width / np.ptp(face[:, 0])) + np.array(centre)).astype(np.float32)


def _close_eyes(landmarks: np.ndarray, share: float) -> np.ndarray:
    """Move each upper-lid point ``share`` of the way down to the lower lid's middle."""
    closed = landmarks.copy()
    for _, _, upper, lower in EYE_POINTS:
        gap = landmarks[lower, 1] - landmarks[upper, 1]
        lids = [p for p in UPPER_LIDS if abs(landmarks[p, 0] - landmarks[upper, 0]) < 0.6 * gap + 30]
        closed[lids, 1] += share * gap
    return closed


def test_openness_follows_the_lids() -> None:
    face = _face()
    values = [eye_openness(_close_eyes(face, share)) for share in (0.0, 0.3, 0.6, 0.9)]
    assert values[0] > 0.25
    assert all(a > b for a, b in zip(values, values[1:], strict=False))
    assert values[-1] < 0.1 * values[0] + 0.05
    assert np.isclose(eye_openness(face * 2.0), values[0])  # a ratio: the face's size does not matter


def test_live_mode_cuts_the_inside_of_the_eyes_and_fades_the_lids_of_a_closing_eye() -> None:
    face = _face() - np.array([100.0, 80.0], np.float32)
    blinks = BlinkFollower()
    for _ in range(5):
        assert blinks.closing(7, face) == (0.0, 0.0)  # open as usual for this face
    open_mask = np.full((440, 440), 255, np.uint8)
    cut_live_eyes(open_mask, face, blinks.closing(7, face))
    centre = face[[33, 133]].mean(axis=0).round().astype(int)
    assert open_mask[centre[1], centre[0]] == 0  # the live eye shows
    lid = ((face[159] + face[52]) / 2).round().astype(int)  # between the upper lid and the brow
    assert open_mask[lid[1], lid[0]] == 255  # an open eye keeps the target's lid
    closing = _close_eyes(face, 0.8)
    amounts = blinks.closing(7, closing)
    assert min(amounts) > 0.9
    closing_mask = np.full((440, 440), 255, np.uint8)
    cut_live_eyes(closing_mask, closing, amounts)
    assert closing_mask[lid[1], lid[0]] < 32  # a blink is the person's own upper lid
    assert (closing_mask <= open_mask).sum() > 0.99 * open_mask.size


def test_blink_fade_follows_each_faces_own_opening() -> None:
    narrow = _face()
    narrow[[159, 158, 160, 157, 161, 386, 385, 387, 384, 388], 1] += 3.0  # narrower eyes than the canonical
    blinks = BlinkFollower()
    for _ in range(20):
        steady = blinks.closing(1, narrow)
    assert steady == (0.0, 0.0)  # narrow eyes are not a blink once the track knows them
    assert max(BlinkFollower().closing(-1, _close_eyes(narrow, 0.8))) > 0.5


def _target() -> TargetFace:
    rng = np.random.default_rng(5)
    image = cv2.GaussianBlur(rng.integers(0, 256, (600, 640, 3), dtype=np.uint8), (0, 0), 2.0)
    return TargetFace(image, _face(), "synthetic.png")


def test_target_mode_keeps_the_targets_eyes_open_through_a_live_blink() -> None:
    target = _target()
    live = _close_eyes(_face(220.0, (330.0, 310.0)), 0.85)
    driven = keep_target_eyes(live, target.landmarks)
    assert eye_openness(live) < 0.1
    assert np.isclose(eye_openness(driven), eye_openness(target.landmarks), rtol=0.02)
    far = np.linalg.norm(mesh.MEAN_FACE - mesh.MEAN_FACE[[33, 263]].mean(axis=0), axis=1) > 5.0
    assert np.allclose(driven[far], live[far])  # the mouth and chin still follow the live face
    swapper = PhotoSwapper(target, eyes="target")
    frame = np.full((640, 680, 3), 90, np.uint8)
    swapped = swapper.swap(frame, live, 0)
    assert swapped is not None
    x0, y0 = -swapped.matrix[:, 2]
    eye = (driven[[159, 145]].mean(axis=0) - (x0, y0)).round().astype(int)
    assert swapped.mask is not None and swapped.mask[eye[1], eye[0]] == 1.0  # the target's eye, not cut


def test_face_objects_are_unchanged_by_target_mode() -> None:
    live = _close_eyes(_face(), 0.5)
    face = Face(box=np.zeros(4, np.float32), score=1.0, landmarks=live.copy())
    keep_target_eyes(face.landmarks, _face())  # type: ignore[arg-type]
    assert np.array_equal(face.landmarks, live)  # type: ignore[arg-type]
