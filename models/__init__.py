"""PyTorch side: architectures, faceset dataset and trainer (installed as livefake.models)."""

from livefake.models.base import IDENTITIES, Architecture, ModelConfig, SwapAutoencoder
from livefake.models.registry import ARCHITECTURES, build_model, default_config

__all__ = [
    "ARCHITECTURES",
    "IDENTITIES",
    "Architecture",
    "ModelConfig",
    "SwapAutoencoder",
    "build_model",
    "default_config",
]
