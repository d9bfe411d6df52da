"""Security headers on every answer (pages, API, static files, errors).

The Content-Security-Policy allows scripts, styles, fonts and connections from this origin only: no inline
``<script>``, no inline event handler, no inline ``<style>`` and no ``eval`` (htmx is configured not to
need them, see ``templates/base.html``), so an injected tag cannot run. ``frame-ancestors 'none'`` and
X-Frame-Options stop other sites from framing a page (clickjacking). The referrer is sent to this origin
only, and not at all from the patient follow-up pages (``/followup/``), whose address carries a single-use
token. In production (HTTPS) Strict-Transport-Security tells browsers never to use plain HTTP here.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=(), serial=(), bluetooth=(), browsing-topics=()"
HSTS = "max-age=31536000; includeSubDomains"
# Paths whose address carries a secret (a patient's single-use follow-up link): no referrer leaves them.
NO_REFERRER_PREFIXES = ("/followup/",)


def security_headers(path: str, production: bool) -> list[tuple[bytes, bytes]]:
    """The headers every answer to ``path`` carries."""
    referrer = "no-referrer" if path.startswith(NO_REFERRER_PREFIXES) else "same-origin"
    headers = {
        "content-security-policy": CONTENT_SECURITY_POLICY,
        "x-content-type-options": "nosniff",
        "x-frame-options": "DENY",
        "referrer-policy": referrer,
        "permissions-policy": PERMISSIONS_POLICY,
        "cross-origin-opener-policy": "same-origin",
        "cross-origin-resource-policy": "same-origin",
    }
    if production:
        headers["strict-transport-security"] = HSTS
    return [(name.encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()]


class SecurityHeaders:
    """ASGI middleware adding :func:`security_headers` to every HTTP answer (a header the answer set
    itself is kept)."""

    def __init__(self, app: ASGIApp, production: bool = False) -> None:
        self.app = app
        self.production = production

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = security_headers(scope["path"], self.production)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _value in message.get("headers", [])}
                message["headers"] = [
                    *message.get("headers", []),
                    *((name, value) for name, value in extra if name not in present),
                ]
            await send(message)

        await self.app(scope, receive, send_with_headers)
