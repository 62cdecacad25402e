"""A GPU elsewhere: the live path against a model served by Triton, measured against the same model run locally.

Run as ``flock /tmp/livefake-cpu.lock python perf/remote.py [--seconds S] [--only bench,clients,kill]``.
Needs the face models (`livefake setup`), torch (the stand-in model), tritonclient and a
tritonserver (`livefake serve --fetch-only`). Everything runs on 127.0.0.1, on this machine's CPU:

- ``export``: a ``lite`` 128 px swap model (default widths, stand-in weights) -> ONNX ->
  `livefake export MODEL --to triton` (the CLI) -> a repository served by `livefake serve`'s server class;
- ``bench``: `livefake bench --scenario live --size 640x480` (the CLI) with ``--model FILE`` and with
  ``--model triton://...``, alternated twice in one run: fps and capture->sink latency p50;
- ``clients``: four clients (threads, one gRPC channel each) sending one 128 px crop per request,
  unpaced and paced at 30 fps each, against the repository with and without dynamic batching;
- ``kill``: a live run (640x480 clip, 30 fps) whose server is SIGKILLed at 3 s and restarted at 6 s:
  gaps between output frames, frames passed untouched, time to the first swapped frame after the
  restart; and the same through `livefake live` (exit code, no traceback).

Writes ``perf/results/remote.json``; ``perf/results/remote.md`` quotes it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from triton_testing import free_port_block, lite_model  # noqa: E402

from livefake.exporters.triton import RepositorySettings, write_repository  # noqa: E402
from livefake.serve.binary import TRITON_VERSION, find_server  # noqa: E402
from livefake.serve.server import TritonServer  # noqa: E402

RESULTS = Path(__file__).parent / "results"
LIVEFAKE = [sys.executable, "-m", "livefake.cli"]


def run_cli(*arguments: str, timeout: float = 300.0) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*LIVEFAKE, *arguments], capture_output=True, text=True, timeout=timeout, check=False)


def bench(model: str, seconds: float, work: Path, tag: str) -> dict[str, Any]:
    out = work / f"bench-{tag}.json"
    command = ["bench", "--scenario", "live", "--size", "640x480", "--seconds", str(seconds), "--model", model]
    result = run_cli(*command, "--json", str(out))
    if result.returncode != 0:
        raise RuntimeError(f"livefake {' '.join(command)} failed: {result.stderr[-800:]}")
    data = json.loads(out.read_text())
    latency = data.get("latency_ms", {})
    return {"fps": data["fps"], "latency_p50_ms": latency.get("p50"), "latency_p95_ms": latency.get("p95"),
            "max_fps": data.get("max_fps"), "dropped": data.get("dropped"),
            "swap_p50_ms": data["stages"].get("swap", {}).get("p50_ms")}  # fmt: skip


def measure_equal(model: Path, server: TritonServer, name: str) -> dict[str, Any]:
    """Must-show 1: the server reports the model ready; its outputs against local ONNX Runtime on the same crops."""
    import tritonclient.grpc as grpcclient

    from livefake.runtime.session import ModelSession, SessionOptions

    client = grpcclient.InferenceServerClient(server.grpc_url)
    blob = np.random.default_rng(3).random((8, 3, 128, 128), dtype=np.float32)
    request = grpcclient.InferInput("crop", list(blob.shape), "FP32")
    request.set_data_from_numpy(blob)
    answer = client.infer(name, [request])
    local = ModelSession(model, SessionOptions(provider="cpu")).run({"crop": blob}, ["face", "mask"])
    return {
        "model_ready": bool(client.is_model_ready(name)),
        "max_abs_diff_face": float(np.abs(answer.as_numpy("face") - local[0]).max()),
        "max_abs_diff_mask": float(np.abs(answer.as_numpy("mask") - local[1]).max()),
        "crops": 8,
    }


def measure_bench(model: Path, url: str, seconds: float, work: Path) -> dict[str, Any]:
    """Local, Triton (default URL: async, 2 in flight) and Triton ``?in_flight=1`` (blocking), alternated twice."""
    models = {"local": str(model), "triton": url, "triton in_flight=1": f"{url}?in_flight=1"}
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in models}
    for round_index in range(2):
        for name, target in models.items():
            runs[name].append(bench(target, seconds, work, f"{name.split()[0]}-{round_index}"))
    summary: dict[str, Any] = {
        name: {key: float(np.median([run[key] for run in values])) for key in ("fps", "latency_p50_ms")}
        for name, values in runs.items()
    }
    for name in ("triton", "triton in_flight=1"):
        summary[f"{name}: fps ratio"] = round(summary[name]["fps"] / summary["local"]["fps"], 3)
        summary[f"{name}: latency p50 delta ms"] = round(
            summary[name]["latency_p50_ms"] - summary["local"]["latency_p50_ms"], 2
        )
    return {"runs": runs, "median": summary}


def client_loop(url: str, seconds: float, fps: float | None, results: list[dict[str, float]]) -> None:
    from livefake.runtime.swap_model import NoAnswer
    from livefake.runtime.triton import TritonSwapModel

    model = TritonSwapModel(url + "?budget_ms=1000&in_flight=1")
    model.warm_up()
    crop = np.random.default_rng(len(results)).integers(0, 256, (1, 128, 128, 3), dtype=np.uint8)
    times: list[float] = []
    start = time.perf_counter()
    next_due = start
    while time.perf_counter() - start < seconds:
        if fps:
            time.sleep(max(0.0, next_due - time.perf_counter()))
            next_due += 1.0 / fps
        sent = time.perf_counter()
        try:
            model.swap_crops(crop)
            times.append((time.perf_counter() - sent) * 1000.0)
        except NoAnswer:
            pass
    elapsed = time.perf_counter() - start
    in_budget = sum(1 for value in times if value <= 1000.0 / 30.0)
    results.append({"answered_per_s": len(times) / elapsed, "p50_ms": float(np.median(times)),
                    "in_frame_budget_per_s": in_budget / elapsed})  # fmt: skip


def four_clients(url: str, seconds: float, fps: float | None) -> dict[str, Any]:
    results: list[dict[str, float]] = []
    threads = [threading.Thread(target=client_loop, args=(url, seconds, fps, results)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {
        "aggregate_answered_per_s": round(sum(r["answered_per_s"] for r in results), 1),
        "aggregate_in_33ms_per_s": round(sum(r["in_frame_budget_per_s"] for r in results), 1),
        "p50_ms_per_client": [round(r["p50_ms"], 1) for r in results],
    }


def measure_clients(model: Path, work: Path, seconds: float, threads: int | None) -> dict[str, Any]:
    install = find_server()
    assert install is not None
    figures: dict[str, Any] = {}
    for label, batching in (("dynamic batching", True), ("no batching", False)):
        repo = work / f"repo-{'dyn' if batching else 'plain'}"
        write_repository(model, repo, "lite", RepositorySettings(dynamic_batching=batching))
        port = free_port_block()
        with TritonServer(install, repo, port=port, threads=threads) as server:
            url = f"triton://{server.grpc_url}/lite"
            unpaced = four_clients(url, seconds, None)
            figures[label] = {"unpaced": unpaced, "30 fps each": four_clients(url, seconds, 30.0)}
            server.kill()
    return figures


def measure_kill(url: str, server: TritonServer, seconds: float) -> dict[str, Any]:
    from livefake.builder import build_pipeline
    from livefake.config import LiveConfig, build
    from livefake.sources.demo import demo_clip

    clip = demo_clip((640, 480), seconds=max(seconds, 10.0))
    settings = {"source": {"spec": str(clip), "realtime": True}, "swap": {"model": url},
                "output": {"sinks": ["null"]}}  # fmt: skip
    pipeline = build_pipeline(build(LiveConfig, settings))
    outputs: list[tuple[float, bool]] = []
    pipeline.add_frame_listener(lambda frame: outputs.append((time.monotonic(), bool(frame.swapped))))
    pipeline.start()
    started = time.monotonic()
    time.sleep(3.0)
    killed_at = time.monotonic()
    server.kill()
    time.sleep(3.0)
    server.start()
    back_at = time.monotonic()
    time.sleep(max(0.0, seconds - (time.monotonic() - started)))
    pipeline.stop()
    stage = next(stage for stage in pipeline.stages if stage.name == "swap")
    times = np.array([t for t, _ in outputs])
    outage = [(t, swapped) for t, swapped in outputs if killed_at <= t < back_at]
    first_back = next((t for t, swapped in outputs if t >= back_at and swapped), None)
    first_untouched = next((t for t, swapped in outputs if t >= killed_at and not swapped), None)
    return {
        "frames_out": len(outputs),
        "max_gap_between_output_frames_ms": round(float(np.diff(times).max()) * 1000.0, 1),
        "frames_during_outage": len(outage),
        "swapped_during_outage": sum(1 for _, swapped in outage if swapped),
        "first_untouched_after_kill_ms": round((first_untouched - killed_at) * 1000.0, 1) if first_untouched else None,
        "swap_resumed_after_server_ready_ms": round((first_back - back_at) * 1000.0, 1) if first_back else None,
        "model_counts": dict(stage.model.counts),
        "pipeline_error": str(pipeline.error) if pipeline.error else None,
    }  # fmt: skip


def measure_kill_cli(url: str, server: TritonServer, clip: Path) -> dict[str, Any]:
    command = [*LIVEFAKE, "live", "--source", str(clip), "--sink", "null", "--seconds", "9", "--model", url]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(4.0)
    server.kill()
    time.sleep(2.5)
    server.start()
    _, stderr = process.communicate(timeout=60)
    return {"exit_code": process.returncode, "traceback": "Traceback" in stderr,
            "log_lines": [line for line in stderr.splitlines() if "triton" in line or "fps" in line][-6:]}  # fmt: skip


def run_sections(work: Path, sections: set[str], args: argparse.Namespace, results: dict[str, Any]) -> None:
    install = find_server()
    assert install is not None
    model = lite_model(work / "lite128.onnx", resolution=128)
    exported = run_cli("export", str(model), "--to", "triton", "--name", "lite", "--out", str(work / "repo"))
    assert exported.returncode == 0, exported.stderr
    port = free_port_block()
    started = time.monotonic()
    with TritonServer(install, work / "repo", port=port, threads=args.server_threads) as server:
        results["server start to ready s"] = round(time.monotonic() - started, 2)
        url = f"triton://{server.grpc_url}/lite"
        if "equal" in sections:
            results["triton vs local ONNX Runtime"] = measure_equal(model, server, "lite")
            print(json.dumps(results["triton vs local ONNX Runtime"], indent=2), flush=True)
        if "bench" in sections:
            results["bench live 640x480"] = measure_bench(model, url, args.seconds, work)
            print(json.dumps(results["bench live 640x480"]["median"], indent=2), flush=True)
        if "kill" in sections:
            results["server killed mid-run"] = measure_kill(url, server, 10.0)
            print(json.dumps(results["server killed mid-run"], indent=2), flush=True)
            from livefake.sources.demo import demo_clip

            clip = demo_clip((640, 480), 10.0)
            results["server killed mid-run, livefake live"] = measure_kill_cli(url, server, clip)
            print(json.dumps(results["server killed mid-run, livefake live"], indent=2), flush=True)
    if "clients" in sections:
        results["four clients"] = measure_clients(model, work, args.seconds, threads=args.server_threads)
        print(json.dumps(results["four clients"], indent=2), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="length of each bench / client run")
    parser.add_argument("--only", default="equal,bench,clients,kill")
    parser.add_argument("--server-threads", type=int, help="ONNX Runtime threads in the server (default: one per core)")
    args = parser.parse_args()
    sections = set(args.only.split(","))
    install = find_server()
    if install is None:
        raise SystemExit("no tritonserver: run `livefake serve --fetch-only` first")
    results: dict[str, Any] = {
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "server": f"tritonserver {TRITON_VERSION} ({install.origin}), "
        f"{'ONNX Runtime' if install.has_backend('onnxruntime') else 'Python'} backend, CPU",
        "model": "lite 128 px, default widths, stand-in weights (exporters/stand_in.py)",
        "server ONNX Runtime threads": args.server_threads or "one per core",
    }
    with tempfile.TemporaryDirectory(prefix="livefake-remote-") as folder:
        run_sections(Path(folder), sections, args, results)
    out = RESULTS / "remote.json"
    previous = json.loads(out.read_text()) if out.exists() else {}
    previous.update(results)
    out.write_text(json.dumps(previous, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
