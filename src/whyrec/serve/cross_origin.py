"""Which other sites' pages may call the API from a browser: cross-origin resource sharing (CORS),
``whyrec serve --cors-origin``.

A browser lets a page from one origin (``http://localhost:3000``, a notebook's or a lab's own
front end) read answers from another (whyrec on ``http://127.0.0.1:8000``) only when the answers
say so, in ``Access-Control-Allow-Origin``; a POST with a JSON body is first asked about with an
``OPTIONS`` request (the preflight). Starlette's ``CORSMiddleware`` does both. It is put outside
every other layer, so that the service's own refusals (413, 422, the 503 of ``--max-in-flight``
with its ``Retry-After``) reach the page readable too. No origin is allowed unless named: the
page whyrec serves itself is of the same origin and needs none.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from whyrec.errors import ConfigError

ANY = "*"
PREFLIGHT_SECONDS = 600  # how long a browser may keep a preflight's answer


def checked_origins(origins: list[str] | tuple[str, ...]) -> list[str]:
    """``origins`` as browsers send them: ``scheme://host[:port]``, without a last slash (an origin
    written ``http://localhost:3000/`` would otherwise never match), or ``*`` for any. Anything else
    — no scheme, a path, a query — is refused, naming it."""
    checked = []
    for origin in origins:
        text = origin.strip()
        if text == ANY:
            checked.append(ANY)
            continue
        parts = urlsplit(text.rstrip("/"))
        try:
            parts.port  # noqa: B018 - read for its check: a port that is no number raises
        except ValueError:
            parts = None
        if parts is None or parts.scheme not in ("http", "https") or not parts.hostname or parts.path \
                or parts.query or parts.fragment or parts.username or parts.password:
            raise ConfigError(f"--cors-origin {origin!r} is not an origin: give the scheme, host and port a page is "
                              "served from, as http://localhost:3000 (no path), or * for any")
        checked.append(f"{parts.scheme}://{parts.netloc.lower()}")
    return list(dict.fromkeys(checked))


def allow_cross_origin(app, origins: list[str]) -> None:
    """Answer pages from ``origins`` (:func:`checked_origins`' form) as the same origin's: GET and
    POST with a JSON body, ``Retry-After`` readable. Nothing is added for no origins."""
    if not origins:
        return
    from starlette.middleware.cors import CORSMiddleware

    app.add_middleware(CORSMiddleware, allow_origins=origins, allow_methods=["GET", "POST"],
                       allow_headers=["content-type"], expose_headers=["retry-after"], max_age=PREFLIGHT_SECONDS)
