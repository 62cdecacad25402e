"""PyTorch swap module -> fp32 ONNX that keeps the livefake model contract, checked against PyTorch.

The model is prepared the same way for every export format (:func:`prepare_export`): the
checkpoint is loaded, the swap graph for one identity is taken in eval mode, and the
contract metadata is computed once. :func:`export_onnx` writes it with a dynamic batch and
``metadata_props``; :func:`compare_with_torch` runs both on the same crops.
"""

from __future__ import annotations

import os
import secrets
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
import torch
from torch import nn

from livefake.errors import ModelError
from livefake.models.base import SwapAutoencoder
from livefake.runtime.contract import INPUT_NAME, MIN_OPSET, OUTPUT_FACE, OUTPUT_MASK, contract_metadata
from livefake.runtime.session import ModelSession, SessionOptions

OPSET = 17
FP32_TOLERANCE = 1e-4


@dataclass(frozen=True)
class ExportSource:
    """A swap graph ready to export, and the contract facts that go into the file."""

    module: nn.Module  # one crop in -> (face, mask), eval mode
    resolution: int
    face_type: str
    architecture: str
    identity: str
    steps: int

    def metadata(self) -> dict[str, str]:
        return contract_metadata(self.resolution, self.face_type, self.architecture, self.identity, self.steps)


def source_from_model(model: SwapAutoencoder, identity: str = "dst", steps: int = 0) -> ExportSource:
    """Wrap a built ``SwapAutoencoder`` (its ``config`` gives architecture, resolution, face type)."""
    config = model.config
    module = model.swap_module(identity).eval()
    return ExportSource(module, config.resolution, config.face_type, config.arch, identity, steps)


def prepare_export(checkpoint: str | Path, identity: str = "dst") -> tuple[ExportSource, str | None]:
    """Load a checkpoint (file or run folder) and take the swap graph drawing ``identity``.

    Also returns the faceset the model was trained on for its input side (``src``), the
    natural calibration data, when the checkpoint names one.
    """
    from livefake.models.base import IDENTITIES
    from livefake.models.checkpoint import load_checkpoint, restore_module
    from livefake.models.registry import build_model

    if identity not in IDENTITIES:
        raise ModelError(f"identity {identity!r} is not one of {', '.join(IDENTITIES)}")
    loaded = load_checkpoint(checkpoint)
    model = build_model(loaded.config)
    restore_module(model, loaded.model_state, loaded.path)
    return source_from_model(model.eval(), identity, loaded.step), loaded.identities.get("src")


def export_onnx(source: ExportSource, out: str | Path, opset: int = OPSET) -> Path:
    """Write ``source`` as fp32 ONNX with a dynamic batch and the contract metadata (atomically)."""
    if opset < MIN_OPSET:
        raise ModelError(f"opset {opset} is below the contract's minimum {MIN_OPSET}")
    sample = torch.rand(1, 3, source.resolution, source.resolution)
    out = Path(out)
    with _temporary_beside(out) as temporary, torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter announces its deprecation
        torch.onnx.export(
            source.module, (sample,), str(temporary), dynamo=False, opset_version=opset,
            input_names=[INPUT_NAME], output_names=[OUTPUT_FACE, OUTPUT_MASK],
            dynamic_axes={name: {0: "N"} for name in (INPUT_NAME, OUTPUT_FACE, OUTPUT_MASK)},
        )  # fmt: skip
        model = onnx.load(str(temporary))
        write_metadata(model, source.metadata())
        onnx.checker.check_model(model)
        onnx.save(model, str(temporary))
        os.replace(temporary, out)
    return out


def write_metadata(model: onnx.ModelProto, metadata: dict[str, str]) -> None:
    """Set ``metadata_props`` (replacing keys already present)."""
    kept = [prop for prop in model.metadata_props if prop.key not in metadata]
    del model.metadata_props[:]
    model.metadata_props.extend(kept)
    for key, value in metadata.items():
        model.metadata_props.add(key=key, value=value)


def save_model(model: onnx.ModelProto, out: str | Path) -> Path:
    """Save an ONNX model atomically (temporary file beside it, then rename)."""
    out = Path(out)
    with _temporary_beside(out) as temporary:
        onnx.save(model, str(temporary))
        os.replace(temporary, out)
    return out


def torch_outputs(module: nn.Module, crops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Run the PyTorch graph on NCHW float32 crops."""
    with torch.no_grad():
        face, mask = module(torch.from_numpy(crops))
    return face.numpy(), mask.numpy()


def check_finite_weights(source: ExportSource, checkpoint: str | Path | None = None) -> None:
    """ModelError naming the first parameter or buffer holding NaN or infinity: such a model
    draws nothing usable, so it is never exported."""
    named = [*source.module.named_parameters(), *source.module.named_buffers()]
    for name, tensor in named:
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            where = f"{checkpoint}: " if checkpoint is not None else ""
            raise ModelError(
                f"{where}weight {name} holds NaN or infinite values: the training diverged; "
                "export an earlier checkpoint or train again with a lower learning rate"
            )


def check_finite_outputs(onnx_path: str | Path, outputs: Sequence[np.ndarray]) -> None:
    for name, values in zip((OUTPUT_FACE, OUTPUT_MASK), outputs, strict=True):
        if not np.isfinite(values).all():
            raise ModelError(f"{onnx_path}: output {name} holds NaN or infinite values; the model is unusable")


def compare_with_torch(source: ExportSource, onnx_path: str | Path, crops: np.ndarray) -> float:
    """Largest absolute difference between PyTorch and ONNX Runtime over face and mask.

    ModelError when either gives a NaN or infinite output (no difference can be measured)."""
    expected = torch_outputs(source.module, crops)
    session = ModelSession(onnx_path, SessionOptions(provider="cpu", warm_up_runs=0))
    actual = session.run({INPUT_NAME: crops}, [OUTPUT_FACE, OUTPUT_MASK])
    check_finite_outputs(f"{onnx_path} (PyTorch)", expected)
    check_finite_outputs(onnx_path, actual)
    return max(float(np.max(np.abs(want - got))) for want, got in zip(expected, actual, strict=True))


def check_fp32(source: ExportSource, onnx_path: str | Path, crops: np.ndarray) -> float:
    """Compare with PyTorch; ModelError (and the figure) when beyond ``FP32_TOLERANCE``."""
    difference = compare_with_torch(source, onnx_path, crops)
    if not difference <= FP32_TOLERANCE:
        raise ModelError(
            f"{onnx_path}: ONNX differs from PyTorch by {difference:.2e} (limit {FP32_TOLERANCE:.0e}); "
            "the export is wrong, do not use it"
        )
    return difference


@contextmanager
def _temporary_beside(out: Path) -> Iterator[Path]:
    out.parent.mkdir(parents=True, exist_ok=True)
    temporary = out.with_name(f".{out.name}-{secrets.token_hex(4)}.tmp")
    os.close(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))  # 0666 less the umask
    try:
        yield temporary
    finally:
        temporary.unlink(missing_ok=True)
