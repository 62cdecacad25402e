"""Checkpoints: round trip, atomic replace keeping the last good file, clear refusals."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from livefake.errors import ModelError
from livefake.models.checkpoint import (
    CHECKPOINT_FILE,
    PREVIOUS_FILE,
    TrainState,
    load_checkpoint,
    load_model,
    save_checkpoint,
)
from livefake.models.registry import build_model, default_config

TINY = {"encoder_dims": 8, "inter_dims": 32, "decoder_dims": 8}


def _trained_pair() -> tuple[torch.nn.Module, torch.optim.Optimizer]:
    torch.manual_seed(0)
    model = build_model(default_config("lite", 64, **TINY))
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    face, mask = model(torch.rand(2, 3, 64, 64), "src")
    (face.mean() + mask.mean()).backward()
    optimizer.step()
    return model, optimizer


def test_round_trip_restores_weights_optimizer_and_state(tmp_path: Path) -> None:
    model, optimizer = _trained_pair()
    state = TrainState(step=7, seed=3, identities={"src": "A", "dst": "B"}, training={"batch": 8})
    path = save_checkpoint(tmp_path, model, optimizer, state)  # type: ignore[arg-type]
    loaded = load_checkpoint(path)
    assert loaded.step == 7 and loaded.identities == {"src": "A", "dst": "B"} and loaded.training == {"batch": 8}
    assert loaded.config == model.config
    assert "torch" in loaded.rng_tensors
    fresh = build_model(loaded.config)
    fresh.load_state_dict(loaded.model_state)
    fresh_optimizer = torch.optim.AdamW(fresh.parameters(), lr=1e-3)
    fresh_optimizer.load_state_dict(loaded.optimizer_state)
    compared = 0
    for old, new in zip(model.parameters(), fresh.parameters(), strict=True):
        before, after = optimizer.state.get(old), fresh_optimizer.state.get(new)
        if not before:  # the dst decoder had no gradient yet
            assert not after
            continue
        assert after is not None
        compared += 1
        assert torch.equal(before["exp_avg_sq"], after["exp_avg_sq"]) and float(before["step"]) == float(after["step"])
    assert compared > 10
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        assert torch.equal(load_model(tmp_path)(x, "dst")[0], model.eval()(x, "dst")[0])


def test_previous_good_checkpoint_is_kept_and_used_when_the_latest_is_bad(tmp_path: Path) -> None:
    model, optimizer = _trained_pair()
    save_checkpoint(tmp_path, model, optimizer, TrainState(step=1))  # type: ignore[arg-type]
    save_checkpoint(tmp_path, model, optimizer, TrainState(step=2))  # type: ignore[arg-type]
    assert load_checkpoint(tmp_path / PREVIOUS_FILE).step == 1
    latest = tmp_path / CHECKPOINT_FILE
    latest.write_bytes(latest.read_bytes()[: latest.stat().st_size // 2])  # torn write
    assert load_checkpoint(tmp_path).step == 1


@pytest.mark.parametrize("content", [b"", b"garbage" * 100, b"\x10\x00\x00\x00\x00\x00\x00\x00{}"])
def test_a_file_that_is_not_a_checkpoint_is_refused_naming_it(tmp_path: Path, content: bytes) -> None:
    bad = tmp_path / "model.safetensors"
    bad.write_bytes(content)
    with pytest.raises(ModelError, match=rf"{bad} is not a valid livefake checkpoint"):
        load_checkpoint(bad)


def test_plain_safetensors_without_our_metadata_is_refused(tmp_path: Path) -> None:
    from safetensors.torch import save_file

    other = tmp_path / "other.safetensors"
    save_file({"weight": torch.zeros(3)}, str(other))
    with pytest.raises(ModelError, match="not a livefake checkpoint"):
        load_checkpoint(other)
    with pytest.raises(ModelError, match="has no checkpoint.safetensors|no usable checkpoint"):
        load_checkpoint(tmp_path)


def test_non_finite_weights_are_refused_and_the_previous_checkpoint_used(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    model, optimizer = _trained_pair()
    save_checkpoint(tmp_path, model, optimizer, TrainState(step=1))  # type: ignore[arg-type]
    with torch.no_grad():
        next(model.parameters())[0].fill_(float("nan"))
    save_checkpoint(tmp_path, model, optimizer, TrainState(step=2))  # type: ignore[arg-type]
    with pytest.raises(ModelError, match=r"holds non-finite weights \(model\.encoder\..* has NaN or infinity\)"):
        load_checkpoint(tmp_path / CHECKPOINT_FILE)
    with caplog.at_level("WARNING"):
        assert load_checkpoint(tmp_path).step == 1
    assert "using the previous checkpoint" in caplog.text
    with pytest.raises(ModelError, match="non-finite"):
        load_model(tmp_path / CHECKPOINT_FILE)
