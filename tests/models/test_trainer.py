"""The trainer on two generated identities: learning, exact resume, kills, bad checkpoints, CLI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from dataclasses import replace
from pathlib import Path

import cv2
import pytest
import torch

from livefake.cli import main
from livefake.errors import InputError, ModelError
from livefake.models.checkpoint import CHECKPOINT_FILE, load_checkpoint, load_model
from livefake.models.dataset import load_face_samples
from livefake.models.evaluate import swap_distances
from livefake.models.preview import LossLog
from livefake.models.trainer import TrainArgs, Trainer, parse_duration

TINY = {"encoder_dims": 8, "inter_dims": 32, "decoder_dims": 8}


def _args(facesets: tuple[Path, Path], out: Path, **changes: object) -> TrainArgs:
    src, dst = facesets
    base = TrainArgs(
        src=str(src), dst=str(dst), out=str(out), arch="lite", resolution=64, batch=4, max_steps=6,
        preview_every=0, save_every=0, seed=5, learning_rate=3e-3, threads=1, progress=False, **TINY,
    )  # fmt: skip
    return replace(base, **changes)  # type: ignore[arg-type]


def test_resumed_run_matches_the_uninterrupted_one(facesets: tuple[Path, Path], tmp_path: Path) -> None:
    whole = Trainer(_args(facesets, tmp_path / "whole", max_steps=8)).run()
    Trainer(_args(facesets, tmp_path / "split", max_steps=4)).run()
    resumed = Trainer(_args(facesets, tmp_path / "split", max_steps=8)).run()
    assert resumed.step == whole.step == 8
    for key in ("src_recon", "dst_recon", "total"):
        assert resumed.losses[key] == pytest.approx(whole.losses[key], rel=0.05)
    log = LossLog(tmp_path / "split", keep_until_step=8)
    assert [int(row["step"]) for row in log.rows] == list(range(1, 9))


def test_outputs_of_a_run(facesets: tuple[Path, Path], tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = Trainer(_args(facesets, out, max_steps=4, preview_every=2, save_every=2, adversarial_from=2)).run()
    assert result.stopped_by == "max-steps" and result.checkpoint == out / CHECKPOINT_FILE
    grid = cv2.imread(str(out / "preview.png"))
    assert grid is not None and grid.shape[0] == 5 * 64  # rows A, A->A, B, B->B, A->B
    assert (out / "previews" / "step-0000002.png").exists() and (out / "losses.png").exists()
    assert "gan_discriminator" in LossLog(out, keep_until_step=4).rows[-1]
    loaded = load_checkpoint(out)
    assert loaded.step == 4 and "discriminator" in loaded.module_states
    assert json.loads((out / "run.json").read_text())["model"]["arch"] == "lite"


def test_time_limit_stops_training(facesets: tuple[Path, Path], tmp_path: Path) -> None:
    result = Trainer(_args(facesets, tmp_path / "run", max_steps=None, time_limit_s=1.0)).run()
    assert result.stopped_by == "time-limit" and result.step >= 1
    assert parse_duration("10m") == 600 and parse_duration("1.5h") == 5400 and parse_duration("90") == 90
    with pytest.raises(InputError):
        parse_duration("soon")


def test_resume_refuses_another_architecture(facesets: tuple[Path, Path], tmp_path: Path) -> None:
    Trainer(_args(facesets, tmp_path / "run", max_steps=1)).run()
    with pytest.raises(InputError, match="holds a lite 64 px"):
        Trainer(_args(facesets, tmp_path / "run", arch="df"))


def test_resume_with_other_widths_is_refused_and_run_json_tells_the_truth(
    facesets: tuple[Path, Path], tmp_path: Path
) -> None:
    out = tmp_path / "run"
    Trainer(_args(facesets, out, max_steps=1)).run()
    with pytest.raises(InputError, match="holds a model with --inter-dims 32: resume without those flags"):
        Trainer(_args(facesets, out, inter_dims=64))
    Trainer(_args(facesets, out, max_steps=2, encoder_dims=None, inter_dims=None, decoder_dims=None)).run()
    described = json.loads((out / "run.json").read_text())
    assert described["training"]["inter_dims"] == described["model"]["inter_dims"] == 32
    assert described["training"]["face_type"] == "whole" and described["training"]["processes"] == 1
    assert load_checkpoint(out).training["encoder_dims"] == 8


def test_invalid_checkpoint_in_the_run_folder_is_refused(
    facesets: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    out.mkdir()
    (out / CHECKPOINT_FILE).write_bytes(b"\x00" * 100)
    with pytest.raises(ModelError, match="not a valid livefake checkpoint"):
        Trainer(_args(facesets, out))
    src, dst = facesets
    code = main(
        ["train", "--src", str(src), "--dst", str(dst), "--out", str(out), "--resolution", "64", "--max-steps", "2"]
    )
    assert code == ModelError.exit_code
    assert "not a valid livefake checkpoint" in capsys.readouterr().err


KILLED_WHILE_WRITING = textwrap.dedent(
    """
    import os, signal, sys
    import livefake.models.checkpoint as checkpoint
    real_fsync, calls = os.fsync, []

    def fsync_then_die(descriptor):
        calls.append(descriptor)
        if len(calls) == 5:  # third checkpoint: data written to the temporary file, not yet renamed
            os.kill(os.getpid(), signal.SIGKILL)
        real_fsync(descriptor)

    checkpoint.os.fsync = fsync_then_die
    from livefake.cli import main
    sys.exit(main(sys.argv[1:]))
    """
)


def test_sigkill_while_writing_a_checkpoint_resumes_from_the_last_good(
    facesets: tuple[Path, Path], tmp_path: Path
) -> None:
    src, dst = facesets
    out = tmp_path / "run"
    command = [
        sys.executable, "-c", KILLED_WHILE_WRITING, "train", "--src", str(src), "--dst", str(dst), "--out", str(out),
        "--resolution", "64", "--batch", "2", "--max-steps", "50", "--save-every", "1", "--preview-every", "0",
        "--threads", "1", "--no-progress", "--encoder-dims", "8", "--inter-dims", "32", "--decoder-dims", "8",
    ]  # fmt: skip
    process = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert process.returncode == -signal.SIGKILL, process.stderr
    assert list(out.glob(".checkpoint-*.tmp")), "the kill should leave a half-written temporary file"
    assert load_checkpoint(out).step == 2
    resumed = Trainer(_args(facesets, out, max_steps=3, batch=2)).run()
    assert resumed.step == 3 and not list(out.glob(".checkpoint-*.tmp"))


@pytest.mark.slow  # a learning check (hundreds of steps); perf/train.py records the figures
def test_lite_learns_two_identities_quickly(facesets: tuple[Path, Path], tmp_path: Path) -> None:
    """A short version of the issue's check; the full one is the slow test below and perf/train.py."""
    out = tmp_path / "run"
    Trainer(_args(facesets, out, max_steps=120, batch=8)).run()
    rows = LossLog(out, keep_until_step=120).rows
    start = sum(row["src_recon"] + row["dst_recon"] for row in rows[:3]) / 3
    end = sum(row["src_recon"] + row["dst_recon"] for row in rows[-10:]) / 10
    assert end < 0.8 * start, f"reconstruction loss {start:.3f} -> {end:.3f}"


@pytest.mark.slow
def test_lite_64_swaps_hopper_to_collins(facesets: tuple[Path, Path], tmp_path: Path) -> None:
    """Issue check 1: loss falls >= 50% and A->B is closer to B than to A (pixel measure)."""
    out = tmp_path / "run"
    Trainer(_args(facesets, out, max_steps=400, batch=8, preview_every=400, **{"encoder_dims": 16})).run()
    rows = LossLog(out, keep_until_step=400).rows
    start = sum(row["src_recon"] + row["dst_recon"] for row in rows[:3]) / 3
    end = sum(row["src_recon"] + row["dst_recon"] for row in rows[-10:]) / 10
    assert end <= 0.5 * start, f"reconstruction loss {start:.3f} -> {end:.3f}"
    src, dst = (load_face_samples(path, "whole", 64) for path in facesets)
    distances = swap_distances(load_model(out), src, dst, torch.device("cpu"))
    assert distances.closer_to_dst, distances


def test_cli_trains_and_reports(facesets: tuple[Path, Path], tmp_path: Path) -> None:
    src, dst = facesets
    out = tmp_path / "run"
    code = main([
        "train", "--src", str(src), "--dst", str(dst), "--out", str(out), "--resolution", "64", "--batch", "2",
        "--max-steps", "2", "--threads", "1", "--no-progress", "--encoder-dims", "8", "--decoder-dims", "8",
        "--inter-dims", "32",
    ])  # fmt: skip
    assert code == 0 and load_checkpoint(out).step == 2 and (out / "preview.png").exists()
    assert os.path.getsize(out / "losses.png") > 0


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU visible to torch")
def test_cuda_trains_in_bf16_channels_last(facesets: tuple[Path, Path], tmp_path: Path) -> None:
    trainer = Trainer(_args(facesets, tmp_path / "run", max_steps=3, device="cuda", workers=1))
    result = trainer.run()
    weight = next(trainer.model.parameters())
    assert result.step == 3 and weight.is_cuda and weight.is_contiguous(memory_format=torch.channels_last)
    assert all(torch.isfinite(torch.tensor(value)) for value in result.losses.values())
