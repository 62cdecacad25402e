"""Stage.configure: tracking, merge and provenance stages take a new settings snapshot."""

import dataclasses

import numpy as np

from livefake.config import LiveConfig, MergeConfig, ProvenanceConfig, SwapConfig, TrackConfig
from livefake.merge.provenance import ProvenanceStage
from livefake.merge.stage import MergeStage
from livefake.merge.watermark import WatermarkDetector, make_payload
from livefake.pipeline import Frame
from livefake.sources.assets import load_photo


def test_tracking_limits_and_smoothing_change_but_the_models_stay(face_models: object) -> None:
    from livefake.face.track import TrackStage

    stage = TrackStage(TrackConfig(threads=1))
    stage.open()
    stage.process(Frame(index=0, t_capture_ns=0, image=load_photo("hopper"), pts=0.0))
    assert stage.tracker is not None and stage.tracker.tracks
    changed = LiveConfig(track=TrackConfig(min_cutoff=4.0, beta=0.5, max_faces=1, min_score=0.6, threads=3))
    stage.configure(changed)
    smoother = stage.tracker.tracks[0].smoother
    assert (smoother.min_cutoff, smoother.beta) == (4.0, 0.5)
    assert stage.tracker.config.max_faces == 1 and stage.tracker.detector.min_score == 0.6
    assert stage.config.threads == 1  # threads, models and iris are fixed once opened


def test_merge_takes_every_setting_and_a_new_colour_method_starts_afresh() -> None:
    stage = MergeStage(MergeConfig())
    matcher = stage.colors
    stage.configure(LiveConfig(merge=MergeConfig(mask_blur=40)))
    assert stage.config.mask_blur == 40 and stage.colors is matcher
    stage.configure(LiveConfig(merge=MergeConfig(color="lct", mask_blur=40)))
    assert stage.colors is not matcher and stage.colors.method == "lct"


def test_provenance_follows_the_label_the_switch_and_the_target() -> None:
    swap = SwapConfig(face="a.jpg")
    stage = ProvenanceStage(ProvenanceConfig(), "first", source_id_of=lambda s: s.swap.face or "")
    image = np.full((360, 640, 3), 120, np.uint8)
    frame = Frame(index=0, t_capture_ns=0, image=image.copy())
    stage.configure(LiveConfig(swap=swap, provenance=ProvenanceConfig(label=False)))
    marked = stage.process(frame).image
    assert stage.payload == make_payload("a.jpg")
    assert WatermarkDetector().detect(marked).found
    assert np.abs(marked.astype(np.int16) - image).max() < 20  # the mark only, no label box
    stage.configure(LiveConfig(swap=dataclasses.replace(swap, enabled=False)))
    untouched = stage.process(Frame(index=1, t_capture_ns=0, image=image.copy())).image
    assert np.array_equal(untouched, image)  # swap off: frames are not synthetic, not marked
