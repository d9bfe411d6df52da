"""Every request gets an id: the client's ``X-Request-ID`` when it is a short safe token, else a new uuid4.

The id is sent back in ``X-Request-ID`` and is what the audit log records with each entry of the request
(:func:`dryneedling.records.audit.current_request_id`), so a log line, a client's report and the audit
entries of one request can be put side by side.
"""

from __future__ import annotations

from dryneedling.records.audit import reset_request_id, set_request_id, valid_request_id

HEADER = "x-request-id"


class RequestIds:
    """Pure ASGI middleware (the context variable then reaches the endpoint's thread as well)."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sent = dict(scope.get("headers") or []).get(HEADER.encode())
        request_id = valid_request_id(sent.decode("latin-1") if sent else None)
        token = set_request_id(request_id)

        async def send_with_id(message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != HEADER.encode()]
                message = {**message, "headers": [*headers, (HEADER.encode(), request_id.encode())]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            reset_request_id(token)


def install_request_ids(app) -> None:
    app.add_middleware(RequestIds)
