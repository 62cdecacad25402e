"""A swap model served by Triton Inference Server: ``--model triton://HOST:PORT/NAME``.

    model = TritonSwapModel("triton://gpu-box:8001/lite")   # gRPC (KServe v2) through tritonclient
    faces, masks = model.swap_crops(crops)                    # same interface as a local model

The contract comes from the server's model config (the ``livefake.*`` parameters that
``livefake export --to triton`` writes, and the input/output tensors) and is checked exactly
as for a local file. Each frame's crops go as one batched request. A request that has not
answered within the frame budget raises :class:`NoAnswer` (the frame passes untouched) and
stays in flight: up to ``in_flight`` requests may be outstanding, so slow round trips
overlap, and a frame only ever gets its own answer. A lost server is retried with backoff;
frames pass untouched meanwhile, and the swap resumes when it answers again. Every frame
that passes untouched is counted in :attr:`TritonSwapModel.counts`, with one warning per kind.

URL options: ``?budget_ms=50&in_flight=2`` (defaults below). ``in_flight=1`` makes each call a
blocking request with the budget as its deadline (a late one is cancelled, not left running).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import cv2
import numpy as np

from livefake.errors import DeviceError, InputError, ModelError
from livefake.runtime.contract import CONTRACT_KEY, ModelContract, TensorSpec, read_contract
from livefake.runtime.swap_model import NoAnswer, SwapModel, nchw_rgb_to_bgr_uint8

log = logging.getLogger(__name__)

SCHEME = "triton"
PARAMETER_PREFIX = "livefake."  # config parameters carrying the contract metadata: livefake.resolution, ...
LAYOUT_KEY = "livefake.layout"  # "contract" or "dfm"
BUDGET_MS = 50.0  # 1.5 frame periods at 30 fps
IN_FLIGHT = 2
OFFLINE_BUDGET_MS = 30000.0  # `convert`: every frame waits for its answer (a lost server still passes frames)
BACKOFF_S = (0.1, 2.0)  # first retry after a lost server, doubling up to the second
CONNECT_TIMEOUT_S = 5.0
TRITON_DTYPES = {
    "TYPE_FP32": ("tensor(float)", "FP32", np.float32),
    "TYPE_FP16": ("tensor(float16)", "FP16", np.float16),
}
CHANNEL_ARGS = [  # reconnect quickly once the server is back (gRPC's own default backoff reaches minutes)
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.min_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 1000),
]


def parameter_key(metadata_key: str) -> str:
    """The config parameter that carries one contract metadata key (``resolution`` -> ``livefake.resolution``)."""
    return metadata_key if metadata_key.startswith(PARAMETER_PREFIX) else PARAMETER_PREFIX + metadata_key


def metadata_from_parameters(parameters: Mapping[str, str]) -> dict[str, str]:
    """The contract metadata back from a config's ``livefake.*`` parameters (inverse of ``parameter_key``)."""
    result = {}
    for key, value in parameters.items():
        if key == CONTRACT_KEY:
            result[key] = value
        elif key.startswith(PARAMETER_PREFIX) and key != LAYOUT_KEY:
            result[key[len(PARAMETER_PREFIX) :]] = value
    return result


def is_triton_url(text: object) -> bool:
    return isinstance(text, str) and text.startswith(f"{SCHEME}://")


@dataclass(frozen=True)
class TritonUrl:
    host: str
    port: int
    name: str
    budget_ms: float = BUDGET_MS
    in_flight: int = IN_FLIGHT

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def __str__(self) -> str:
        return f"{SCHEME}://{self.address}/{self.name}"


def parse_url(url: str) -> TritonUrl:
    """``triton://HOST:PORT/NAME[?budget_ms=B&in_flight=N]`` -> its parts; InputError names what is wrong."""
    parts = urlsplit(url)
    name = parts.path.strip("/")
    try:
        port = parts.port
        options = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        budget, in_flight = float(options.pop("budget_ms", BUDGET_MS)), int(options.pop("in_flight", IN_FLIGHT))
    except ValueError as error:
        raise InputError(f"model URL {url}: {error}") from None
    if parts.scheme != SCHEME or not parts.hostname or port is None or not name or "/" in name:
        raise InputError(f"model URL {url} is not triton://HOST:PORT/NAME (gRPC port, model name)")
    if options or budget <= 0 or in_flight < 1:
        raise InputError(f"model URL {url}: options are budget_ms > 0 and in_flight >= 1")
    return TritonUrl(parts.hostname, port, name, budget, in_flight)


def offline_url(url: str, budget_ms: float = OFFLINE_BUDGET_MS) -> str:
    """The URL with a conversion's budget (no frame is live: wait for each answer) unless one is given."""
    if "budget_ms=" in url:
        return url
    return f"{url}{'&' if '?' in url else '?'}budget_ms={budget_ms:g}"


def import_tritonclient() -> Any:
    try:
        import tritonclient.grpc as grpcclient
    except ImportError:
        raise DeviceError("--model triton://... needs tritonclient: pip install 'livefake[remote]'") from None
    return grpcclient


class Pending:
    """One request in flight: set once the answer (or the error) is in."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.result: Any = None
        self.error: Exception | None = None
        self.sent_at = time.monotonic()
        self.answered_at = float("inf")

    def __call__(self, result: Any, error: Exception | None) -> None:
        self.result, self.error = result, error
        self.answered_at = time.monotonic()
        self.done.set()

    def in_time(self, budget_s: float) -> bool:
        """Wait out what is left of the budget; True when the answer came within it (counted from sending)."""
        self.done.wait(max(0.0, self.sent_at + budget_s - time.monotonic()))
        return self.answered_at - self.sent_at <= budget_s


class TritonSwapModel(SwapModel):
    """Swaps crops through a model on a Triton server, with the same interface as a local model."""

    def __init__(self, url: str, dfm_face_type: str = "whole_face", client: Any = None) -> None:
        self.url = parse_url(url)
        self.session = None  # type: ignore[assignment]  # no local session: warm_up is overridden
        self.counts: Counter[str] = Counter()
        self._grpc = import_tritonclient()
        self._client = client or self._grpc.InferenceServerClient(self.url.address, channel_args=CHANNEL_ARGS)
        self._lock = threading.Lock()
        self._in_flight = 0
        self._retry_at = 0.0
        self._backoff = BACKOFF_S[0]
        self._warned: set[str] = set()
        config = self._model_config()
        self.contract, self._layout = contract_from_config(str(self.url), config, dfm_face_type)
        self._input = config.input[0]
        self._dtype = TRITON_DTYPES[self._grpc.model_config_pb2.DataType.Name(self._input.data_type)]

    def _model_config(self) -> Any:
        name, address = self.url.name, self.url.address
        try:
            if not self._client.is_model_ready(name, client_timeout=CONNECT_TIMEOUT_S):
                raise ModelError(f"{self.url}: the server at {address} has no ready model named {name}")
            return self._client.get_model_config(name, client_timeout=CONNECT_TIMEOUT_S).config
        except self._grpc_error() as error:
            raise DeviceError(f"{self.url}: cannot reach a Triton server at {address}: {first_line(error)}") from None

    def _grpc_error(self) -> type[Exception]:
        from tritonclient.utils import InferenceServerException

        return InferenceServerException

    def warm_up(self, batch: int = 1) -> None:
        """One blocking round trip, so the connection and the server's first run are paid before the first frame."""
        blank = np.zeros((batch, self.resolution, self.resolution, 3), np.uint8)
        pending = self._send(self._feed(blank))
        if not pending.done.wait(CONNECT_TIMEOUT_S) or pending.error is not None:
            raise DeviceError(f"{self.url}: warm-up request failed: {first_line(pending.error or 'timed out')}")
        self._decode(pending.result, batch)

    def swap_crops(self, crops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """One batched request for the frame's crops; NoAnswer when it cannot be answered within the budget."""
        if time.monotonic() < self._retry_at:
            self._skip("server_down", "the Triton server is unreachable: frames pass untouched until it is back")
        if self.url.in_flight == 1:
            return self._swap_blocking(crops)
        with self._lock:
            if self._in_flight >= self.url.in_flight:
                busy = f"{self.url.in_flight} requests already in flight: frames pass untouched until one answers"
                self._skip("busy", busy)
            self._in_flight += 1
        pending = self._send(self._feed(crops))
        if not pending.in_time(self.url.budget_ms / 1000.0):
            self._skip("late", f"answer later than {self.url.budget_ms:.0f} ms: the frame passes untouched")
        if pending.error is not None:
            self._lost(pending.error)
        self._reachable()
        return self._decode(pending.result, len(crops))

    def _swap_blocking(self, crops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``in_flight=1``: a blocking call with the budget as its deadline, answered on this thread
        (no hand-off through gRPC's callback thread)."""
        tensor, outputs = self._request(self._feed(crops))
        budget_s = self.url.budget_ms / 1000.0
        started = time.monotonic()
        try:
            result = self._client.infer(self.url.name, [tensor], outputs=outputs, client_timeout=budget_s)
        except self._grpc_error() as error:
            if "DEADLINE_EXCEEDED" in str(error):
                self._skip("late", f"answer later than {self.url.budget_ms:.0f} ms: the frame passes untouched")
            self._lost(error)
        self._reachable()
        if time.monotonic() - started > budget_s:  # gRPC can hand over an answer that beat its own deadline check
            self._skip("late", f"answer later than {self.url.budget_ms:.0f} ms: the frame passes untouched")
        return self._decode(result, len(crops))

    def _request(self, feed: np.ndarray) -> tuple[Any, list[Any]]:
        tensor = self._grpc.InferInput(self._input.name, list(feed.shape), self._dtype[1])
        tensor.set_data_from_numpy(feed)
        names = (self.contract.output_face, self.contract.output_mask)
        return tensor, [self._grpc.InferRequestedOutput(name) for name in names]

    def _send(self, feed: np.ndarray) -> Pending:
        tensor, outputs = self._request(feed)
        pending = Pending()

        def answered(result: Any, error: Exception | None) -> None:
            with self._lock:
                self._in_flight = max(0, self._in_flight - 1)
            pending(result, error)

        timeout = max(4 * self.url.budget_ms / 1000.0, 1.0)  # a stuck call frees its in-flight slot
        try:
            self._client.async_infer(self.url.name, [tensor], answered, outputs=outputs, client_timeout=timeout)
        except self._grpc_error() as error:
            answered(None, error)
        return pending

    def _feed(self, crops: np.ndarray) -> np.ndarray:
        if self._layout == "dfm":
            return (crops.astype(np.float32) * np.float32(1.0 / 255.0)).astype(self._dtype[2], copy=False)
        blob = cv2.dnn.blobFromImages(list(crops), scalefactor=1.0 / 255.0, swapRB=True)
        return blob.astype(self._dtype[2], copy=False)

    def _decode(self, result: Any, count: int) -> tuple[np.ndarray, np.ndarray]:
        face = result.as_numpy(self.contract.output_face)
        mask = result.as_numpy(self.contract.output_mask)
        if face is None or mask is None or len(face) != count or len(mask) != count:
            raise ModelError(f"{self.url}: the server's answer lacks {count} faces and masks")
        if self._layout == "dfm":
            faces = np.clip(face * 255.0 + 0.5, 0.0, 255.0).astype(np.uint8)
            return faces, np.clip(mask[..., 0], 0.0, 1.0).astype(np.float32, copy=False)
        return nchw_rgb_to_bgr_uint8(face), mask[:, 0].astype(np.float32, copy=False)

    def _skip(self, kind: str, message: str) -> None:
        self.counts[kind] += 1
        if kind not in self._warned:
            self._warned.add(kind)
            log.warning("%s: %s (counted; warned once)", self.url, message)
        raise NoAnswer(kind)

    def _lost(self, error: Exception) -> None:
        self._retry_at = time.monotonic() + self._backoff
        self._backoff = min(self._backoff * 2, BACKOFF_S[1])
        if "lost" not in self._warned:
            self._warned.add("lost")
            log.warning(
                "%s: request failed (%s); retrying with backoff, frames pass untouched", self.url, first_line(error)
            )
        self._skip("failed", "request failed: frames pass untouched")

    def _reachable(self) -> None:
        if self._backoff > BACKOFF_S[0]:
            untouched = sum(count for kind, count in self.counts.items() if kind != "answered")
            log.info("%s: the server answers again; swapping resumes (%d frames passed untouched)", self.url, untouched)
            self._warned.discard("lost")
            self._warned.discard("server_down")
        self._backoff = BACKOFF_S[0]
        self.counts["answered"] += 1


def contract_from_config(url: str, config: Any, dfm_face_type: str) -> tuple[ModelContract, str]:
    """The contract a Triton model config promises, checked like a local file's; and its layout."""
    parameters = {key: value.string_value for key, value in config.parameters.items()}
    batch: tuple[int | str | None, ...] = ("N",) if config.max_batch_size > 0 else ()
    if config.max_batch_size == 0:
        raise ModelError(f"{url}: the model config has max_batch_size 0; livefake sends batches of crops")
    inputs = [tensor_spec(url, entry, batch) for entry in config.input]
    outputs = [tensor_spec(url, entry, batch) for entry in config.output]
    if parameters.get(LAYOUT_KEY) == "dfm" or (inputs and inputs[0].name.split(":")[0] == "in_face"):
        return dfm_contract(url, inputs, outputs, dfm_face_type), "dfm"
    return read_contract(url, metadata_from_parameters(parameters), inputs, outputs), "contract"


def tensor_spec(url: str, entry: Any, batch: tuple[int | str | None, ...]) -> TensorSpec:
    from tritonclient.grpc import model_config_pb2

    type_name = model_config_pb2.DataType.Name(entry.data_type)
    if type_name not in TRITON_DTYPES:
        raise ModelError(f"{url}: tensor '{entry.name}' has type {type_name}, expected TYPE_FP32 or TYPE_FP16")
    return TensorSpec(entry.name, batch + tuple(int(axis) for axis in entry.dims), TRITON_DTYPES[type_name][0])


def dfm_contract(url: str, inputs: list[TensorSpec], outputs: list[TensorSpec], face_type: str) -> ModelContract:
    from livefake.runtime.dfm import DFM_FACE, DFM_MASK

    shape = inputs[0].shape if len(inputs) == 1 else ()
    names = {spec.name for spec in outputs}
    if (
        len(shape) != 4
        or shape[3] != 3
        or not isinstance(shape[1], int)
        or shape[1] != shape[2]
        or not {DFM_FACE, DFM_MASK} <= names
    ):
        raise ModelError(f"{url}: not a DFM model with one [N, R, R, 3] input and {DFM_FACE}, {DFM_MASK} outputs")
    return ModelContract(
        path=url, resolution=int(shape[1]), face_type=face_type, architecture="dfm", identity="celeb", steps=0,
        input_name=inputs[0].name, output_face=DFM_FACE, output_mask=DFM_MASK,
    )  # fmt: skip


def first_line(error: object) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def probe(url: str, rounds: int = 5) -> str:
    """Connect, check the contract, time a few batch-1 round trips: one line for ``livefake doctor``."""
    model = TritonSwapModel(url)
    model.warm_up()
    blank = np.zeros((1, model.resolution, model.resolution, 3), np.uint8)
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        pending = model._send(model._feed(blank))
        if not pending.done.wait(CONNECT_TIMEOUT_S) or pending.error is not None:
            raise DeviceError(f"{model.url}: request failed: {first_line(pending.error or 'timed out')}")
        times.append((time.perf_counter() - start) * 1000.0)
    contract = model.contract
    return (
        f"{model.url} ready: {contract.architecture} {contract.resolution}px {contract.face_type}, "
        f"round trip {float(np.median(times)):.1f} ms (batch 1)"
    )
