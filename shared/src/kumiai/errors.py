"""Problem-details answers for every error a service meets (``kumiai.problems``).

The problem types themselves live in ``kumiai.problems`` (no web framework) and
are re-exported here; this module adds the handlers that answer them, request
validation, HTTP and database errors.
"""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from kumiai.db import DatabaseFailure, database_failure, sqlstate
from kumiai.problems import DETAIL_FIELDS as DETAIL_FIELDS
from kumiai.problems import ECHO_LIMIT as ECHO_LIMIT
from kumiai.problems import PROBLEM_BASE as PROBLEM_BASE
from kumiai.problems import PROBLEM_MEDIA_TYPE as PROBLEM_MEDIA_TYPE
from kumiai.problems import Conflict as Conflict
from kumiai.problems import Forbidden as Forbidden
from kumiai.problems import InvalidParam as InvalidParam
from kumiai.problems import InvalidValue as InvalidValue
from kumiai.problems import MalformedJson as MalformedJson
from kumiai.problems import MethodNotAllowed as MethodNotAllowed
from kumiai.problems import NotFound as NotFound
from kumiai.problems import PayloadTooLarge as PayloadTooLarge
from kumiai.problems import Problem as Problem
from kumiai.problems import ProblemError as ProblemError
from kumiai.problems import RateLimited as RateLimited
from kumiai.problems import ServiceUnavailable as ServiceUnavailable
from kumiai.problems import SigningKeysUnavailable as SigningKeysUnavailable
from kumiai.problems import Unauthorized as Unauthorized
from kumiai.problems import UnprocessableContent as UnprocessableContent
from kumiai.problems import problems as problems

log = structlog.get_logger(__name__)


def problem_response(
    status: int, body: dict[str, Any], headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def _answer(request: Request, error: ProblemError) -> JSONResponse:
    return problem_response(
        error.status, error.to_problem(instance=request.url.path), error.response_headers()
    )


async def _problem_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ProblemError)
    return _answer(request, exc)


def _clip(text: str) -> str:
    return text if len(text) <= ECHO_LIMIT else text[: ECHO_LIMIT - 1] + "\u2026"


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    malformed = next((e for e in errors if e.get("type") == "json_invalid"), None)
    if malformed is not None:
        ctx = malformed.get("ctx") or {}
        position = malformed["loc"][-1] if malformed.get("loc") else None
        reason = _clip(str(ctx.get("error", "not JSON")))
        return _answer(request, MalformedJson(f"{reason} (at character {position})"))
    params = [
        InvalidParam(
            name=_clip(".".join(str(p) for p in err["loc"])), reason=_clip(str(err["msg"]))
        ).model_dump()
        for err in errors
    ]
    names = [p["name"] for p in params[:DETAIL_FIELDS]]
    more = f" and {len(params) - DETAIL_FIELDS} more" if len(params) > DETAIL_FIELDS else ""
    body = Problem(
        type=PROBLEM_BASE + "validation",
        title="Request validation failed",
        status=422,
        detail=f"{len(params)} invalid field(s): " + ", ".join(names) + more,
        instance=request.url.path,
    ).model_dump(exclude_none=True)
    body["invalid_params"] = params
    return problem_response(422, body)


def allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at this request's path (for a 405's ``Allow``)."""
    # Ask every route with each method: routers included into the app are wrapped in
    # routes that do not list their methods, so the full match is the only reliable answer.
    methods: set[str] = set()
    for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
        scope = {**request.scope, "method": method}
        if any(route.matches(scope)[0] is Match.FULL for route in request.app.routes):
            methods.add(method)
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 405:
        allow = allowed_methods(request)
        error = MethodNotAllowed(
            f"{request.method} is not served here; use {', '.join(allow)}", allow=allow
        )
        response = _answer(request, error)
        response.headers["Allow"] = ", ".join(allow)
        return response
    slug = {404: "not-found", 401: "unauthorized"}.get(exc.status_code, "http-error")
    body = Problem(
        type=PROBLEM_BASE + slug,
        title=str(exc.detail),
        status=exc.status_code,
        instance=request.url.path,
    ).model_dump(exclude_none=True)
    return problem_response(exc.status_code, body, dict(exc.headers or {}))


RETRY_MARKER = "x-kumiai-retry-transaction"
"""Set on a 503 whose transaction lost a race: the request may be run again as it is."""


async def _database_error(request: Request, exc: Exception) -> JSONResponse:
    failure = database_failure(exc)
    if failure is DatabaseFailure.UNAVAILABLE:
        log.warning("database unavailable", path=request.url.path, error=type(exc).__name__)
        return _answer(request, ServiceUnavailable("the database is unavailable; retry shortly"))
    if failure is DatabaseFailure.RACE:
        log.info("transaction lost a race", path=request.url.path, sqlstate=sqlstate(exc))
        response = _answer(
            request, ServiceUnavailable("a concurrent change got in the way; retry the request")
        )
        response.headers[RETRY_MARKER] = "1"
        return response
    if failure is DatabaseFailure.BAD_VALUE:
        log.info("value refused by the database", path=request.url.path, sqlstate=sqlstate(exc))
        return _answer(
            request, InvalidValue("a value is out of range or contains characters not allowed")
        )
    return await _unexpected_error(request, exc)


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    if database_failure(exc) is not None:
        return await _database_error(request, exc)
    log.exception("unhandled error", path=request.url.path)
    body = Problem(
        type=PROBLEM_BASE + "internal",
        title="Internal error",
        status=500,
        instance=request.url.path,
    ).model_dump(exclude_none=True)
    return problem_response(500, body)


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ProblemError, _problem_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(DBAPIError, _database_error)
    app.add_exception_handler(PoolTimeout, _database_error)
    app.add_exception_handler(ConnectionError, _database_error)
    app.add_exception_handler(Exception, _unexpected_error)
