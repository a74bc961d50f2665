"""RFC 9457 problem details: one base exception and one shape for every service's errors.

Pure: no web framework. A service's rules raise its problem types (status and a
stable slug); ``kumiai.errors`` turns them into responses, and routes declare
the ones they can return with ``responses=problems(...)`` so OpenAPI shows them.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, Field

PROBLEM_BASE = "https://kumiai.dev/problems/"
PROBLEM_MEDIA_TYPE = "application/problem+json"


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
    headers: ClassVar[dict[str, str]] = {}
    """Response headers every answer of this problem carries."""

    def __init__(self, detail: str | None = None, **extra: Any) -> None:
        super().__init__(detail or self.title)
        self.detail = detail
        self.extra = extra

    def response_headers(self) -> dict[str, str]:
        """Headers of this answer: the type's own, plus any this instance adds."""
        return dict(self.headers)

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
    headers = {"WWW-Authenticate": "Bearer"}


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
    headers = {"Retry-After": "1"}


class SigningKeysUnavailable(ServiceUnavailable):
    """The identity provider's keys could not be fetched and none are cached: not the
    caller's fault, so not a 401."""

    problem = "signing-keys-unavailable"
    title = "The identity provider's signing keys could not be fetched"
    headers = {"Retry-After": "5"}


class RateLimited(ProblemError):
    status = 429
    problem = "rate-limited"
    title = "Too many requests"

    def __init__(self, detail: str | None = None, *, retry_after_s: int, **extra: Any) -> None:
        super().__init__(detail, **extra)
        self.retry_after_s = max(1, retry_after_s)

    def response_headers(self) -> dict[str, str]:
        return {**self.headers, "Retry-After": str(self.retry_after_s)}


class MalformedJson(ProblemError):
    status = 400
    problem = "malformed-json"
    title = "The request body is not valid JSON"


class PayloadTooLarge(ProblemError):
    status = 413
    problem = "payload-too-large"
    title = "The request body is too large"


class MethodNotAllowed(ProblemError):
    status = 405
    problem = "method-not-allowed"
    title = "Method not allowed"


class InvalidValue(UnprocessableContent):
    problem = "invalid-value"
    title = "A value cannot be stored: out of range or not valid text"


# The longest field name or reason echoed back, and how many fields a detail names:
# an error never echoes kilobytes of the caller's input.
ECHO_LIMIT = 200
DETAIL_FIELDS = 10


def problems(*errors: type[ProblemError]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` for the problems a route can return."""
    out: dict[int | str, dict[str, Any]] = {}
    for error in errors:
        described = out.get(error.status, {}).get("description")
        out[error.status] = {
            "description": f"{described}; {error.title}" if described else error.title,
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
    return out
