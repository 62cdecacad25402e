"""Face tracking: detect when needed, fit landmarks every frame, keep ids, smooth.

The detector runs on the first frame, whenever fewer faces are tracked than it last saw
or one was lost, and every ``detect_every`` frames to pick up new faces. Between detections
each face's next region comes from its current landmarks. A face whose landmark presence
score drops below ``min_score`` is lost; a track keeps its id while it is followed.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from livefake.config import TrackConfig
from livefake.face.assets import FaceModelPaths, require_models
from livefake.face.detect import Detection, FaceDetector, as_bgr
from livefake.face.landmarks import EYE_LINE, FaceFit, FaceRegion, LandmarkModel
from livefake.face.smoothing import OneEuroFilter
from livefake.pipeline.frame import Face, Frame
from livefake.pipeline.stage import Stage

DUPLICATE_OVERLAP = 0.5  # two tracks whose boxes overlap this much are one face
NEW_FACE_OVERLAP = 0.3  # a detection overlapping a track this much is that track's face
KEYPOINT_LANDMARKS = ((33, 133), (362, 263), (1,), (13, 14), (234,), (454,))
DEFAULT_FRAME_TIME = 1 / 30


@dataclass
class Track:
    """One followed face: its id, its latest raw fit and its smoothing state."""

    track_id: int
    fit: FaceFit
    smoother: OneEuroFilter
    smoothed: np.ndarray = field(default_factory=lambda: np.zeros((468, 2), np.float32))


def landmark_box(landmarks: np.ndarray) -> np.ndarray:
    return np.concatenate([landmarks.min(axis=0), landmarks.max(axis=0)]).astype(np.float32)


def keypoints_from_landmarks(landmarks: np.ndarray) -> np.ndarray:
    """The detector's six keypoints (eyes, nose tip, mouth, ears) taken from the landmarks."""
    return np.stack([landmarks[list(group)].mean(axis=0) for group in KEYPOINT_LANDMARKS]).astype(np.float32)


def inter_ocular(landmarks: np.ndarray) -> float:
    return float(np.linalg.norm(landmarks[EYE_LINE[1]] - landmarks[EYE_LINE[0]]))


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
        self.last_detected = 0
        self.time = 0.0
        self.detector_ran = False  # whether the last ``track`` call ran the detector

    def reset(self) -> None:
        """Forget all faces; the next frame runs the detector and ids start again at 0."""
        self.tracks = []
        self.ids = itertools.count()
        self.frames_since_detection = 0
        self.last_detected = 0
        self.time = 0.0

    def track(self, image_bgr: np.ndarray, time: float | None = None) -> list[Face]:
        """The faces in this frame, by track id. ``time`` in seconds (default: 30 fps steps)."""
        image = as_bgr(image_bgr)
        self.time = time if time is not None else self.time + DEFAULT_FRAME_TIME
        self.tracks = [track for track in map(lambda t: self.follow(image, t), self.tracks) if track]
        self.detector_ran = self.detection_due()
        if self.detector_ran:
            self.add_new_faces(image, self.detector.detect(image))
        self.tracks = self.without_duplicates(self.tracks)
        return [self.to_face(track, image.shape) for track in self.tracks]

    def detection_due(self) -> bool:
        self.frames_since_detection += 1
        due = (
            not self.tracks
            or len(self.tracks) < self.last_detected
            or self.frames_since_detection >= self.config.detect_every
        )
        return due and self.config.max_faces > 0

    def follow(self, image: np.ndarray, track: Track) -> Track | None:
        """Refit a tracked face in the region its last landmarks give; None when it is lost."""
        fit = self.landmarks.fit(image, FaceRegion.from_landmarks(track.fit.landmarks))
        if fit.score < self.config.min_score:
            return None
        track.fit = fit
        track.smoothed = self.smooth(track)
        return track

    def add_new_faces(self, image: np.ndarray, detections: list[Detection]) -> None:
        self.frames_since_detection = 0
        self.last_detected = min(len(detections), self.config.max_faces)
        boxes = [landmark_box(track.fit.landmarks) for track in self.tracks]
        for detection in detections:
            if len(self.tracks) >= self.config.max_faces:
                break
            if any(overlap(detection.box, box) > NEW_FACE_OVERLAP for box in boxes):
                continue
            fit = self.landmarks.fit(image, FaceRegion.from_detection(detection))
            if fit.score < self.config.min_score:
                continue
            smoother = OneEuroFilter(self.config.min_cutoff, self.config.beta)
            track = Track(next(self.ids), fit, smoother)
            track.smoothed = self.smooth(track)
            self.tracks.append(track)
            boxes.append(landmark_box(fit.landmarks))

    def smooth(self, track: Track) -> np.ndarray:
        if not self.config.smoothing:
            return track.fit.landmarks
        return track.smoother(track.fit.landmarks, self.time, inter_ocular(track.fit.landmarks))

    def without_duplicates(self, tracks: list[Track]) -> list[Track]:
        """Drop the younger of two tracks that have converged on the same face."""
        kept: list[Track] = []
        for track in sorted(tracks, key=lambda t: t.track_id):
            box = landmark_box(track.fit.landmarks)
            if all(overlap(box, landmark_box(other.fit.landmarks)) <= DUPLICATE_OVERLAP for other in kept):
                kept.append(track)
        return kept

    def to_face(self, track: Track, shape: tuple[int, ...]) -> Face:
        landmarks = track.smoothed
        return Face(
            box=landmark_box(landmarks),
            score=float(track.fit.score),
            landmarks=landmarks,
            keypoints=keypoints_from_landmarks(landmarks),
            iris=track.fit.iris,
            track_id=track.track_id,
            pose=self.pose(landmarks, shape) if self.config.pose else None,
        )

    @staticmethod
    def pose(landmarks: np.ndarray, shape: tuple[int, ...]) -> tuple[float, float, float] | None:
        from livefake.errors import InputError
        from livefake.face.align import head_pose

        try:
            return head_pose(landmarks, (int(shape[1]), int(shape[0])))
        except InputError:
            return None


class TrackStage(Stage):
    """Pipeline stage: sets ``frame.faces``; frames without faces pass through untouched."""

    name = "track"

    def __init__(self, config: TrackConfig) -> None:
        self.config = config
        self.tracker: FaceTracker | None = None

    def open(self) -> None:
        self.tracker = FaceTracker(self.config)

    def process(self, frame: Frame) -> Frame | None:
        if self.tracker is None:
            self.open()
        assert self.tracker is not None
        seconds = frame.pts if frame.pts is not None else frame.t_capture_ns / 1e9
        frame.faces = self.tracker.track(frame.image, seconds)
        return frame

    def close(self) -> None:
        self.tracker = None


def find_faces(image_bgr: np.ndarray, models_dir: str | Path | None = None) -> list[Face]:
    """Detect and fit every face in a still photo (no smoothing), largest first."""
    config = TrackConfig(models_dir=str(models_dir) if models_dir else None, smoothing=False, detect_every=1)
    tracker = FaceTracker(config)
    faces = tracker.track(image_bgr)
    for face in faces:
        region = FaceRegion.from_landmarks(face.landmarks)  # a second pass from the landmarks is tighter
        fit = tracker.landmarks.fit(as_bgr(image_bgr), region)
        if fit.score >= config.min_score:
            face.landmarks = fit.landmarks
            face.box = landmark_box(fit.landmarks)
            face.keypoints = keypoints_from_landmarks(fit.landmarks)
    return sorted(faces, key=lambda face: -float(np.prod(face.box[2:] - face.box[:2])))
