"""Swap-model adapters as a list: each recognises one file layout and wraps its session.

``load_swap_model`` opens the file once and hands the session to the first adapter that
recognises it; the livefake contract model is the last one, the layout every exported model
has. An adapter is a name, a test on the loaded session and a builder.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from livefake.runtime.contract import check_opset, read_contract, read_opset
from livefake.runtime.dfm import DfmSwapModel, is_dfm
from livefake.runtime.session import ModelSession, SessionOptions
from livefake.runtime.swap_model import ContractSwapModel, SwapModel


@dataclass(frozen=True)
class ModelAdapter:
    """One model file layout: ``recognises(session)`` says whether ``build`` can wrap it."""

    name: str
    recognises: Callable[[ModelSession], bool]
    build: Callable[[ModelSession, str], SwapModel]  # (session, face type for layouts that carry none)


def build_contract_model(session: ModelSession, dfm_face_type: str) -> SwapModel:
    contract = read_contract(session.path, session.metadata, session.inputs, session.outputs)
    check_opset(session.path, read_opset(session.path))
    return ContractSwapModel(session, contract)


ADAPTERS: tuple[ModelAdapter, ...] = (
    ModelAdapter("dfm", lambda session: is_dfm(session.inputs), lambda session, face: DfmSwapModel(session, face)),
    ModelAdapter("contract", lambda session: True, build_contract_model),
)


def load_swap_model(
    path: str | Path, options: SessionOptions | None = None, dfm_face_type: str = "whole"
) -> SwapModel:
    """Open a swap model file: a livefake contract model or a DeepFaceLab DFM model (ONNX), or a
    model served by Triton (``triton://HOST:PORT/NAME``, whose contract comes from the server).

    Raises ModelError naming the file when it is missing, truncated or breaks the contract.
    """
    if str(path).startswith("triton://"):
        from livefake.runtime.triton import TritonSwapModel

        return TritonSwapModel(str(path), dfm_face_type=dfm_face_type)
    session = ModelSession(path, options)
    adapter = next(adapter for adapter in ADAPTERS if adapter.recognises(session))
    return adapter.build(session, dfm_face_type)
