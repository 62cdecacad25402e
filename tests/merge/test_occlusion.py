"""Hands carved out of the face mask: the drawing, its smoothing per track, and the merge stage."""

from __future__ import annotations

import numpy as np

from livefake.config import MergeConfig
from livefake.face import mesh
from livefake.face.align import alignment_matrix, face_box
from livefake.merge.occlusion import HandOcclusion, draw_hand, hand_mask
from livefake.merge.stage import MergeStage
from livefake.pipeline.frame import Face, Frame, Hand, SwappedFace

IDENTITY = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])


def open_hand(wrist: tuple[float, float], palm: float) -> np.ndarray:
    """21 landmarks of an upright open right hand (mediapipe order), wrist at ``wrist``."""
    roots = {5: (-0.3, -1.0), 9: (0.0, -1.0), 13: (0.25, -0.95), 17: (0.45, -0.85)}
    points = np.zeros((21, 2))
    points[1:5] = [(-0.3, -0.3), (-0.5, -0.5), (-0.65, -0.7), (-0.8, -0.85)]
    for root, (x, y) in roots.items():
        for step in range(4):
            points[root + step] = (x + 0.03 * step * np.sign(x), y - 0.3 * step)
    return (points * palm + wrist).astype(np.float32)


def test_drawn_hand_covers_palm_and_fingertips_and_scales_with_the_hand() -> None:
    areas = []
    for palm in (40.0, 80.0):
        canvas = np.zeros((480, 480), np.uint8)
        points = open_hand((240.0, 400.0), palm).astype(np.float64)
        draw_hand(canvas, points)
        for index in (0, 4, 8, 12, 16, 20):
            x, y = np.round(points[index]).astype(int)
            assert canvas[y, x] == 255
        centre = np.round(points[[0, 5, 17]].mean(axis=0)).astype(int)
        assert canvas[centre[1], centre[0]] == 255
        areas.append(int((canvas > 0).sum()))
        assert canvas[0, 0] == 0 and canvas[0, 479] == 0
    assert 3.0 < areas[1] / areas[0] < 5.0  # twice the size, about four times the area


def test_hand_mask_is_none_for_a_hand_outside_the_crop() -> None:
    far = Hand(open_hand((5000.0, 5000.0), 50.0), 0.9)
    assert hand_mask([far], IDENTITY, (256, 256)) is None
    near = hand_mask([Hand(open_hand((128.0, 240.0), 50.0), 0.9)], IDENTITY, (256, 256))
    assert near is not None and near.dtype == np.float32 and near.max() == 1.0 and near[5, 5] == 0.0


def test_carve_removes_the_hand_and_fades_out_over_frames() -> None:
    occlusion = HandOcclusion()
    mask = np.ones((256, 256), np.float32)
    hand = Hand(open_hand((128.0, 250.0), 50.0), 0.9)
    carved = occlusion.carve(mask, 0, [hand], IDENTITY)
    palm_centre = np.round(hand.landmarks[[0, 5, 17]].mean(axis=0)).astype(int)
    assert carved[palm_centre[1], palm_centre[0]] == 0.0
    assert carved[10, 10] == 1.0
    remembered = [occlusion.carve(mask, 0, [], IDENTITY)[palm_centre[1], palm_centre[0]] for _ in range(3)]
    assert 0.0 < remembered[0] < remembered[1] < remembered[2] < 1.0  # a missed hand fades, no flash
    for _ in range(10):
        last = occlusion.carve(mask, 0, [], IDENTITY)
    assert last is mask  # faded out: nothing remembered, nothing to do
    other_track = occlusion.carve(mask, 1, [], IDENTITY)
    assert other_track is mask


def test_remembered_hand_follows_the_face_crop() -> None:
    occlusion = HandOcclusion()
    mask = np.ones((256, 400), np.float32)
    hand = Hand(open_hand((100.0, 250.0), 40.0), 0.9)
    occlusion.carve(mask, 0, [hand], IDENTITY)
    shifted = np.array([[1.0, 0.0, 200.0], [0.0, 1.0, 0.0]])  # the face moved: its crop starts 200 px further left
    faded = occlusion.carve(mask, 0, [], shifted)
    x, y = np.round(hand.landmarks[0] + [200.0, -20.0]).astype(int)
    assert faded[y, x] < 1.0 and faded[y, x - 200] == 1.0


def merge_frame(occlusion: str, hands: list[Hand]) -> tuple[np.ndarray, np.ndarray]:
    image = np.random.default_rng(3).integers(0, 256, (720, 1280, 3), dtype=np.uint8)
    landmarks = (mesh.MEAN_FACE * 15.0 + [640.0, 360.0]).astype(np.float32)
    matrix = alignment_matrix(landmarks, "full", 256)
    face = Face(box=face_box(landmarks), score=1.0, landmarks=landmarks, track_id=0)
    crop = np.full((256, 256, 3), 255, np.uint8)
    frame = Frame(0, 0, image.copy(), faces=[face], swapped=[SwappedFace(0, crop, None, matrix)], hands=hands)
    # relight off: its shading estimate leaves the carved hand out, which moves the cheek by a grey level
    MergeStage(MergeConfig(color="none", relight=0.0, occlusion=occlusion)).process(frame)  # type: ignore[arg-type]
    return image, frame.image


def test_merge_keeps_the_hand_over_the_face_only_with_occlusion_on() -> None:
    hand = Hand(open_hand((640.0, 470.0), 60.0), 0.9)
    palm = np.round(hand.landmarks[[0, 5, 17]].mean(axis=0)).astype(int)
    region = (slice(palm[1] - 8, palm[1] + 8), slice(palm[0] - 8, palm[0] + 8))
    before, kept = merge_frame("hands", [hand])
    _, painted = merge_frame("none", [hand])
    assert np.array_equal(kept[region], before[region])
    assert not np.array_equal(painted[region], before[region])
    cheek = (slice(300, 310), slice(560, 570))  # away from the hand: swapped either way
    assert np.array_equal(kept[cheek], painted[cheek]) and not np.array_equal(kept[cheek], before[cheek])


def test_merge_without_hands_is_the_same_with_occlusion_on_or_off() -> None:
    _, on = merge_frame("hands", [])
    _, off = merge_frame("none", [])
    assert np.array_equal(on, off)
