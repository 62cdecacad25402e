"""The panel's guard against a real run: token on every route, Host and Origin checked, uploads
checked as images, and a bad change answered 400 with nothing changed."""

from __future__ import annotations

import uuid

import pytest
from panel_client import PanelRun
from starlette.routing import Mount, Route

from livefake.ui.app import build_app


def every_route() -> list[tuple[str, str]]:
    """(method, path) of every route the app serves, read from the app itself."""
    guard = build_app(panel=None, token="unused", port=1)  # type: ignore[arg-type]  # routes only read it when called
    found = []
    for route in guard.app.routes:  # type: ignore[attr-defined]
        if isinstance(route, Mount):
            found.append(("GET", f"{route.path}/panel.js"))
        elif isinstance(route, Route):
            found += [(method, route.path) for method in sorted(route.methods or ()) if method != "HEAD"]
    return found


def multipart(name: str, data: bytes, content_type: str = "application/octet-stream") -> tuple[bytes, dict[str, str]]:
    boundary = uuid.uuid4().hex
    body = (
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
        f"Content-Type: {content_type}\r\n\r\n"
    ).encode() + data + f"\r\n--{boundary}--\r\n".encode()
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}


def test_every_route_needs_the_token(panel_run: PanelRun) -> None:
    routes = every_route()
    assert len(routes) >= 12
    for method, path in routes:
        body = {} if method in ("PATCH", "POST", "DELETE") else None
        missing = panel_run.call(method, path, body, token=None)
        assert missing.status == 401, (method, path, missing.status)
        wrong = panel_run.call(method, path, body, token="not-the-token")
        assert wrong.status == 403, (method, path, wrong.status)
    assert panel_run.call("GET", "/api/state").status == 200


def test_the_link_sets_a_cookie_the_page_then_uses(panel_run: PanelRun) -> None:
    first = panel_run.call("GET", f"/?token={panel_run.token}", token=None)
    assert first.status == 200 and b"livefake" in first.body
    cookie = first.headers["set-cookie"].split(";")[0]
    assert "HttpOnly" in first.headers["set-cookie"] and "SameSite=Strict" in first.headers["set-cookie"]
    assert panel_run.call("GET", "/api/state", token=None, headers={"Cookie": cookie}).status == 200
    # a change made with the cookie alone must come from the panel's own origin
    change = {"merge": {"mask_blur": 13}}
    assert panel_run.call("PATCH", "/api/settings", change, token=None, headers={"Cookie": cookie}).status == 403
    own = {"Cookie": cookie, "Origin": f"http://127.0.0.1:{panel_run.port}"}
    assert panel_run.call("PATCH", "/api/settings", change, token=None, headers=own).status == 200


@pytest.mark.parametrize(
    "headers",
    [{"Origin": "http://evil.example"}, {"Origin": "null"}, {"Host": "evil.example"}],
    ids=["foreign-origin", "null-origin", "rebinding-host"],
)
def test_foreign_origins_and_hosts_are_refused(panel_run: PanelRun, headers: dict[str, str]) -> None:
    if "Host" in headers:
        headers = {"Host": f"{headers['Host']}:{panel_run.port}"}
    before = panel_run.state()["settings"]
    assert panel_run.call("GET", "/api/state", headers=headers).status == 403
    assert panel_run.call("PATCH", "/api/settings", {"merge": {"mask_blur": 40}}, headers=headers).status == 403
    assert panel_run.state()["settings"] == before


@pytest.mark.parametrize(
    "name, data, reason",
    [
        ("photo.jpg", b"#!/bin/sh\necho not a photo\n", "not an image"),
        ("notes.txt", b"hello", "send a photo"),
        ("tiny.png", None, "at least 64 px"),
    ],
    ids=["text-as-jpg", "wrong-type", "too-small"],
)
def test_bad_uploads_are_refused_with_a_reason(panel_run: PanelRun, name: str, data: bytes | None, reason: str) -> None:
    if data is None:
        import cv2
        import numpy as np

        data = cv2.imencode(".png", np.zeros((8, 8, 3), np.uint8))[1].tobytes()
    before = panel_run.state()
    body, headers = multipart(name, data)
    answer = panel_run.call("POST", "/api/photos", raw=body, headers=headers)
    assert answer.status == 400 and reason in answer.body["error"], answer.body
    after = panel_run.state()
    assert after["settings"] == before["settings"] and after["photos"] == before["photos"]


@pytest.mark.parametrize(
    "change, key",
    [
        ({"merge": {"mask_blur": "wide"}}, "mask_blur"),
        ({"merge": {"mask_blur": 100_000}}, "mask_blur"),
        ({"merge": {"color": "sepia"}}, "color"),
        ({"merge": {"mask_blur": 20, "color": "sepia"}}, "color"),  # the good half is not applied either
        ({"provenance": {"label": "yes"}}, "label"),
        ({"swap": {"face": "/etc/hostname"}}, "swap.face"),  # a file the user did not pick
        ({"output": {"sinks": ["null", "/tmp/elsewhere.mp4"]}}, "output.sinks"),
    ],
    ids=["wrong-type", "out-of-range", "bad-choice", "half-bad", "bool-type", "unpicked-file", "unpicked-folder"],
)
def test_a_bad_change_answers_400_and_changes_nothing(panel_run: PanelRun, change: dict[str, object], key: str) -> None:
    before = panel_run.state()["settings"]
    answer = panel_run.call("PATCH", "/api/settings", change)
    assert answer.status == 400, answer.body
    assert key in answer.body["error"], answer.body
    assert panel_run.state()["settings"] == before
