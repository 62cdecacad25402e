"""PyTorch side: architectures, faceset dataset and trainer (installed as livefake.models)."""

from livefake.models import df, liae, lite  # noqa: F401  (register the architectures)
from livefake.models.registry import (
    ARCHITECTURES,
    IDENTITIES,
    Architecture,
    ModelConfig,
    SwapAutoencoder,
    build_model,
    default_config,
)

__all__ = [
    "ARCHITECTURES",
    "IDENTITIES",
    "Architecture",
    "ModelConfig",
    "SwapAutoencoder",
    "build_model",
    "default_config",
]
