"""The service's bound on request bodies: an ASGI middleware that answers a body over the limit
with a JSON 413 before the app reads it, chunked bodies included."""

from __future__ import annotations

from fastapi.responses import JSONResponse


class BodySizeLimit:
    """ASGI middleware bounding request bodies at ``max_bytes``, with the JSON 413 past it.

    A declared content-length is checked before anything is read. A chunked body declares no
    length, so it is read here, counting bytes as they arrive, and handed to the app as one
    message only if it stays within the limit. Requests without a body (a GET) pass straight
    through: reading every request up front tripled p99 under load."""

    def __init__(self, app, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    def _too_large(self) -> JSONResponse:
        return JSONResponse(status_code=413, content={"error": f"request body over {self.max_bytes} bytes"})

    async def __call__(self, scope, receive, send) -> None:
        headers = {name.lower(): value for name, value in scope.get("headers", ())} if scope["type"] == "http" else {}
        length = headers.get(b"content-length")
        if length is not None:
            if not length.isdigit() or int(length) > self.max_bytes:
                await self._too_large()(scope, receive, send)
            else:
                await self.app(scope, receive, send)
            return
        if b"transfer-encoding" not in headers:
            await self.app(scope, receive, send)
            return
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client went away while sending
                return
            size += len(message.get("body", b""))
            if size > self.max_bytes:
                await self._too_large()(scope, receive, send)
                return
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body, delivered = b"".join(chunks), False

        async def replay():
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # after the body: wait for the disconnect, as the server would

        await self.app(scope, replay, send)
