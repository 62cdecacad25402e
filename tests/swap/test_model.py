"""The model-backed swap stage: aligned crops in one batch, BGR faces and masks out, empty frames untouched."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from livefake.config import SwapConfig
from livefake.errors import InputError, ModelError
from livefake.face.align import alignment_matrix, warp_to_crop
from livefake.models.synthetic_faceset import portrait_landmarks
from livefake.pipeline.frame import Face, Frame
from livefake.runtime import SessionOptions, load_swap_model
from livefake.runtime.swap_model import SwapModel
from livefake.sources.assets import load_photo
from livefake.swap.model import ModelSwapStage
from perf.stand_ins import save_stand_in

SIZE = 64


def inverting_model(path: Path, size: int = SIZE, face_type: str = "whole") -> Path:
    """A contract model whose face is 1 - crop and whose mask is the crop's channel mean."""
    return save_stand_in(path, size, face_type, architecture="test")


def placed_face(canvas: np.ndarray, photo: str, scale: float, origin: tuple[int, int]) -> Face:
    """Paste a scaled bundled portrait into ``canvas`` and return its Face with true landmarks."""
    image = cv2.resize(load_photo(photo), None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    x, y = origin
    height, width = min(image.shape[0], canvas.shape[0] - y), min(image.shape[1], canvas.shape[1] - x)
    canvas[y : y + height, x : x + width] = image[:height, :width]
    landmarks = (portrait_landmarks(photo) * scale + np.array(origin)).astype(np.float32)
    box = np.concatenate([landmarks.min(axis=0), landmarks.max(axis=0)]).astype(np.float32)
    return Face(box=box, score=1.0, landmarks=landmarks)


def two_face_frame() -> Frame:
    canvas = np.full((480, 640, 3), 90, np.uint8)
    faces = [placed_face(canvas, "hopper", 0.55, (10, 40)), placed_face(canvas, "collins", 0.9, (330, 60))]
    return Frame(index=0, t_capture_ns=0, image=canvas, faces=faces)


class CountingModel(SwapModel):
    """Wraps a SwapModel and records the batch size of every call."""

    def __init__(self, inner: SwapModel) -> None:
        self.inner, self.contract, self.session, self.batches = inner, inner.contract, inner.session, []

    def swap_crops(self, crops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        self.batches.append(len(crops))
        return self.inner.swap_crops(crops)


@pytest.fixture
def model(tmp_path: Path) -> CountingModel:
    path = inverting_model(tmp_path / "inverting.onnx")
    return CountingModel(load_swap_model(path, SessionOptions(provider="cpu", threads=1, warm_up_runs=1)))


def test_every_face_is_swapped_in_one_batch(model: CountingModel) -> None:
    stage = ModelSwapStage(SwapConfig(), model=model)
    stage.open()
    model.batches.clear()
    frame = two_face_frame()
    original = frame.image.copy()
    assert stage.process(frame) is frame
    assert model.batches == [2]
    assert [swapped.face_index for swapped in frame.swapped] == [0, 1]
    for swapped, face in zip(frame.swapped, frame.faces, strict=True):
        expected_matrix = alignment_matrix(face.landmarks, "whole", SIZE)
        assert np.allclose(swapped.matrix, expected_matrix)
        crop = warp_to_crop(original, expected_matrix, SIZE)
        assert swapped.image.shape == (SIZE, SIZE, 3) and swapped.image.dtype == np.uint8
        assert np.abs(swapped.image.astype(int) - (255 - crop.astype(int))).max() <= 1  # BGR kept
        assert swapped.mask is not None and swapped.mask.shape == (SIZE, SIZE)
        assert np.allclose(swapped.mask, crop.mean(axis=2) / 255, atol=1e-3)
    assert np.array_equal(frame.image, original)  # the stage never paints the frame: merge does
    stage.close()


def test_frames_without_faces_pass_through_untouched(model: CountingModel) -> None:
    stage = ModelSwapStage(SwapConfig(), model=model)
    stage.open()
    model.batches.clear()
    image = np.full((480, 640, 3), 7, np.uint8)
    detected_only = Face(box=np.array([10, 10, 50, 50], np.float32), score=0.9)  # no landmarks yet
    for faces in ([], [detected_only]):
        frame = Frame(index=1, t_capture_ns=0, image=image, faces=faces)
        assert stage.process(frame) is frame
        assert frame.swapped == [] and frame.image is image
    assert model.batches == []


def test_stage_loads_its_model_file_on_open(tmp_path: Path) -> None:
    path = inverting_model(tmp_path / "m.onnx", face_type="full")
    stage = ModelSwapStage(SwapConfig(model=str(path), provider="cpu", threads=1))
    stage.open()
    frame = two_face_frame()
    stage.process(frame)
    assert len(frame.swapped) == 2
    assert np.allclose(frame.swapped[0].matrix, alignment_matrix(frame.faces[0].landmarks, "full", SIZE))


def test_missing_model_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="needs a model file: pass --model FILE"):
        ModelSwapStage(SwapConfig())
    stage = ModelSwapStage(SwapConfig(model=str(tmp_path / "gone.onnx")))
    with pytest.raises(ModelError, match=r"gone\.onnx does not exist"):
        stage.open()


def test_exported_lite_model_runs_in_the_stage(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    from livefake.exporters.onnx_export import export_onnx, source_from_model
    from livefake.exporters.stand_in import stand_in_weights
    from livefake.models.registry import build_model, default_config

    network = build_model(default_config("lite", SIZE, encoder_dims=8, inter_dims=16, decoder_dims=8))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        stand_in_weights(network, torch.rand(2, 3, SIZE, SIZE))
        path = export_onnx(source_from_model(network.eval()), tmp_path / "lite.onnx")
    finally:
        torch.set_num_threads(threads)
    stage = ModelSwapStage(SwapConfig(model=str(path), provider="cpu", threads=1))
    stage.open()
    frame = two_face_frame()
    stage.process(frame)
    assert len(frame.swapped) == 2 and all(item.image.std() > 1 for item in frame.swapped)
