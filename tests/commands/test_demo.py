"""`livefake demo` on a fresh setup shows the swap: the face changes and carries the target's identity."""

from pathlib import Path

import av
import numpy as np
import pytest

from livefake.cli import main
from livefake.errors import ModelError
from livefake.sources.assets import bundled_photo, load_photo
from livefake.sources.demo import demo_clip


def decoded(path: Path, every: int) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="bgr24") for i, f in enumerate(container.decode(video=0)) if i % every == 0]


def test_demo_swaps_the_face_to_the_bundled_photo(tmp_path: Path, face_models: object) -> None:
    out = tmp_path / "demo.mp4"
    assert main(["demo", "--seconds", "3", "--size", "640x480", "--out", str(out)]) == 0
    swapped = decoded(out, every=10)
    source = decoded(demo_clip((640, 480), 3.0), every=10)
    assert len(swapped) >= 8
    from livefake.face.track import find_faces

    face = find_faces(source[0])[0]
    x0, y0, x1, y1 = face.box.astype(int)
    changed = np.abs(swapped[0][y0:y1, x0:x1].astype(int) - source[0][y0:y1, x0:x1].astype(int)).mean()
    assert changed > 10, f"the face region barely changed (mean difference {changed:.1f})"

    from livefake.face import identity

    try:
        model = identity.IdentityModel()
    except ModelError as error:  # the `identity` extra is optional
        pytest.skip(str(error))

    def distance_to_target(image: np.ndarray) -> float:
        box = identity.box_from_landmarks(find_faces(image)[0].landmarks)
        return identity.embedding_distance(model.embed(image, box), target)

    photo = load_photo(str(bundled_photo("hopper")))
    target = model.embed(photo, identity.box_from_landmarks(find_faces(photo)[0].landmarks))
    swapped_distance = [distance_to_target(image) for image in swapped]
    input_distance = [distance_to_target(image) for image in source]
    share_same = np.mean(np.array(swapped_distance) < identity.SAME_PERSON_THRESHOLD)
    assert share_same >= 0.8, f"swapped distances {np.round(swapped_distance, 3)}"
    assert np.median(input_distance) - np.median(swapped_distance) >= 0.15
