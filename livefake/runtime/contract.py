"""The swap-model contract: what a livefake ONNX swap model promises, and how it is checked.

A swap model file (ONNX, opset >= 17) has

- one input ``crop``: float32 ``[N, 3, R, R]``, RGB, values in ``[0, 1]``, a face crop aligned
  at the model's face type and resolution ``R``; the batch ``N`` is dynamic (ONNX forbids an
  input and an output with the same name, so the input is ``crop``, not ``face``);
- two outputs: ``face`` float32 ``[N, 3, R, R]`` (RGB, ``[0, 1]``) and ``mask`` float32
  ``[N, 1, R, R]`` (``[0, 1]``, 1 = swapped face);
- ``metadata_props`` (string to string):

  ============================  ==============================================
  ``livefake.contract``         contract version, ``"1"``
  ``resolution``                ``R`` as a decimal integer
  ``face_type``                 alignment name understood by ``livefake.face.align``
  ``color_order``               ``"RGB"``
  ``value_range``               ``"0..1"``
  ``architecture``              registered architecture name (``lite``, ``df``, ...)
  ``identity``                  the identity the model draws (``dst`` by default)
  ``steps``                     training steps of the checkpoint
  ============================  ==============================================

Exporters write these keys with :func:`contract_metadata`; the runtime reads them back with
:func:`read_contract` and refuses a model that breaks the contract with a :class:`ModelError`
naming the file and what is wrong. DeepFaceLab DFM models have their own layout and go
through ``livefake.runtime.dfm`` instead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from livefake.errors import ModelError

CONTRACT_VERSION = "1"
CONTRACT_KEY = "livefake.contract"
INPUT_NAME = "crop"
OUTPUT_FACE = "face"
OUTPUT_MASK = "mask"
MIN_OPSET = 17
COLOR_ORDER = "RGB"
VALUE_RANGE = "0..1"
REQUIRED_KEYS: tuple[str, ...] = (
    CONTRACT_KEY,
    "resolution",
    "face_type",
    "color_order",
    "value_range",
    "architecture",
    "identity",
    "steps",
)


@dataclass(frozen=True)
class TensorSpec:
    """Name, shape (None or a string for a dynamic axis) and element type of a model input/output."""

    name: str
    shape: tuple[int | str | None, ...]
    dtype: str  # as ONNX Runtime spells it: "tensor(float)", "tensor(float16)", ...


@dataclass(frozen=True)
class ModelContract:
    """What the runtime needs to know to feed a swap model and read its answer."""

    path: str
    resolution: int
    face_type: str
    architecture: str
    identity: str
    steps: int
    input_name: str = INPUT_NAME
    output_face: str = OUTPUT_FACE
    output_mask: str = OUTPUT_MASK
    version: str = CONTRACT_VERSION


def contract_metadata(resolution: int, face_type: str, architecture: str, identity: str, steps: int) -> dict[str, str]:
    """The ``metadata_props`` an exporter writes into a swap model."""
    return {
        CONTRACT_KEY: CONTRACT_VERSION,
        "resolution": str(int(resolution)),
        "face_type": face_type,
        "color_order": COLOR_ORDER,
        "value_range": VALUE_RANGE,
        "architecture": architecture,
        "identity": identity,
        "steps": str(int(steps)),
    }


def read_contract(
    path: str, metadata: Mapping[str, str], inputs: Sequence[TensorSpec], outputs: Sequence[TensorSpec]
) -> ModelContract:
    """Check a loaded model against the contract and return what it promises.

    Raises ModelError naming ``path`` and the first thing that is wrong.
    """
    missing = [key for key in REQUIRED_KEYS if key not in metadata]
    if missing:
        raise ModelError(
            f"{path} is not a livefake swap model: metadata {', '.join(missing)} missing "
            "(export it with `livefake export`, or load a DeepFaceLab .dfm through the DFM adapter)"
        )
    _check_metadata_values(path, metadata)
    resolution = _parse_int(path, metadata, "resolution")
    _check_input(path, inputs, resolution)
    _check_outputs(path, outputs, resolution)
    check_face_type(path, metadata["face_type"])
    return ModelContract(
        path=path,
        resolution=resolution,
        face_type=metadata["face_type"],
        architecture=metadata["architecture"],
        identity=metadata["identity"],
        steps=_parse_int(path, metadata, "steps"),
    )


def check_face_type(path: str, face_type: str) -> None:
    """Refuse a face type ``livefake.face.align`` does not know: its crops would be cut wrongly."""
    from livefake.types import FACE_TYPES

    if face_type not in FACE_TYPES:
        raise ModelError(
            f"{path}: face type {face_type!r} is not one of {', '.join(FACE_TYPES)}; "
            "export the model again with livefake (or give a DFM model's face type in the settings)"
        )


def check_opset(path: str, opset: int | None) -> None:
    """Refuse a model whose default-domain opset is below ``MIN_OPSET`` (None: not known, not checked)."""
    if opset is not None and opset < MIN_OPSET:
        raise ModelError(f"{path}: opset {opset} is below the contract's {MIN_OPSET}; export it again with livefake")


def read_opset(path: str) -> int | None:
    """The default-domain opset of an ONNX file, read with the ``onnx`` package when it is installed."""
    try:
        import onnx
    except ImportError:
        return None
    model = onnx.load(path, load_external_data=False)
    versions = [entry.version for entry in model.opset_import if entry.domain in ("", "ai.onnx")]
    return max(versions) if versions else None


def _check_metadata_values(path: str, metadata: Mapping[str, str]) -> None:
    expected = {CONTRACT_KEY: CONTRACT_VERSION, "color_order": COLOR_ORDER, "value_range": VALUE_RANGE}
    for key, value in expected.items():
        if metadata[key] != value:
            raise ModelError(f"{path}: metadata {key} = {metadata[key]!r}, this livefake reads only {value!r}")


def _parse_int(path: str, metadata: Mapping[str, str], key: str) -> int:
    try:
        value = int(metadata[key])
    except ValueError:
        raise ModelError(f"{path}: metadata {key} = {metadata[key]!r} is not an integer") from None
    if value < 0:
        raise ModelError(f"{path}: metadata {key} = {value} is negative")
    return value


def _check_input(path: str, inputs: Sequence[TensorSpec], resolution: int) -> None:
    if len(inputs) != 1 or inputs[0].name != INPUT_NAME:
        names = ", ".join(spec.name for spec in inputs) or "none"
        raise ModelError(f"{path}: expected one input named '{INPUT_NAME}', found {names}")
    _check_shape(path, "input", inputs[0], 3, resolution)


def _check_outputs(path: str, outputs: Sequence[TensorSpec], resolution: int) -> None:
    by_name = {spec.name: spec for spec in outputs}
    for name, channels in ((OUTPUT_FACE, 3), (OUTPUT_MASK, 1)):
        if name not in by_name:
            found = ", ".join(by_name) or "none"
            raise ModelError(f"{path}: expected an output named '{name}', found {found}")
        _check_shape(path, "output", by_name[name], channels, resolution)


def _check_shape(path: str, kind: str, spec: TensorSpec, channels: int, resolution: int) -> None:
    expected = ("N", channels, resolution, resolution)
    if spec.dtype not in ("tensor(float)", "tensor(float16)"):
        raise ModelError(f"{path}: {kind} '{spec.name}' has type {spec.dtype}, expected float32 or float16")
    shape = spec.shape
    fixed_ok = len(shape) == 4 and all(shape[axis] == expected[axis] for axis in (1, 2, 3))
    if not fixed_ok:
        raise ModelError(
            f"{path}: {kind} '{spec.name}' has shape {_format_shape(shape)}, the contract needs "
            f"[N, {channels}, {resolution}, {resolution}] (NCHW, resolution from metadata)"
        )


def _format_shape(shape: Sequence[int | str | None]) -> str:
    return "[" + ", ".join("?" if axis is None else str(axis) for axis in shape) + "]"
