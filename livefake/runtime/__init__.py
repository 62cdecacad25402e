"""Inference runtime: ONNX Runtime sessions, the swap-model contract and the DFM adapter.

from livefake.runtime import SessionOptions, load_swap_model
model = load_swap_model("lite128.onnx", SessionOptions(provider="auto", threads=2))
faces, masks = model.swap_crops(crops)  # uint8 BGR [N, R, R, 3] -> BGR faces, float masks
"""

from livefake.runtime.adapters import load_swap_model
from livefake.runtime.contract import ModelContract, contract_metadata, read_contract
from livefake.runtime.session import ModelSession, SessionOptions, choose_providers
from livefake.runtime.swap_model import SwapModel

__all__ = [
    "ModelContract",
    "ModelSession",
    "SessionOptions",
    "SwapModel",
    "choose_providers",
    "contract_metadata",
    "load_swap_model",
    "read_contract",
]
