"""ProvenanceStage marks every frame; verify_file reads images and videos back."""

from __future__ import annotations

from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from livefake.config import ProvenanceConfig
from livefake.errors import InputError
from livefake.merge.provenance import ProvenanceStage, verify_file
from livefake.merge.watermark import detect, make_payload
from livefake.pipeline.frame import Frame
from livefake.sources.synthetic import ClipSpec, render_frames


def frames(count: int = 20, size: tuple[int, int] = (640, 360)) -> list[np.ndarray]:
    return [image for image, _ in render_frames(ClipSpec(photo="collins", size=size, seconds=count / 30.0))]


def write_video(path: Path, images: list[np.ndarray]) -> None:
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=30)
        stream.height, stream.width = images[0].shape[:2]
        stream.pix_fmt = "yuv420p"
        stream.bit_rate = 1_000_000
        for image in images:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")))
        container.mux(stream.encode())


def test_stage_marks_frames_without_faces_in_place() -> None:
    stage = ProvenanceStage(ProvenanceConfig(), "photo.jpg")
    assert stage.name == "provenance"
    image = frames(1)[0]
    frame = Frame(index=0, t_capture_ns=0, image=image)
    out = stage.process(frame)
    assert out is frame and out.image is image
    detection = detect(out.image)
    assert detection.found and detection.payload == make_payload("photo.jpg")


def test_label_follows_config() -> None:
    image = frames(1)[0]
    labelled = ProvenanceStage(ProvenanceConfig(), "x").mark(image.copy())
    plain = ProvenanceStage(ProvenanceConfig(label=False), "x").mark(image.copy())
    corner = (slice(320, 360), slice(540, 640))
    difference = np.abs(labelled[corner].astype(int) - plain[corner])
    assert difference.max() > 60
    assert np.abs(plain.astype(int) - image).max() <= 3  # only the watermark's few grey levels


def test_read_only_image_is_copied() -> None:
    image = frames(1)[0]
    image.setflags(write=False)
    marked = ProvenanceStage(ProvenanceConfig(), "x").mark(image)
    assert marked is not image and detect(marked).found


def test_verify_file_reports_video_and_image(tmp_path: Path) -> None:
    stage = ProvenanceStage(ProvenanceConfig(), "model.onnx")
    plain = frames(30)
    marked = [stage.mark(image.copy()) for image in plain]
    write_video(tmp_path / "marked.mp4", marked)
    write_video(tmp_path / "plain.mp4", plain)
    cv2.imwrite(str(tmp_path / "marked.jpg"), marked[0], [cv2.IMWRITE_JPEG_QUALITY, 70])
    report = verify_file(tmp_path / "marked.mp4")
    assert report.kind == "video" and report.frames == 30
    assert report.found and report.share >= 0.99 and report.payload == make_payload("model.onnx")
    none = verify_file(tmp_path / "plain.mp4")
    assert not none.found and none.marked_frames == 0 and none.payload is None
    image = verify_file(tmp_path / "marked.jpg")
    assert (
        image.kind == "image"
        and image.found
        and image.as_dict()["payload"] == make_payload("model.onnx").hex()
    )


def test_verify_file_names_a_missing_or_broken_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        verify_file(tmp_path / "nothing.mp4")
    (tmp_path / "broken.mp4").write_bytes(b"not a video")
    with pytest.raises(InputError, match="broken.mp4"):
        verify_file(tmp_path / "broken.mp4")
    (tmp_path / "broken.png").write_bytes(b"not an image")
    with pytest.raises(InputError, match="broken.png"):
        verify_file(tmp_path / "broken.png")
