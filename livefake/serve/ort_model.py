"""Triton Python-backend model that runs an ONNX model with ONNX Runtime (``livefake serve``).

Copied as ``model.py`` beside ``model.onnx`` when the server has no ONNX Runtime backend. The
requests Triton's dynamic batcher hands over together run as one ONNX Runtime batch, split
back per request. Runs inside Triton's Python-backend stub, never imported by livefake.
"""

from __future__ import annotations

import json
import os
from typing import Any

import numpy as np
import onnxruntime as ort
import triton_python_backend_utils as pb_utils  # type: ignore[import-not-found]  # only inside Triton


class TritonPythonModel:
    def initialize(self, args: dict[str, Any]) -> None:
        config = json.loads(args["model_config"])
        folder = os.path.join(args["model_repository"], args["model_version"])
        parameters = {key: value["string_value"] for key, value in config.get("parameters", {}).items()}
        settings = ort.SessionOptions()
        threads = int(parameters.get("livefake.ort_threads", "0") or 0)
        if threads:
            settings.intra_op_num_threads = threads
        settings.log_severity_level = 3
        # Idle ONNX Runtime threads sleep instead of spinning: the cores are shared with Triton's own threads.
        settings.add_session_config_entry("session.intra_op.allow_spinning", "0")
        wanted = ["CUDAExecutionProvider", "CPUExecutionProvider"]
        providers = [name for name in wanted if name in ort.get_available_providers()]
        self.session = ort.InferenceSession(os.path.join(folder, "model.onnx"), settings, providers=providers)
        self.inputs = [entry["name"] for entry in config["input"]]
        self.outputs = [entry["name"] for entry in config["output"]]

    def execute(self, requests: list[Any]) -> list[Any]:
        feeds = {
            name: [pb_utils.get_input_tensor_by_name(request, name).as_numpy() for request in requests]
            for name in self.inputs
        }
        sizes = [len(batch) for batch in feeds[self.inputs[0]]]
        joined = {name: np.concatenate(parts) if len(parts) > 1 else parts[0] for name, parts in feeds.items()}
        results = self.session.run(self.outputs, joined)
        responses = []
        start = 0
        for size in sizes:
            tensors = [
                pb_utils.Tensor(name, np.ascontiguousarray(result[start : start + size]))
                for name, result in zip(self.outputs, results, strict=True)
            ]
            responses.append(pb_utils.InferenceResponse(output_tensors=tensors))
            start += size
        return responses
