"""Hand tracking near faces: search for palms when needed, follow hands by their landmarks.

Only hands that can cover a face matter to the merge (they are carved out of the face mask),
so palms are searched in a square around each tracked face, one face per search, and only
every ``SEARCH_PERIOD_S`` while no hand is followed (every ``SEARCH_PERIOD_TRACKING_S`` while
one is, for a second hand or a better fit of a hand first seen in part): a frame with no hand
in view mostly pays nothing. The periods are in seconds of the stream, not frames, so a hand
is found as soon at 60 fps as at 30 and a faster camera does not search more often. A found hand is
followed every frame by its 21 landmarks, in a region taken from the last ones, until its
presence score drops below ``MIN_SCORE`` or it leaves every face's square. Landmarks are not
smoothed: the occlusion mask smooths per face track, and hands move fast.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from livefake.config import LiveConfig, TrackConfig
from livefake.face.align import face_box
from livefake.face.assets import FaceModelPaths, require_models
from livefake.face.detect import as_bgr
from livefake.face.hands import HandFit, HandLandmarkModel, Palm, PalmDetector, region_from_landmarks, region_from_palm
from livefake.face.landmarks import FaceRegion
from livefake.pipeline.frame import Face, Frame, Hand
from livefake.pipeline.stage import Stage

SEARCH_PERIOD_S = 0.1  # stream seconds between palm searches while no hand is followed (3 frames at 30 fps)
SEARCH_PERIOD_TRACKING_S = 0.27  # ... and while one is (a second hand may come, or a better fit of this one)
YOUNG_S = 0.4  # a hand followed for less than this may have been first seen in part: search as often
FRAME_TIME_S = 1 / 30  # the step between frames given no time
TIME_SLACK_S = 0.002  # a period is due this early: frame times carry rounding
SEARCH_SCALE = 3.0  # side of the palm search square / larger side of the face box
MAX_HANDS = 2
MIN_SCORE = 0.5
SAME_HAND_SHARE = 0.3  # two hand boxes sharing this much of the smaller one are one hand


@dataclass
class HandTrack:
    """One followed hand: its id and latest fit."""

    track_id: int
    fit: HandFit
    since: float  # stream time it was first followed, seconds


def search_region(face: Face) -> FaceRegion:
    """The upright square around a face where a hand could cover it."""
    box = face.box.astype(np.float64)
    side = float(max(box[2] - box[0], box[3] - box[1])) * SEARCH_SCALE
    return FaceRegion((box[:2] + box[2:]) / 2, side, 0.0)


def region_box(region: FaceRegion) -> np.ndarray:
    half = region.size / 2
    return np.concatenate([region.centre - half, region.centre + half]).astype(np.float32)


def box_area(box: np.ndarray) -> float:
    return float(max(box[2] - box[0], 0.0) * max(box[3] - box[1], 0.0))


def same_hand(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two hand boxes are one hand: their intersection covers most of the smaller one."""
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    if width <= 0 or height <= 0:
        return False
    return bool(width * height > SAME_HAND_SHARE * max(min(box_area(a), box_area(b)), 1e-9))


def touches(box: np.ndarray, area: np.ndarray) -> bool:
    """Whether boxes ``box`` and ``area`` (x0, y0, x1, y1) intersect."""
    return bool(box[0] < area[2] and area[0] < box[2] and box[1] < area[3] and area[1] < box[3])


class HandTracker:
    """Follows up to ``max_hands`` hands near the faces of a sequence of frames."""

    def __init__(self, models: FaceModelPaths, threads: int = 1, max_hands: int = MAX_HANDS) -> None:
        self.palms = PalmDetector(models.palm, MIN_SCORE, threads=threads)
        self.landmarks = HandLandmarkModel(models.hand, threads=threads)
        self.max_hands = max_hands
        self.tracks: list[HandTrack] = []
        self.ids: Iterator[int] = itertools.count()
        self.time = 0.0
        self.last_search: float | None = None
        self.next_face = 0
        self.searched = False  # whether the last ``track`` call ran the palm detector

    def reset(self) -> None:
        """Forget all hands; ids start again at 0."""
        self.tracks = []
        self.ids = itertools.count()
        self.time = 0.0
        self.last_search = None
        self.next_face = 0

    def track(self, image_bgr: np.ndarray, faces: list[Face], time: float | None = None) -> list[Hand]:
        """The hands near ``faces`` in this frame (none when there are no faces). ``time`` in
        seconds of the stream (default: 30 fps steps)."""
        image = as_bgr(image_bgr)
        self.time = time if time is not None else self.time + FRAME_TIME_S
        squares = [search_region(face) for face in faces]
        lost = self.follow(image, [region_box(square) for square in squares])
        self.searched = bool(squares) and self.search_due(lost)
        if self.searched:
            square = squares[self.next_face % len(squares)]
            self.next_face += 1
            self.add_new_hands(image, self.palms.detect(image, square))
        return [Hand(track.fit.landmarks, track.fit.score, track.track_id) for track in self.tracks]

    def search_due(self, lost: bool) -> bool:
        """A palm search now: at once after a loss or at the first frame, else once a period."""
        settled = self.tracks and all(self.time - track.since >= YOUNG_S for track in self.tracks)
        period = SEARCH_PERIOD_TRACKING_S if settled else SEARCH_PERIOD_S
        last = self.last_search
        if lost or last is None or self.time - last >= period - TIME_SLACK_S or self.time < last:
            self.last_search = self.time  # a stream whose time went back (a looped file) starts over
            return True
        return False

    def follow(self, image: np.ndarray, areas: list[np.ndarray]) -> bool:
        """Refit every followed hand; drop the lost ones and those far from all faces. True if any was lost."""
        fits = self.landmarks.fit_many(image, [region_from_landmarks(t.fit.landmarks) for t in self.tracks])
        kept = []
        for track, fit in zip(self.tracks, fits, strict=True):
            box = face_box(fit.landmarks)
            if fit.score >= MIN_SCORE and any(touches(box, area) for area in areas):
                track.fit = fit
                kept.append(track)
        lost = len(kept) < len(self.tracks)
        self.tracks = self.without_duplicates(kept)
        return lost

    def add_new_hands(self, image: np.ndarray, palms: list[Palm]) -> None:
        """Fit each palm's hand; a fit on a followed hand replaces its fit when it spans more (a hand
        first seen in part keeps its first, too small landmarks otherwise), others start tracks."""
        first = self.landmarks.fit_many(image, [region_from_palm(palm) for palm in palms[: self.max_hands]])
        found = [fit for fit in first if fit.score >= MIN_SCORE]
        refits = self.landmarks.fit_many(image, [region_from_landmarks(fit.landmarks) for fit in found])
        for fit in refits:
            if fit.score < MIN_SCORE:
                continue
            box = face_box(fit.landmarks)
            same = [track for track in self.tracks if same_hand(box, face_box(track.fit.landmarks))]
            if same and box_area(box) > box_area(face_box(same[0].fit.landmarks)):
                same[0].fit = fit
            elif not same and len(self.tracks) < self.max_hands:
                self.tracks.append(HandTrack(next(self.ids), fit, self.time))
        self.tracks = self.without_duplicates(self.tracks)

    @staticmethod
    def without_duplicates(tracks: list[HandTrack]) -> list[HandTrack]:
        """Of two tracks that have converged on the same hand keep the one that spans more (the safer
        mask: a fit on a hand seen in part, or in a hard pose, tends to shrink)."""
        kept: list[HandTrack] = []
        for track in sorted(tracks, key=lambda t: -box_area(face_box(t.fit.landmarks))):
            box = face_box(track.fit.landmarks)
            if not any(same_hand(box, face_box(other.fit.landmarks)) for other in kept):
                kept.append(track)
        return kept


class HandStage(Stage):
    """Pipeline stage after the track stage: sets ``frame.hands`` when occlusion is ``hands``."""

    name = "hands"

    def __init__(self, config: TrackConfig, occlusion: str = "hands") -> None:
        self.config = config
        self.occlusion = occlusion
        self.tracker: HandTracker | None = None

    def open(self) -> None:
        self.tracker = HandTracker(require_models(self.config.models_dir), threads=self.config.threads)
        self._warm_up(self.tracker)

    @staticmethod
    def _warm_up(tracker: HandTracker) -> None:
        """First inferences are slow (allocation, kernel choice): pay them before capture starts."""
        blank = np.zeros((240, 320, 3), np.uint8)
        face = Face(box=np.array([110, 70, 210, 170], np.float32), score=1.0)
        for index in range(6):
            tracker.track(blank, [face], index * SEARCH_PERIOD_S)
        tracker.landmarks.fit_many(blank, [search_region(face)])
        tracker.reset()

    def configure(self, settings: LiveConfig) -> None:
        """Follow ``merge.occlusion`` of a new settings snapshot."""
        occlusion = settings.merge.occlusion
        if occlusion != self.occlusion and self.tracker is not None:
            self.tracker.reset()
        self.occlusion = occlusion

    def process(self, frame: Frame) -> Frame | None:
        if self.occlusion == "none":
            frame.hands = []
            return frame
        if self.tracker is None:
            self.open()
        assert self.tracker is not None
        frame.hands = self.tracker.track(frame.image, frame.faces, frame.seconds)
        return frame

    def close(self) -> None:
        self.tracker = None
