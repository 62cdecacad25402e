"""A progress bar that follows a pipeline's output frames."""

from __future__ import annotations

import sys

from tqdm import tqdm

from livefake.pipeline import Pipeline


class FrameProgress:
    """Counts frames leaving the sinks; the total comes from the source when it declares one."""

    def __init__(self, pipeline: Pipeline, description: str) -> None:
        self._pipeline = pipeline
        self._bar = tqdm(desc=description, unit="frame", file=sys.stderr, disable=None)
        pipeline.add_frame_listener(self._advance)

    def _advance(self, frame: object) -> None:
        if self._bar.total is None:
            self._bar.total = frame_total(self._pipeline)
        self._bar.update(1)

    def close(self) -> None:
        self._bar.close()


def frame_total(pipeline: Pipeline) -> int | None:
    declared = pipeline.info.frame_count if pipeline.info is not None else None
    return int(declared) if declared else None
