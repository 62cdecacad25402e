"""Triton: the repository `export --to triton` writes, a real server on 127.0.0.1, and the client adapter."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import onnx
import pytest
from triton_testing import crops, free_port_block, lite_model, server_or_skip

from livefake.errors import InputError, ModelError
from livefake.exporters.triton import write_repository
from livefake.pipeline.frame import Face, Frame
from livefake.runtime.adapters import load_swap_model
from livefake.runtime.contract import INPUT_NAME
from livefake.runtime.session import ModelSession, SessionOptions
from livefake.runtime.swap_model import NoAnswer
from livefake.runtime.triton import TritonSwapModel, contract_from_config, parse_url


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    """A stand-in lite model and a DFM-layout model, both put into one repository by the exporter."""
    from livefake.serve.server import import_model_config

    import_model_config()  # skip-free: the remote extra is part of the test install
    work = tmp_path_factory.mktemp("triton")
    lite = lite_model(work / "lite.onnx")
    dfm = work / "celeb.dfm"
    onnx.save(_dfm_graph(), str(dfm))
    repo = work / "repo"
    write_repository(lite, repo, "lite")
    write_repository(dfm, repo, "celeb")
    return SimpleNamespace(lite=lite, dfm=dfm, repo=repo)


@pytest.fixture(scope="module")
def server(exported: SimpleNamespace) -> Iterator[SimpleNamespace]:
    from livefake.serve.server import TritonServer

    install = server_or_skip()
    port = free_port_block()
    started = time.monotonic()
    running = TritonServer(install, exported.repo, port=port, threads=1)
    with running:
        yield SimpleNamespace(url=f"triton://127.0.0.1:{port}", process=running, start_s=time.monotonic() - started)
        running.kill()  # a graceful stop waits ~3 s on the Python-backend stubs
    assert not _stubs_of(running), "no Python-backend stub outlives the server"


def test_repository_config_parses_as_triton_model_config(exported: SimpleNamespace) -> None:
    from livefake.serve.server import parse_config

    config = parse_config(exported.repo / "lite" / "config.pbtxt")
    assert config.name == "lite" and config.backend == "onnxruntime"
    assert config.max_batch_size == 8 and config.dynamic_batching.max_queue_delay_microseconds == 100
    assert [(t.name, list(t.dims)) for t in config.input] == [("crop", [3, 64, 64])]
    assert [(t.name, list(t.dims)) for t in config.output] == [("face", [3, 64, 64]), ("mask", [1, 64, 64])]
    assert config.instance_group[0].count == 1
    metadata = ModelSession(exported.lite, SessionOptions(provider="cpu")).metadata
    parameters = {key: value.string_value for key, value in config.parameters.items()}
    assert {key: parameters["livefake." + key if key != "livefake.contract" else key] for key in metadata} == metadata
    assert (exported.repo / "lite" / "1" / "model.onnx").read_bytes() == exported.lite.read_bytes()
    contract, layout = contract_from_config("triton://x:1/lite", config, "whole_face")
    assert (layout, contract.resolution, contract.architecture) == ("contract", 64, "lite")


def test_config_that_breaks_the_contract_is_refused(exported: SimpleNamespace) -> None:
    from livefake.serve.server import parse_config

    config = parse_config(exported.repo / "lite" / "config.pbtxt")
    config.parameters["livefake.resolution"].string_value = "128"
    with pytest.raises(ModelError, match="triton://x:1/lite: input 'crop' has shape"):
        contract_from_config("triton://x:1/lite", config, "whole_face")
    del config.parameters["livefake.steps"]
    with pytest.raises(ModelError, match="metadata steps missing"):
        contract_from_config("triton://x:1/lite", config, "whole_face")


def test_served_model_is_ready_and_equals_local_onnx_runtime(
    server: SimpleNamespace, exported: SimpleNamespace
) -> None:
    import tritonclient.grpc as grpcclient

    client = grpcclient.InferenceServerClient(server.url.removeprefix("triton://"))
    assert client.is_server_ready() and client.is_model_ready("lite") and client.is_model_ready("celeb")
    blob = crops(3).transpose(0, 3, 1, 2).astype(np.float32) / 255.0
    request = grpcclient.InferInput(INPUT_NAME, list(blob.shape), "FP32")
    request.set_data_from_numpy(blob)
    answer = client.infer("lite", [request])
    local = ModelSession(exported.lite, SessionOptions(provider="cpu")).run({INPUT_NAME: blob}, ["face", "mask"])
    assert np.abs(answer.as_numpy("face") - local[0]).max() <= 1e-5
    assert np.abs(answer.as_numpy("mask") - local[1]).max() <= 1e-5
    assert answer.as_numpy("face").std() > 0.01  # a model that draws something, not a constant


@pytest.mark.parametrize(("name", "path_key"), [("lite", "lite"), ("celeb", "dfm")])
def test_triton_swap_model_matches_the_local_model(
    server: SimpleNamespace, exported: SimpleNamespace, name: str, path_key: str
) -> None:
    remote = load_swap_model(f"{server.url}/{name}?budget_ms=5000")  # a loaded test machine is no live budget
    local = load_swap_model(getattr(exported, path_key), SessionOptions(provider="cpu"))
    assert isinstance(remote, TritonSwapModel)
    assert (remote.resolution, remote.face_type) == (local.resolution, local.face_type)
    batch = crops(4, remote.resolution)
    remote_faces, remote_masks = remote.swap_crops(batch)
    local_faces, local_masks = local.swap_crops(batch)
    assert np.abs(remote_faces.astype(int) - local_faces).max() <= 1  # rounding of a 1e-6 float difference
    assert np.abs(remote_masks - local_masks).max() <= 1e-5
    assert remote.counts["answered"] == 1


@pytest.mark.parametrize("in_flight", [8, 1])
def test_late_answer_lets_the_frame_pass_untouched_counted_and_warned_once(
    server: SimpleNamespace, caplog: pytest.LogCaptureFixture, in_flight: int
) -> None:
    from livefake.config import SwapConfig
    from livefake.swap.model import ModelSwapStage

    model = TritonSwapModel(f"{server.url}/lite?budget_ms=0.01&in_flight={in_flight}")
    stage = ModelSwapStage(SwapConfig(model="unused"), model=model)
    stage._crops = np.empty((4, model.resolution, model.resolution, 3), np.uint8)
    from livefake.face import mesh

    landmarks = (np.asarray(mesh.MEAN_FACE, np.float32)[:, :2] * 12 + 240).astype(np.float32)
    with caplog.at_level(logging.WARNING):
        for index in range(3):
            frame = Frame(index=index, t_capture_ns=0, image=np.full((480, 640, 3), 90, np.uint8))
            frame.faces.append(Face(box=np.r_[landmarks.min(0), landmarks.max(0)], score=0.9, landmarks=landmarks))
            started = time.perf_counter()
            assert stage.process(frame) is frame
            assert time.perf_counter() - started < 0.05  # never waits for the answer
            assert frame.swapped == []
    assert model.counts["late"] == 3
    assert sum("later than" in record.getMessage() for record in caplog.records) == 1


@pytest.mark.parametrize("in_flight", [2, pytest.param(1, marks=pytest.mark.slow)])
def test_lost_server_passes_frames_untouched_then_swapping_resumes(exported: SimpleNamespace, in_flight: int) -> None:
    from livefake.serve.server import TritonServer

    install = server_or_skip()
    port = free_port_block()
    batch = crops(1)
    with TritonServer(install, exported.repo, port=port, threads=1) as first:
        model = TritonSwapModel(f"triton://127.0.0.1:{port}/lite?budget_ms=2000&in_flight={in_flight}")
        model.swap_crops(batch)
        first.kill()
        assert not _stubs_of(first), "the kill takes the Python-backend stubs with the server"
    started = time.monotonic()
    outcomes = []
    for _ in range(10):
        try:
            model.swap_crops(batch)
            outcomes.append("swapped")
        except NoAnswer as skipped:
            outcomes.append(str(skipped))
    assert "swapped" not in outcomes and time.monotonic() - started < 1.0  # no frame waits on a dead server
    assert model.counts["failed"] >= 1 and model.counts["failed"] + model.counts["server_down"] == 10
    with TritonServer(install, exported.repo, port=port, threads=1) as second:
        deadline = time.monotonic() + 10.0
        while time.monotonic() < deadline:
            try:
                model.swap_crops(batch)
                break
            except NoAnswer:
                time.sleep(0.05)
        assert model.counts["answered"] == 2, "the swap resumed once the server was back"
        second.kill()


@pytest.mark.parametrize(
    "url",
    ["triton://host/lite", "triton://host:8001", "http://host:8001/lite", "triton://host:8001/lite?budget_ms=0"],
)
def test_bad_urls_are_refused(url: str) -> None:
    with pytest.raises(InputError, match="model URL"):
        parse_url(url)


def test_url_options_are_read() -> None:
    from livefake.runtime.triton import offline_url

    url = parse_url("triton://gpu-box:9001/lite?budget_ms=80&in_flight=3")
    assert (url.address, url.name, url.budget_ms, url.in_flight) == ("gpu-box:9001", "lite", 80.0, 3)
    assert parse_url(offline_url("triton://h:1/lite")).budget_ms == 30000.0
    assert parse_url(offline_url("triton://h:1/lite?in_flight=3")).in_flight == 3
    assert parse_url(offline_url("triton://h:1/lite?budget_ms=80")).budget_ms == 80.0


def test_repository_refuses_a_model_without_contract(tmp_path: Path) -> None:
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Identity", ["crop"], ["face"])],
        "no_contract",
        [helper.make_tensor_value_info("crop", TensorProto.FLOAT, ["N", 3, 8, 8])],
        [helper.make_tensor_value_info("face", TensorProto.FLOAT, ["N", 3, 8, 8])],
    )
    path = tmp_path / "plain.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    with pytest.raises(ModelError, match="not a livefake swap model"):
        write_repository(path, tmp_path / "repo", "plain")
    assert not (tmp_path / "repo" / "plain").exists()


def _dfm_graph(resolution: int = 32) -> onnx.ModelProto:
    """DeepFaceLab layout, dynamic batch: in_face:0 NHWC -> out_celeb_face:0 = 1 - x, mask = channel 0."""
    from onnx import TensorProto, helper

    one = helper.make_tensor("one", TensorProto.FLOAT, [], [1.0])
    bounds = [helper.make_tensor(name, TensorProto.INT64, [1], [at]) for name, at in (("s", 0), ("e", 1), ("a", 3))]
    nodes = [
        helper.make_node("Sub", ["one", "in_face:0"], ["out_celeb_face:0"]),
        helper.make_node("Slice", ["in_face:0", "s", "e", "a"], ["out_celeb_face_mask:0"]),
    ]
    shape = ["N", resolution, resolution]
    graph = helper.make_graph(
        nodes,
        "dfm",
        [helper.make_tensor_value_info("in_face:0", TensorProto.FLOAT, [*shape, 3])],
        [
            helper.make_tensor_value_info("out_celeb_face:0", TensorProto.FLOAT, [*shape, 3]),
            helper.make_tensor_value_info("out_celeb_face_mask:0", TensorProto.FLOAT, [*shape, 1]),
        ],
        initializer=[one, *bounds],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model


def test_export_of_a_checkpoint_writes_a_checked_repository(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch", reason="exporting a checkpoint needs PyTorch (livefake[train])")
    from livefake.exporters.formats import run_export
    from livefake.exporters.job import ExportRequest
    from livefake.exporters.onnx_export import source_from_model
    from livefake.models.registry import build_model, default_config

    model = build_model(default_config("lite", 64, encoder_dims=8, inter_dims=16, decoder_dims=8)).eval()
    (tmp_path / "repo" / "lite").mkdir(parents=True)
    (tmp_path / "repo" / "lite" / "stale.txt").write_text("an older model of the same name")
    request = ExportRequest(checkpoint="unused", format="triton", out=str(tmp_path / "repo" / "lite"), check_crops=2)
    with torch.no_grad():
        report = run_export(request, source=source_from_model(model, "dst", steps=3))
    folder = tmp_path / "repo" / "lite"
    assert sorted(path.name for path in folder.rglob("*")) == ["1", "config.pbtxt", "model.onnx"]
    assert report.figures["fp32 max abs diff vs PyTorch"] < 1e-4
    assert 'parameters { key: "livefake.steps" value: { string_value: "3" } }' in (folder / "config.pbtxt").read_text()
    assert [path.name for path in tmp_path.iterdir()] == ["repo"]  # no work folder left behind


def _stubs_of(server: object, within_s: float = 2.0) -> list[str]:
    """Python-backend stub processes from ``server``'s staged folder still there after ``within_s``
    (a SIGKILLed process keeps its /proc entry for the moment the kernel takes to tear it down)."""
    deadline = time.monotonic() + within_s
    while (found := _running_stubs(server)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return found


def _running_stubs(server: object) -> list[str]:
    work = server._work.name  # type: ignore[attr-defined]
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            text = cmdline.read_bytes().decode(errors="replace")
        except OSError:
            continue
        if work in text and "triton_python_backend_stub" in text:
            found.append(text)
    return found
