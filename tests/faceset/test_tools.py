"""Faceset sort, filter (lossless) and contact sheet on a small faceset made from the portraits."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import cv2
import numpy as np
import pytest

from livefake.errors import InputError
from livefake.faceset.format import Faceset, FacesetFace, read_face_image, read_faceset, write_faceset
from livefake.faceset.tools import (
    CAPTION_HEIGHT,
    REJECTED_FOLDER,
    SHEET_CELL,
    FilterRules,
    blur_score,
    brightness,
    contact_sheet,
    filter_faceset,
    similarity_chain,
    sort_faceset,
    thumbnail_feature,
    write_contact_sheet,
)
from livefake.sources.assets import load_photo
from livefake.sources.image import read_image

SIZE = 64


def crops() -> dict[str, tuple[np.ndarray, float, float]]:
    """name -> (crop, yaw, pitch): sharp, blurred, dark and bright Hopper, Collins, two near-duplicates."""
    hopper = cv2.resize(load_photo("hopper")[60:400, 90:430], (SIZE, SIZE), interpolation=cv2.INTER_AREA)
    collins = cv2.resize(load_photo("collins")[20:260, 110:350], (SIZE, SIZE), interpolation=cv2.INTER_AREA)
    noise = np.random.default_rng(0).normal(0, 2, collins.shape)
    return {
        "sharp": (hopper, 0.0, 0.0),
        "blurred": (cv2.GaussianBlur(hopper, (0, 0), 2.0), 10.0, 2.0),
        "dark": (cv2.convertScaleAbs(hopper, alpha=0.3), -30.0, -5.0),
        "bright": (cv2.convertScaleAbs(hopper, alpha=1.2, beta=110), 4.0, 25.0),
        "collins": (collins, 5.0, -2.0),
        "sharp_again": (cv2.convertScaleAbs(hopper, alpha=1.05), 1.0, 1.0),
        "collins_again": (np.clip(collins + noise, 0, 255).astype(np.uint8), 6.0, -1.0),
    }


@pytest.fixture
def faceset_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "faceset"
    folder.mkdir()
    faces = []
    for number, (name, (crop, yaw, pitch)) in enumerate(crops().items()):
        cv2.imwrite(str(folder / f"{number:06d}.jpg"), crop, [cv2.IMWRITE_JPEG_QUALITY, 95])
        landmarks = np.random.default_rng(number).uniform(0, SIZE, (468, 2)).tolist()
        face = FacesetFace(
            file=f"{number:06d}.jpg", source=f"{name}.png", frame=0, landmarks=landmarks,
            matrix=[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], yaw=yaw, pitch=pitch, blur=blur_score(crop),
        )
        faces.append(face)
    write_faceset(folder, Faceset(face_type="whole", resolution=SIZE, faces=faces))
    return folder


def names(folder: Path) -> list[str]:
    return [Path(face.source).stem for face in read_faceset(folder).faces]


def files_on_disk(folder: Path) -> set[str]:
    return {path.name for path in folder.glob("*.jpg")}


def test_sort_by_blur_yaw_pitch_reorders_the_index_only(faceset_folder: Path) -> None:
    before_files = files_on_disk(faceset_folder)
    before = {face.file: face for face in read_faceset(faceset_folder).faces}
    blurs = [face.blur for face in sort_faceset(faceset_folder, "blur").faces]
    assert blurs == sorted(blurs, reverse=True) and names(faceset_folder)[-1] in ("blurred", "dark")
    yaws = [face.yaw for face in sort_faceset(faceset_folder, "yaw").faces]
    assert yaws == sorted(yaws) and names(faceset_folder)[0] == "dark"
    pitches = [face.pitch for face in sort_faceset(faceset_folder, "pitch").faces]
    assert pitches == sorted(pitches) and names(faceset_folder)[-1] == "bright"
    assert files_on_disk(faceset_folder) == before_files
    assert {face.file: face for face in read_faceset(faceset_folder).faces} == before  # entries unchanged


def test_sort_by_brightness_puts_the_brightest_first(faceset_folder: Path) -> None:
    order = names(faceset_folder) if sort_faceset(faceset_folder, "brightness") else []
    assert order[0] == "bright" and order[-1] == "dark"


def test_sort_by_similarity_chains_look_alikes_together(faceset_folder: Path) -> None:
    sort_faceset(faceset_folder, "similarity")
    order = names(faceset_folder)
    assert order[0] == "sharp"  # the chain starts at the first face
    assert abs(order.index("collins") - order.index("collins_again")) == 1
    assert abs(order.index("sharp") - order.index("sharp_again")) == 1


def test_similarity_chain_visits_each_row_once() -> None:
    features = np.array([[0.0], [10.0], [1.0], [9.0], [2.0]])
    assert similarity_chain(features) == [0, 2, 4, 3, 1]
    assert similarity_chain(np.zeros((0, 3))) == []


@pytest.mark.parametrize(
    "rules, rejected",
    [
        (FilterRules(min_blur=None), set()),
        (FilterRules(max_yaw=20), {"dark"}),
        (FilterRules(max_pitch=20), {"bright"}),
        (FilterRules(min_brightness=50), {"dark"}),
        (FilterRules(max_brightness=200), {"bright"}),
        # the thumbnail correlation ignores exposure: the darker copy of "sharp" is a duplicate too
        (FilterRules(dedupe=0.98), {"dark", "sharp_again", "collins_again"}),
    ],
)
def test_filter_rejects_by_each_rule(faceset_folder: Path, rules: FilterRules, rejected: set[str]) -> None:
    report = filter_faceset(faceset_folder, rules)
    assert set(names(faceset_folder / REJECTED_FOLDER) if rejected else []) == rejected
    assert report.rejected_total == len(rejected) and report.kept == 7 - len(rejected)


def test_filter_by_blur_rejects_the_blurred_crop(faceset_folder: Path) -> None:
    sharp = read_faceset(faceset_folder).faces[0].blur
    filter_faceset(faceset_folder, FilterRules(min_blur=0.5 * sharp))
    assert "blurred" in names(faceset_folder / REJECTED_FOLDER)
    assert "sharp" in names(faceset_folder)


def test_filter_loses_nothing(faceset_folder: Path) -> None:
    before = {face.file: asdict(face) for face in read_faceset(faceset_folder).faces}
    filter_faceset(faceset_folder, FilterRules(max_yaw=20, dedupe=0.98))
    filter_faceset(faceset_folder, FilterRules(max_pitch=20))  # a second pass appends to the rejected index
    kept = {face.file: asdict(face) for face in read_faceset(faceset_folder).faces}
    rejected_folder = faceset_folder / REJECTED_FOLDER
    rejected = {face.file: asdict(face) for face in read_faceset(rejected_folder).faces}
    assert len(rejected) == 4 and not kept.keys() & rejected.keys()  # dark, two duplicates, bright
    assert {**kept, **rejected} == before  # rejected + kept == before, entries intact
    assert files_on_disk(faceset_folder) == set(kept) and files_on_disk(rejected_folder) == set(rejected)
    for face in read_faceset(rejected_folder).faces:
        assert read_face_image(rejected_folder, face).shape == (SIZE, SIZE, 3)


def test_near_duplicate_measure_separates_people() -> None:
    found = crops()
    same = float(thumbnail_feature(found["sharp"][0]) @ thumbnail_feature(found["sharp_again"][0]))
    other = float(thumbnail_feature(found["sharp"][0]) @ thumbnail_feature(found["collins"][0]))
    assert same > 0.99 and other < 0.9
    assert brightness(found["bright"][0]) > brightness(found["sharp"][0]) > brightness(found["dark"][0])


def test_bad_filter_values_are_refused(faceset_folder: Path) -> None:
    with pytest.raises(InputError, match="--dedupe"):
        filter_faceset(faceset_folder, FilterRules(dedupe=1.5))
    with pytest.raises(InputError, match="--max-yaw"):
        filter_faceset(faceset_folder, FilterRules(max_yaw=-1))
    with pytest.raises(InputError, match="--by"):
        sort_faceset(faceset_folder, "age")  # type: ignore[arg-type]


def test_contact_sheet_shows_the_first_faces_with_captions(faceset_folder: Path, tmp_path: Path) -> None:
    sheet = contact_sheet(faceset_folder, columns=3, limit=5)
    height = SHEET_CELL + CAPTION_HEIGHT
    assert sheet.shape == (2 * height, 3 * SHEET_CELL, 3)
    first = read_faceset(faceset_folder).faces[0]
    crop = read_face_image(faceset_folder, first)
    expected = cv2.resize(crop, (SHEET_CELL, SHEET_CELL), interpolation=cv2.INTER_AREA)
    assert np.array_equal(sheet[:SHEET_CELL, :SHEET_CELL], expected)
    caption = sheet[SHEET_CELL:height, :SHEET_CELL]
    assert caption.max() > 200  # text drawn under the face
    assert sheet[height:, 2 * SHEET_CELL :].max() == 32  # the sixth cell stays empty
    out = write_contact_sheet(faceset_folder, tmp_path / "sheet.png", columns=8, limit=64)
    assert read_image(out).shape == (height, 7 * SHEET_CELL, 3)


def test_contact_sheet_of_an_empty_faceset_is_refused(tmp_path: Path) -> None:
    write_faceset(tmp_path, Faceset(face_type="whole", resolution=SIZE))
    with pytest.raises(InputError, match="holds no faces"):
        contact_sheet(tmp_path)
