"""Where the ``tritonserver`` binary comes from: PATH, or the pinned ``nvidia-pytriton`` wheel.

NVIDIA ships a CPU+GPU build of Triton Inference Server (2.51.0) inside the
``nvidia-pytriton==0.7.0`` wheel: the server, its shared libraries, the Python backend and
Python-backend stubs for CPython 3.8-3.13 (no ONNX Runtime or TensorRT backend). The wheel is
fetched with ``pip download --no-deps`` (never installed: its Python package pins numpy < 2),
checked against its pinned sha256, and only the server files are unpacked into the cache.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from livefake.errors import DeviceError

PYTRITON_VERSION = "0.7.0"
TRITON_VERSION = "2.51.0"  # the server inside that wheel
PINNED_WHEEL = "nvidia_pytriton-0.7.0-py3-none-manylinux_2_35_x86_64.whl"
PINNED_WHEEL_SHA256 = "21f063ff93bb426d0c06b7a55e7eb9efcfe62c0dddd9a908e9877e18710128df"
MEMBER_PREFIXES = ("pytriton/tritonserver/", "nvidia_pytriton.libs/")
STUB_NAME = "triton_python_backend_stub"
MANIFEST = "livefake-triton.json"
# The Python-backend stub is built against numpy 1.x (it reads numpy 2 arrays as empty), so the
# Python that runs model.py gets a numpy 1 of its own, ahead of this environment's packages.
NUMPY1_VERSION = "1.26.4"
NUMPY1_WHEELS = {  # python version -> (wheel, sha256)
    "3.11": (
        "numpy-1.26.4-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        "666dbfb6ec68962c033a450943ded891bed2d54e6755e35e5835d63f4f6931d5",
    ),
}


@dataclass(frozen=True)
class TritonInstall:
    """A runnable server: the binary, its backends folder and which backends it has."""

    binary: Path
    backends: Path
    origin: str  # "PATH" or "nvidia-pytriton 0.7.0 (cache)"

    def has_backend(self, name: str) -> bool:
        return (self.backends / name).is_dir() and any((self.backends / name).glob("libtriton_*.so"))


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "livefake" / "triton" / f"pytriton-{PYTRITON_VERSION}"


def on_path() -> TritonInstall | None:
    """A ``tritonserver`` on PATH, with the backends folder beside it (NVIDIA's layout)."""
    found = shutil.which("tritonserver")
    if found is None:
        return None
    binary = Path(found).resolve()
    for backends in (binary.parent.parent / "backends", Path("/opt/tritonserver/backends")):
        if backends.is_dir():
            return TritonInstall(binary, backends, "PATH")
    return TritonInstall(binary, binary.parent.parent / "backends", "PATH")


def cached(cache_dir: Path | None = None) -> TritonInstall | None:
    """The server unpacked from the pinned wheel, when a complete copy is in the cache."""
    root = cache_dir or default_cache_dir()
    try:
        recorded = json.loads((root / MANIFEST).read_text())
    except (OSError, ValueError):
        return None
    if recorded.get("sha256") != PINNED_WHEEL_SHA256:
        return None
    server = root / "pytriton" / "tritonserver"
    return TritonInstall(server / "bin" / "tritonserver", server / "backends", f"nvidia-pytriton {PYTRITON_VERSION}")


def find_server(cache_dir: Path | None = None) -> TritonInstall | None:
    """PATH first, then the cache; None when neither has one (nothing is downloaded)."""
    return on_path() or cached(cache_dir)


def fetch_server(cache_dir: Path | None = None, wheel: Path | None = None) -> TritonInstall:
    """Download (or take ``wheel``), check and unpack the pinned server; returns it."""
    root = cache_dir or default_cache_dir()
    install = cached(root)
    if install is not None:
        return install
    root.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".livefake-triton-", dir=root.parent) as work:
        path = wheel or download_wheel(Path(work), f"nvidia-pytriton=={PYTRITON_VERSION}", PINNED_WHEEL)
        check_wheel(path, PINNED_WHEEL_SHA256)
        staged = Path(work) / "unpacked"
        unpack(path, staged)
        (staged / MANIFEST).write_text(json.dumps({"wheel": PINNED_WHEEL, "sha256": PINNED_WHEEL_SHA256}) + "\n")
        if root.exists():
            shutil.rmtree(root)
        os.replace(staged, root)
    install = cached(root)
    assert install is not None
    return install


def download_wheel(directory: Path, requirement: str, filename: str) -> Path:
    """``pip download --no-deps`` one pinned wheel into ``directory`` (nothing is installed)."""
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-d", str(directory)]
    result = subprocess.run([*command, requirement], capture_output=True, text=True, check=False)
    target = directory / filename
    if result.returncode != 0 or not target.is_file():
        detail = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise DeviceError(f"pip could not download {requirement} ({detail}): put tritonserver on PATH instead")
    return target


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_wheel(path: Path, sha256: str) -> None:
    if sha256_of(path) != sha256:
        raise DeviceError(f"{path.name} does not match its pinned sha256: delete it and fetch again")


def unpack(wheel: Path, target: Path) -> None:
    """Unpack the server files only, executables marked so, each Python-backend stub kept by version."""
    with zipfile.ZipFile(wheel) as archive:
        for info in archive.infolist():
            if info.is_dir() or not info.filename.startswith(MEMBER_PREFIXES):
                continue
            path = target / info.filename
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(archive.read(info))
            if info.filename.endswith(("/bin/tritonserver", STUB_NAME)) or ".so" in path.name:
                path.chmod(0o755)


def python_stub(install: TritonInstall, version: str | None = None) -> Path | None:
    """The Python-backend stub built for this interpreter's version (``3.11``), if the install has one."""
    version = version or f"{sys.version_info.major}.{sys.version_info.minor}"
    for candidate in (
        install.binary.parent.parent / "python_backend_stubs" / version / STUB_NAME,
        install.backends / "python" / STUB_NAME,
    ):
        if candidate.is_file():
            return candidate
    return None


def libpython() -> Path | None:
    """This interpreter's shared libpython, which the Python-backend stub loads (None: a static build)."""
    import ctypes.util
    import sysconfig

    name = str(sysconfig.get_config_var("INSTSONAME") or "")
    libdir = Path(str(sysconfig.get_config_var("LIBDIR") or ""))
    if name and (libdir / name).is_file():
        return libdir / name
    found = ctypes.util.find_library(f"python{sys.version_info.major}.{sys.version_info.minor}")
    return Path(found) if found else None


def stub_environment_path(cache_dir: Path | None = None) -> Path:
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    return (cache_dir or default_cache_dir()).parent / f"stub-env-py{version}"


def stub_environment_ready(cache_dir: Path | None = None) -> bool:
    return (stub_environment_path(cache_dir) / MANIFEST).is_file()


def stub_environment(cache_dir: Path | None = None) -> Path:
    """A venv for the Python-backend stub: numpy 1 first, then this environment's packages (.pth).

    Made once per Python version in the cache; the stub finds it as the ``python3`` first on PATH.
    """
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    root = stub_environment_path(cache_dir)
    if (root / MANIFEST).is_file():
        return root
    if version not in NUMPY1_WHEELS:
        raise DeviceError(
            f"Triton's Python backend needs numpy 1 and livefake pins it only for Python {', '.join(NUMPY1_WHEELS)}; "
            "run livefake serve under Python 3.11, or put a tritonserver with the ONNX Runtime backend on PATH"
        )
    wheel_name, sha256 = NUMPY1_WHEELS[version]
    root.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".livefake-stub-env-", dir=root.parent) as work:
        wheel = download_wheel(Path(work), f"numpy=={NUMPY1_VERSION}", wheel_name)
        check_wheel(wheel, sha256)
        staged = Path(work) / "env"
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(staged)], check=True, capture_output=True)
        site = staged / "lib" / f"python{version}" / "site-packages"
        with zipfile.ZipFile(wheel) as archive:
            archive.extractall(site)
        ours = [path for path in sys.path if path.endswith("-packages") and Path(path).is_dir()]
        (site / "livefake-env.pth").write_text("\n".join(ours) + "\n")
        (staged / MANIFEST).write_text(json.dumps({"numpy": NUMPY1_VERSION, "sha256": sha256}) + "\n")
        if root.exists():
            shutil.rmtree(root)
        os.replace(staged, root)
    return root
