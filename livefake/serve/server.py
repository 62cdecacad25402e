"""Run a real ``tritonserver`` on a model repository: gRPC on P, HTTP on P+1, metrics on P+2.

    install = find_server() or fetch_server()
    with TritonServer(install, "repo", port=8001) as server:   # returns once every model is ready
        print(server.grpc_url)

Where the server has no ONNX Runtime backend (the build in the nvidia-pytriton wheel has only
the Python backend) the repository is served through a staged copy: each ONNX model's config
switched to the Python backend, with ``livefake/serve/ort_model.py`` running the same
``model.onnx`` in ONNX Runtime, and the Python-backend stub for this interpreter, which runs
``model.py`` with this environment's numpy and onnxruntime.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType

from livefake.errors import DeviceError, InputError
from livefake.exporters.triton import CONFIG_FILE, MODEL_FILE, repository_models
from livefake.serve.binary import TritonInstall, libpython, python_stub, stub_environment

log = logging.getLogger("livefake.serve")
READY_TIMEOUT_S = 60.0
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def check_bind(bind: str) -> None:
    """Warn when the server would listen beyond this machine."""
    if bind not in LOOPBACK:
        log.warning(
            "Triton listens on %s: anyone who reaches this address can run the models (no authentication)", bind
        )


class TritonServer:
    """A ``tritonserver`` process on ``repository``; ``start`` returns when it reports ready."""

    def __init__(
        self,
        install: TritonInstall,
        repository: str | Path,
        port: int = 8001,
        bind: str = "127.0.0.1",
        threads: int | None = None,
        log_path: Path | None = None,
    ) -> None:
        self.install = install
        self.repository = Path(repository)
        self.port, self.bind, self.threads = port, bind, threads
        self.process: subprocess.Popen[bytes] | None = None
        self._work = tempfile.TemporaryDirectory(prefix="livefake-serve-")
        self.log_path = log_path or Path(self._work.name) / "tritonserver.log"
        self.backend = "onnxruntime" if install.has_backend("onnxruntime") else "python"

    @property
    def grpc_url(self) -> str:
        return f"{self.bind}:{self.port}"

    @property
    def http_url(self) -> str:
        return f"http://{self.bind}:{self.port + 1}"

    def command(self, repository: Path, backends: Path) -> list[str]:
        cache = self.install.binary.parent.parent / "caches"
        command = [str(self.install.binary), f"--model-repository={repository}", f"--backend-directory={backends}"]
        for protocol, offset in (("grpc", 0), ("http", 1), ("metrics", 2)):
            command += [f"--{protocol}-address={self.bind}", f"--{protocol}-port={self.port + offset}"]
        if cache.is_dir():
            command.append(f"--cache-directory={cache}")
        return [*command, "--exit-timeout-secs=5", "--log-verbose=0"]

    def start(self, timeout: float = READY_TIMEOUT_S) -> None:
        check_bind(self.bind)
        models = repository_models(self.repository)
        if self.backend == "python":
            repository, backends = self._stage_python(models)
        else:
            repository, backends = self.repository, self.install.backends
        with self.log_path.open("wb") as log_file:
            self.process = subprocess.Popen(  # its own process group: the Python-backend stubs are in it
                self.command(repository, backends),
                stdout=log_file,
                stderr=subprocess.STDOUT,
                env=self._env(),
                start_new_session=True,
            )
        self.wait_ready(timeout)

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise DeviceError(f"tritonserver exited with code {self.process.returncode}: {self.log_tail()}")
            if http_ready(f"{self.http_url}/v2/health/ready"):
                return
            time.sleep(0.1)
        self.stop()
        raise DeviceError(f"tritonserver not ready after {timeout:.0f} s: {self.log_tail()}")

    def log_tail(self) -> str:
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return "no log"
        errors = [line for line in lines if line.startswith("E")] or lines[-3:]
        return " | ".join(line.strip() for line in errors[-3:])[:600] + f" (log: {self.log_path})"

    def stop(self, timeout: float = 10.0) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)

    def kill(self) -> None:
        """SIGKILL to the server and its Python-backend stubs at once, as a crash of the machine would
        (the stubs outlive a server killed alone)."""
        if self.process is not None:
            self._kill_group()
            self.process.wait(10.0)

    def _kill_group(self) -> None:
        assert self.process is not None
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:  # the group is gone already
            pass

    def close(self) -> None:
        self.stop()
        if self.process is not None:
            self._kill_group()  # any stub left behind
        self._work.cleanup()

    def __enter__(self) -> TritonServer:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        if self.backend == "python":
            # The stub embeds this interpreter's libpython (isolated: PYTHONPATH is ignored) and takes
            # its prefix from the first python3 on PATH: the stub venv's, with numpy 1 and our packages.
            libdir = str(sysconfig.get_config_var("LIBDIR") or "")
            env["LD_LIBRARY_PATH"] = os.pathsep.join(p for p in (libdir, env.get("LD_LIBRARY_PATH", "")) if p)
            env["PATH"] = os.pathsep.join((str(stub_environment() / "bin"), env.get("PATH", "")))
        return env

    def _stage_python(self, models: list[Path]) -> tuple[Path, Path]:
        stub = python_stub(self.install)
        if stub is None or not self.install.has_backend("python"):
            version = f"{sys.version_info.major}.{sys.version_info.minor}"
            raise DeviceError(
                f"{self.install.binary} has neither the ONNX Runtime backend nor a Python {version} backend stub"
            )
        if libpython() is None:
            raise DeviceError(
                f"Triton's Python backend needs a shared libpython{sys.version_info.major}.{sys.version_info.minor}; "
                "this Python is a static build: install one built with --enable-shared (or the libpython3.x package)"
            )
        work = Path(self._work.name) / "staged"  # made afresh on each start (a restart re-reads the repository)
        if work.exists():
            shutil.rmtree(work)
        backends = work / "backends" / "python"
        backends.mkdir(parents=True)
        for item in (self.install.backends / "python").iterdir():
            (backends / item.name).symlink_to(item)
        if not (backends / stub.name).exists():
            (backends / stub.name).symlink_to(stub)
        repository = work / "repository"
        for model in models:
            stage_python_model(model, repository / model.name, self.threads)
        return repository, backends.parent


def stage_python_model(model: Path, target: Path, threads: int | None) -> None:
    """``target``: the model folder with its config switched to the Python backend running ONNX Runtime."""
    from google.protobuf import text_format

    config = parse_config(model / CONFIG_FILE)
    onnx_backed = config.backend == "onnxruntime" or config.platform == "onnxruntime_onnx"
    if not onnx_backed:
        raise InputError(
            f"{model}: backend {config.backend or config.platform!r} is not an ONNX model livefake can serve"
        )
    config.backend, config.platform = "python", ""
    for group in config.instance_group:
        group.kind = group.KIND_CPU  # the Python backend model picks CUDA inside ONNX Runtime itself
    if threads:
        config.parameters["livefake.ort_threads"].string_value = str(threads)
    versions = [path for path in model.iterdir() if path.is_dir() and path.name.isdigit()]
    if not any((version / MODEL_FILE).is_file() for version in versions):
        raise InputError(f"{model} has no version folder with a {MODEL_FILE} (e.g. {model}/1/{MODEL_FILE})")
    program = Path(__file__).with_name("ort_model.py")
    for version in versions:
        (target / version.name).mkdir(parents=True)
        (target / version.name / MODEL_FILE).symlink_to((version / MODEL_FILE).resolve())
        (target / version.name / "model.py").symlink_to(program)
    (target / CONFIG_FILE).write_text(text_format.MessageToString(config))


def parse_config(path: Path):  # type: ignore[no-untyped-def]  # a generated protobuf class
    """A ``config.pbtxt`` parsed with Triton's own ModelConfig message (from tritonclient)."""
    from google.protobuf import text_format

    model_config_pb2 = import_model_config()
    try:
        return text_format.Parse(path.read_text(), model_config_pb2.ModelConfig())
    except text_format.ParseError as error:
        raise InputError(f"{path} is not a valid Triton model config: {error}") from None


def import_model_config():  # type: ignore[no-untyped-def]
    try:
        from tritonclient.grpc import model_config_pb2
    except ImportError:
        raise DeviceError("Triton support needs tritonclient: pip install 'livefake[remote]'") from None
    return model_config_pb2


def http_ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1.0) as answer:  # noqa: S310 - our own loopback server
            return bool(answer.status == 200)
    except (urllib.error.URLError, OSError):
        return False
