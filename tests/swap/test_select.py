"""Who is swapped: the selection rules on their own, and on two generated faces through the
real track -> swap -> merge -> provenance stages (300 frames, nothing dropped)."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from two_faces import face_side, two_face_frames

from livefake.builder import build_stages
from livefake.config import LiveConfig, build
from livefake.pipeline import Captured, DropPolicy, Frame, Pipeline, Sink, Source, StreamInfo
from livefake.pipeline.frame import Face
from livefake.sources.assets import bundled_photo
from livefake.swap.select import FaceSelector, Selection

FRAMES = 300
CHANGED = 6.0  # mean grey-level change inside a swapped face's box (unswapped: the watermark, ~1)


def face(track_id: int, x0: float, width: float) -> Face:
    """A face whose 468 landmarks fill a square box at (x0, 100) of side ``width``."""
    grid = np.linspace(0.0, 1.0, 468, dtype=np.float32)
    landmarks = np.stack([x0 + width * grid, 100 + width * grid[::-1]], axis=1)
    box = np.array([x0, 100, x0 + width, 100 + width], dtype=np.float32)
    return Face(box=box, score=1.0, landmarks=landmarks, track_id=track_id)


def choose(selector: FaceSelector, faces: list[Face]) -> list[int]:
    image = np.zeros((480, 640, 3), np.uint8)
    candidates = [(i, f.landmarks) for i, f in enumerate(faces) if f.landmarks is not None]
    return [faces[chosen.face_index].track_id for chosen in selector.choose(image, faces, candidates)]


def test_largest_keeps_its_face_until_another_is_clearly_larger() -> None:
    selector = FaceSelector(Selection(mode="largest"))
    assert choose(selector, [face(0, 10, 100), face(1, 300, 120)]) == [1]
    assert choose(selector, [face(0, 10, 125), face(1, 300, 120)]) == [1]  # about the same: no flicker
    assert choose(selector, [face(0, 10, 200), face(1, 300, 120)]) == [0]


def test_clicked_follows_the_face_by_track_not_by_place() -> None:
    selector = FaceSelector(Selection(mode="clicked", point=(320 / 640, 150 / 480)))
    assert choose(selector, [face(0, 10, 100), face(1, 300, 100)]) == [1]
    assert choose(selector, [face(1, 20, 100), face(0, 300, 100)]) == [1]  # the faces swapped places
    selector.configure(Selection(mode="clicked", point=(0.99, 0.99)))  # a click on no face swaps nobody
    assert choose(selector, [face(0, 10, 100), face(1, 300, 100)]) == []


def test_each_face_gets_the_first_free_photo_left_to_right() -> None:
    selector = FaceSelector(Selection(mode="each", photos=("a.jpg", "b.jpg")))
    image = np.zeros((480, 640, 3), np.uint8)
    faces = [face(7, 300, 100), face(3, 10, 100), face(9, 500, 100)]
    picked = selector.choose(image, faces, [(i, f.landmarks) for i, f in enumerate(faces)])  # type: ignore[misc]
    assert {faces[c.face_index].track_id: c.photo for c in picked} == {3: 0, 7: 1}  # no photo left for 9
    faces = [face(7, 300, 100), face(9, 500, 100)]  # 3 left: its photo goes to the next face that needs one
    picked = selector.choose(image, faces, [(i, f.landmarks) for i, f in enumerate(faces)])  # type: ignore[misc]
    assert {faces[c.face_index].track_id: c.photo for c in picked} == {7: 1, 9: 0}


class FramesSource(Source):
    name = "frames"

    def __init__(self, frames: list[np.ndarray]) -> None:
        self.frames = frames
        self.sent = 0

    def open(self) -> StreamInfo:
        return StreamInfo(self.frames[0].shape[1], self.frames[0].shape[0], 30.0)

    def read(self) -> Captured | None:
        if self.sent >= len(self.frames):
            return None
        self.sent += 1
        return Captured(self.frames[self.sent - 1].copy(), (self.sent - 1) / 30.0)


class KeepSink(Sink):
    name = "keep"

    def __init__(self) -> None:
        self.frames: list[Frame] = []

    def open(self, info: StreamInfo) -> None:
        pass

    def write(self, frame: Frame) -> None:
        self.frames.append(frame)


@pytest.fixture(scope="module")
def two_faces() -> list[np.ndarray]:
    return two_face_frames(FRAMES)


def run_selection(frames: list[np.ndarray], swap: dict[str, object]) -> list[Frame]:
    config = build(LiveConfig, {"swap": {"face": str(bundled_photo("hopper")), **swap}, "offline": True})
    assert config.swap.select == swap["select"]
    sink = KeepSink()
    stages = build_stages(config)
    pipeline = Pipeline(FramesSource(frames), stages, [sink], policy=DropPolicy.BLOCK, capacity=8, settings=config)
    with pipeline:
        assert pipeline.join(timeout=120)
    assert [frame.index for frame in sink.frames] == list(range(len(frames)))
    return sink.frames


def changed_sides(frame: Frame, original: np.ndarray) -> dict[str, float]:
    """Mean absolute change inside each face's box, by portrait."""
    change = {}
    for found in frame.faces:
        x0, y0, x1, y1 = (int(v) for v in found.box)
        diff = np.abs(frame.image[y0:y1, x0:x1].astype(np.int16) - original[y0:y1, x0:x1].astype(np.int16))
        change[face_side(found.box)] = float(diff.mean())
    return change


@pytest.mark.parametrize(
    "swap, wanted",
    [  # each face is swapped to the other portrait, so a swap shows in its pixels
        ({"select": "largest", "face": str(bundled_photo("collins"))}, "hopper"),
        ({"select": "clicked", "select_point": (470 / 640, 180 / 360)}, "collins"),
    ],
    ids=["largest", "clicked"],
)
def test_only_the_selected_track_is_swapped_through_300_frames(
    two_faces: list[np.ndarray], swap: dict[str, object], wanted: str
) -> None:
    started = time.monotonic()
    frames = run_selection(two_faces, swap)
    swapped_tracks = set()
    for frame in frames:
        assert len(frame.faces) == 2, f"frame {frame.index}: {len(frame.faces)} faces tracked"
        swapped = [frame.faces[s.face_index] for s in frame.swapped]
        assert [face_side(s.box) for s in swapped] == [wanted], f"frame {frame.index}"
        swapped_tracks |= {s.track_id for s in swapped}
        change = changed_sides(frame, two_faces[frame.index])
        other = "collins" if wanted == "hopper" else "hopper"
        assert change[wanted] > CHANGED > change[other], f"frame {frame.index}: {change}"
    assert len(swapped_tracks) == 1, f"the swap moved between tracks {swapped_tracks}"
    print(f"select {swap['select']}: {FRAMES} frames in {time.monotonic() - started:.1f} s")


@pytest.mark.slow  # dlib embeddings of 300 frames; the selection itself is checked by the tests above
def test_each_face_wears_its_own_photo_by_dlib(two_faces: list[np.ndarray]) -> None:
    identity = pytest.importorskip("livefake.face.identity")
    try:
        model = identity.IdentityModel()
    except Exception as error:  # noqa: BLE001 - the identity extra is optional
        pytest.skip(f"identity extra missing: {error}")
    hopper, collins = str(bundled_photo("hopper")), str(bundled_photo("collins"))
    frames = run_selection(two_faces[:150], {"select": "each", "faces": (collins, hopper)})
    photos = {"hopper": np.asarray(model.embed(_read(hopper))), "collins": np.asarray(model.embed(_read(collins)))}
    wears = {"hopper": "collins", "collins": "hopper"}  # left face gets the first photo
    for frame in frames[10::35]:
        assert len(frame.swapped) == 2, f"frame {frame.index}"
        for found in frame.faces:
            worn = np.asarray(model.embed(frame.image, identity.box_from_landmarks(found.landmarks)))
            side = face_side(found.box)
            to_photo = identity.embedding_distance(worn, photos[wears[side]])
            to_own = identity.embedding_distance(worn, photos[side])
            # the photo swap keeps the live head's outline, so the face it replaced stays near; the
            # face is its photo's person by dlib's criterion, and nearer to it than to the face it replaced
            figures = (frame.index, side, to_photo, to_own)
            assert to_photo < identity.SAME_PERSON_THRESHOLD and to_photo < to_own, figures


def _read(path: str) -> np.ndarray:
    from livefake.sources.image import read_image

    return read_image(Path(path))


def test_reference_swaps_only_the_person_in_the_photo(two_faces: list[np.ndarray]) -> None:
    try:
        from livefake.swap.select import reference_embedding

        reference_embedding(str(bundled_photo("collins")))
    except Exception as error:  # noqa: BLE001 - the identity extra is optional
        pytest.skip(f"identity extra missing: {error}")
    frames = run_selection(two_faces[:150], {"select": "reference", "reference": str(bundled_photo("collins")),
                                             "face": str(bundled_photo("hopper"))})
    sides = [[face_side(frame.faces[s.face_index].box) for s in frame.swapped] for frame in frames]
    assert all("hopper" not in swapped for swapped in sides), "a face that is not the reference was swapped"
    assert all(swapped == ["collins"] for swapped in sides[-50:]), "the reference person was not swapped"
    print(f"reference: first swapped frame {next(i for i, s in enumerate(sides) if s)}")
