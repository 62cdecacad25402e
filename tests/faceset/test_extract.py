"""Face extraction on generated clips and stills: coverage, crop geometry, blur score, bad inputs."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from livefake.errors import InputError, ModelError
from livefake.face import mesh
from livefake.face.align import alignment_matrix, invert_matrix, transform_points, warp_to_crop
from livefake.face.track import find_faces
from livefake.faceset.extract import ExtractConfig, ExtractReport, extract_faceset
from livefake.faceset.format import Faceset, read_face_image, read_faceset
from livefake.faceset.tools import blur_score
from livefake.sources.assets import bundled_photo, load_photo
from livefake.sources.synthetic import ClipSpec, read_transforms, render_frames, write_clip

RESOLUTION = 128
EVERY = 2
CLIP = dict(size=(640, 360), seconds=2.0)
EYES = ((33, 133), (362, 263))


def clip_spec(photo: str) -> ClipSpec:
    return ClipSpec(photo=photo, **CLIP)  # type: ignore[arg-type]


@pytest.fixture(scope="module", params=["hopper", "collins"])
def extracted(request, face_models, tmp_path_factory):  # type: ignore[no-untyped-def]
    """(photo name, clip path, faceset folder, report) for a 2-second clip of each portrait."""
    folder = tmp_path_factory.mktemp(request.param)
    clip = folder / f"{request.param}.mp4"
    write_clip(clip_spec(request.param), clip, audio=False)
    config = ExtractConfig(resolution=RESOLUTION, every=EVERY)
    report = extract_faceset([clip], folder / "faceset", config, progress=False)
    return request.param, clip, folder / "faceset", report


def test_every_sampled_frame_of_each_portrait_clip_gives_a_face(extracted) -> None:  # type: ignore[no-untyped-def]
    _, clip, folder, report = extracted
    expected = clip_spec("hopper").frame_count // EVERY
    assert report.frames_sampled == expected
    assert report.faces_added >= 0.99 * report.frames_sampled
    faceset = read_faceset(folder)
    assert (faceset.face_type, faceset.resolution) == ("whole", RESOLUTION)
    assert [face.frame for face in faceset.faces] == list(range(0, 2 * expected, EVERY))[: len(faceset.faces)]
    assert all(face.source == str(clip) for face in faceset.faces)
    for face in faceset.faces[:5]:
        assert read_face_image(folder, face).shape == (RESOLUTION, RESOLUTION, 3)


def test_index_landmarks_lie_in_the_crop_at_the_face_type_template(extracted) -> None:  # type: ignore[no-untyped-def]
    _, _, folder, _ = extracted
    template = transform_points(mesh.MEAN_FACE, alignment_matrix(mesh.MEAN_FACE, "whole", RESOLUTION))
    for face in read_faceset(folder).faces:
        landmarks = face.landmarks_array()
        assert landmarks.shape == (468, 2)
        assert landmarks.min() >= 0 and landmarks.max() < RESOLUTION
        for eye in EYES:
            offset = np.linalg.norm(landmarks[list(eye)].mean(axis=0) - template[list(eye)].mean(axis=0))
            assert offset < 0.03 * RESOLUTION  # under 4 px at 128 px


def test_index_matrix_and_landmarks_match_the_true_face_position(extracted) -> None:  # type: ignore[no-untyped-def]
    """Landmarks mapped back through the stored matrix land where the clip's true transform puts them."""
    photo, clip, folder, _ = extracted
    portrait_landmarks = find_faces(load_photo(photo))[0].landmarks
    assert portrait_landmarks is not None
    transforms = read_transforms(clip)
    errors = []
    for face in read_faceset(folder).faces:
        in_frame = transform_points(face.landmarks_array(), invert_matrix(face.matrix_array()))
        homography = transforms[face.frame]
        truth = cv2.perspectiveTransform(portrait_landmarks[None].astype(np.float64), homography)[0]
        scale = np.sqrt(abs(np.linalg.det(homography[:2, :2])))
        errors.append(float(np.median(np.linalg.norm(in_frame - truth, axis=1))) / scale)
    assert np.median(errors) < 3.0  # portrait pixels (the face is ~190 px wide there)


def test_stored_crop_is_the_source_frame_warped_by_the_stored_matrix(extracted) -> None:  # type: ignore[no-untyped-def]
    photo, _, folder, _ = extracted
    face = read_faceset(folder).faces[3]
    frames = render_frames(clip_spec(photo))
    image = next(image for index, (image, _) in enumerate(frames) if index == face.frame)
    rewarped = warp_to_crop(image, face.matrix_array(), RESOLUTION)
    stored = read_face_image(folder, face)
    # about 5 grey levels from noise, H.264 and JPEG; about 57 for a crop 20 frames off
    assert np.abs(rewarped.astype(np.float32) - stored).mean() < 8.0


def test_blur_score_is_lower_for_a_blurred_copy(face_models, tmp_path: Path) -> None:
    portrait = load_photo("hopper")
    cv2.imwrite(str(tmp_path / "sharp.png"), portrait)
    cv2.imwrite(str(tmp_path / "soft.png"), cv2.GaussianBlur(portrait, (0, 0), 2.0))
    config = ExtractConfig(resolution=RESOLUTION)
    extract_faceset([tmp_path / "sharp.png", tmp_path / "soft.png"], tmp_path / "fs", config, progress=False)
    sharp, soft = read_faceset(tmp_path / "fs").faces
    assert soft.blur < 0.5 * sharp.blur
    crop = read_face_image(tmp_path / "fs", sharp)
    assert blur_score(cv2.GaussianBlur(crop, (0, 0), 1.5)) < 0.5 * blur_score(crop)


def test_unreadable_inputs_are_skipped_with_a_warning_and_counted(
    face_models, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cv2.imwrite(str(tmp_path / "portrait.png"), load_photo("collins"))
    (tmp_path / "broken.mp4").write_bytes(b"\x00not a video" * 50)
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8 truncated")
    inputs = [tmp_path / name for name in ("broken.mp4", "portrait.png", "broken.jpg", "gone.mp4")]
    with caplog.at_level(logging.WARNING, logger="livefake.faceset.extract"):
        report = extract_faceset(inputs, tmp_path / "fs", ExtractConfig(resolution=64), progress=False)
    assert report.faces_added == 1 and report.files_read == 1
    assert [Path(path).name for path, _ in report.unreadable] == ["broken.mp4", "broken.jpg", "gone.mp4"]
    assert len([r for r in caplog.records if r.levelno == logging.WARNING]) == 3
    assert "3 unreadable input(s) skipped" in report.summary()


def test_folder_sources_take_their_images(face_models, tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    for name in ("hopper", "collins"):
        cv2.imwrite(str(folder / f"{name}.jpg"), load_photo(name))
    (folder / "notes.txt").write_text("not media: ignored")
    report = extract_faceset([folder], tmp_path / "fs", ExtractConfig(resolution=64), progress=False)
    assert report.faces_added == 2 and not report.unreadable
    assert sorted(Path(face.source).name for face in read_faceset(tmp_path / "fs").faces) == [
        "collins.jpg", "hopper.jpg",
    ]


def test_no_face_at_all_is_a_clear_error(face_models, tmp_path: Path) -> None:
    cv2.imwrite(str(tmp_path / "wall.png"), np.full((240, 320, 3), 128, np.uint8))
    with pytest.raises(InputError, match="no face found in 1 sampled frame"):
        extract_faceset([tmp_path / "wall.png"], tmp_path / "fs", progress=False)
    (tmp_path / "broken.mp4").write_bytes(b"junk")
    with pytest.raises(InputError, match="none of the inputs could be read"):
        extract_faceset([tmp_path / "broken.mp4"], tmp_path / "fs2", progress=False)


def test_appending_needs_the_same_face_type_and_resolution(face_models, tmp_path: Path) -> None:
    photo = bundled_photo("hopper")
    out = tmp_path / "fs"
    extract_faceset([photo], out, ExtractConfig(resolution=64), progress=False)
    report = extract_faceset([photo, photo], out, ExtractConfig(resolution=64), progress=False)
    assert (report.faces_added, report.faces_total) == (2, 3)
    names = [face.file for face in read_faceset(out).faces]
    assert len(set(names)) == 3 and all((out / name).is_file() for name in names)
    with pytest.raises(InputError, match="use the same --face-type/--resolution"):
        extract_faceset([photo], out, ExtractConfig(resolution=96), progress=False)
    with pytest.raises(InputError, match="use the same --face-type/--resolution"):
        extract_faceset([photo], out, ExtractConfig(face_type="full", resolution=64), progress=False)


def test_an_output_folder_that_is_not_a_faceset_is_refused(tmp_path: Path) -> None:
    (tmp_path / "holiday.jpg").write_bytes(b"someone's photo")
    with pytest.raises(InputError, match="is not a faceset"):
        extract_faceset([bundled_photo("hopper")], tmp_path, progress=False)


@pytest.mark.parametrize(
    "config, message",
    [
        (ExtractConfig(every=0), "--every"),
        (ExtractConfig(resolution=8), "--resolution"),
        (ExtractConfig(face_type="chin"), "--face-type"),  # type: ignore[arg-type]
        (ExtractConfig(pick="reference"), "--reference PHOTO"),
    ],
)
def test_bad_parameters_name_the_flag(config: ExtractConfig, message: str, tmp_path: Path) -> None:
    with pytest.raises(InputError, match=message):
        extract_faceset([bundled_photo("hopper")], tmp_path / "fs", config, progress=False)


def two_faces(tmp_path: Path) -> Path:
    """Hopper (face ~190 px wide) on the left, Collins (~95 px) on the right of one picture."""
    canvas = np.full((620, 1100, 3), 90, np.uint8)
    canvas[:600, :512] = load_photo("hopper")
    canvas[50:562, 560:1072] = load_photo("collins")
    path = tmp_path / "two.png"
    cv2.imwrite(str(path), canvas)
    return path


def chosen_face_centre(folder: Path) -> np.ndarray:
    face = read_faceset(folder).faces[0]
    return transform_points(face.landmarks_array(), invert_matrix(face.matrix_array())).mean(axis=0)


def test_pick_largest_takes_the_bigger_face(face_models, tmp_path: Path) -> None:
    extract_faceset([two_faces(tmp_path)], tmp_path / "fs", ExtractConfig(resolution=64), progress=False)
    assert chosen_face_centre(tmp_path / "fs")[0] < 512


def test_pick_reference_takes_the_face_like_the_photo(face_models, tmp_path: Path) -> None:
    pytest.importorskip("dlib", reason="identity extra (dlib) not installed")
    config = ExtractConfig(resolution=64, pick="reference", reference=str(bundled_photo("collins")))
    extract_faceset([two_faces(tmp_path)], tmp_path / "fs", config, progress=False)
    assert chosen_face_centre(tmp_path / "fs")[0] > 560


def test_pick_reference_without_dlib_says_to_install_the_identity_extra(
    face_models, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "dlib", None)  # import dlib now raises ImportError
    config = ExtractConfig(pick="reference", reference=str(bundled_photo("collins")))
    with pytest.raises(ModelError, match=r"--pick reference: .*livefake\[identity\]"):
        extract_faceset([bundled_photo("hopper")], tmp_path / "fs", config, progress=False)


def test_report_summary_counts(tmp_path: Path) -> None:
    report = ExtractReport(faceset=tmp_path, faces_added=3, faces_total=5, frames_sampled=4, files_read=1)
    assert "3 faces added" in report.summary() and "5 in all" in report.summary()
    assert Faceset(face_type="whole", resolution=64).faces == []
