"""Who is swapped: which of the tracked faces a swap stage swaps, and to which photo.

``swap.select`` says:

- ``all``: every face (the default);
- ``largest``: the largest face only; the chosen track is kept while it stays within
  ``LARGEST_HOLD`` of the largest, so two faces of about the same size do not flicker;
- ``clicked``: the face at ``swap.select_point`` (fractions of the frame's width and height, set by
  clicking the panel's preview); the face found there is followed by its track id, not by place;
- ``reference``: the faces that are the person in ``swap.reference`` by dlib's measure (the
  ``identity`` extra). Each new track is measured once, on a worker thread, from a copy of its
  frame region; until its answer is in, the face is not swapped;
- ``each``: every face its own photo of ``swap.faces``: a face that appears takes the first photo
  no face in view holds (faces appearing together are served left to right); a face with no photo
  left is not swapped.

The live swap stage (``livefake.swap.targets.LiveSwapStage``) asks ``FaceSelector.choose`` once
per frame with the faces that could be swapped, and hands each engine its chosen faces
(``swap_selected``). The photos of ``each`` and the reference's embedding are loaded when the
setting changes, on the thread that changes it (``selection_settings``, ``reference_embedding``).
"""

from __future__ import annotations

import dataclasses
import functools
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from livefake.config import LiveConfig, SwapConfig
from livefake.pipeline.frame import Face, Frame
from livefake.pipeline.stage import Stage
from livefake.swap.photo import faces_to_swap

LARGEST_HOLD = 0.8  # the chosen "largest" face keeps its place while at least this share of the largest's area
REFERENCE_MARGIN = 0.5  # of the face's size, kept around it in the copy the identity worker measures

Candidate = tuple[int, np.ndarray]  # (index into frame.faces, 468 landmarks)


@dataclass(frozen=True)
class Chosen:
    """A face to swap: its index in ``frame.faces``, its landmarks, and for ``each`` its photo."""

    face_index: int
    landmarks: np.ndarray
    photo: int | None = None  # index into swap.faces


@dataclass(frozen=True)
class Selection:
    """The selection settings, taken from ``SwapConfig`` (fields it lacks take these defaults)."""

    mode: str = "all"
    point: tuple[float, float] | None = None
    reference: str | None = None
    photos: tuple[str, ...] = ()

    @classmethod
    def of(cls, swap: SwapConfig) -> Selection:
        point = swap.select_point
        return cls(
            mode=swap.select,
            point=(float(point[0]), float(point[1])) if point is not None else None,
            reference=swap.reference,
            photos=tuple(swap.faces),
        )

    def for_model(self) -> Selection:
        """A model carries one identity: ``each`` (a photo per face) swaps every face, like ``all``."""
        return Selection("all", self.point, self.reference) if self.mode == "each" else self


class FaceSelector:
    """Per-stage selection state: the followed track (largest, clicked), photo assignments (each)
    and identity verdicts (reference)."""

    def __init__(self, selection: Selection | None = None) -> None:
        self.selection = Selection()
        self._followed: int | None = None
        self._resolved = False  # "clicked": the click has been matched to a face (or to none)
        self._photo_of: dict[int, int] = {}
        self._matcher: ReferenceMatcher | None = None
        self.configure(selection or Selection())

    def configure(self, selection: Selection) -> None:
        """Take new settings; state that depends on a changed setting starts again."""
        old, self.selection = self.selection, selection
        if selection.mode != old.mode or selection.point != old.point:
            self._followed, self._resolved = None, False
        if selection.photos != old.photos:
            self._photo_of = {}
        if selection.mode == "reference" and selection.reference is not None:
            if self._matcher is None or self._matcher.reference != selection.reference:
                self.close()
                self._matcher = ReferenceMatcher(selection.reference)
        elif self._matcher is not None:
            self.close()

    def close(self) -> None:
        if self._matcher is not None:
            self._matcher.close()
            self._matcher = None

    def choose(self, image: np.ndarray, faces: list[Face], candidates: list[Candidate]) -> list[Chosen]:
        """The candidates to swap in this frame (``image`` is the frame, ``faces`` its faces)."""
        mode = self.selection.mode
        if mode == "largest":
            return self._largest(faces, candidates)
        if mode == "clicked":
            return self._clicked(image.shape, faces, candidates)
        if mode == "reference":
            return self._matching(image, faces, candidates)
        if mode == "each":
            return self._each(faces, candidates)
        return [Chosen(index, landmarks) for index, landmarks in candidates]

    def _largest(self, faces: list[Face], candidates: list[Candidate]) -> list[Chosen]:
        if not candidates:
            return []
        areas = {faces[index].track_id: (_area(landmarks), index, landmarks) for index, landmarks in candidates}
        biggest = max(areas, key=lambda track: areas[track][0])
        held = self._followed in areas and areas[self._followed][0] >= LARGEST_HOLD * areas[biggest][0]  # type: ignore[index]
        if not held:
            self._followed = biggest
        _, index, landmarks = areas[self._followed]  # type: ignore[index]
        return [Chosen(index, landmarks)]

    def _clicked(self, shape: tuple[int, ...], faces: list[Face], candidates: list[Candidate]) -> list[Chosen]:
        point = self.selection.point
        if point is None:
            return []
        if not self._resolved:  # the face under the click, once: later faces passing there are not taken
            self._followed = _track_at(np.array([point[0] * shape[1], point[1] * shape[0]]), faces, candidates)
            self._resolved = True
        return [Chosen(i, lm) for i, lm in candidates if faces[i].track_id == self._followed]

    def _matching(self, image: np.ndarray, faces: list[Face], candidates: list[Candidate]) -> list[Chosen]:
        if self._matcher is None:
            return []
        return [Chosen(i, lm) for i, lm in candidates if self._matcher.is_match(faces[i].track_id, image, lm)]

    def _each(self, faces: list[Face], candidates: list[Candidate]) -> list[Chosen]:
        count = len(self.selection.photos)
        present = {faces[index].track_id for index, _ in candidates}
        self._photo_of = {track: photo for track, photo in self._photo_of.items() if track in present}
        arrivals = sorted((c for c in candidates if faces[c[0]].track_id not in self._photo_of),
                          key=lambda c: float(c[1][:, 0].mean()))
        for index, _ in arrivals:
            free = [photo for photo in range(count) if photo not in self._photo_of.values()]
            if free:
                self._photo_of[faces[index].track_id] = free[0]
        return [Chosen(i, lm, self._photo_of[faces[i].track_id]) for i, lm in candidates
                if faces[i].track_id in self._photo_of]


def swap_selected(
    frame: Frame, selector: FaceSelector, engine: Stage, photo_engine: Callable[[str], Stage | None]
) -> Frame:
    """Run ``engine`` (or, for ``each``, each face's photo engine) on the faces ``selector`` picks.

    An engine without ``swap_chosen`` (the animation: the photo itself moves) runs on the frame."""
    swap_chosen = getattr(engine, "swap_chosen", None)
    if swap_chosen is None:
        return engine.process(frame) or frame
    frame.swapped = []
    chosen = selector.choose(frame.image, frame.faces, faces_to_swap(frame.faces))
    plain = [(pick.face_index, pick.landmarks) for pick in chosen if pick.photo is None]
    if plain:
        swap_chosen(frame, plain)
    for pick in chosen:
        if pick.photo is not None:
            wearer = photo_engine(selector.selection.photos[pick.photo])
            if wearer is not None:
                wearer.swap_chosen(frame, [(pick.face_index, pick.landmarks)])  # type: ignore[attr-defined]
    return frame


def selection_settings(settings: LiveConfig) -> list[LiveConfig]:
    """The settings of each extra engine the selection needs: one photo swap per ``each`` photo."""
    swap = settings.swap
    if swap.select != "each":
        return []
    return [dataclasses.replace(settings, swap=dataclasses.replace(swap, face=photo, model=None, mode="swap"))
            for photo in swap.faces]


@functools.lru_cache(maxsize=8)
def reference_embedding(path: str) -> np.ndarray:
    """dlib's embedding of the largest face in the photo at ``path`` (cached; about 0.1 s once)."""
    from livefake.face.identity import box_from_landmarks
    from livefake.face.track import find_faces
    from livefake.sources.assets import load_photo

    photo = load_photo(path)
    found = [face.landmarks for face in find_faces(photo) if face.landmarks is not None]
    box = box_from_landmarks(found[0]) if found else None
    return embed_face(photo, box)


def embed_face(image: np.ndarray, box: np.ndarray | None) -> np.ndarray:
    """dlib's embedding of the face in ``box`` (one model, loaded once, used by one thread at a time)."""
    model, lock = _identity_model()
    with lock:
        return np.asarray(model.embed(image, box))


@functools.lru_cache(maxsize=1)
def _identity_model() -> tuple[Any, threading.Lock]:
    from livefake.face.identity import IdentityModel

    return IdentityModel(), threading.Lock()


class ReferenceMatcher:
    """Whether each track is the person in a reference photo: one dlib embedding per new track,
    computed on a worker thread so the stage never waits for it."""

    def __init__(self, reference: str) -> None:
        self.reference = reference
        self._worker = ThreadPoolExecutor(1, thread_name_prefix="livefake-identity")
        self._wanted = self._worker.submit(reference_embedding, reference)  # ready: loaded when it was set
        self._verdicts: dict[int, Future[bool]] = {}

    def close(self) -> None:
        self._worker.shutdown(wait=False, cancel_futures=True)

    def is_match(self, track_id: int, image: np.ndarray, landmarks: np.ndarray) -> bool:
        """True once the worker found this track to be the reference person; False until then.

        Raises the worker's error (e.g. the identity extra is missing) on the frame after it."""
        verdict = self._verdicts.get(track_id)
        if verdict is None:
            crop, local = _region_copy(image, landmarks)
            self._verdicts[track_id] = self._worker.submit(self._compare, crop, local)
            return False
        return verdict.done() and verdict.result()

    def _compare(self, crop: np.ndarray, landmarks: np.ndarray) -> bool:
        from livefake.face.identity import SAME_PERSON_THRESHOLD, box_from_landmarks, embedding_distance

        found = embed_face(crop, box_from_landmarks(landmarks))
        return embedding_distance(self._wanted.result(), found) < SAME_PERSON_THRESHOLD


def _region_copy(image: np.ndarray, landmarks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A copy of the face's region with a margin, and the landmarks in that copy's pixels."""
    low, high = landmarks.min(axis=0), landmarks.max(axis=0)
    margin = REFERENCE_MARGIN * float(np.max(high - low))
    x0, y0 = (max(int(v - margin), 0) for v in low)
    x1, y1 = min(int(high[0] + margin) + 1, image.shape[1]), min(int(high[1] + margin) + 1, image.shape[0])
    return image[y0:y1, x0:x1].copy(), landmarks - np.array([x0, y0], dtype=np.float32)


def _area(landmarks: np.ndarray) -> float:
    extent = landmarks.max(axis=0) - landmarks.min(axis=0)
    return float(extent[0] * extent[1])


def _track_at(point: np.ndarray, faces: list[Face], candidates: list[Candidate]) -> int | None:
    """The track of the smallest face whose box holds ``point``, else of the nearest face within
    one face width of it; None when no face is near."""
    holding = [(index, lm) for index, lm in candidates
               if np.all(point >= lm.min(axis=0)) and np.all(point <= lm.max(axis=0))]
    if holding:
        index, _ = min(holding, key=lambda c: _area(c[1]))
        return faces[index].track_id
    distances = [(float(np.linalg.norm(lm.mean(axis=0) - point)), float(np.ptp(lm[:, 0])), i) for i, lm in candidates]
    near = [entry for entry in distances if entry[0] <= entry[1]]
    return faces[min(near)[2]].track_id if near else None
