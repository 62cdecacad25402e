"""Single-photo animation: motion transfer on synthetic meshes, and a real face on a generated clip.

Generated clips have no expressions or 3-D head turns: the clip test shows the photo following
2-D head motion with its background anchored, not how expressions carry over.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from livefake.config import SwapConfig, TrackConfig
from livefake.face import mesh
from livefake.pipeline.frame import Face, Frame
from livefake.sources.synthetic import ClipSpec, render_frames
from livefake.swap.animate import AnimateStage, PortraitAnimator, Similarity, limit_motion
from livefake.swap.photo import TargetFace


def _mesh_at(centre: tuple[float, float], width: float, angle_deg: float = 0.0) -> np.ndarray:
    face = mesh.MEAN_FACE - mesh.MEAN_FACE[list(mesh.FACE_OVAL)].mean(axis=0)
    inner = list(mesh.LIPS_INNER)
    face[inner, 1] = face[inner, 1].mean() + 0.2 * (face[inner, 1] - face[inner, 1].mean())  # mouth shut
    face = face * (width / np.ptp(face[:, 0]))
    angle = np.deg2rad(angle_deg)
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    return face @ rotation.T + np.array(centre)


def _target() -> TargetFace:
    rng = np.random.default_rng(5)
    image = cv2.GaussianBlur(rng.integers(0, 256, (400, 360, 3), dtype=np.uint8), (0, 0), 2.0)
    return TargetFace(image, _mesh_at((180, 190), 120).astype(np.float32), "synthetic.png")


def _open_mouth(landmarks: np.ndarray, gap: float) -> np.ndarray:
    opened = landmarks.copy()
    opened[[14, 87, 178, 88, 95, 317, 402, 318, 324, 17, 84, 181, 91, 146, 314, 405, 321, 375], 1] += gap
    return opened


def _frame(faces: list[Face], size: tuple[int, int] = (1280, 720)) -> Frame:
    image = np.full((size[1], size[0], 3), 77, np.uint8)
    return Frame(index=0, t_capture_ns=0, image=image, faces=faces)


def _face(landmarks: np.ndarray) -> Face:
    points = landmarks.astype(np.float32)
    return Face(box=np.concatenate([points.min(0), points.max(0)]), score=1.0, landmarks=points)


def test_similarity_fit_recovers_scale_roll_and_shift() -> None:
    points = np.random.default_rng(0).uniform(0, 100, (30, 2))
    truth = Similarity(complex(1.5 * np.exp(0.3j)), complex(10, -4))
    fit = Similarity.fit(points, truth.apply(points))
    assert abs(fit.a - truth.a) < 1e-9 and abs(fit.t - truth.t) < 1e-7
    assert np.allclose(fit.inverse().apply(truth.apply(points)), points)


def test_limit_motion_caps_shift_scale_and_roll() -> None:
    wild = Similarity(complex(3.0 * np.exp(1j)), complex(500, 0))
    limited = limit_motion(wild, np.array([0.0, 0.0]), face_width=100.0)
    assert abs(limited.a) == pytest.approx(1.33) and np.angle(limited.a) == pytest.approx(np.deg2rad(35))
    assert abs(limited.t) == pytest.approx(50.0)


def test_photo_is_fitted_into_the_live_frame_size() -> None:
    animator = PortraitAnimator(_target(), (1280, 720))
    assert animator.canvas.shape == (720, 1280, 3)
    assert not animator.canvas[:, :100].any() and not animator.canvas[:, -100:].any()  # bars
    assert animator.face_width == pytest.approx(120 * 1.8, rel=1e-3)


def test_no_motion_renders_the_photo_at_rest() -> None:
    animator = PortraitAnimator(_target(), (1280, 720))
    reference = _mesh_at((500, 300), 300)
    driven = animator.drive(reference, reference)
    assert np.allclose(driven.landmarks, animator.rest, atol=1e-6)
    assert np.abs(animator.render(driven).astype(int) - animator.canvas).max() <= 1


def test_head_motion_carries_over_in_proportion() -> None:
    animator = PortraitAnimator(_target(), (1280, 720))
    reference = _mesh_at((500, 300), 300)
    live = _mesh_at((530, 300), 300, angle_deg=10)  # 10% of the live face width to the right, rolled
    driven = animator.drive(reference, live).landmarks
    centre = animator.rest[list(mesh.FACE_OVAL)].mean(axis=0)
    expected = Similarity(complex(np.exp(1j * np.deg2rad(10))), 0).apply(animator.rest - centre) + centre
    expected += (0.1 * animator.face_width, 0.0)
    assert np.abs(driven - expected).max() < 0.02 * animator.face_width


def test_expression_carries_over_in_proportion() -> None:
    animator = PortraitAnimator(_target(), (1280, 720))
    reference = _mesh_at((500, 300), 300)
    driven = animator.drive(reference, _open_mouth(reference, 30.0)).landmarks
    gap = driven[14, 1] - driven[13, 1] - (animator.rest[14, 1] - animator.rest[13, 1])
    assert gap == pytest.approx(30.0 * animator.face_width / 300, rel=0.05)
    assert np.abs(driven[list(mesh.RIGID)] - animator.rest[list(mesh.RIGID)]).max() < 1.0


def test_background_outside_the_face_region_stays_put() -> None:
    animator = PortraitAnimator(_target(), (1280, 720))
    reference = _mesh_at((500, 300), 300)
    output = animator.render(animator.drive(reference, _mesh_at((560, 320), 330, angle_deg=15)))
    x0, y0, x1, y1 = animator.region
    outside = np.ones((720, 1280), bool)
    outside[y0:y1, x0:x1] = False
    assert np.array_equal(output[outside], animator.canvas[outside])
    assert np.abs(output[y0:y1, x0:x1].astype(int) - animator.canvas[y0:y1, x0:x1]).mean() > 5


def test_open_mouth_is_shaded() -> None:
    animator = PortraitAnimator(_target(), (1280, 720))
    reference = _mesh_at((500, 300), 300)
    driven = animator.drive(reference, _open_mouth(reference, 40.0))
    inside = np.round(driven.landmarks[[13, 14]].mean(axis=0)).astype(int)
    shaded = animator.render(driven)[inside[1], inside[0]].astype(int)
    unshaded = cv2.remap(animator.canvas, *_inverse_sample(driven, animator, inside), cv2.INTER_LINEAR)
    assert shaded.sum() < 0.5 * unshaded.astype(int).sum() + 3


def _inverse_sample(driven, animator, point):  # type: ignore[no-untyped-def]
    """Where the warp reads ``point`` from: its barycentric place in the driven mesh, mapped to rest."""
    points = np.concatenate([driven.landmarks, animator.follow_ring, animator.anchor_ring]).astype(np.float32)
    local = points - np.array(point, np.float32) + 1
    index = animator.warper.rasterise(local, (3, 3))
    map_x, map_y = animator.warper.remap_grids(local, index)
    return map_x[1:2, 1:2].copy(), map_y[1:2, 1:2].copy()


def test_stage_without_a_face_shows_the_photo_at_rest() -> None:
    stage = AnimateStage(SwapConfig(mode="animate"), TrackConfig(), target=_target())
    stage.open()
    frame = stage.process(_frame([]))
    assert frame is not None and frame.image.shape == (720, 1280, 3)
    assert frame.swapped == [] and len(frame.faces) == 1
    assert np.array_equal(frame.image, stage._animator_for(1280, 720).canvas)


def test_first_face_is_the_reference_until_set_reference() -> None:
    stage = AnimateStage(SwapConfig(mode="animate"), TrackConfig(), target=_target())
    stage.open()
    rest = stage.process(_frame([_face(_mesh_at((500, 300), 300))]))
    assert rest is not None
    canvas = stage._animator_for(1280, 720).canvas
    assert np.abs(rest.image.astype(int) - canvas).max() <= 1
    moved_face = _face(_mesh_at((560, 300), 300, angle_deg=12))
    moved = stage.process(_frame([moved_face]))
    assert moved is not None and np.abs(moved.image.astype(int) - canvas).max() > 50
    stage.set_reference()
    rebased = stage.process(_frame([moved_face]))
    assert rebased is not None and np.abs(rebased.image.astype(int) - canvas).max() <= 1


def test_the_largest_face_drives() -> None:
    stage = AnimateStage(SwapConfig(mode="animate"), TrackConfig(), target=_target())
    stage.open()
    big, small = _mesh_at((400, 300), 300), _mesh_at((1000, 300), 100)
    stage.process(_frame([_face(small), _face(big)]))
    out = stage.process(_frame([_face(small + (40, 0)), _face(big)]))
    assert out is not None
    assert np.abs(out.image.astype(int) - stage._animator_for(1280, 720).canvas).max() <= 1


def test_stage_before_open_says_so() -> None:
    stage = AnimateStage(SwapConfig(mode="animate"), TrackConfig())
    with pytest.raises(RuntimeError, match="before open"):
        stage.process(_frame([]))


def test_animation_follows_a_generated_clip(face_models: object) -> None:
    from livefake.face.track import TrackStage

    track = TrackStage(TrackConfig())
    animate = AnimateStage(SwapConfig(face="hopper", mode="animate"), TrackConfig())
    track.open()
    animate.open()
    spec = ClipSpec(photo="collins", size=(640, 480), seconds=3.0, fps=10)
    live_centres, photo_centres, live_widths = [], [], []
    for index, (image, _) in enumerate(render_frames(spec)):
        tracked = track.process(Frame(index, index, image))
        assert tracked is not None and len(tracked.faces) == 1
        live_centres.append(tracked.faces[0].landmarks.mean(axis=0))
        live_widths.append(np.ptp(tracked.faces[0].landmarks[:, 0]))
        frame = animate.process(tracked)
        assert frame is not None and frame.image.shape == (480, 640, 3)
        photo_centres.append(frame.faces[0].landmarks.mean(axis=0))
    animator = animate._animator_for(640, 480)
    x1 = animator.region[2]
    assert np.array_equal(frame.image[:, x1:], animator.canvas[:, x1:])  # the background stays put
    ratio = animator.face_width / live_widths[0]
    live_shift = (np.array(live_centres) - live_centres[0]) * ratio
    photo_shift = np.array(photo_centres) - photo_centres[0]
    assert np.abs(live_shift).max() > 10  # the clip moves the head
    assert np.abs(photo_shift - live_shift).max() < 0.25 * np.abs(live_shift).max() + 2
