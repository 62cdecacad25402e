"""Hand tracking near faces, and the hand stage in the live path.

A real hand photo (``fingerpose``, MIT, fetched by ``perf.hand_media``) is moved over the
bundled Hopper portrait; the hand's true mask is known in every frame.
"""

from __future__ import annotations

import numpy as np
import pytest

from livefake.builder import build_stages
from livefake.config import LiveConfig, MergeConfig, SwapConfig, TrackConfig
from livefake.face.hand_track import SEARCH_PERIOD_S, HandStage, HandTracker, same_hand, search_region
from livefake.pipeline.frame import Face, Frame
from perf.hand_media import composite_hand, cut_out
from perf.real_media import MediaUnavailable

QUIET, MOVING = 12, 30


def test_search_region_is_an_upright_square_three_faces_wide() -> None:
    face = Face(box=np.array([100, 50, 200, 170], np.float32), score=1.0)
    region = search_region(face)
    assert region.angle == 0.0 and region.size == pytest.approx(360.0)
    assert np.allclose(region.centre, [150, 110])


def test_same_hand_means_boxes_sharing_most_of_the_smaller() -> None:
    big = np.array([0, 0, 100, 100], np.float32)
    assert same_hand(big, np.array([60, 60, 90, 90], np.float32))  # inside
    assert not same_hand(big, np.array([90, 90, 140, 140], np.float32))
    assert not same_hand(big, np.array([200, 0, 300, 100], np.float32))


def test_tracker_follows_a_real_hand_over_a_face_and_searches_rarely_without_one(face_models) -> None:  # type: ignore[no-untyped-def]
    from livefake.face.track import find_faces
    from livefake.sources.assets import load_photo

    try:
        cutout = cut_out("nocurl")
    except MediaUnavailable as error:
        pytest.skip(f"hand photos unavailable: {error}")
    portrait = load_photo("hopper")
    face = find_faces(portrait)[0]
    tracker = HandTracker(face_models)
    searches = 0
    for index in range(QUIET):
        assert tracker.track(portrait, [face], index / 30) == []
        searches += tracker.searched
    assert searches <= round(QUIET / 30 / SEARCH_PERIOD_S) + 1
    x0, y0, x1, y1 = face.box.astype(int)
    over_face = followed = on_hand = 0
    for index in range(MOVING):
        image, alpha = composite_hand(portrait, face.landmarks, cutout, index / (MOVING - 1))
        hands = tracker.track(image, [face])
        covering = alpha[y0:y1, x0:x1].mean() > 0.05  # the hand covers some of the face
        over_face += covering
        if covering and hands:
            followed += 1
            x, y = np.clip(np.round(hands[0].landmarks).astype(int), 0, [image.shape[1] - 1, image.shape[0] - 1]).T
            on_hand += int((alpha[y, x] > 0.5).sum() >= 16)
    assert over_face >= MOVING // 2 and followed >= over_face - 1  # found within a frame of reaching the face
    assert on_hand >= 0.9 * followed
    assert tracker.track(portrait, []) == []  # no face, no hands searched or followed


def test_hand_stage_follows_the_occlusion_setting(face_models) -> None:  # type: ignore[no-untyped-def]
    stage = HandStage(TrackConfig(), occlusion="none")
    frame = Frame(0, 0, np.zeros((120, 160, 3), np.uint8), faces=[Face(np.array([40, 20, 120, 100], np.float32), 1.0)])
    assert stage.process(frame) is frame and frame.hands == [] and stage.tracker is None
    stage.configure(LiveConfig(merge=MergeConfig(occlusion="hands")))
    assert stage.process(frame) is frame and frame.hands == [] and stage.tracker is not None
    stage.close()


def test_builder_adds_the_hand_stage_even_with_occlusion_off(face_models) -> None:  # type: ignore[no-untyped-def]
    from livefake.sources.assets import bundled_photo

    swap = SwapConfig(face=str(bundled_photo("hopper")))
    names = [stage.name for stage in build_stages(LiveConfig(swap=swap))]
    assert names[:3] == ["track", "hands", "swap"]
    off = [stage.name for stage in build_stages(LiveConfig(swap=swap, merge=MergeConfig(occlusion="none")))]
    assert off[:3] == ["track", "hands", "swap"]  # built anyway, so occlusion can be switched on live


def test_landmark_overlay_draws_the_hands() -> None:
    from livefake.face.draw import HAND_COLOUR, LandmarkOverlayStage
    from livefake.pipeline.frame import Hand

    points = np.stack([np.linspace(20, 100, 21), np.full(21, 50.0)], axis=1).astype(np.float32)
    frame = Frame(0, 0, np.zeros((120, 160, 3), np.uint8), hands=[Hand(points, 0.9)])
    LandmarkOverlayStage().process(frame)
    assert tuple(frame.image[50, 20]) == HAND_COLOUR and tuple(frame.image[50, 100]) == HAND_COLOUR
    assert frame.image[10, 10].sum() == 0


def test_palm_searches_are_timed_in_stream_seconds_not_frames(face_models) -> None:  # type: ignore[no-untyped-def]
    blank = np.zeros((240, 320, 3), np.uint8)
    face = Face(box=np.array([110, 70, 210, 170], np.float32), score=1.0)
    for fps in (30, 60):
        tracker = HandTracker(face_models)
        searched = []
        for index in range(fps):  # one second
            tracker.track(blank, [face], index / fps)
            searched.append(tracker.searched)
        assert sum(searched) == 10, fps  # every 0.1 s: every 3rd frame at 30 fps, every 6th at 60
        assert searched[0] and searched[fps // 10] and not any(searched[1 : fps // 10])
        tracker.track(blank, [face], 0.0)  # a looped file starts over: its first frame searches at once
        assert tracker.searched
