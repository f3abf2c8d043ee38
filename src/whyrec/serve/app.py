"""The FastAPI application: recommendations with explanations, a metrics endpoint and the web page.

Routes (OpenAPI docs at ``/docs``):

* ``GET /users/{user}/recommendations?k=10&explainer=pair&bundle=NAME`` — top-k unseen items,
  predicted rating, explanation (``explainer=all``: every explainer side by side), the item
  features the explanation mentions, the item title; an unknown user gets popular items with
  item-side explanations (``cold_start: true``); an explainer that cannot explain a user it has
  never seen (MT-U, PETER) writes nothing, and a ``no_explanation`` sentence says why;
* ``POST /explain`` ``{"user", "item", "explainer"?, "bundle"?}`` — rating + explanation + features
  (with ``"all"``, every explainer's under ``explanations``);
* ``POST /explain/batch`` ``{"pairs": [{"user", "item"}, …], "explainer"?, "bundle"?}`` — up to
  ``requests.MAX_PAIRS`` pairs answered as ``/explain`` answers each, in order, each explainer writing all
  its pairs' explanations in one batch; a pair with an unknown item gets ``{"user", "item",
  "error"}`` in its place, and the other pairs are answered;
* ``GET /users/{user}/history``, ``GET /api/bundles``, ``GET /api/bundles/{name}/users?query=``,
  ``GET /api/bundles/{name}/items?query=`` (by id or title, the most rated first);
* ``GET /health``, ``GET /metrics`` (request counts and latency percentiles per route, cache and
  batch counts: the whole server's, every worker's of ``whyrec serve --workers`` together,
  :mod:`whyrec.serve.server_metrics`), and ``GET /metrics/prometheus``, the same in Prometheus' text
  format (:mod:`whyrec.serve.prometheus`);
* ``GET /`` — the web page (plain HTML/JS/CSS shipped in the package, no CDN).

Every error is JSON ``{"error": message}``: unknown item 404, unknown bundle/explainer 404,
bad parameters (and query parameters the route does not take) 422, bodies over ``max_body_bytes`` 413.
"""

from __future__ import annotations

import gc
import logging
import os
import re
import time
from pathlib import Path
from typing import Literal, Sequence

import numpy as np
import pydantic_core
from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from starlette.convertors import PathConvertor, register_url_convertor
from starlette.exceptions import HTTPException as StarletteHTTPException

from whyrec import __version__
from whyrec.data.text import readable
from whyrec.errors import ConfigError, UnknownIdError, WhyrecError
from whyrec.explanations import (at_word_limit, check_explainer, check_feature_words, explainer_asked,
                                 fed_feature_words, feature_word_token, steers_by_feature)
from whyrec.ids import stripped_id
from whyrec.serve import schemas
from whyrec.serve.body_limit import BodySizeLimit
from whyrec.serve.connection_balance import with_connection_close
from whyrec.serve.cross_origin import allow_cross_origin, checked_origins
from whyrec.serve.prometheus import CONTENT_TYPE, prometheus_text
from whyrec.serve.requests import MAX_BEAM, MAX_ID, DecodingRequest, ExplainBatchRequest, ExplainRequest
from whyrec.serve.server_metrics import ServerMetrics
from whyrec.serve.systems import EXPLAINER_LABELS, GREEDY, ServedSystem
from whyrec.wording import did_you_mean

STATIC = Path(__file__).parent / "static"
MAX_K = 100
SHED_PREFIXES = ("/users/", "/explain", "/api/")  # the routes that compute answers, refused past max_in_flight
BUSY = "busy"  # /metrics' name for the requests refused with 503 past max_in_flight


class AnyId(PathConvertor):
    """The ``{user:id}`` of a route: any characters, "/" and line breaks included, as an id of the
    data may hold them (starlette's ``:path`` stops at a line break: such a user got a 404 "no route")."""

    regex = r"[\s\S]*"


register_url_convertor("id", AnyId())


def route_name(path: str) -> str:
    """A route's path as /metrics and the messages name it, its convertors dropped:
    ``/users/{user:id}/history`` → ``/users/{user}/history``."""
    return re.sub(r"\{(\w+):\w+\}", r"{\1}", path)


_LOG = logging.getLogger("whyrec.serve")  # an unexpected error's traceback goes to the server's log
ACCESS_LOG = logging.getLogger("whyrec.serve.access")  # a line per request, with create_app(access_log=True)


def app_path(scope: dict) -> str:
    """A request's path within the app (``scope``: its ASGI scope), without the prefix ``whyrec
    serve --root-path`` names (uvicorn puts that in front of the path a proxy passes on): what the
    routes are matched on."""
    path, root = scope.get("path", ""), scope.get("root_path", "").rstrip("/")
    return (path[len(root):] or "/") if root and (path == root or path.startswith(root + "/")) else path


def log_access(scope: dict, status: int, seconds: float) -> None:
    """``GET /users/a%2Fb/recommendations?k=3 200 12.3 ms`` on :data:`ACCESS_LOG`: the target as the
    client sent it (percent-encoded; the HTTP parser refuses raw control characters), cut at 300
    characters."""
    target = scope.get("raw_path", b"").decode("latin-1")
    if scope.get("query_string"):
        target += "?" + scope["query_string"].decode("latin-1")
    ACCESS_LOG.info("%s %s %d %.1f ms", scope["method"], target[:300], status, seconds * 1000)


class GuardAndTime:
    """The outermost of whyrec's own layers, as plain ASGI: it refuses a request for recommendations
    or explanations at once with a JSON 503 past ``max_in_flight`` (0: no bound), answers what the
    app raised with a JSON 500 (its traceback logged), and counts and times every request for
    ``/metrics`` under its route's name (and logs it with ``access_log``). Under ``whyrec serve`` it
    also publishes the process's connections and, with ``--workers N``, closes one after its answer
    when the worker holds more than its share (the app's ``state.connection_balance``,
    :mod:`whyrec.serve.connection_balance`). It was Starlette's
    ``BaseHTTPMiddleware`` (``@app.middleware("http")``) until 2026-12-05; with the layer taken out,
    PETER+ answered 5–8% more requests a second under load, which is what that wrapper cost."""

    def __init__(self, app, max_in_flight: int, counted: "SystemCounters", access_log: bool) -> None:
        self.app, self.max_in_flight, self.counted, self.access_log = app, max_in_flight, counted, access_log

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        server = scope["app"].state.server_metrics  # it counts the requests to SHED_PREFIXES being answered
        computing = app_path(scope).startswith(SHED_PREFIXES)
        if computing and self.max_in_flight and server.add_in_flight(0) >= self.max_in_flight:
            self._record(scope, BUSY, 503, start, server)  # counted before the client has the answer
            await _error(503, f"the server is busy: it answers at most {self.max_in_flight} requests for "
                              "recommendations or explanations at once per process (whyrec serve "
                              "--max-in-flight); retry in a moment", headers={"Retry-After": "1"})(scope, receive, send)
            return
        started: list[int] = []  # the status the app answers with, once it does
        finished: list[bool] = []

        def finish() -> None:  # once: the place freed, the request counted under its route's name
            if finished:
                return
            finished.append(True)
            server.add_in_flight(-computing)
            route = scope.get("route")
            name = getattr(route, "path", None) or ("static" if app_path(scope).startswith("/static") else "other")
            self._record(scope, f"{scope['method']} {route_name(name)}", started[0] if started else 500, start, server)

        balance = scope["app"].state.connection_balance
        if balance is not None:
            balance.publish()  # before the app runs: /metrics gives this worker's count as it is now

        async def send_finishing(message) -> None:
            if message["type"] == "http.response.start":
                started.append(message["status"])
                if balance is not None and balance.close_this_one():
                    message = with_connection_close(message)
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                finish()  # before the client has its whole answer: a request it makes next finds this one done
            await send(message)

        server.add_in_flight(computing)
        try:
            await self.app(scope, receive, send_finishing)
        except Exception:  # the handlers cover expected errors; this is the last net
            _LOG.exception("internal error on %s %s", scope["method"], scope.get("path", "")[:200])
            if started:  # too late for another answer: the server closes the connection
                raise
            await _error(500, "internal error")(scope, receive, send_finishing)
        finally:
            finish()  # a no-op unless the answer never ended (a client gone, an error mid-answer)

    def _record(self, scope, route: str, status: int, start: float, server) -> None:
        seconds = time.perf_counter() - start
        server.record(route, seconds, status, self.counted.now())
        if self.access_log:
            log_access(scope, status, seconds)


def documented(shape, *errors: int) -> dict:
    """A route's answer and error shapes for the OpenAPI schema, as documentation only: the
    route's dict is sent as built by :func:`answer` (no validation on the hot path; the tests
    check the shapes)."""
    return {"response_model": None,
            "responses": {200: {"model": shape}, **{status: {"model": schemas.Error} for status in errors}}}


def answer(body) -> Response:
    """A route's dict or list as strict JSON, serialised by pydantic-core (a NaN or infinity as
    null: JSON has neither). Returned as a Response, it skips FastAPI's
    ``jsonable_encoder``, which a route without a response model goes through: 0.8 ms per
    recommendations answer against 0.04 ms, which cut the cached MT service's throughput by 40%
    on 2 cores."""
    return Response(pydantic_core.to_json(body, inf_nan_mode="null"), media_type="application/json")


def _error(status: int, message: str, headers: dict | None = None, **extra) -> JSONResponse:
    return JSONResponse(status_code=status, content={"error": message, **extra}, headers=headers)


def _routes_hint(request: Request) -> str:
    """After "no route GET /bundles": the API route most like the path asked, when one is close
    (" (did you mean '/api/bundles'?)"), and the API's routes, as /docs documents them."""
    routes = [r for r in request.app.routes if isinstance(r, APIRoute) and r.include_in_schema]
    close = did_you_mean(request.url.path[:100], sorted({r.path_format for r in routes}))
    listed_routes = ", ".join(f"{'/'.join(sorted(r.methods))} {r.path_format}" for r in routes)
    return f"{close}; the API's routes: {listed_routes} (documented at /docs; the web page is at /)"


def known_query_only(request: Request) -> None:
    """Refuse (422) a query parameter the API route does not take: misspelt (``top-p`` for
    ``top_p``, ``q`` for ``query``), it would otherwise be ignored and the answer look as asked,
    as the JSON bodies refuse keys they do not know. Routes without query parameters (``/health``,
    whose probes may add a cache-buster) and the page's are left alone, except those that read a
    JSON body (``POST /explain``): there ``?bundle=`` would be ignored while the body names none, so
    the answer is to say where it goes."""
    route = request.scope.get("route")
    if not getattr(route, "include_in_schema", False) or not getattr(route, "dependant", None):
        return
    known = _query_names(route.dependant)
    unknown = sorted(set(request.query_params) - known)
    if not known and unknown and route.dependant.body_params:
        raise HTTPException(422, f"{request.method} {route.path} takes no query parameters: give "
                                 f"'{unknown[0][:40]}' in the JSON body")
    if known and unknown:
        raise HTTPException(422, f"unknown query parameter '{unknown[0][:40]}' for {request.method} "
                                 f"{route_name(route.path)}; it takes {', '.join(sorted(known))}")


def _query_names(dependant) -> set[str]:
    """The query parameters a route takes: its own and its dependencies'."""
    return {param.alias for param in dependant.query_params}.union(*(_query_names(d) for d in dependant.dependencies))


def unknown_item(s: ServedSystem, item: str) -> str:
    """The error /explain gives for an item ``s`` does not know (naming a close id, if any)."""
    try:
        s.check_item(item)
    except UnknownIdError as exc:
        return str(exc)
    raise ValueError(f"the item '{item}' is known")


def _misplaced_hint(error: dict) -> str:
    """Where a field refused as unknown belongs, when it is one a level up or down: a decoding
    setting beside ``user`` (``{"min_words": 5}``) goes inside ``"decoding"``; a batch's setting
    inside a pair (``{"user": …, "explainer": …}``) goes beside ``"pairs"``."""
    loc = tuple(error.get("loc", ()))
    if error.get("type") != "extra_forbidden" or len(loc) < 2 or loc[0] != "body":
        return ""
    name = loc[-1]
    if len(loc) == 2 and name in DecodingRequest.model_fields:
        return f' (a decoding setting: send it inside "decoding", as {{"decoding": {{"{name}": …}}}})'
    if len(loc) == 4 and loc[1] == "pairs" and name in ExplainBatchRequest.model_fields:
        return f' (one setting for the whole batch: send "{name}" beside "pairs")'
    return ""


def create_app(systems: list[ServedSystem], max_body_bytes: int = 16384, workers: int = 1,
               max_in_flight: int = 0, access_log: bool = False, cors_origins: Sequence[str] = ()) -> FastAPI:
    """Build the app around already loaded systems (the first is the default bundle); ``workers``:
    how many processes will serve it (:mod:`whyrec.serve.workers`), which ``/metrics`` tells.

    ``max_in_flight`` (0: no limit): the most requests to the routes that compute answers
    (``SHED_PREFIXES``) one process answers at once. One more is refused at once with a JSON 503
    and ``Retry-After: 1``, before its body is read, and counted under ``BUSY`` in ``/metrics``,
    so that under overload the requests taken keep their latency and a client learns at once that
    it should retry, instead of every request waiting longer and longer in the queue. ``/health``,
    ``/metrics`` and the page are always answered.

    ``access_log``: one line per request on the ``whyrec.serve.access`` logger (INFO): method, the
    path and query as sent (still percent-encoded, so an id cannot break the line), status and
    milliseconds.

    ``cors_origins``: the other origins whose pages may call the API from a browser
    (:mod:`whyrec.serve.cross_origin`; ``*`` for any)."""
    origins = checked_origins(cors_origins)
    if max_in_flight < 0:
        raise ConfigError(f"max_in_flight must be 0 (no limit) or more, not {max_in_flight}")
    if not systems:
        raise WhyrecError("serve needs at least one bundle")
    by_name = {s.name: s for s in systems}
    default = systems[0].name
    counted = SystemCounters(systems)
    app = FastAPI(title="whyrec", version=__version__, dependencies=[Depends(known_query_only)],
                  description="Recommendations with explanations that agree with the predicted rating.")
    # inside the guard (added later, so outermost): refused bodies are counted and logged too
    app.add_middleware(BodySizeLimit, max_bytes=max_body_bytes)
    app.add_middleware(GuardAndTime, max_in_flight=max_in_flight, counted=counted, access_log=access_log)
    app.state.connection_balance = None  # whyrec serve sets each process's, once its uvicorn server is made

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError):
        sent = request.headers.get("content-type", "none")
        if request.method == "POST" and "json" not in sent.lower():  # a form, or JSON sent as text: never read
            return _error(422, f"invalid request: the body must be a JSON object sent with content-type: "
                               f"application/json (the request said {sent[:60]})")
        problems = [f"{'.'.join(str(p) for p in e.get('loc', []))}: {e.get('msg')}{_misplaced_hint(e)}"
                    for e in exc.errors()]
        return _error(422, "invalid request: " + "; ".join(problems)[:500])

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        if exc.status_code == 404 and exc.detail == "Not Found":  # no such route
            return _error(404, f"no route {request.method} {request.url.path[:100]}{_routes_hint(request)}")
        if exc.status_code == 405:  # the route is there, for other methods
            allowed = (exc.headers or {}).get("Allow", "")
            return _error(405, f"{request.method} is not allowed on {request.url.path[:100]}; it takes {allowed}",
                          headers=exc.headers)
        return _error(exc.status_code, str(exc.detail))

    def system(name: str | None) -> ServedSystem:
        key = name or default
        if key not in by_name:
            raise HTTPException(404, f"unknown bundle '{key[:MAX_ID]}'; loaded: {', '.join(by_name)}")
        return by_name[key]

    def refusal(s: ServedSystem, error: object, named: bool) -> str:
        """The message of a refusal by ``s``; when the request ``named`` no bundle and several are
        loaded, it says the default one refused, so that the request learns where it was asked:
        ``unknown item 'x' (asked of bundle 'mt', the default; loaded: mt, peter)``."""
        if named or len(by_name) == 1:
            return str(error)
        return f"{error} (asked of bundle '{s.name}', the default; loaded: {', '.join(by_name)})"

    def path_user(user: str) -> str:
        """The user id of a route's path, stripped as the readers strip ids; empty or too long: 422."""
        user = stripped_id(user)
        if not user:
            raise HTTPException(422, "the user id is empty")
        if len(user) > MAX_ID:
            raise HTTPException(422, f"user id longer than {MAX_ID} characters")
        return user

    def explainers_for(s: ServedSystem, explainer: str | None, cold: bool,
                       named: bool) -> tuple[list[str], str | None]:
        """The explainers that answer, and why those asked for that write nothing do (a rating
        model; MT-U or PETER for a new user)."""
        try:
            check_explainer(s.explainers, explainer)
        except ConfigError as exc:
            raise HTTPException(404, refusal(s, exc, named)) from None
        return s.chosen_explainers(explainer, cold)

    def checked_feature_word(s: ServedSystem, feature_word: str | None, named: bool) -> str | None:
        """The feature word asked for as the features are written ("Card": card), or 422 for one
        given to a system other than PETER+, or one PETER+ was not trained with."""
        word = feature_word_token(feature_word) if feature_word is not None else None
        try:
            check_feature_words(s.model, [word])
        except ConfigError as exc:
            raise HTTPException(422, refusal(s, exc, named)) from None
        return word

    def explained(s: ServedSystem, chosen: list[str], texts: dict, n: int, item: str, feature_word: str | None) -> dict:
        """An answer's explanation fields for one item: each chosen explainer's text and the item
        features it mentions, the first's also at the top level, and the word PETER+ was fed."""
        entry = {"explanations": [{"explainer": e, "label": EXPLAINER_LABELS[e], "text": texts[e][n],
                                   "readable": readable(texts[e][n]), "features": s.mentioned_features(texts[e][n]),
                                   "at_word_limit": at_word_limit(texts[e][n], s.max_words)}
                                  for e in chosen]}
        entry.update(explanation=entry["explanations"][0]["text"], features=entry["explanations"][0]["features"])
        if steers_by_feature(s.model):
            entry["feature_word"] = fed_feature_words(s.model, [item], [feature_word])[0]
        return entry

    @app.get("/health", **documented(schemas.Health))
    def health() -> Response:
        return answer({"status": "ok", "version": __version__, "bundles": list(by_name)})

    def metrics_answer() -> dict:
        """What ``/metrics`` answers and ``/metrics/prometheus`` writes in Prometheus' format."""
        server = app.state.server_metrics
        return {
            "worker": {"pid": os.getpid(), "number": server.slot, "workers": workers,
                       "max_in_flight": max_in_flight, "per_worker": server.per_worker()},
            "routes": server.routes_summary(),
            **counted.sections(server.counters_summary(counted.now())),
            "garbage_collector": {"frozen_objects": gc.get_freeze_count(),
                                  "collections": [generation["collections"] for generation in gc.get_stats()]}}

    @app.get("/metrics", **documented(schemas.Metrics))
    def metrics() -> Response:
        return answer(metrics_answer())

    @app.get("/metrics/prometheus", response_class=PlainTextResponse,
             responses={200: {"description": f"Prometheus' text format 0.0.4 (content-type: {CONTENT_TYPE})."}})
    def metrics_for_prometheus() -> Response:
        """`/metrics` as a Prometheus server scrapes it (`whyrec.serve.prometheus`)."""
        return Response(prometheus_text(metrics_answer()), media_type=CONTENT_TYPE)

    @app.get("/api/bundles", **documented(list[schemas.BundleInfo]))
    def bundles() -> Response:
        return answer([s.describe() for s in systems])

    @app.get("/api/bundles/{name}/users", **documented(list[schemas.UserMatch], 404, 422))
    def users(name: str, query: str = Query("", max_length=MAX_ID), limit: int = Query(30, ge=1, le=200)) -> Response:
        return answer(system(name).search_users(query, limit))

    @app.get("/api/bundles/{name}/items", **documented(list[schemas.ItemMatch], 404, 422))
    def items(name: str, query: str = Query("", max_length=MAX_ID), limit: int = Query(30, ge=1, le=200)) -> Response:
        return answer(system(name).search_items(query, limit))

    @app.get("/users/{user:id}/history", **documented(schemas.History, 404, 422))
    def history(user: str, bundle: str | None = Query(None, max_length=MAX_ID)) -> Response:
        s, user = system(bundle), path_user(user)
        if user not in s.rating.user_map:
            return answer({"user": user, "known": False, "history": [], "did_you_mean": s.did_you_mean(user)})
        # null, not []: a rating bundle served without --data does not know what its users rated
        return answer({"user": user, "known": True, "history": s.history(user) if s.has_history else None})

    @app.get("/users/{user:id}/recommendations", **documented(schemas.Recommendations, 404, 422))
    def recommendations(request: Request, user: str, k: int = Query(10, ge=1, le=MAX_K),
                        explainer: str | None = Query(None, max_length=16),
                        bundle: str | None = Query(None, max_length=MAX_ID),
                        feature_word: str | None = Query(None, min_length=1, max_length=MAX_ID),
                        method: Literal["greedy", "sample", "beam"] = Query("greedy"),
                        temperature: float | None = None, top_k: int | None = None, top_p: float | None = None,
                        seed: int | None = None, beam: int | None = Query(None, le=MAX_BEAM),
                        length_penalty: float | None = None, min_words: int | None = None) -> Response:
        s, user, explainer = system(bundle), path_user(user), explainer_asked(explainer)
        if feature_word is not None and not feature_word.strip():  # blank, as /explain's body fields may not be
            raise HTTPException(422, "feature_word is empty")
        feature_word = checked_feature_word(s, feature_word, bool(bundle))
        # the decoding of /explain's body, as query parameters
        decoding = DecodingRequest(method=method, temperature=temperature, top_k=top_k, top_p=top_p, seed=seed,
                                   beam=beam, length_penalty=length_penalty, min_words=min_words).checked(
            s, given=not set(DecodingRequest.model_fields).isdisjoint(request.query_params))
        items, scores, cold = s.recommend(user, k)
        chosen, reason = explainers_for(s, explainer, cold, bool(bundle))
        texts = {e: s.explain(e, [user] * len(items), items, feature_word, decoding) for e in chosen}
        splits = s.rating_splits(user, items) if s.splits_ratings and not cold and items else None
        out = []
        for n, (item, score) in enumerate(zip(items, scores.tolist())):
            entry = {"item": item, "title": s.titles.get(item), "predicted_rating": round(float(score), 4)}
            if chosen:
                entry.update(explained(s, chosen, texts, n, item, feature_word))
            if splits is not None:
                entry["rating_split"] = splits[n]
            out.append(entry)
        body = {"user": user, "bundle": s.name, "cold_start": cold, "k": k, "items": out}
        if reason:
            body["no_explanation"] = reason
        if cold:  # what a user without a past is shown, and the known id they may have meant
            body["cold_start_items"] = "most rated" if s.has_history else "highest predicted rating"
            body["did_you_mean"] = s.did_you_mean(user)
        return answer(body)

    def pair_answers(s: ServedSystem, pairs: list[tuple[str, str]], explainer: str | None,
                     feature_word: str | None, asked: DecodingRequest | None, named: bool) -> list[dict]:
        """The answer of /explain for each (user, item) pair, in order; a pair whose item ``s``
        does not know gets ``{"user", "item", "error"}``. The ratings are predicted in one call,
        and each explainer writes the explanations of all the pairs it answers in one batch,
        decoded as ``asked`` says (None: greedy); ``named``: the request named the bundle ``s``
        (:func:`refusal`)."""
        feature_word = checked_feature_word(s, feature_word, named)
        explainers_for(s, explainer, False, named)  # an unknown explainer: 404 before any work
        decoding = asked.checked(s) if asked is not None else GREEDY
        known = [n for n, (_, item) in enumerate(pairs) if item in s.rating.item_map]
        cold = {n: pairs[n][0] not in s.rating.user_map for n in known}
        chosen = {n: s.chosen_explainers(explainer, cold[n]) for n in known}  # (explainers, why some write nothing)
        written: dict[str, dict[int, str]] = {}  # explainer -> pair -> its text
        for e in dict.fromkeys(e for names, _ in chosen.values() for e in names):
            rows = [n for n in known if e in chosen[n][0]]
            written[e] = dict(zip(rows, s.explain(e, [pairs[n][0] for n in rows], [pairs[n][1] for n in rows],
                                                  feature_word, decoding)))
        ratings = s.rating.predict([pairs[n][0] for n in known], [pairs[n][1] for n in known]) if known else []
        out = [{"user": user, "item": item} for user, item in pairs]
        for n, rating in zip(known, np.asarray(ratings, dtype=float).tolist()):
            (user, item), (names, reason) = pairs[n], chosen[n]
            out[n].update(bundle=s.name, cold_start=cold[n], predicted_rating=round(rating, 4),
                          title=s.titles.get(item))
            if names:  # each chosen explainer ("all": every one), the first also at the top level
                texts = {e: [written[e][n]] for e in names}
                out[n].update(explainer=names[0], **explained(s, names, texts, 0, item, feature_word))
            if reason:
                out[n]["no_explanation"] = reason
            if cold[n]:
                out[n]["did_you_mean"] = s.did_you_mean(user)
            elif s.splits_ratings:  # the predicted rating itself, split over the user's past ratings
                out[n]["rating_split"] = s.rating_splits(user, [item], top=3)[0]
        for n in sorted(set(range(len(pairs))) - set(known)):
            out[n]["error"] = refusal(s, unknown_item(s, pairs[n][1]), named)
        return out

    @app.post("/explain", **documented(schemas.ExplainAnswer, 404, 413, 422))
    def explain(request: ExplainRequest) -> Response:
        s = system(request.bundle)
        try:
            s.check_item(request.item)
        except UnknownIdError as exc:
            raise HTTPException(404, refusal(s, exc, bool(request.bundle))) from None
        return answer(pair_answers(s, [(request.user, request.item)], request.explainer, request.feature_word,
                                   request.decoding, bool(request.bundle))[0])

    @app.post("/explain/batch", **documented(schemas.ExplainBatchAnswer, 404, 413, 422))
    def explain_batch(request: ExplainBatchRequest) -> Response:
        s = system(request.bundle)
        pairs = [(p.user, p.item) for p in request.pairs]
        return answer({"bundle": s.name, "answers": pair_answers(s, pairs, request.explainer, request.feature_word,
                                                                 request.decoding, bool(request.bundle))})

    @app.get("/", include_in_schema=False)
    def page():
        return FileResponse(STATIC / "index.html")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    routes = [f"{method} {route_name(route.path)}" for route in app.routes
              for method in sorted(getattr(route, "methods", None) or ()) if isinstance(route, APIRoute)]
    app.state.server_metrics = ServerMetrics([*routes, "GET static", "HEAD static", BUSY], len(counted.names), workers,
                                             gauges=counted.gauges)
    allow_cross_origin(app, origins)  # added last, so outermost: the refusals above carry its headers too
    return app


class SystemCounters:
    """The served systems' counters that ``/metrics`` sums over the workers, flat for
    :class:`ServerMetrics` and back in ``/metrics``' sections."""

    # (section of /metrics, the system's attribute, its counter, the name /metrics gives it)
    COUNTED = (("explanation_cache", "cache", "hits", "hits"), ("explanation_cache", "cache", "misses", "misses"),
               ("explanation_cache", "cache", "entries", "entries"),
               ("score_cache", "score_cache", "hits", "hits"), ("score_cache", "score_cache", "misses", "misses"),
               ("score_cache", "score_cache", "entries", "entries"),
               ("explanation_batches", "batcher", "batches", "batches"),
               ("explanation_batches", "batcher", "jobs", "requests"),
               ("score_batches", "scorer", "batches", "batches"), ("score_batches", "scorer", "jobs", "requests"))

    # the levels among them (what a cache holds now), not counts since the start: ServerMetrics' gauges
    LEVELS = ("entries",)

    def __init__(self, systems: list[ServedSystem]) -> None:
        self.systems = systems
        self.names = [(section, s.name, shown) for s in systems for section, _, _, shown in self.COUNTED]
        self.gauges = [n for n, (_, _, shown) in enumerate(self.names) if shown in self.LEVELS]

    def now(self) -> list[int]:
        """This process's counters, in the order of :attr:`names`."""
        return [getattr(getattr(s, part), counter) for s in self.systems for _, part, counter, _ in self.COUNTED]

    def sections(self, values: list[int]) -> dict:
        """``{section: {system: {name: value}}}`` from values in the order of :attr:`names`."""
        out: dict = {section: {s.name: {} for s in self.systems} for section, _, _, _ in self.COUNTED}
        for (section, system, shown), value in zip(self.names, values):
            out[section][system][shown] = value
        return out


def app_from_bundles(folders: list[str | Path], cache_size: int = 20000) -> FastAPI:
    return create_app([ServedSystem.from_folder(f, cache_size) for f in folders])


def freeze_startup_objects() -> int:
    """Put every object alive now — the imported libraries and the loaded bundles, about 230,000
    with torch, FastAPI and a PETER+ bundle — out of the garbage collector's reach, and return how
    many there are. Python's full collection otherwise walks them all, about 85 ms on a 2-core VM,
    and under load those pauses made the service's p99: PETER+ on magazines, explanation cache on,
    121 ms with them and 32 ms with the collector kept off the server (``benchmarks/serve.py``,
    20 s runs). Objects made afterwards, per request, are collected as before; the frozen ones are
    the process's lifetime anyway. Call it once, when the app is built, before serving."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


def server_config(app: FastAPI, host: str = "127.0.0.1", port: int = 8000, root_path: str = ""):
    """uvicorn settings for whyrec: one worker, and a request line/header limit of 2 MB so that
    an oversized id reaches the app and gets a JSON 422 instead of the HTTP parser's plain 400.
    ``root_path``: the path a reverse proxy serves whyrec under, taken off before it passes requests
    on (``whyrec serve --root-path``); the API docs then ask for their schema through the proxy."""
    import uvicorn

    return uvicorn.Config(app, host=host, port=port, log_level="warning", root_path=root_path,
                          h11_max_incomplete_event_size=2 * 1024 * 1024)


def listening_socket(host: str, port: int):
    """The socket the server will listen on, bound to ``host``:``port`` as uvicorn binds (with
    SO_REUSEADDR), so that an address it could not listen on — a port outside 0–65535, a host
    that does not resolve, an address in use or not this machine's — is one :class:`ConfigError`
    before the bundles are loaded (uvicorn would find out only after, with a traceback for the port
    range). Port 0 binds a free port: ``getsockname()`` tells which. The caller owns the socket."""
    import socket

    if not 0 <= port <= 65535:
        raise ConfigError(f"--port must be in 0..65535, not {port}")
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                                             flags=socket.AI_PASSIVE)[0]
    except socket.gaierror as exc:
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    return sock
