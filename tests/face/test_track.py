"""Face tracking against generated ground truth, smoothing, ids and odd frames.

The clips (livefake.sources.synthetic) move a portrait by known homographies: they score rigid 2-D
motion, exposure drift, blur and noise, not expressions or 3-D head turns.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import cv2
import numpy as np
import pytest

from livefake.config import TrackConfig
from livefake.face.detect import window_count
from livefake.face.track import FaceTracker, TrackStage, find_faces
from livefake.pipeline.frame import Frame
from livefake.sources.assets import load_photo
from livefake.sources.synthetic import ClipSpec, render_frames

PERF_SCRIPT = Path(__file__).parents[2] / "perf" / "track.py"


@pytest.fixture(scope="module")
def scoring() -> ModuleType:
    """perf/track.py: the same ground-truth scoring the recorded figures use."""
    spec = importlib.util.spec_from_file_location("perf_track", PERF_SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["perf_track"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def tracker(face_models) -> FaceTracker:  # type: ignore[no-untyped-def]
    return FaceTracker(TrackConfig(), face_models)


def portrait_grid(count: int) -> np.ndarray:
    frame = np.full((720, 1280, 3), 90, np.uint8)
    photo = cv2.resize(load_photo("hopper"), (400, 345))
    for index in range(count):
        x, y = (index % 3) * 426 + 13, (index // 3) * 360 + 8
        frame[y : y + 345, x : x + 400] = photo
    return frame


@pytest.mark.parametrize("photo, size", [("hopper", (1280, 720)), ("collins", (854, 480))])
def test_moving_clip_accuracy(scoring: ModuleType, face_models, photo: str, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    row = scoring.accuracy_row(ClipSpec(photo, size, seconds=2.0), TrackConfig())
    assert row["found"] >= 0.99
    assert row["median"] <= 0.02 and row["p95"] <= 0.05
    assert row["smoothed_over_raw"] <= 1.3


@pytest.mark.slow  # a jitter score over a long still clip; perf/track.py records the figures
def test_still_clip_jitter(scoring: ModuleType, face_models) -> None:  # type: ignore[no-untyped-def]
    row = scoring.jitter_row(scoring.still_clip("hopper", 3.0, seconds=2.5), TrackConfig())
    assert row["jitter"] <= 0.005
    assert row["reduction"] >= 3.0


def test_ids_stay_and_detector_is_skipped(face_models) -> None:  # type: ignore[no-untyped-def]
    tracker = FaceTracker(TrackConfig(detect_every=12), face_models)
    ids, detector_frames = set(), []
    for index, (image, _) in enumerate(render_frames(ClipSpec("hopper", (854, 480), seconds=1))):
        faces = tracker.track(image, index / 30)
        if tracker.detector_ran:
            detector_frames.append(index)
        ids.update(face.track_id for face in faces)
        assert len(faces) == 1
    assert ids == {0}
    assert window_count(854, 480) == 3  # whole frame and two square tiles: one every 12 // 3 frames
    assert detector_frames == [0, 4, 8, 12, 16, 20, 24, 28]


def test_lost_face_gets_a_new_id(tracker: FaceTracker) -> None:
    tracker.reset()
    photo = load_photo("collins")
    assert [f.track_id for f in tracker.track(photo)] == [0]
    assert tracker.track(np.zeros_like(photo)) == []
    assert [f.track_id for f in tracker.track(photo)] == [1]
    tracker.reset()
    assert [f.track_id for f in tracker.track(photo)] == [0]


def test_face_sliding_out_of_frame_keeps_its_id(tracker: FaceTracker) -> None:
    tracker.reset()
    photo = load_photo("hopper")
    ids = []
    for shift in range(0, 700, 50):
        frame = np.full((600, 1000, 3), 80, np.uint8)
        x0 = 300 + shift
        width = min(512, 1000 - x0)
        frame[:, x0 : x0 + width] = photo[:, :width]
        ids.extend(face.track_id for face in tracker.track(frame))
    assert set(ids) == {0} and len(ids) >= 8  # followed while most of the face shows, then lost


def test_five_faces_keep_five_ids(face_models) -> None:  # type: ignore[no-untyped-def]
    tracker = FaceTracker(TrackConfig(max_faces=8), face_models)
    grid = portrait_grid(5)
    for _ in range(3):
        faces = tracker.track(grid)
    assert sorted(face.track_id for face in faces) == [0, 1, 2, 3, 4]


def test_face_half_out_of_frame(tracker: FaceTracker) -> None:
    tracker.reset()
    photo = load_photo("hopper")
    half = np.ascontiguousarray(photo[:, 265:])  # the left half of the face is cut away
    for _ in range(3):
        faces = tracker.track(half)
    for face in faces:
        assert np.isfinite(face.landmarks).all()


@pytest.mark.parametrize("shape", [(64, 64, 3), (480, 640), (480, 640, 1), (2160, 3840, 3)])
def test_frames_without_faces_pass_untouched(face_models, shape: tuple[int, ...]) -> None:  # type: ignore[no-untyped-def]
    stage = TrackStage(TrackConfig(models_dir=str(face_models.directory)))
    stage.open()
    image = np.random.default_rng(0).integers(0, 30, shape, dtype=np.uint8)
    original = image.copy()
    frame = stage.process(Frame(index=0, t_capture_ns=0, image=image))
    assert frame is not None and frame.faces == [] and frame.image is image
    assert np.array_equal(image, original)
    stage.close()


def test_grey_tiny_and_4k_frames_with_a_face(tracker: FaceTracker) -> None:
    photo = load_photo("hopper")
    grey = cv2.cvtColor(photo, cv2.COLOR_BGR2GRAY)
    for image in (grey, grey[:, :, None]):
        tracker.reset()
        assert len(tracker.track(image)) == 1
    tracker.reset()
    tracker.track(cv2.resize(photo, (64, 64)))
    tracker.reset()
    frame_4k, _ = next(render_frames(ClipSpec("hopper", (3840, 2160), seconds=1)))
    (face,) = tracker.track(frame_4k)
    assert face.box[2] - face.box[0] > 500


def test_stage_sets_faces_with_pose(face_models) -> None:  # type: ignore[no-untyped-def]
    stage = TrackStage(TrackConfig(models_dir=str(face_models.directory)))
    stage.open()
    frame = stage.process(Frame(index=0, t_capture_ns=0, image=load_photo("hopper")))
    assert frame is not None
    (face,) = frame.faces
    assert face.landmarks is not None and face.landmarks.shape == (468, 2)
    assert face.keypoints is not None and face.keypoints.shape == (6, 2)
    assert face.pose is not None and all(abs(angle) < 30 for angle in face.pose)
    stage.close()


def test_find_faces_largest_first(face_models) -> None:  # type: ignore[no-untyped-def]
    frame = np.full((720, 1280, 3), 90, np.uint8)
    frame[50:650, 50:562] = load_photo("hopper")
    frame[100:580, 700:1180] = cv2.resize(load_photo("collins"), (480, 480))
    faces = find_faces(frame, face_models.directory)
    assert len(faces) == 2
    assert faces[0].box[0] < 562 < faces[1].box[0]
    assert find_faces(np.zeros((100, 100, 3), np.uint8), face_models.directory) == []


@pytest.mark.slow
def test_full_accuracy_sweep(scoring: ModuleType, face_models) -> None:  # type: ignore[no-untyped-def]
    config = TrackConfig()
    for photo in scoring.PHOTOS:
        for name, size in scoring.SIZES.items():
            row = scoring.accuracy_row(ClipSpec(photo, size, seconds=6), config)
            assert row["found"] >= 0.99, (photo, name, row)
            assert row["median"] <= 0.02 and row["p95"] <= 0.05, (photo, name, row)
            assert row["smoothed_over_raw"] <= 1.3, (photo, name, row)
        for noise in (2.0, 4.0):
            still = scoring.jitter_row(scoring.still_clip(photo, noise, seconds=6), config)
            assert still["jitter"] <= 0.005 and still["reduction"] >= 3.0, (photo, noise, still)


def test_smoothing_off_gives_raw_landmarks(face_models) -> None:  # type: ignore[no-untyped-def]
    config = dataclasses.replace(TrackConfig(), smoothing=False, pose=False)
    tracker = FaceTracker(config, face_models)
    image = load_photo("hopper")
    tracker.track(image)
    (face,) = tracker.track(image)
    assert face.pose is None
    assert np.array_equal(face.landmarks, tracker.tracks[0].fit.landmarks)
