"""Real hands over real face clips, with the hand's true mask kept per frame.

The hands are photographs from a pinned npm package, fetched like the face clips
(``perf.real_media``: ``npm pack``, sha256-checked, cached, never committed):

- ``fingerpose`` 0.1.0 (MIT, Andreas Schallwig): ``package/assets/fullcurl.jpg``,
  ``halfcurl.jpg``, ``nocurl.jpg`` -- the author's right hand against a plain wall, back of
  the hand to the camera, as a fist, with a bent index and with a raised index, 480x640.

Each photo is cut out by colour (skin and forearm are saturated and red, the wall and the door below it are not), then
scaled to the face and moved over a real clip: up from below the chin, over the mouth, across
to a cheek and away, turning a little as it goes. The composite and the hand's mask
(ground truth) are returned for every frame. Generated clips are not used here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from perf.real_media import MediaUnavailable, NpmPackage, media_dir, unpack_package

FINGERPOSE = NpmPackage(
    "fingerpose", "0.1.0", "0d771feb4a95846a07fa5e6c43f5438e462e2a4676bc2f14a65e3a797787f056", "MIT"
)
HAND_PHOTOS = ("fullcurl", "halfcurl", "nocurl")
WALL_SATURATION = 60  # HSV saturation: the wall is below, skin above
SKIN_HUE = 15  # OpenCV hue (0-180): skin is redder than this; the beige door below the wall is not
HAND_WIDTH = 0.8  # width of the hand (above the wrist) / face width (ear to ear)
MOUTH, CHIN = (13, 14), 152
MOUTH_CORNER, EAR_RIGHT, EAR_LEFT = 61, 234, 454


@dataclass(frozen=True)
class HandCutout:
    """A hand photo cut out: BGR image, alpha (float32 [0, 1]), knuckle anchor and hand width in pixels."""

    name: str
    image: np.ndarray
    alpha: np.ndarray
    anchor: np.ndarray  # (x, y): the middle of the hand above the wrist
    width: float


def fetch_hand_photo(name: str) -> Path:
    """The path of hand photo ``name`` (see HAND_PHOTOS), fetching its package first if needed."""
    folder = media_dir() / FINGERPOSE.name / FINGERPOSE.version
    target = folder / "package" / "assets" / f"{name}.jpg"
    if not target.is_file():
        unpack_package(FINGERPOSE, folder)
    if not target.is_file():
        raise MediaUnavailable(f"{FINGERPOSE.name}@{FINGERPOSE.version} holds no {target.name}")
    return target


def cut_out(name: str) -> HandCutout:
    """The hand of photo ``name`` separated from its wall."""
    image = cv2.imread(str(fetch_hand_photo(name)))
    hsv = cv2.cvtColor(image, cv2.COLOR_BGR2HSV)
    hue, saturation = hsv[:, :, 0], hsv[:, :, 1]
    skin = (saturation > WALL_SATURATION) & ((hue <= SKIN_HUE) | (saturation > WALL_SATURATION * 2))
    mask = skin.astype(np.uint8)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (9, 9))
    mask = cv2.morphologyEx(cv2.morphologyEx(mask, cv2.MORPH_OPEN, kernel), cv2.MORPH_CLOSE, kernel)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask)
    largest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA])) if count > 1 else 0
    mask = (labels == largest).astype(np.uint8)
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    solid = np.zeros_like(mask)
    cv2.drawContours(solid, contours, -1, 1, cv2.FILLED)  # no holes
    alpha = cv2.GaussianBlur(solid.astype(np.float32), (5, 5), 1.0)
    rows = np.nonzero(solid.any(axis=1))[0]
    top = rows[0]
    hand_rows = solid[top : top + int(0.55 * (image.shape[0] - top))]
    ys, xs = np.nonzero(hand_rows)
    anchor = np.array([xs.mean(), top + ys.mean()], np.float64)
    width = float(np.percentile(xs, 98) - np.percentile(xs, 2))
    return HandCutout(name, image, alpha, anchor, width)


def hand_path(step: float) -> tuple[str, float, float]:
    """Where the hand is at ``step`` in [0, 1]: (target, travel, turn in degrees).

    target "below"/"mouth"/"cheek"; travel in [0, 1] is the share of the way from the previous target.
    """
    if step < 0.25:
        return "mouth", step / 0.25, -8.0 * (1 - step / 0.25)
    if step < 0.5:
        return "mouth", 1.0, 4.0 * np.sin((step - 0.25) * 25)
    if step < 0.75:
        return "cheek", (step - 0.5) / 0.25, 6.0
    return "away", (step - 0.75) / 0.25, 10.0


def hand_place(landmarks: np.ndarray, step: float, frame_height: int) -> tuple[np.ndarray, float]:
    """The frame point for the hand's anchor at ``step``, and its turn."""
    mouth = landmarks[list(MOUTH)].mean(axis=0)
    cheek = (landmarks[MOUTH_CORNER] + landmarks[EAR_RIGHT]) / 2
    below = np.array([mouth[0], frame_height + 0.6 * (landmarks[CHIN][1] - mouth[1]) + 80.0])
    target, travel, turn = hand_path(step)
    ease = 0.5 - 0.5 * np.cos(np.pi * travel)
    if target == "mouth":
        return below + (mouth - below) * ease, turn
    if target == "cheek":
        return mouth + (cheek - mouth) * ease, turn
    return cheek + (below - cheek) * ease, turn


def composite_hand(
    frame: np.ndarray, landmarks: np.ndarray, cutout: HandCutout, step: float
) -> tuple[np.ndarray, np.ndarray]:
    """``frame`` with the hand laid over it at ``step`` of its path, and the hand's alpha there."""
    face_width = float(np.linalg.norm(landmarks[EAR_LEFT] - landmarks[EAR_RIGHT]))
    scale = HAND_WIDTH * face_width / cutout.width
    place, turn = hand_place(landmarks, step, frame.shape[0])
    matrix = cv2.getRotationMatrix2D((float(cutout.anchor[0]), float(cutout.anchor[1])), turn, scale)
    matrix[:, 2] += place - cutout.anchor
    size = (frame.shape[1], frame.shape[0])
    hand = cv2.warpAffine(cutout.image, matrix, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    alpha = cv2.warpAffine(cutout.alpha, matrix, size, flags=cv2.INTER_LINEAR, borderValue=0)
    weight = alpha[:, :, None]
    mixed = frame.astype(np.float32) * (1 - weight) + hand.astype(np.float32) * weight
    return np.clip(mixed + 0.5, 0, 255).astype(np.uint8), alpha
