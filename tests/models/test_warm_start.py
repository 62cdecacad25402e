"""Warm starts: a new run begins from another run's weights, all of them or the encoder and inter."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from livefake.errors import InputError
from livefake.models.checkpoint import load_checkpoint, load_model
from livefake.models.trainer import TrainArgs, Trainer

TINY = {"encoder_dims": 8, "inter_dims": 32, "decoder_dims": 8}


def _args(facesets: tuple[Path, Path], out: Path, **changes: object) -> TrainArgs:
    src, dst = facesets
    base = TrainArgs(
        src=str(src), dst=str(dst), out=str(out), arch="lite", resolution=64, batch=2, max_steps=2,
        preview_every=0, save_every=0, seed=1, learning_rate=3e-3, threads=1, workers=0, progress=False, **TINY,
    )  # fmt: skip
    return replace(base, **changes)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def source_run(facesets: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("warm") / "source"
    Trainer(_args((facesets[1], facesets[0]), out, max_steps=3, seed=9)).run()  # another pair: B -> A
    return out


def test_all_weights_start_from_the_other_run(facesets: tuple[Path, Path], source_run: Path, tmp_path: Path) -> None:
    trainer = Trainer(_args(facesets, tmp_path / "new", init_from=str(source_run)))
    source = load_model(source_run).state_dict()
    for key, value in trainer.model.state_dict().items():
        assert torch.equal(value, source[key]), key
    assert trainer.step == 0 and not trainer.optimizer.state  # weights only: a fresh optimizer and step count
    trainer.run()
    assert load_checkpoint(tmp_path / "new").step == 2
    assert json.loads((tmp_path / "new" / "run.json").read_text())["training"]["init_from"] == str(source_run)


def test_encoder_and_inter_only(facesets: tuple[Path, Path], source_run: Path, tmp_path: Path) -> None:
    trainer = Trainer(_args(facesets, tmp_path / "new", init_from=str(source_run), init_parts="encoder-inter"))
    source = load_model(source_run).state_dict()
    state = trainer.model.state_dict()
    shared = [key for key in state if key.startswith(("encoder.", "inter."))]
    decoders = [key for key in state if key.startswith("decoders.")]
    assert shared and decoders
    assert all(torch.equal(state[key], source[key]) for key in shared)
    assert not any(torch.equal(state[key], source[key]) for key in decoders if state[key].numel() > 1)


def test_another_shape_is_refused_naming_the_flags(
    facesets: tuple[Path, Path], source_run: Path, tmp_path: Path
) -> None:
    with pytest.raises(InputError, match=r"inter_dims 32 \(this run: 48\); train with --inter-dims 32"):
        Trainer(_args(facesets, tmp_path / "new", init_from=str(source_run), inter_dims=48))
    with pytest.raises(InputError, match="arch lite .this run: df."):
        Trainer(_args(facesets, tmp_path / "df", init_from=str(source_run), arch="df"))
