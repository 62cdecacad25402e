"""The bundled demo clip: generated once from the bundled portrait and cached."""

from __future__ import annotations

import tempfile
from pathlib import Path

from livefake.sources.assets import clips_dir
from livefake.sources.synthetic import ClipSpec, write_clip


def demo_clip(
    size: tuple[int, int] = (640, 480), seconds: float = 10.0, photo: str = "collins", fps: float = 30.0
) -> Path:
    """Path of a cached generated clip of ``photo`` at ``size`` and ``fps``, made on first use (a few seconds)."""
    folder = clips_dir()
    folder.mkdir(parents=True, exist_ok=True)
    rate = "" if fps == 30.0 else f"_{fps:g}fps"
    path = folder / f"demo_{photo}_{size[0]}x{size[1]}_{seconds:g}s{rate}.mp4"
    if not path.exists():
        with tempfile.NamedTemporaryFile(dir=folder, suffix=".mp4", delete=False) as handle:
            partial = Path(handle.name)
        try:
            write_clip(ClipSpec(photo=photo, size=size, seconds=seconds, fps=fps), partial, audio=True)
            Path(f"{partial}.transforms.json").replace(f"{path}.transforms.json")
            partial.replace(path)
        finally:
            partial.unlink(missing_ok=True)
    return path
