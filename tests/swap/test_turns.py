"""Head turns: magnification of target triangles, the mirrored side, the fade, and their stability."""

from __future__ import annotations

import cv2
import numpy as np

from livefake.face import mesh
from livefake.swap.photo import PhotoSwapper, TargetFace
from livefake.swap.steady import HOLD_RADIUS, StillHold
from livefake.swap.triangles import triangle_stretch
from livefake.swap.turns import TurnGuard, mirror_partners


def _face(width: float = 240.0, centre: tuple[float, float] = (320.0, 300.0)) -> np.ndarray:
    face = mesh.MEAN_FACE - mesh.MEAN_FACE.mean(axis=0)
    return (face * (width / np.ptp(face[:, 0])) + np.array(centre)).astype(np.float32)


def _squeezed_target() -> TargetFace:
    """A target photo turned away: its image-left half is foreshortened to 40%."""
    face = _face()
    nose_x = face[mesh.NOSE_TIP, 0]
    left = face[:, 0] < nose_x
    face[left, 0] = nose_x + 0.4 * (face[left, 0] - nose_x)
    rng = np.random.default_rng(7)
    image = cv2.GaussianBlur(rng.integers(0, 256, (600, 640, 3), dtype=np.uint8), (0, 0), 2.0)
    return TargetFace(image, face, "turned.png")


def test_mirror_partners_pair_the_two_halves() -> None:
    partners = mirror_partners()
    assert np.array_equal(partners[partners], np.arange(len(partners)))
    assert np.allclose(mesh.MEAN_FACE[partners, 0], -mesh.MEAN_FACE[:, 0], atol=0.05)
    assert partners[33] == 263 and partners[mesh.NOSE_TIP] == mesh.NOSE_TIP


def test_stretch_is_one_under_a_similarity_and_the_stretch_factor_otherwise() -> None:
    source = _face()
    triangles = np.array([[33, 263, 152], [61, 291, 10], [234, 454, 1]])
    rotation = cv2.getRotationMatrix2D((320, 300), 25, 1.7)
    moved = source @ rotation[:, :2].T + rotation[:, 2]
    assert np.allclose(triangle_stretch(moved, source, triangles, 1.7), 1.0, atol=1e-6)
    widened = source * np.array([3.0, 1.0])
    assert np.allclose(triangle_stretch(widened, source, triangles, 1.0), 3.0, atol=1e-6)


def test_turn_guard_mirrors_the_magnified_side_and_brings_the_share_under_two_percent() -> None:
    target = _squeezed_target()
    frontal = _face(230.0, (330.0, 310.0))
    frame = np.full((640, 680, 3), 90, np.uint8)
    shares = {}
    for guard in (False, True):
        swapper = PhotoSwapper(target, eyes="target", mirror_turns=guard)
        swapped = swapper.swap(frame, frontal, 0, track_id=1, measure=True)
        assert swapped is not None
        shares[guard] = swapper.last_magnified_share
    assert shares[False] > 0.2  # the foreshortened half, stretched 2.5x back out
    assert shares[True] <= 0.02
    guard = TurnGuard(_squeezed_target().landmarks, PhotoSwapper(target).warper.triangles)
    choice = guard.choose(0, frontal)
    centroids_x = frontal[guard.triangles].mean(axis=1)[:, 0]
    nose_x = frontal[mesh.NOSE_TIP, 0]
    assert choice.mirrored[centroids_x < nose_x - 20].mean() > 0.8
    assert not choice.mirrored[centroids_x > nose_x + 20].any()


def test_turn_choices_are_steady_for_a_still_face() -> None:
    target = _squeezed_target()
    guard = TurnGuard(target.landmarks, PhotoSwapper(target).warper.triangles)
    frontal = _face(230.0, (330.0, 310.0))
    rng = np.random.default_rng(0)
    hold = StillHold()  # as in the swapper: landmark wobble is held before the guard sees it
    choices = [guard.choose(4, hold(4, frontal + rng.normal(0, 0.3, frontal.shape).astype(np.float32)))
               for _ in range(40)]
    flips = sum(int((a.mirrored != b.mirrored).sum()) for a, b in zip(choices[10:], choices[11:], strict=False))
    assert flips == 0
    weights = np.array([c.weight for c in choices[10:]])
    assert np.abs(np.diff(weights, axis=0)).max() < 0.05


def test_still_hold_freezes_jitter_and_follows_motion() -> None:
    hold = StillHold()
    face = _face()
    rng = np.random.default_rng(1)
    held = [hold(2, face + rng.normal(0, 0.2, face.shape).astype(np.float32)) for _ in range(30)]
    assert np.abs(np.diff(np.array(held[5:]), axis=0)).max() < 0.35  # jitter (about 0.2 px) barely moves it
    moved = hold(2, face + np.array([6.0, 0.0], np.float32))
    band = HOLD_RADIUS * float(np.linalg.norm(face[33] - face[263]))
    assert np.abs(moved - (face + np.array([6.0, 0.0]))).max() <= band + 0.8
    assert np.array_equal(hold(-1, face), face)  # an untracked face is not held
