"""Does keeping the face mask inside the person (selfie segmentation) pay for itself?

Run as ``python -m perf.person_edge``. Writes ``perf/results/person_edge.json``.

The photo swap (to the bundled Hopper photo, ``--occlusion none``) runs on stretches of real
clips. ``franck`` is filmed against a blue screen, so its background is known exactly (a
chroma key): the figure is the share of the pixels the swap changed that lie on the
background ("bleed"), without and with the person mask (mediapipe's selfie segmentation, run
on a square twice the face's size around each face and thresholded at 0.5), and the share of
changed face pixels the person mask would wrongly drop. ``cap12`` and ``cap13`` (webcam, mild
turns) have no known background: for them only the share of changed pixels the person model
calls background is reported (an upper bound on what it could remove). The cost is the
segmentation's time per face per frame (warp, model, warp back), p50.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import av
import cv2
import numpy as np

from livefake.config import MergeConfig, SwapConfig, TrackConfig
from livefake.face.assets import require_models
from livefake.face.landmarks import FaceRegion, warp_region
from livefake.face.track import TrackStage
from livefake.merge.stage import MergeStage
from livefake.pipeline.frame import Frame
from livefake.runtime.session import create_session
from livefake.swap.photo import PhotoSwapStage, load_target_face
from perf.real_media import fetch_clip

RESULTS = Path(__file__).parent / "results"
STRETCHES = {"franck": (0, 1200, 2400, 3600), "cap12": (0, 600), "cap13": (0, 400)}
PERSON_INPUT = 256
REGION_SCALE = 2.0
CHANGED = 8


def read_stretch(key: str, start: int, count: int) -> list[np.ndarray]:
    frames = []
    with av.open(str(fetch_clip(key))) as container:
        for index, frame in enumerate(container.decode(video=0)):
            if index >= start:
                frames.append(frame.to_ndarray(format="bgr24"))
            if len(frames) >= count:
                break
    return frames


def blue_screen(image: np.ndarray) -> np.ndarray:
    blue, green, red = (image[..., k].astype(np.int16) for k in range(3))
    return (blue > 170) & (blue > green + 60) & (blue > red + 100)


def person_mask(session, image: np.ndarray, box: np.ndarray) -> tuple[np.ndarray, float]:  # type: ignore[no-untyped-def]
    """The person probability > 0.5 around one face, in frame pixels, and its cost in ms."""
    start = time.perf_counter()
    side = float(max(box[2] - box[0], box[3] - box[1])) * REGION_SCALE
    crop, matrix = warp_region(image, FaceRegion((box[:2] + box[2:]) / 2, side, 0.0), PERSON_INPUT)
    tensor = (crop[..., ::-1].astype(np.float32) * np.float32(1 / 255))[None]
    probability = session.run(None, {session.get_inputs()[0].name: tensor})[0][0, :, :, 0]
    size = (image.shape[1], image.shape[0])
    back = cv2.warpAffine(probability, cv2.invertAffineTransform(matrix), size, borderValue=1.0)
    return back > 0.5, (time.perf_counter() - start) * 1000


def measure_clip(key: str, count: int, session) -> dict[str, float]:  # type: ignore[no-untyped-def]
    track, merge = TrackStage(TrackConfig()), MergeStage(MergeConfig(occlusion="none"))
    swap = PhotoSwapStage(SwapConfig(face="hopper"), TrackConfig(), target=load_target_face(None))
    totals = {"changed": 0, "bleed": 0, "bleed_with_person": 0, "face_lost": 0, "called_background": 0}
    costs: list[float] = []
    for start in STRETCHES[key]:
        track.open()
        swap.open()
        for index, image in enumerate(read_stretch(key, start, count)):
            frame = Frame(index, 0, image.copy(), pts=index / 25)
            for stage in (track, swap, merge):
                frame = stage.process(frame) or frame
            if not frame.faces:
                continue
            changed = np.abs(frame.image.astype(np.int16) - image.astype(np.int16)).max(axis=-1) > CHANGED
            person, cost = person_mask(session, image, frame.faces[0].box)
            costs.append(cost)
            background = blue_screen(image) if key == "franck" else np.zeros_like(changed)
            totals["changed"] += int(changed.sum())
            totals["bleed"] += int((changed & background).sum())
            totals["bleed_with_person"] += int((changed & background & person).sum())
            totals["face_lost"] += int((changed & ~background & ~person).sum())
            totals["called_background"] += int((changed & ~person).sum())
    share = {name: round(value / max(totals["changed"], 1), 5) for name, value in totals.items() if name != "changed"}
    return {**share, "changed_pixels": totals["changed"], "person_ms_p50": round(float(np.median(costs)), 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=40, help="frames per stretch")
    parser.add_argument("--json", type=Path, default=RESULTS / "person_edge.json")
    args = parser.parse_args()
    session = create_session(require_models().person, threads=1)
    report = {key: measure_clip(key, args.frames, session) for key in STRETCHES}
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
