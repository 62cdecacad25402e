"""Who may talk to the control panel: the run's token, a loopback-style Host, our own Origin.

Every route needs the per-run token, given as ``Authorization: Bearer TOKEN`` (scripts), as
``?token=TOKEN`` in the URL (the link the run prints; the answer then sets an HttpOnly,
SameSite=Strict cookie so the page's own requests carry it), or as that cookie. No token is
401, a wrong one 403.

The Host header must name an IP address or ``localhost`` at the panel's port: a DNS-rebinding
page reaches us under its own domain name and is refused. A request carrying an Origin must
come from the panel's own origin, and a state-changing request authenticated by the cookie
alone must carry one: no other site can drive the panel from a user's browser.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs, urlsplit

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

TOKEN_COOKIE = "livefake_panel"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def new_token() -> str:
    """A fresh random token for one run (192 bits, URL-safe)."""
    return secrets.token_urlsafe(24)


def host_allowed(host: str, port: int) -> bool:
    """``host`` (a Host header or an origin's netloc) is an IP literal or localhost at ``port``."""
    parts = urlsplit(f"//{host}")
    try:
        host_port = parts.port
    except ValueError:
        return False
    name = (parts.hostname or "").lower()
    if host_port != port or not name:
        return False
    if name == "localhost":
        return True
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def request_token(headers: dict[str, str], query: str) -> tuple[str | None, str]:
    """The token a request carries and where it came from: ``bearer``, ``query``, ``cookie`` or ``none``."""
    authorization = headers.get("authorization", "")
    if authorization.lower().startswith("bearer "):
        return authorization[7:].strip(), "bearer"
    from_query = parse_qs(query).get("token")
    if from_query:
        return from_query[0], "query"
    cookie = SimpleCookie()
    try:
        cookie.load(headers.get("cookie", ""))
    except Exception:  # noqa: BLE001 - a malformed cookie header is simply no cookie
        return None, "none"
    if TOKEN_COOKIE in cookie:
        return cookie[TOKEN_COOKIE].value, "cookie"
    return None, "none"


class PanelGuard:
    """ASGI middleware applying the rules above before any route runs."""

    def __init__(self, app: ASGIApp, token: str, port: int) -> None:
        self.app = app
        self.token = token
        self.port = port

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = {key.decode("latin-1").lower(): value.decode("latin-1") for key, value in scope["headers"]}
        refusal = self.refusal(scope, headers)
        if refusal is not None and scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        if refusal is not None:
            status, reason = refusal
            await _send_json(send, status, {"error": reason})
            return
        _, where = request_token(headers, scope.get("query_string", b"").decode("latin-1"))
        await self.app(scope, receive, self._with_cookie(send) if where == "query" else send)

    def refusal(self, scope: Scope, headers: dict[str, str]) -> tuple[int, str] | None:
        """(status, reason) when the request must be refused, else None."""
        host = headers.get("host", "")
        if not host_allowed(host, self.port):
            return 403, f"host {host!r} is not allowed: open the panel at http://127.0.0.1:{self.port}/"
        origin = headers.get("origin")
        if origin is not None and origin != f"http://{host}":
            return 403, f"requests from {origin} are not allowed"
        token, where = request_token(headers, scope.get("query_string", b"").decode("latin-1"))
        if token is None:
            return 401, "the control panel needs its token: open the link livefake printed"
        if not hmac.compare_digest(token.encode(), self.token.encode()):
            return 403, "wrong token: open the link livefake printed for this run"
        method = scope.get("method", "GET")
        if where == "cookie" and method not in SAFE_METHODS and origin is None:
            return 403, "a state-changing request with the cookie must carry an Origin header"
        return None

    def _with_cookie(self, send: Send) -> Send:
        cookie = f"{TOKEN_COOKIE}={self.token}; Path=/; HttpOnly; SameSite=Strict".encode("latin-1")

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (b"set-cookie", cookie)]
            await send(message)

        return send_with_cookie


async def _send_json(send: Send, status: int, body: dict[str, str]) -> None:
    data = json.dumps(body).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})
