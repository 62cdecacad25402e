"""Moving-face clips generated from the bundled public-domain portraits, with ground truth.

Each frame is the portrait warped by a known homography (smooth translation, scale, roll
and perspective), with exposure drift, sensor noise and motion blur on top. The true 3x3
transform from portrait pixels to frame pixels is kept for every frame, so detectors and
trackers can be scored against it. These clips have no expressions or 3-D head turns: they
cannot judge swap quality.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

from livefake.sources.assets import load_photo


@dataclass(frozen=True)
class ClipSpec:
    photo: str = "hopper"  # "hopper", "collins" or an image path
    size: tuple[int, int] = (1280, 720)  # width, height
    fps: float = 30.0
    seconds: float = 10.0
    motion: float = 1.0  # 0 keeps the face still; 1 is a lively but plausible head motion
    exposure_drift: float = 0.15  # peak relative brightness change
    noise: float = 2.0  # sensor noise sigma, grey levels
    blur: bool = True  # motion blur along the frame-to-frame displacement
    seed: int = 0

    @property
    def frame_count(self) -> int:
        return max(1, round(self.seconds * self.fps))


def frame_transform(spec: ClipSpec, index: int, photo_size: tuple[int, int]) -> np.ndarray:
    """The 3x3 homography mapping portrait pixels to frame ``index`` pixels."""
    pw, ph = photo_size
    width, height = spec.size
    t = index / spec.fps
    rng = np.random.default_rng(spec.seed)
    phases = rng.uniform(0, 2 * np.pi, size=6)
    m = spec.motion
    base_scale = min(width / pw, height / ph) * 0.9
    scale = base_scale * (1.0 + 0.12 * m * np.sin(0.50 * t + phases[0]))
    roll = np.deg2rad(12.0 * m * np.sin(0.70 * t + phases[1]))
    dx = 0.08 * width * m * np.sin(0.45 * t + phases[2])
    dy = 0.05 * height * m * np.sin(0.60 * t + phases[3])
    px = 2.5e-4 * m * np.sin(0.35 * t + phases[4]) / base_scale
    py = 2.0e-4 * m * np.sin(0.40 * t + phases[5]) / base_scale
    centre = np.array([[1, 0, -pw / 2], [0, 1, -ph / 2], [0, 0, 1]], dtype=np.float64)
    perspective = np.array([[1, 0, 0], [0, 1, 0], [px, py, 1]], dtype=np.float64)
    c, s = np.cos(roll) * scale, np.sin(roll) * scale
    similarity = np.array([[c, -s, width / 2 + dx], [s, c, height / 2 + dy], [0, 0, 1]], dtype=np.float64)
    return similarity @ perspective @ centre


def render_frames(spec: ClipSpec) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield (frame uint8 BGR, true 3x3 transform) for every frame of the clip."""
    photo = load_photo(spec.photo)
    ph, pw = photo.shape[:2]
    cv2.setRNGSeed(spec.seed + 1)  # OpenCV's generator is per thread: clips are reproducible
    noise = np.empty((spec.size[1], spec.size[0], 3), np.float32)
    previous = None
    for index in range(spec.frame_count):
        transform = frame_transform(spec, index, (pw, ph))
        frame = cv2.warpPerspective(
            photo, transform, spec.size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
        )
        if spec.blur and previous is not None:
            frame = _motion_blur(frame, transform, previous, (pw, ph))
        gain = 1.0 + spec.exposure_drift * np.sin(2 * np.pi * index / (spec.fps * 7.0))
        image = frame.astype(np.float32)
        image *= np.float32(gain)
        if spec.noise > 0:
            cv2.randn(noise, np.zeros(3), np.full(3, spec.noise))
            image += noise
        previous = transform
        np.clip(image, 0, 255, out=image)
        yield image.astype(np.uint8), transform


def _motion_blur(
    frame: np.ndarray, transform: np.ndarray, previous: np.ndarray, photo_size: tuple[int, int]
) -> np.ndarray:
    centre = np.array([photo_size[0] / 2, photo_size[1] / 2, 1.0])
    a, b = transform @ centre, previous @ centre
    shift = a[:2] / a[2] - b[:2] / b[2]
    length = int(round(float(np.hypot(*shift)) * 0.5))
    if length < 2:
        return frame
    kernel = np.zeros((length, length), dtype=np.float32)
    angle = np.arctan2(shift[1], shift[0])
    centre_k = (length - 1) / 2
    for i in range(length):
        r = i - centre_k
        x, y = int(round(centre_k + r * np.cos(angle))), int(round(centre_k + r * np.sin(angle)))
        kernel[y, x] = 1.0
    return cv2.filter2D(frame, -1, kernel / kernel.sum())


def write_clip(spec: ClipSpec, path: str | Path, audio: bool = True) -> np.ndarray:
    """Encode the clip to ``path`` (H.264, with a 440 Hz beep each second as audio when asked).

    Writes the true transforms beside it as ``<path>.transforms.json`` and returns them (N x 3 x 3).
    """
    import av

    path = Path(path)
    rate = Fraction(spec.fps).limit_denominator(1001)
    transforms = []
    with av.open(str(path), mode="w") as container:
        video = container.add_stream("libx264", rate=rate)
        video.width, video.height = spec.size
        video.pix_fmt = "yuv420p"
        video.options = {"preset": "veryfast", "crf": "18"}
        audio_stream = container.add_stream("aac", rate=48000) if audio else None
        for image, transform in render_frames(spec):
            transforms.append(transform)
            frame = av.VideoFrame.from_ndarray(image, format="bgr24")
            container.mux(video.encode(frame))
        container.mux(video.encode())
        if audio_stream is not None:
            _write_beeps(container, audio_stream, spec.frame_count / spec.fps)
    stacked = np.stack(transforms)
    meta = {"spec": asdict(spec), "transforms": stacked.tolist()}
    Path(f"{path}.transforms.json").write_text(json.dumps(meta))
    return stacked


def beep_track(seconds: float, rate: int = 48000) -> np.ndarray:
    """Mono float32 audio: a 50 ms 440 Hz beep at the start of every second."""
    t = np.arange(int(seconds * rate)) / rate
    gate = (t % 1.0) < 0.05
    return (0.3 * np.sin(2 * np.pi * 440 * t) * gate).astype(np.float32)


def _write_beeps(container: object, stream: object, seconds: float) -> None:
    import av

    samples = beep_track(seconds)
    chunk = 1024
    for start in range(0, samples.size, chunk):
        block = samples[start : start + chunk]
        if block.size < chunk:
            block = np.pad(block, (0, chunk - block.size))
        frame = av.AudioFrame.from_ndarray(block[None, :], format="fltp", layout="mono")
        frame.sample_rate = 48000
        frame.pts = start
        container.mux(stream.encode(frame))  # type: ignore[attr-defined]
    container.mux(stream.encode())  # type: ignore[attr-defined]


def read_transforms(path: str | Path) -> np.ndarray:
    meta = json.loads(Path(f"{path}.transforms.json").read_text())
    return np.array(meta["transforms"], dtype=np.float64)


def clip_frames(photo: str, count: int, seed: int = 0, size: tuple[int, int] = (1280, 720)) -> list[np.ndarray]:
    """The first ``count`` frames of a generated clip, in memory."""
    spec = ClipSpec(photo=photo, size=size, seconds=count / 30.0, seed=seed)
    return [image for image, _ in render_frames(spec)][:count]


def h264_round_trip(frames: list[np.ndarray], bit_rate: int = 1_000_000) -> list[np.ndarray]:
    """Encode ``frames`` as one H.264 video at ``bit_rate`` (libx264) and decode it again."""
    import io

    import av

    buffer = io.BytesIO()
    height, width = frames[0].shape[:2]
    with av.open(buffer, "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.bit_rate = bit_rate
        for image in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")))
        container.mux(stream.encode())
    buffer.seek(0)
    with av.open(buffer, "r") as source:
        return [frame.to_ndarray(format="bgr24") for frame in source.decode(video=0)]


def jpeg_round_trip(image: np.ndarray, quality: int = 70) -> np.ndarray:
    """Compress ``image`` as JPEG at ``quality`` and decode it again."""
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    decoded = cv2.imdecode(encoded, cv2.IMREAD_COLOR) if ok else None
    if decoded is None:
        raise ValueError("JPEG round trip failed")
    return np.asarray(decoded)
