"""The control panel's HTTP app (Starlette): the page, its static files, and the API it uses.

Routes are thin: each calls one ``Panel`` method. Any ``InputError`` (a bad value, a file that
was not picked, an unreadable upload) answers 400 with ``{"error": message}`` and changes
nothing. Changes run in a worker thread, so loading a photo or model never holds up the event
loop, and never a stage thread. Every route sits behind ``PanelGuard`` (token, Host, Origin).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from importlib import resources
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from livefake.errors import InputError
from livefake.ui.files import MAX_UPLOAD_BYTES
from livefake.ui.panel import Panel
from livefake.ui.preview import VIEWS, View
from livefake.ui.security import PanelGuard

MAX_JSON_BYTES = 64 * 1024
STATIC = Path(str(resources.files("livefake.ui") / "static"))
NO_STORE = {"cache-control": "no-store"}
Handler = Callable[[Request], Awaitable[Response]]


def build_app(panel: Panel, token: str, port: int) -> PanelGuard:
    """The ASGI app for ``panel``, guarded by ``token`` and the panel's ``port``."""
    routes = [
        Route("/", page, methods=["GET"]),
        Route("/api/state", answer(lambda request: panel.state()), methods=["GET"]),
        Route("/api/schema", answer(lambda request: panel.schema()), methods=["GET"]),
        Route("/api/doctor", answer(lambda request: {"findings": panel.doctor()}), methods=["GET"]),
        Route("/api/settings", answer(lambda request: panel.settings()), methods=["GET"]),
        Route("/api/frames", answer(lambda request: {"frames": panel.recent.frames(_since(request))}), methods=["GET"]),
        Route("/api/settings", change(lambda body: {"settings": panel.update(body)}), methods=["PATCH"]),
        Route("/api/photos/step", change(lambda body: {"face": _text(panel.step_photo(_int(body, "step")))}),
              methods=["POST"]),
        Route("/api/photos", upload_route(panel), methods=["POST"]),
        Route("/api/record", change(lambda body: {"recording": str(panel.start_recording(str(body.get("file"))))}),
              methods=["POST"]),
        Route("/api/record", change(lambda body: {"stopped": _text(panel.stop_recording())}), methods=["DELETE"]),
        Route("/api/click", change(lambda body: {"settings": panel.click(_num(body, "x"), _num(body, "y"))}),
              methods=["POST"]),
        Route("/api/preview.mjpeg", preview_stream_route(panel), methods=["GET"]),
        Route("/api/preview.jpg", preview_still_route(panel), methods=["GET"]),
        Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
    ]
    return PanelGuard(Starlette(routes=routes), token, port)


async def page(request: Request) -> Response:
    return HTMLResponse((STATIC / "index.html").read_text(encoding="utf-8"), headers=NO_STORE)


def answer(read: Callable[[Request], Any]) -> Handler:
    """A GET route answering ``read(request)`` as JSON, computed in a worker thread."""

    async def route(request: Request) -> Response:
        try:
            return JSONResponse(await run_in_threadpool(read, request), headers=NO_STORE)
        except InputError as error:
            return _refuse(str(error))

    return route


def change(apply: Callable[[dict[str, Any]], Any]) -> Handler:
    """A route reading a JSON object body and answering ``apply(body)``; InputError -> 400."""

    async def route(request: Request) -> Response:
        try:
            body = await _json_object(request)
            return JSONResponse(await run_in_threadpool(apply, body), headers=NO_STORE)
        except InputError as error:
            return _refuse(str(error))

    return route


def upload_route(panel: Panel) -> Handler:
    """``POST /api/photos?use=face|reference|keep``, multipart form with one ``file`` field."""

    async def route(request: Request) -> Response:
        length = int(request.headers.get("content-length") or 0)
        if length <= 0 or length > MAX_UPLOAD_BYTES + 64 * 1024:
            return _refuse(f"send one photo of at most {MAX_UPLOAD_BYTES // (1024 * 1024)} MB", 413)
        async with request.form(max_files=1, max_fields=2) as form:
            upload = form.get("file")
            if upload is None or isinstance(upload, str):
                return _refuse("send the photo as the multipart form field 'file'")
            data = await upload.read(MAX_UPLOAD_BYTES + 1)
            name = upload.filename or "photo"
        use_as = request.query_params.get("use", "face")
        try:
            path = await run_in_threadpool(panel.upload_photo, data, name, use_as)
        except InputError as error:
            return _refuse(str(error))
        return JSONResponse({"photo": str(path), "settings": panel.settings()}, headers=NO_STORE)

    return route


def preview_stream_route(panel: Panel) -> Handler:
    """``GET /api/preview.mjpeg?view=after|before``: multipart/x-mixed-replace JPEGs (MJPEG).

    Each part carries ``X-Frame-Index`` and ``X-Capture-Ms`` (the capture time on the wall clock)."""

    async def route(request: Request) -> Response:
        view = _view(request)

        async def parts() -> AsyncIterator[bytes]:
            sequence = 0
            while True:
                jpeg = await run_in_threadpool(panel.preview.wait_newer, view, sequence, 1.0)
                if jpeg is None:
                    continue
                sequence = jpeg.sequence
                head = (
                    f"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: {len(jpeg.data)}\r\n"
                    f"X-Frame-Index: {jpeg.index}\r\nX-Capture-Ms: {jpeg.capture_wall_ms:.1f}\r\n\r\n"
                )
                yield head.encode() + jpeg.data + b"\r\n"

        media = "multipart/x-mixed-replace; boundary=frame"
        return StreamingResponse(parts(), media_type=media, headers=NO_STORE)

    return route


def preview_still_route(panel: Panel) -> Handler:
    """``GET /api/preview.jpg?view=after|before``: the newest preview picture."""

    async def route(request: Request) -> Response:
        view = _view(request)
        jpeg = panel.preview.latest(view) or await run_in_threadpool(panel.preview.wait_newer, view, 0, 2.0)
        if jpeg is None:
            return _refuse("no frame has been shown yet", 503)
        headers = {**NO_STORE, "x-frame-index": str(jpeg.index), "x-capture-ms": f"{jpeg.capture_wall_ms:.1f}"}
        return Response(jpeg.data, media_type="image/jpeg", headers=headers)

    return route


def _since(request: Request) -> int:
    try:
        return int(request.query_params.get("since", "-1"))
    except ValueError:
        raise InputError("since must be a frame index") from None


def _view(request: Request) -> View:
    view = request.query_params.get("view", "after")
    return view if view in VIEWS else "after"  # type: ignore[return-value]


async def _json_object(request: Request, limit: int = MAX_JSON_BYTES) -> dict[str, Any]:
    """The request body as a JSON object of at most ``limit`` bytes, or InputError."""
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise InputError(f"the request body is over {limit // 1024} KB")
        chunks.append(chunk)
    try:
        body = json.loads(b"".join(chunks) or b"{}")
    except ValueError as error:
        raise InputError(f"the request body is not JSON: {error}") from None
    if not isinstance(body, dict):
        raise InputError("the request body must be a JSON object")
    return body


def _refuse(reason: str, status: int = 400) -> Response:
    return JSONResponse({"error": reason}, status_code=status, headers=NO_STORE)


def _int(body: dict[str, Any], key: str) -> int:
    value = body.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise InputError(f"{key} must be an integer")
    return value


def _num(body: dict[str, Any], key: str) -> float:
    value = body.get(key)
    if not isinstance(value, int | float) or isinstance(value, bool) or not 0.0 <= value <= 1.0:
        raise InputError(f"{key} must be a number from 0 to 1 (a fraction of the frame)")
    return float(value)


def _text(path: Path | None) -> str | None:
    return str(path) if path is not None else None
