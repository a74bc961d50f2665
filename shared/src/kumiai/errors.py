"""RFC 9457 problem details: one base exception, one response shape, every service.

Routes declare the problems they can return with ``responses=problems(...)`` so
OpenAPI shows them to the frontend team and partner banks.
"""

from __future__ import annotations

from typing import Any, ClassVar

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_BASE = "https://kumiai.dev/problems/"
PROBLEM_MEDIA_TYPE = "application/problem+json"

log = structlog.get_logger(__name__)


class InvalidParam(BaseModel):
    """One field that failed validation."""

    name: str = Field(description="Dotted path of the field, e.g. body.units_offered")
    reason: str


class Problem(BaseModel):
    """An error as RFC 9457 problem details."""

    type: str = Field(examples=[PROBLEM_BASE + "not-found"])
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    invalid_params: list[InvalidParam] | None = Field(
        default=None, description="Fields that failed validation"
    )


class ProblemError(Exception):
    """Base of every error the platform answers with; subclasses set status and type."""

    status: ClassVar[int] = 400
    problem: ClassVar[str] = "bad-request"
    title: ClassVar[str] = "Bad request"

    def __init__(self, detail: str | None = None, **extra: Any) -> None:
        super().__init__(detail or self.title)
        self.detail = detail
        self.extra = extra

    def to_problem(self, instance: str | None = None) -> dict[str, Any]:
        body = Problem(
            type=PROBLEM_BASE + self.problem,
            title=self.title,
            status=self.status,
            detail=self.detail,
            instance=instance,
        ).model_dump(exclude_none=True)
        body.update(self.extra)
        return body


class NotFound(ProblemError):
    status = 404
    problem = "not-found"
    title = "Not found"


class Unauthorized(ProblemError):
    status = 401
    problem = "unauthorized"
    title = "Authentication required"


class Forbidden(ProblemError):
    status = 403
    problem = "forbidden"
    title = "Not allowed"


class Conflict(ProblemError):
    status = 409
    problem = "conflict"
    title = "Conflict"


class UnprocessableContent(ProblemError):
    status = 422
    problem = "unprocessable"
    title = "Unprocessable content"


class ServiceUnavailable(ProblemError):
    status = 503
    problem = "unavailable"
    title = "Service unavailable"


def problems(*errors: type[ProblemError]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` for the problems a route can return."""
    out: dict[int | str, dict[str, Any]] = {}
    for error in errors:
        out[error.status] = {
            "model": Problem,
            "description": error.title,
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
    return out


def problem_response(status: int, body: dict[str, Any]) -> JSONResponse:
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE)


async def _problem_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ProblemError)
    return problem_response(exc.status, exc.to_problem(instance=request.url.path))


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    params = [
        InvalidParam(name=".".join(str(p) for p in err["loc"]), reason=err["msg"]).model_dump()
        for err in exc.errors()
    ]
    body = Problem(
        type=PROBLEM_BASE + "validation",
        title="Request validation failed",
        status=422,
        detail=f"{len(params)} invalid field(s): " + ", ".join(p["name"] for p in params),
        instance=request.url.path,
    ).model_dump(exclude_none=True)
    body["invalid_params"] = params
    return problem_response(422, body)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    slug = {404: "not-found", 405: "method-not-allowed", 401: "unauthorized"}.get(
        exc.status_code, "http-error"
    )
    body = Problem(
        type=PROBLEM_BASE + slug,
        title=str(exc.detail),
        status=exc.status_code,
        instance=request.url.path,
    ).model_dump(exclude_none=True)
    response = problem_response(exc.status_code, body)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


async def _database_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DBAPIError)
    if not exc.connection_invalidated:
        return await _unexpected_error(request, exc)
    log.warning("database connection lost", path=request.url.path)
    error = ServiceUnavailable("the database connection was lost; retry the request")
    response = problem_response(error.status, error.to_problem(instance=request.url.path))
    response.headers["Retry-After"] = "1"
    return response


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
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
    app.add_exception_handler(Exception, _unexpected_error)
