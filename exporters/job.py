"""One export run: what was asked, the work folder, the timed steps and the figures it checked."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from livefake.errors import InputError
from livefake.exporters.calibration import CropSplit, faceset_crops, split_crops
from livefake.exporters.onnx_export import ExportSource
from livefake.exporters.quantize import Int8Settings

log = logging.getLogger("livefake.export")
INT8_MIN_PSNR = 35.0  # dB against fp32 on held-out crops


@dataclass(frozen=True)
class ExportRequest:
    """``livefake export`` as data: checkpoint (file or run folder), format, output, options."""

    checkpoint: str
    format: str
    out: str
    identity: str = "dst"
    calibration: str | None = None  # faceset folder; default: the checkpoint's src faceset
    int8: Int8Settings = field(default_factory=Int8Settings)
    int8_min_psnr: float = INT8_MIN_PSNR
    check_crops: int = 16  # crops for the fp32 vs PyTorch check when no faceset is at hand


@dataclass
class ExportReport:
    """What an export did: the file written, seconds per step, and the checked figures."""

    out: Path
    format: str
    timings: dict[str, float] = field(default_factory=dict)
    figures: dict[str, float] = field(default_factory=dict)

    def lines(self) -> list[str]:
        steps = [f"  {name}: {seconds:.2f} s" for name, seconds in self.timings.items()]
        checks = [f"  {name}: {value:.4g}" for name, value in self.figures.items()]
        return [f"wrote {self.out} ({self.format})", "steps:", *steps, "checks:", *checks]


@dataclass
class ExportJob:
    """The state shared by the steps of one export."""

    request: ExportRequest
    source: ExportSource
    work: Path  # temporary folder beside the output
    report: ExportReport
    calibration_faceset: str | None = None
    fp32_path: Path | None = None
    companions: list[tuple[Path, Path]] = field(default_factory=list)  # (in work, beside --out) moved with it
    _crops: CropSplit | None = None

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        """Time a step, log it when done, and record it in the report."""
        log.info("%s ...", name)
        start = time.perf_counter()
        yield
        self.report.timings[name] = time.perf_counter() - start
        log.info("%s: %.2f s", name, self.report.timings[name])

    def has_faceset(self) -> bool:
        return self.calibration_faceset is not None and Path(self.calibration_faceset).is_dir()

    def crops(self) -> CropSplit:
        """Calibration and held-out crops from the faceset (read once)."""
        if self._crops is None:
            if self.calibration_faceset is None:
                raise InputError(
                    f"{self.request.format} export needs face crops: pass --calibration FACESET "
                    "(the src faceset the model was trained on)"
                )
            crops = faceset_crops(self.calibration_faceset, self.source.resolution, self.source.face_type)
            self._crops = split_crops(crops)
        return self._crops

    def check_crops(self) -> np.ndarray:
        """Crops for the fp32 check: held-out faces when a faceset is at hand, else seeded noise."""
        if self.has_faceset():
            return self.crops().held_out
        size = self.source.resolution
        return np.random.default_rng(0).random((self.request.check_crops, 3, size, size), dtype=np.float32)
