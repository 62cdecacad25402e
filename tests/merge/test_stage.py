"""MergeStage: frames without swaps pass untouched; with swaps only the face box changes."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from livefake.config import COLOR_TRANSFERS, MergeConfig
from livefake.face import mesh
from livefake.face.align import alignment_matrix, face_box, warp_to_crop
from livefake.merge.stage import MergeStage
from livefake.pipeline.frame import Face, Frame, SwappedFace
from livefake.sources.assets import load_photo
from livefake.sources.synthetic import ClipSpec, render_frames


def _outside_dilated_box(shape: tuple[int, ...], landmarks: np.ndarray, fraction: float = 0.1) -> np.ndarray:
    x0, y0, x1, y1 = face_box(landmarks)
    margin = fraction * max(x1 - x0, y1 - y0)
    outside = np.ones(shape[:2], bool)
    top, left = max(int(y0 - margin), 0), max(int(x0 - margin), 0)
    outside[top : int(y1 + margin) + 1, left : int(x1 + margin) + 1] = False
    return outside


def _frame_with_swap(image: np.ndarray, landmarks: np.ndarray, face_crop: np.ndarray) -> Frame:
    matrix = alignment_matrix(landmarks, "full", face_crop.shape[0])
    face = Face(box=face_box(landmarks), score=1.0, landmarks=landmarks.astype(np.float32), track_id=3)
    return Frame(0, 0, image, faces=[face], swapped=[SwappedFace(0, face_crop, None, matrix)])


def test_frame_without_swaps_passes_through_untouched() -> None:
    image = np.random.default_rng(0).integers(0, 256, (480, 640, 3), dtype=np.uint8)
    copy = image.copy()
    frame = Frame(0, 0, image, faces=[Face(box=np.zeros(4, np.float32), score=0.9)])
    out = MergeStage(MergeConfig()).process(frame)
    assert out is frame and out.image is image and np.array_equal(image, copy)


@pytest.mark.parametrize(
    ("color", "seamless", "sharpen"), list(itertools.product(COLOR_TRANSFERS, [False, True], [0.0, 0.5]))[::3]
)
def test_only_the_dilated_face_box_changes(color: str, seamless: bool, sharpen: float) -> None:
    image = np.random.default_rng(1).integers(0, 256, (720, 1280, 3), dtype=np.uint8)
    landmarks = mesh.MEAN_FACE * 15.0 + [500.0, 330.0]
    before = image.copy()
    crop = np.full((256, 256, 3), (60, 140, 220), np.uint8)
    frame = _frame_with_swap(image, landmarks, crop)
    MergeStage(MergeConfig(color=color, seamless=seamless, sharpen=sharpen)).process(frame)  # type: ignore[arg-type]
    outside = _outside_dilated_box(image.shape, landmarks)
    assert np.array_equal(frame.image[outside], before[outside])
    assert np.any(frame.image[~outside] != before[~outside])


def test_face_scale_and_mask_settings_change_the_pasted_area() -> None:
    landmarks = mesh.MEAN_FACE * 15.0 + [640.0, 360.0]
    areas = {}
    for name, config in {
        "default": MergeConfig(color="none"),
        "eroded": MergeConfig(color="none", mask_erode=20),
        "scaled": MergeConfig(color="none", face_scale=1.15),
    }.items():
        image = np.zeros((720, 1280, 3), np.uint8)
        frame = _frame_with_swap(image, landmarks, np.full((256, 256, 3), 255, np.uint8))
        MergeStage(config).process(frame)
        areas[name] = float(frame.image[..., 0].sum()) / 255.0
    assert areas["eroded"] < 0.9 * areas["default"]
    assert areas["scaled"] == pytest.approx(areas["default"] * 1.15**2, rel=0.05)


def test_generated_clip_outside_face_box_is_bit_identical(face_models) -> None:  # type: ignore[no-untyped-def]
    """Real tracking on a generated clip; the swapped face is the Collins portrait."""
    from livefake.face.track import find_faces

    target = load_photo("collins")
    target_landmarks = find_faces(target)[0].landmarks
    target_crop = warp_to_crop(target, alignment_matrix(target_landmarks, "full", 256), 256)
    stage = MergeStage(MergeConfig())
    spec = ClipSpec(photo="hopper", size=(1280, 720), seconds=0.2, fps=30.0)
    for image, _ in render_frames(spec):
        faces = find_faces(image)
        assert len(faces) == 1
        before = image.copy()
        frame = _frame_with_swap(image, faces[0].landmarks, target_crop)
        stage.process(frame)
        outside = _outside_dilated_box(image.shape, faces[0].landmarks)
        assert np.array_equal(frame.image[outside], before[outside])
        assert np.abs(frame.image[~outside].astype(int) - before[~outside]).mean() > 5.0


def test_merge_compares_against_the_crop_the_swap_stage_cut() -> None:
    """With ``SwappedFace.crop`` given, colour and light come from it, not from cutting the frame again."""
    landmarks = mesh.MEAN_FACE * 15.0 + [640.0, 360.0]
    face_crop = np.full((256, 256, 3), 128, np.uint8)
    results = {}
    for name, live in {"dark": 50, "bright": 200}.items():
        frame = _frame_with_swap(np.full((720, 1280, 3), 128, np.uint8), landmarks, face_crop)
        swapped = frame.swapped[0]
        swapped.crop = np.full_like(face_crop, live)  # what the swap stage saw under the face
        swapped.crop_to_frame = np.linalg.inv(np.vstack([swapped.matrix, [0, 0, 1]]))[:2]
        MergeStage(MergeConfig(color="rct")).process(frame)
        x, y = landmarks.mean(axis=0).astype(int)
        results[name] = int(frame.image[y, x].mean())
    assert abs(results["dark"] - 50) <= 3 and abs(results["bright"] - 200) <= 3


def test_merge_without_a_crop_cuts_it_from_the_frame() -> None:
    landmarks = mesh.MEAN_FACE * 15.0 + [640.0, 360.0]
    frame = _frame_with_swap(np.full((720, 1280, 3), 90, np.uint8), landmarks, np.full((256, 256, 3), 200, np.uint8))
    MergeStage(MergeConfig(color="rct")).process(frame)
    x, y = landmarks.mean(axis=0).astype(int)
    assert abs(int(frame.image[y, x].mean()) - 90) <= 3
