"""Face tracking: detect when needed, fit landmarks every frame, keep ids, smooth.

The detector searches the whole frame (all its windows) while no face is tracked and when
one is lost. While tracking, one search for new faces is spread over ``detect_every`` frames,
one detector window at a time, so no frame pays for a full search. Each face's next region
comes from its current landmarks, held still while the face barely moves (which stops the
crop-feedback jitter). A face whose landmark presence score drops below ``min_score`` is lost;
a track keeps its id while it is followed.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from livefake.config import LiveConfig, TrackConfig
from livefake.face.align import face_box
from livefake.face.assets import FaceModelPaths, require_models
from livefake.face.detect import Detection, FaceDetector, as_bgr, window_count
from livefake.face.landmarks import EYE_LINE, FaceFit, FaceRegion, LandmarkModel
from livefake.face.smoothing import OneEuroFilter
from livefake.pipeline.frame import Face, Frame
from livefake.pipeline.stage import Stage
from livefake.types import Image, Landmarks

DUPLICATE_OVERLAP = 0.5  # two tracks whose boxes overlap this much are one face
NEW_FACE_OVERLAP = 0.3  # a detection overlapping a track this much is that track's face
REGION_HOLD_SHIFT = 0.01  # keep the crop region while its centre moves less than this share of its side,
REGION_HOLD_SCALE = 0.01  # its side changes less than this share,
REGION_HOLD_ANGLE = np.deg2rad(1.0)  # and it turns less than this (a still crop stops feedback jitter)
NEW_FACE_PASSES = 2  # extra landmark passes on a new face so its first frame is as precise as the next
KEYPOINT_LANDMARKS = ((33, 133), (362, 263), (1,), (13, 14), (234,), (454,))
DEFAULT_FRAME_TIME = 1 / 30


@dataclass
class Track:
    """One followed face: its id, its latest raw fit and its smoothing state."""

    track_id: int
    fit: FaceFit
    region: FaceRegion
    smoother: OneEuroFilter
    smoothed: np.ndarray = field(default_factory=lambda: np.zeros((468, 2), np.float32))


def next_region(current: FaceRegion, landmarks: Landmarks) -> FaceRegion:
    """The region for the next frame: the landmarks' region, unless it barely differs from ``current``."""
    proposed = FaceRegion.from_landmarks(landmarks)
    shift = float(np.linalg.norm(proposed.centre - current.centre)) / current.size
    scale = abs(proposed.size / current.size - 1.0)
    turn = abs((proposed.angle - current.angle + np.pi) % (2 * np.pi) - np.pi)
    held = shift < REGION_HOLD_SHIFT and scale < REGION_HOLD_SCALE and turn < REGION_HOLD_ANGLE
    return current if held else proposed


def keypoints_from_landmarks(landmarks: Landmarks) -> Landmarks:
    """The detector's six keypoints (eyes, nose tip, mouth, ears) taken from the landmarks."""
    return np.stack([landmarks[list(group)].mean(axis=0) for group in KEYPOINT_LANDMARKS]).astype(np.float32)


def inter_ocular(landmarks: Landmarks) -> float:
    return float(np.linalg.norm(landmarks[EYE_LINE[1]] - landmarks[EYE_LINE[0]]))


def same_place(before: np.ndarray, after: np.ndarray) -> bool:
    """Whether box ``after`` is where the face of box ``before`` went: centres less than a face width apart."""
    distance = np.linalg.norm((after[:2] + after[2:]) / 2 - (before[:2] + before[2:]) / 2)
    return bool(distance < before[2] - before[0])


def overlap(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two boxes (x0, y0, x1, y1)."""
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    if width <= 0 or height <= 0:
        return 0.0
    inter = width * height
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / max(union, 1e-9))


class FaceTracker:
    """Follows up to ``config.max_faces`` faces through a sequence of frames."""

    def __init__(self, config: TrackConfig, models: FaceModelPaths | None = None) -> None:
        models = models or require_models(config.models_dir)
        self.config = config
        self.detector = FaceDetector(models.detector, config.min_score, threads=config.threads)
        iris = models.iris if config.iris else None
        self.landmarks = LandmarkModel(models.landmarks, iris, threads=config.threads)
        self.tracks: list[Track] = []
        self.ids: Iterator[int] = itertools.count()
        self.frames_since_detection = 0
        self.next_window = 0
        self.time = 0.0
        self.detector_ran = False  # whether the last ``track`` call ran the detector

    def configure(self, config: TrackConfig) -> None:
        """Take new limits and smoothing; the models stay (their files and threads do not change)."""
        self.config = config
        self.detector.min_score = config.min_score
        for track in self.tracks:
            track.smoother.min_cutoff, track.smoother.beta = config.min_cutoff, config.beta

    def reset(self) -> None:
        """Forget all faces; the next frame runs the detector and ids start again at 0."""
        self.tracks = []
        self.ids = itertools.count()
        self.frames_since_detection = 0
        self.next_window = 0
        self.time = 0.0

    def track(self, image_bgr: Image, time: float | None = None) -> list[Face]:
        """The faces in this frame, by track id. ``time`` in seconds (default: 30 fps steps)."""
        image = as_bgr(image_bgr)
        self.time = time if time is not None else self.time + DEFAULT_FRAME_TIME
        self.tracks, lost = self.follow(image)
        window = self.detection_window(image, lost=bool(lost))
        self.detector_ran = window is not False
        if window is not False and self.config.max_faces > 0:
            self.add_new_faces(image, self.detector.detect(image, window), lost)
        self.tracks = self.without_duplicates(self.tracks)
        return [self.to_face(track, image.shape) for track in self.tracks]

    def detection_window(self, image: Image, lost: bool) -> int | None | Literal[False]:
        """False: no detection this frame; None: search every window; n: search window n only.

        With no face tracked, or one just lost, every window is searched. While tracking, one
        full search for new faces is spread over ``detect_every`` frames, a window at a time.
        """
        self.frames_since_detection += 1
        if not self.tracks or lost:
            self.frames_since_detection = 0
            return None
        windows = window_count(image.shape[1], image.shape[0])
        if self.frames_since_detection < max(1, self.config.detect_every // windows):
            return False
        self.frames_since_detection = 0
        self.next_window += 1
        return self.next_window % windows

    def follow(self, image: Image) -> tuple[list[Track], list[Track]]:
        """Refit the tracked faces in the regions their last landmarks give: (kept, lost)."""
        regions = [next_region(track.region, track.fit.landmarks) for track in self.tracks]
        kept, lost = [], []
        for track, fit in zip(self.tracks, self.landmarks.fit_many(image, regions), strict=True):
            if fit.score >= self.config.min_score:
                track.fit, track.region = fit, fit.region
                track.smoothed = self.smooth(track)
                kept.append(track)
            else:
                lost.append(track)
        return kept, lost

    def add_new_faces(self, image: Image, detections: list[Detection], lost: list[Track]) -> None:
        """Start tracks for detections no current track covers; one where a face was just lost keeps its id."""
        boxes = [face_box(track.fit.landmarks) for track in self.tracks]
        fresh = [d for d in detections if all(overlap(d.box, box) <= NEW_FACE_OVERLAP for box in boxes)]
        room = max(self.config.max_faces - len(self.tracks), 0)
        first = self.landmarks.fit_many(image, [FaceRegion.from_detection(d) for d in fresh[:room]])
        found = [fit for fit in first if fit.score >= self.config.min_score]
        for _ in range(NEW_FACE_PASSES):  # refit in the landmarks' own region, as the next frames will
            found = self.landmarks.fit_many(image, [FaceRegion.from_landmarks(fit.landmarks) for fit in found])
        for fit in found:
            if fit.score >= self.config.min_score:
                self.tracks.append(self.start_track(fit, lost))

    def start_track(self, fit: FaceFit, lost: list[Track]) -> Track:
        """A track for a newly found face: a just-lost track in the same place, or a new id."""
        box = face_box(fit.landmarks)
        previous = [track for track in lost if same_place(face_box(track.fit.landmarks), box)]
        if previous:
            track = previous[0]
            lost.remove(track)
            track.fit, track.region = fit, fit.region
        else:
            track = Track(next(self.ids), fit, fit.region, OneEuroFilter(self.config.min_cutoff, self.config.beta))
        track.smoothed = self.smooth(track)
        return track

    def smooth(self, track: Track) -> Landmarks:
        if not self.config.smoothing:
            return track.fit.landmarks
        return track.smoother(track.fit.landmarks, self.time, inter_ocular(track.fit.landmarks))

    def without_duplicates(self, tracks: list[Track]) -> list[Track]:
        """Drop the younger of two tracks that have converged on the same face."""
        kept: list[Track] = []
        for track in sorted(tracks, key=lambda t: t.track_id):
            box = face_box(track.fit.landmarks)
            if all(overlap(box, face_box(other.fit.landmarks)) <= DUPLICATE_OVERLAP for other in kept):
                kept.append(track)
        return kept

    def to_face(self, track: Track, shape: tuple[int, ...]) -> Face:
        landmarks = track.smoothed
        return Face(
            box=face_box(landmarks),
            score=float(track.fit.score),
            landmarks=landmarks,
            keypoints=keypoints_from_landmarks(landmarks),
            iris=track.fit.iris,
            track_id=track.track_id,
            pose=self.pose(landmarks, shape) if self.config.pose else None,
        )

    @staticmethod
    def pose(landmarks: Landmarks, shape: tuple[int, ...]) -> tuple[float, float, float] | None:
        from livefake.errors import InputError
        from livefake.face.align import head_pose

        try:
            return head_pose(landmarks, (int(shape[1]), int(shape[0])))
        except InputError:
            return None


class TrackStage(Stage):
    """Pipeline stage: sets ``frame.faces``; frames without faces pass through untouched."""

    name = "track"

    def __init__(self, config: TrackConfig, pose_shown: bool = True) -> None:
        """``pose_shown``: whether anything in this pipeline reads ``Face.pose`` (in the live path
        only the landmark overlay does); without it, ``track.pose`` costs nothing per frame."""
        self.pose_shown = pose_shown
        self.config = dataclasses.replace(config, pose=config.pose and pose_shown)
        self.tracker: FaceTracker | None = None

    def open(self) -> None:
        self.tracker = FaceTracker(self.config)
        self._warm_up(self.tracker)

    @staticmethod
    def _warm_up(tracker: FaceTracker) -> None:
        """First inferences are slow (allocation, kernel choice): pay them before capture starts."""
        from livefake.sources.assets import load_photo

        portrait = load_photo("hopper")
        for _ in range(2):
            tracker.track(portrait, 0.0)
        tracker.reset()

    def configure(self, settings: LiveConfig) -> None:
        """Limits and smoothing change live; the models' folder, threads and iris stay as opened."""
        opened = self.config
        self.config = dataclasses.replace(
            settings.track, models_dir=opened.models_dir, threads=opened.threads, iris=opened.iris,
            pose=settings.track.pose and self.pose_shown,
        )
        if self.tracker is not None:
            self.tracker.configure(self.config)

    def process(self, frame: Frame) -> Frame | None:
        if self.tracker is None:
            self.open()
        assert self.tracker is not None
        frame.faces = self.tracker.track(frame.image, frame.seconds)
        return frame

    def close(self) -> None:
        self.tracker = None


@functools.lru_cache(maxsize=4)
def still_models(models_dir: str | None) -> tuple[FaceDetector, LandmarkModel]:
    """Detector and landmark model for still photos, loaded once per models folder."""
    models = require_models(models_dir)
    return FaceDetector(models.detector), LandmarkModel(models.landmarks, models.iris)


def find_faces(image_bgr: Image, models_dir: str | Path | None = None) -> list[Face]:
    """Detect and fit every face in a still photo (two landmark passes, no smoothing), largest first."""
    detector, landmarks = still_models(str(models_dir) if models_dir else None)
    image = as_bgr(image_bgr)
    detections = detector.detect(image)
    first = [fit for fit in landmarks.fit_many(image, [FaceRegion.from_detection(d) for d in detections])]
    regions = [FaceRegion.from_landmarks(fit.landmarks) for fit in first if fit.score >= 0.5]
    faces = []
    for index, fit in enumerate(landmarks.fit_many(image, regions)):
        if fit.score < 0.5:
            continue
        face = Face(
            box=face_box(fit.landmarks),
            score=fit.score,
            landmarks=fit.landmarks,
            keypoints=keypoints_from_landmarks(fit.landmarks),
            iris=fit.iris,
            track_id=index,
            pose=FaceTracker.pose(fit.landmarks, image.shape),
        )
        faces.append(face)
    return sorted(faces, key=lambda face: -float(np.prod(face.box[2:] - face.box[:2])))
