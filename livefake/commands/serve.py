"""`livefake serve REPO [--port P]`: a real Triton Inference Server on a model repository.

gRPC on P (what ``--model triton://HOST:P/NAME`` talks to), HTTP on P+1, metrics on P+2.
The server is a ``tritonserver`` on PATH, or the one in the pinned nvidia-pytriton wheel
(fetched once with pip, hash-checked, never installed). Listens on 127.0.0.1 unless --bind.
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

NAME = "serve"
HELP = "serve a Triton model repository (from `export --to triton`) for --model triton://HOST:PORT/NAME"

log = logging.getLogger("livefake.serve")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("repository", nargs="?", metavar="REPO", help="model repository folder")
    parser.add_argument("--port", type=int, default=8001, help="gRPC port; HTTP on PORT+1, metrics on PORT+2")
    parser.add_argument("--bind", default="127.0.0.1", help="address to listen on (default 127.0.0.1 only)")
    parser.add_argument("--threads", type=int, help="ONNX Runtime threads per model instance (Python backend)")
    parser.add_argument("--wheel", metavar="WHL", help="an already downloaded nvidia-pytriton 0.7.0 wheel")
    parser.add_argument("--fetch-only", action="store_true", help="fetch and check the server, then exit")


def run(args: argparse.Namespace) -> int:
    from livefake.errors import DeviceError, InputError
    from livefake.serve.binary import fetch_server, find_server, stub_environment
    from livefake.serve.server import TritonServer

    install = find_server() or fetch_server(wheel=Path(args.wheel) if args.wheel else None)
    if not install.has_backend("onnxruntime"):
        stub_environment()
    if args.fetch_only:
        print(f"tritonserver: {install.binary} ({install.origin})")
        return 0
    if args.repository is None:
        raise InputError("give the model repository: livefake serve REPO (make one with `livefake export --to triton`)")
    server = TritonServer(install, args.repository, port=args.port, bind=args.bind, threads=args.threads)
    try:
        server.start()
        names = [path.name for path in sorted(Path(args.repository).iterdir()) if (path / "config.pbtxt").is_file()]
        print(f"Triton {install.origin} serving {', '.join(names)} through the {server.backend} backend")
        for name in names:
            print(f"  --model triton://{server.grpc_url}/{name}")
        print(f"  HTTP {server.http_url}, metrics http://{args.bind}:{args.port + 2}/metrics; Ctrl-C stops", flush=True)
        assert server.process is not None
        while server.process.poll() is None:
            time.sleep(0.5)
        raise DeviceError(f"tritonserver stopped with code {server.process.returncode}: {server.log_tail()}")
    except KeyboardInterrupt:
        log.info("stopping Triton")
        return 0
    finally:
        server.close()
