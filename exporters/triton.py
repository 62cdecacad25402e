"""A Triton Inference Server model repository from a swap model: ``REPO/NAME/config.pbtxt`` + ``1/model.onnx``.

    write_repository("lite128.onnx", "repo", "lite")      # a livefake contract model or a DFM file
    livefake export RUN --to triton --name lite --out repo  # a checkpoint, exported and checked first

The config is Triton's standard one for the ONNX Runtime backend, so the repository also
serves from NVIDIA's container as it is: input and output names, shapes and types come from
the model itself (checked against the contract first), batching is dynamic with a small queue
delay, one instance on the GPU where there is one (``KIND_AUTO``), and the contract's metadata
rides in ``parameters`` (``livefake.*`` keys) so a client can check the model without the file.
``livefake serve`` runs it through Triton's Python backend where the ONNX Runtime backend is absent.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from livefake.errors import InputError, ModelError
from livefake.runtime.contract import TensorSpec, check_opset, read_contract, read_opset
from livefake.runtime.session import ModelSession, SessionOptions
from livefake.runtime.triton import LAYOUT_KEY, parameter_key

if TYPE_CHECKING:
    from livefake.exporters.job import ExportJob  # imports torch: only for the type

MODEL_FILE = "model.onnx"
CONFIG_FILE = "config.pbtxt"
TRITON_TYPES = {"tensor(float)": "TYPE_FP32", "tensor(float16)": "TYPE_FP16"}
MAX_BATCH_SIZE = 8
QUEUE_DELAY_US = 100  # a frame's crops wait at most this long for other clients' crops


@dataclass(frozen=True)
class RepositorySettings:
    """How the model is served: largest batch, dynamic-batching queue delay, instances."""

    max_batch_size: int = MAX_BATCH_SIZE
    queue_delay_us: int = QUEUE_DELAY_US
    dynamic_batching: bool = True
    instances: int = 1
    kind: str = "KIND_AUTO"  # KIND_AUTO: the GPU where there is one, else the CPU


def model_config(name: str, session: ModelSession, layout: str, settings: RepositorySettings) -> str:
    """``config.pbtxt`` text for ``session``'s model, in Triton's protobuf text format."""
    if settings.max_batch_size < 1:
        raise InputError(f"max batch size {settings.max_batch_size} must be at least 1")
    parameters = {parameter_key(key): value for key, value in sorted(session.metadata.items())}
    parameters[LAYOUT_KEY] = layout
    lines = [
        f"name: {quote(name)}",
        'backend: "onnxruntime"',
        f"max_batch_size: {settings.max_batch_size}",
        "input [",
        ",\n".join(_tensor(session.path, spec) for spec in session.inputs),
        "]",
        "output [",
        ",\n".join(_tensor(session.path, spec) for spec in session.outputs),
        "]",
    ]
    if settings.dynamic_batching:
        lines.append(f"dynamic_batching {{ max_queue_delay_microseconds: {settings.queue_delay_us} }}")
    lines.append(f"instance_group [ {{ count: {settings.instances} kind: {settings.kind} }} ]")
    lines.extend(
        f"parameters {{ key: {quote(key)} value: {{ string_value: {quote(value)} }} }}"
        for key, value in parameters.items()
    )
    return "\n".join(lines) + "\n"


def quote(text: str) -> str:
    """A protobuf text-format string literal: quotes, backslashes and non-ASCII bytes escaped."""
    out = []
    for byte in text.encode("utf-8"):
        char = chr(byte)
        if char in '"\\':
            out.append("\\" + char)
        elif 32 <= byte < 127:
            out.append(char)
        else:
            out.append(f"\\{byte:03o}")
    return '"' + "".join(out) + '"'


def _tensor(path: str, spec: TensorSpec) -> str:
    if spec.dtype not in TRITON_TYPES:
        raise ModelError(f"{path}: tensor '{spec.name}' has type {spec.dtype}; Triton export takes float32/float16")
    dims = spec.shape[1:]
    if not spec.shape or not all(isinstance(axis, int) and axis > 0 for axis in dims):
        raise ModelError(f"{path}: tensor '{spec.name}' has shape {list(spec.shape)}, expected [N, fixed sizes...]")
    return (
        f"  {{ name: {quote(spec.name)} data_type: {TRITON_TYPES[spec.dtype]} dims: [ {', '.join(map(str, dims))} ] }}"
    )


def check_model(session: ModelSession) -> str:
    """The model's layout ("contract" or "dfm") once it is known to be servable with batching."""
    from livefake.runtime.dfm import DFM_MORPH, DfmSwapModel, is_dfm

    if is_dfm(session.inputs):
        DfmSwapModel(session)  # checks the DFM layout
        if any(spec.name == DFM_MORPH for spec in session.inputs) or session.inputs[0].shape[0] == 1:
            raise ModelError(
                f"{session.path}: a DFM model with a morph input or a fixed batch of 1 cannot be batched by "
                "Triton; serve it locally with --model FILE"
            )
        return "dfm"
    read_contract(session.path, session.metadata, session.inputs, session.outputs)
    check_opset(session.path, read_opset(session.path))
    return "contract"


def write_repository(
    model: str | Path, repository: str | Path, name: str, settings: RepositorySettings | None = None
) -> Path:
    """Put a swap model file into ``repository`` as model ``name``; returns ``REPO/NAME``.

    The model folder appears complete or not at all: it is built beside the repository and
    renamed into place (an older model of the same name is replaced).
    """
    _check_name(name)
    session = ModelSession(model, SessionOptions(provider="cpu", threads=1, warm_up_runs=0))
    layout = check_model(session)
    text = model_config(name, session, layout, settings or RepositorySettings())
    repo = Path(repository)
    repo.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".livefake-triton-", dir=repo.parent) as work:
        staged = Path(work) / name
        (staged / "1").mkdir(parents=True)
        shutil.copyfile(model, staged / "1" / MODEL_FILE)
        (staged / CONFIG_FILE).write_text(text)
        _replace_dir(staged, repo / name, Path(work) / "old")
    return repo / name


def _replace_dir(new: Path, target: Path, aside: Path) -> None:
    if target.exists():
        os.replace(target, aside)  # removed with the work folder
    os.replace(new, target)


def _check_name(name: str) -> None:
    if not name or name.startswith(".") or any(char in name for char in '/\\" ') or len(name) > 100:
        raise InputError(f"Triton model name {name!r}: use letters, digits, '-', '_' or '.' (no slash, no space)")


def finish_triton(job: ExportJob, final: Path) -> None:
    """The export table's Triton step: the checked fp32 model -> a model folder at ``final``.

    ``final`` is then renamed over ``--out`` (``REPO/NAME``) by the export run.
    """
    assert job.fp32_path is not None
    target = Path(job.request.out)
    built = write_repository(job.fp32_path, final.parent / "triton-repo", target.name)
    os.replace(built, final)
    if target.exists():
        os.replace(target, final.parent / "replaced-model")  # the work folder removes it


def repository_models(repository: str | Path) -> Sequence[Path]:
    """The model folders of a repository (those with a config.pbtxt)."""
    repo = Path(repository)
    if not repo.is_dir():
        raise InputError(f"model repository {repo} does not exist (make one with `livefake export --to triton`)")
    models = sorted(path for path in repo.iterdir() if (path / CONFIG_FILE).is_file() and not path.name.startswith("."))
    if not models:
        raise InputError(f"model repository {repo} has no model folder with a {CONFIG_FILE}")
    return models
