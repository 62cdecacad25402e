"""What livefake ships and caches: the bundled public-domain portraits and the cache folders.

The portraits (Grace Hopper, Eileen Collins; see ``livefake/data/NOTICE.md``) are package data.
Generated clips and the face models are cached under ``$XDG_CACHE_HOME/livefake`` (else
``~/.cache/livefake``); ``livefake.sources.demo`` makes the demo clip there.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

from livefake.sources.image import read_image
from livefake.types import Image

PHOTOS = {"hopper": "hopper.jpg", "collins": "collins.jpg"}


def bundled_photo(name: str = "hopper") -> Path:
    """Path of a bundled portrait (``hopper`` or ``collins``)."""
    return Path(str(resources.files("livefake") / "data" / PHOTOS[name]))


def load_photo(photo: str) -> Image:
    """A bundled portrait by name, or any image file by path, as uint8 BGR."""
    return read_image(bundled_photo(photo) if photo in PHOTOS else Path(photo))


def cache_dir() -> Path:
    """$XDG_CACHE_HOME/livefake, else ~/.cache/livefake."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "livefake"


def clips_dir() -> Path:
    """Where generated clips (the demo clip) are cached."""
    return cache_dir() / "clips"
