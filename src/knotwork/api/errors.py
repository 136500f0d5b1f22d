"""One JSON error shape for every error, mapped from the :class:`KnotworkError` tree here only.

>>> status_of(NotFoundError("no such person"))
404
>>> body(413, "PayloadTooLarge", "the request body is too large")["error"]["status"]
413
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException
from starlette.routing import Match

from knotwork.errors import (
    ConfigError,
    InputError,
    KnotworkError,
    NotFoundError,
    StoreError,
)
from knotwork.services.native import AuthorisationError

#: The HTTP status of each branch of the error tree (the most specific class wins).
STATUS: dict[type[KnotworkError], int] = {
    AuthorisationError: 403,
    NotFoundError: 404,
    InputError: 422,
    ConfigError: 500,
    StoreError: 503,
    KnotworkError: 400,
}


class ErrorDetail(BaseModel):
    """What went wrong: the error's name, where, why, and the HTTP status."""

    model_config = ConfigDict(extra="forbid")
    status: int
    error: str
    place: str | None = None
    reason: str


class ErrorBody(BaseModel):
    """The body of every error response."""

    model_config = ConfigDict(extra="forbid")
    error: ErrorDetail


def status_of(error: KnotworkError) -> int:
    """The HTTP status of a Knotwork error."""
    for cls in type(error).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 400


def body(status: int, name: str, reason: str, place: str | None = None) -> dict[str, Any]:
    """The one error shape, as plain data."""
    return {"error": {"status": status, "error": name, "place": place, "reason": reason}}


def respond(
    status: int,
    name: str,
    reason: str,
    place: str | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """An error response in the one shape (401 names the Bearer scheme)."""
    extra = dict(headers or {})
    if status == 401:
        extra["WWW-Authenticate"] = "Bearer"
    return JSONResponse(body(status, name, reason, place), status_code=status, headers=extra)


#: Names of HTTP statuses used in the ``error`` field.
NAMES = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    413: "PayloadTooLarge",
    422: "InvalidRequest",
    429: "TooManyRequests",
    503: "Unavailable",
    504: "Timeout",
}


def _page(request: Request, status: int, name: str, reason: str) -> Response | None:
    """The web app's page for an error (``app.state.error_page``) when a browser asked for a
    page outside ``/api`` and ``/health``, else None."""
    render = getattr(request.app.state, "error_page", None)
    path = request.url.path
    browser = "text/html" in request.headers.get("accept", "")
    if render is None or not browser or path.startswith("/api") or path == "/health":
        return None
    page: Response = render(request, status, name, reason)
    return page


def install(app: FastAPI) -> None:
    """Register the handlers that turn every error into the one shape (the web app's pages
    show the same error as a page)."""

    async def knotwork(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, KnotworkError)
        status, name = status_of(exc), type(exc).__name__
        page = _page(request, status, name, exc.reason)
        return page or respond(status, name, exc.reason, exc.place)

    async def http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        status = exc.status_code
        headers = dict(exc.headers or {})
        if status == 405:  # every method of every route on this path, not only the first's
            methods = {
                method
                for route in request.app.routes
                if route.matches(request.scope)[0] is not Match.NONE
                for method in getattr(route, "methods", None) or ()
            }
            headers["Allow"] = ", ".join(sorted(methods))
        page = _page(request, status, NAMES.get(status, "HTTPError"), str(exc.detail))
        if page is not None:
            return page
        return respond(status, NAMES.get(status, "HTTPError"), str(exc.detail), headers=headers)

    async def invalid(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        first = exc.errors()[0] if exc.errors() else {}
        place = ".".join(str(p) for p in first.get("loc", ()))
        return respond(422, "InvalidRequest", str(first.get("msg", "invalid request")), place)

    app.add_exception_handler(KnotworkError, knotwork)
    app.add_exception_handler(HTTPException, http)
    app.add_exception_handler(RequestValidationError, invalid)


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody} for code in (400, 401, 403, 404, 413, 422, 429, 503, 504)
}

__all__ = ["ERROR_RESPONSES", "STATUS", "ErrorBody", "body", "install", "respond", "status_of"]
