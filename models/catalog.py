"""The swap-model architectures as data: name, what each is, the resolutions and widths it takes.

Torch-free, so the command line takes its choices from here; ``livefake.models.registry``
builds the model a name stands for.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from livefake.errors import InputError


@dataclass(frozen=True)
class Architecture:
    """A registered architecture: what it is and what it accepts."""

    name: str
    description: str
    min_resolution: int = 64
    max_resolution: int = 320
    resolution_multiple: int = 16
    defaults: dict[str, int] = field(default_factory=dict)
    widths: tuple[str, ...] = ("encoder_dims", "inter_dims", "decoder_dims", "mask_dims")  # the ones it uses


ARCHITECTURES: dict[str, Architecture] = {
    spec.name: spec
    for spec in (
        Architecture(
            name="df",
            description="shared encoder + inter, one decoder per identity (DeepFaceLab DF)",
            defaults={"encoder_dims": 64, "inter_dims": 256, "decoder_dims": 64, "mask_dims": 22},
        ),
        Architecture(
            name="liae",
            description="shared encoder and decoder, inter_ab + inter_src codes (DeepFaceLab LIAE)",
            defaults={"encoder_dims": 64, "inter_dims": 256, "decoder_dims": 64, "mask_dims": 22},
        ),
        Architecture(
            name="lite",
            description="depthwise-separable DF for CPU real time (<= 1.2 GFLOPs at 128 px)",
            resolution_multiple=32,
            defaults={"encoder_dims": 48, "inter_dims": 256, "decoder_dims": 64, "mask_dims": 0},
            widths=("encoder_dims", "inter_dims", "decoder_dims"),
        ),
    )
}


def architecture(name: str) -> Architecture:
    if name not in ARCHITECTURES:
        raise InputError(f"unknown architecture {name!r}: choose one of {sorted(ARCHITECTURES)}")
    return ARCHITECTURES[name]
