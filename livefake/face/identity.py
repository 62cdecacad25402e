"""Who a face is: 128-d embeddings from dlib's ResNet face recognition model.

Optional, for measuring swaps (tests, benchmarks, `livefake demo`'s report): it needs the
``identity`` extra (``pip install 'livefake[identity]'``: dlib-bin, face-recognition-models and
setuptools<81, because face-recognition-models imports pkg_resources). dlib is imported only
when a model is made. Two embeddings closer than ``SAME_PERSON_THRESHOLD`` (Euclidean) are the
same person by dlib's own criterion. A face costs about 90 ms on the 2-core CPU, so embeddings
are cached per image content and box.
"""

from __future__ import annotations

import hashlib
import warnings
from collections import OrderedDict
from typing import Any

import cv2
import numpy as np

from livefake.errors import InputError, ModelError
from livefake.types import Box, Image, Landmarks

SAME_PERSON_THRESHOLD = 0.6
CACHE_SIZE = 256
BOX_PER_MESH_WIDTH = 0.97  # side of a dlib detector box / width of the 468-point mesh
MISSING_EXTRA = (
    "identity measurement needs dlib: pip install 'livefake[identity]' (dlib-bin, face-recognition-models)"
)


def embedding_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Euclidean distance between two embeddings; below 0.6 is the same person."""
    return float(np.linalg.norm(np.asarray(a, np.float64) - np.asarray(b, np.float64)))


def box_from_landmarks(landmarks: Landmarks) -> Box:
    """A dlib-style face box (x0, y0, x1, y1) from 468 mesh landmarks.

    dlib's HOG detector gives squares about as wide as the mesh, centred on it (measured on the
    bundled portraits and generated clips: within ~10% in size and position), which is close
    enough for the 5-point aligner that places the face for the network.
    """
    low, high = landmarks.min(axis=0), landmarks.max(axis=0)
    side = BOX_PER_MESH_WIDTH * float(high[0] - low[0])
    centre_x = float(low[0] + high[0]) / 2
    centre_y = float(low[1] + high[1]) / 2
    return np.array([centre_x - side / 2, centre_y - side / 2, centre_x + side / 2, centre_y + side / 2],
                    dtype=np.float32)


class IdentityModel:
    """dlib's face recognition ResNet with its 5-point aligner and an embedding cache."""

    def __init__(self, jitters: int = 0) -> None:
        self.jitters = jitters
        self._dlib = _import_dlib()
        predictor_path, recognition_path = _model_paths()
        self._aligner = self._dlib.shape_predictor(predictor_path)
        self._network = self._dlib.face_recognition_model_v1(recognition_path)
        self._detector: Any = None
        self._cache: OrderedDict[tuple[str, tuple[int, ...]], np.ndarray] = OrderedDict()

    def embed(self, image_bgr: Image, box: Box | None = None) -> np.ndarray:
        """The 128-d embedding of the face in ``box`` (x0, y0, x1, y1), or of the largest face dlib finds."""
        rgb = np.ascontiguousarray(cv2.cvtColor(image_bgr, cv2.COLOR_BGR2RGB))
        rect_box = box if box is not None else self.detect(image_bgr)
        key = (hashlib.sha1(rgb.tobytes()).hexdigest(), tuple(int(round(v)) for v in rect_box))
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return cached
        x0, y0, x1, y1 = key[1]
        shape = self._aligner(rgb, self._dlib.rectangle(x0, y0, x1, y1))
        descriptor = self._network.compute_face_descriptor(rgb, shape, self.jitters)
        embedding = np.array(descriptor, dtype=np.float32)
        self._cache[key] = embedding
        if len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)
        return embedding

    def detect(self, image_bgr: Image) -> np.ndarray:
        """The largest face dlib's HOG detector finds, as (x0, y0, x1, y1); InputError when none."""
        if self._detector is None:
            self._detector = self._dlib.get_frontal_face_detector()
        rgb = np.ascontiguousarray(cv2.cvtColor(image_bgr, cv2.COLOR_BGR2RGB))
        rects = self._detector(rgb, 1)
        if len(rects) == 0:
            raise InputError("dlib found no face in the image: pass a face box to IdentityModel.embed")
        largest = max(rects, key=lambda r: r.width() * r.height())
        return np.array([largest.left(), largest.top(), largest.right(), largest.bottom()], dtype=np.float32)

    def distance(
        self,
        image_a: np.ndarray,
        image_b: np.ndarray,
        box_a: np.ndarray | None = None,
        box_b: np.ndarray | None = None,
    ) -> float:
        return embedding_distance(self.embed(image_a, box_a), self.embed(image_b, box_b))


def identity_distance(
    image_a: np.ndarray,
    image_b: np.ndarray,
    box_a: np.ndarray | None = None,
    box_b: np.ndarray | None = None,
    model: IdentityModel | None = None,
) -> float:
    """dlib distance between the faces of two BGR images (below 0.6: the same person).

    Without boxes, dlib's detector finds the largest face in each. Pass a ``model`` when
    measuring many images: it loads once and caches embeddings.
    """
    return (model or IdentityModel()).distance(image_a, image_b, box_a, box_b)


def _import_dlib() -> Any:
    try:
        import dlib
    except ImportError:
        raise ModelError(MISSING_EXTRA) from None
    return dlib


def _model_paths() -> tuple[str, str]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # face-recognition-models imports the deprecated pkg_resources
            import face_recognition_models
    except ImportError as error:
        raise ModelError(f"{MISSING_EXTRA}; import failed: {error}") from None
    return (
        face_recognition_models.pose_predictor_five_point_model_location(),
        face_recognition_models.face_recognition_model_location(),
    )
