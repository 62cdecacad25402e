"""Checkpoints: one safetensors file per run holding weights, optimizer state and RNG state.

``RUN/checkpoint.safetensors`` holds every tensor (``model.*``, ``optimizer.<name>.*``,
``module.<name>.*``, ``rng.*``); its safetensors header metadata holds the JSON: the model
config, the train state (step, seed, identities, training arguments, JSON RNG state) and the
optimizers' parameter groups. No pickle anywhere. Writes go to a temporary file that is
fsync'ed and renamed over the old one; the previous good file is kept as
``RUN/checkpoint.previous.safetensors``, so a process killed mid-write leaves at least one
valid checkpoint.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_tensors
from safetensors.torch import save as save_tensors
from torch import nn

from livefake.errors import ModelError
from livefake.models.base import ModelConfig, SwapAutoencoder
from livefake.models.registry import build_model

CHECKPOINT_FILE = "checkpoint.safetensors"
PREVIOUS_FILE = "checkpoint.previous.safetensors"
FORMAT = "livefake-checkpoint"
FORMAT_VERSION = 1
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainState:
    """Where training stands; JSON-serialisable."""

    step: int = 0
    seed: int = 0
    elapsed_s: float = 0.0
    identities: dict[str, str] = field(default_factory=dict)  # "src"/"dst" -> faceset folder
    training: dict[str, Any] = field(default_factory=dict)  # the training arguments
    rng: dict[str, Any] = field(default_factory=dict)  # JSON RNG state (numpy, python)


@dataclass(frozen=True)
class LoadedCheckpoint:
    path: Path
    config: ModelConfig
    model_state: dict[str, torch.Tensor]
    optimizer_states: dict[str, dict[str, Any]]  # "model" and any extra optimizer, by name
    module_states: dict[str, dict[str, torch.Tensor]]  # extra modules (e.g. "discriminator")
    state: TrainState
    rng_tensors: dict[str, torch.Tensor]  # "torch", "cuda.0", ...

    @property
    def step(self) -> int:
        return self.state.step

    @property
    def optimizer_state(self) -> dict[str, Any]:
        return self.optimizer_states.get("model", {})

    @property
    def identities(self) -> dict[str, str]:
        return self.state.identities

    @property
    def training(self) -> dict[str, Any]:
        return self.state.training

    @property
    def rng(self) -> dict[str, Any]:
        return {**self.state.rng, **self.rng_tensors}


def save_checkpoint(
    run_dir: str | Path,
    model: SwapAutoencoder,
    optimizer: torch.optim.Optimizer,
    state: TrainState,
    modules: dict[str, nn.Module] | None = None,
    optimizers: dict[str, torch.optim.Optimizer] | None = None,
) -> Path:
    """Write ``RUN/checkpoint.safetensors`` atomically, keeping the previous one; returns its path."""
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    all_optimizers = {"model": optimizer, **(optimizers or {})}
    tensors = _prefixed("model.", model.state_dict())
    for name, module in (modules or {}).items():
        tensors.update(_prefixed(f"module.{name}.", module.state_dict()))
    groups: dict[str, Any] = {}
    for name, each in all_optimizers.items():
        optimizer_tensors, groups[name] = _flatten_optimizer(each.state_dict())
        tensors.update(_prefixed(f"optimizer.{name}.", optimizer_tensors))
    tensors.update(_prefixed("rng.", capture_torch_rng()))
    metadata = {
        "format": FORMAT,
        "version": str(FORMAT_VERSION),
        "config": json.dumps(model.config.to_dict()),
        "state": json.dumps(asdict(state)),
        "optimizers": json.dumps(groups),
    }
    data = save_tensors({key: value.detach().cpu().contiguous() for key, value in tensors.items()}, metadata)
    return _write_atomically(run_dir, data)


def load_checkpoint(path_or_run_dir: str | Path) -> LoadedCheckpoint:
    """Read a checkpoint file, or the newest valid one of a run folder; ModelError naming the file."""
    path = Path(path_or_run_dir)
    if not path.is_dir():
        return _read_checkpoint(path)
    candidates = [path / CHECKPOINT_FILE, path / PREVIOUS_FILE]
    errors = []
    for candidate in candidates:
        if not candidate.exists():
            continue
        try:
            loaded = _read_checkpoint(candidate)
        except ModelError as error:
            errors.append(str(error))
            continue
        if errors:
            logger.warning("%s; using the previous checkpoint %s", errors[0], candidate)
        return loaded
    if errors:
        raise ModelError(f"run folder {path} has no usable checkpoint: {'; '.join(errors)}")
    raise ModelError(f"run folder {path} has no {CHECKPOINT_FILE}: train first with `livefake train`")


def has_checkpoint(run_dir: str | Path) -> bool:
    run_dir = Path(run_dir)
    return (run_dir / CHECKPOINT_FILE).exists() or (run_dir / PREVIOUS_FILE).exists()


def load_model(path_or_run_dir: str | Path, device: str = "cpu") -> SwapAutoencoder:
    """Build the checkpoint's architecture and load its weights, in eval mode."""
    loaded = load_checkpoint(path_or_run_dir)
    model = build_model(loaded.config)
    restore_module(model, loaded.model_state, loaded.path)
    return model.to(device).eval()


def restore_module(module: nn.Module, state: dict[str, torch.Tensor], path: Path) -> None:
    """Load ``state`` into ``module``; ModelError naming ``path`` when the shapes do not fit."""
    try:
        module.load_state_dict(state)
    except RuntimeError as error:
        first_line = str(error).strip().splitlines()[0]
        raise ModelError(f"checkpoint {path} does not fit its architecture ({first_line})") from error


def capture_torch_rng() -> dict[str, torch.Tensor]:
    tensors = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        for index, state in enumerate(torch.cuda.get_rng_state_all()):
            tensors[f"cuda.{index}"] = state
    return tensors


def restore_torch_rng(tensors: dict[str, torch.Tensor]) -> None:
    if "torch" in tensors:
        torch.set_rng_state(tensors["torch"])
    cuda = [tensors[key] for key in sorted(tensors) if key.startswith("cuda.")]
    if cuda and torch.cuda.is_available() and len(cuda) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(cuda)


def _read_checkpoint(path: Path) -> LoadedCheckpoint:
    try:
        data = path.read_bytes()
        tensors = load_tensors(data)
        metadata = _read_metadata(data)
        if metadata.get("format") != FORMAT:
            raise ValueError("not a livefake checkpoint (format tag missing)")
        if int(metadata["version"]) > FORMAT_VERSION:
            raise ValueError(f"version {metadata['version']} is newer than this livefake reads")
        config = ModelConfig.from_dict(json.loads(metadata["config"]))
        state = TrainState(**json.loads(metadata["state"]))
        groups = json.loads(metadata["optimizers"])
    except FileNotFoundError as error:
        raise ModelError(f"checkpoint {path} not found: check the path") from error
    except (OSError, ValueError, KeyError, TypeError, SafetensorError) as error:
        raise ModelError(
            f"{path} is not a valid livefake checkpoint ({error}): use a file written by `livefake train`"
        ) from error
    check_finite(path, tensors)
    optimizer_states = {
        name: _unflatten_optimizer(_unprefixed(f"optimizer.{name}.", tensors), group) for name, group in groups.items()
    }
    module_names = {key.split(".")[1] for key in tensors if key.startswith("module.")}
    return LoadedCheckpoint(
        path=path,
        config=config,
        model_state=_unprefixed("model.", tensors),
        optimizer_states=optimizer_states,
        module_states={name: _unprefixed(f"module.{name}.", tensors) for name in module_names},
        state=state,
        rng_tensors=_unprefixed("rng.", tensors),
    )


def check_finite(path: Path, tensors: dict[str, torch.Tensor]) -> None:
    """ModelError naming the first weight (``model.*``, ``module.*``) holding NaN or infinity."""
    for key, tensor in tensors.items():
        if key.startswith(("model.", "module.")) and tensor.is_floating_point() and not torch.isfinite(tensor).all():
            raise ModelError(
                f"checkpoint {path} holds non-finite weights ({key} has NaN or infinity): "
                f"resume from {PREVIOUS_FILE} or train again with a lower --lr"
            )


def _read_metadata(data: bytes) -> dict[str, str]:
    header_size = int.from_bytes(data[:8], "little")
    header = json.loads(data[8 : 8 + header_size])
    metadata = header.get("__metadata__")
    if not isinstance(metadata, dict):
        raise ValueError("not a livefake checkpoint (no metadata in the safetensors header)")
    return metadata


def _write_atomically(run_dir: Path, data: bytes) -> Path:
    final = run_dir / CHECKPOINT_FILE
    handle, temporary = tempfile.mkstemp(prefix=".checkpoint-", suffix=".tmp", dir=run_dir)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        if final.exists():
            _keep_previous(final, run_dir / PREVIOUS_FILE)
        os.replace(temporary, final)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    _fsync_folder(run_dir)
    for stale in run_dir.glob(".checkpoint-*.tmp"):
        stale.unlink(missing_ok=True)  # left by a process killed while writing
    return final


def _keep_previous(current: Path, previous: Path) -> None:
    """Hard-link (or copy) the current file to ``previous`` atomically, so one always exists."""
    staging = previous.with_name(previous.name + ".staging")
    staging.unlink(missing_ok=True)
    try:
        os.link(current, staging)
    except OSError:
        shutil.copy2(current, staging)
    os.replace(staging, previous)


def _fsync_folder(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _prefixed(prefix: str, tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {prefix + key: value for key, value in tensors.items()}


def _unprefixed(prefix: str, tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {key[len(prefix) :]: value for key, value in tensors.items() if key.startswith(prefix)}


def _flatten_optimizer(state_dict: dict[str, Any]) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Split an optimizer state dict into tensors ``<param>.<key>`` and JSON (groups, scalars)."""
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for index, values in state_dict["state"].items():
        for key, value in values.items():
            if isinstance(value, torch.Tensor):
                tensors[f"{index}.{key}"] = value
            else:
                scalars.setdefault(str(index), {})[key] = value
    return tensors, {"param_groups": state_dict["param_groups"], "scalars": scalars}


def _unflatten_optimizer(tensors: dict[str, torch.Tensor], group: dict[str, Any]) -> dict[str, Any]:
    state: dict[int, dict[str, Any]] = {}
    for key, value in tensors.items():
        index, name = key.split(".", 1)
        state.setdefault(int(index), {})[name] = value
    for index, values in group.get("scalars", {}).items():
        state.setdefault(int(index), {}).update(values)
    return {"state": state, "param_groups": group["param_groups"]}
