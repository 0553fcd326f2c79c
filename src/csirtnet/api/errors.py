"""
The one error shape of the JSON API, `{"detail": "…", "code": "…"}`, and the handlers
that turn every failure under /api/ into it (STYLE §7).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as RequestValidationError

from csirtnet.incidents.exceptions import IllegalTransitionError

logger = logging.getLogger(__name__)

# `code` of each kind of failure: stable, English, for programs; `detail` is for people.
INVALID = "invalid"  # 400: a field of the body or the query string is invalid
UNKNOWN_PARAMETER = "unknown_parameter"  # 400: a query parameter the endpoint does not take
MALFORMED = "malformed"  # 400: the body is not JSON
NOT_AUTHENTICATED = "not_authenticated"  # 401: no token, or an unknown or revoked one
PERMISSION_DENIED = "permission_denied"  # 403: the actor may not do this to this object
READ_ONLY = "read_only_token"  # 403: a read-only token on a POST, PATCH, PUT, DELETE
NO_MEMBERSHIP = "no_membership"  # 403: the token's user acts for no organization
NOT_FOUND = "not_found"  # 404: missing, hidden by TLP, or no such path
METHOD_NOT_ALLOWED = "method_not_allowed"  # 405
ILLEGAL_TRANSITION = "illegal_transition"  # 409: the status workflow does not allow the move
PAYLOAD_TOO_LARGE = "payload_too_large"  # 413: the body is over the request size limit
THROTTLED = "throttled"  # 429
SERVER_ERROR = "server_error"  # 500: a bug; logged, never described
_CODE_OF_STATUS = {
    400: INVALID,
    401: NOT_AUTHENTICATED,
    403: PERMISSION_DENIED,
    404: NOT_FOUND,
    405: METHOD_NOT_ALLOWED,
    409: ILLEGAL_TRANSITION,
    413: PAYLOAD_TOO_LARGE,
    429: THROTTLED,
}


class ErrorOut(Schema):
    """Every error answer of the API: `detail` for people (translated), `code` for programs."""

    detail: str
    code: str


class ApiError(HttpError):
    """An HTTP error with its `code`; raised by authentication and handlers."""

    def __init__(self, status_code: int, code: str, detail: str) -> None:
        super().__init__(status_code, detail)
        self.code = code


def error_responses(*statuses: int) -> dict[int, type[ErrorOut]]:
    """Return `{status: ErrorOut}` for an operation's `response=`, 500 included."""
    return dict.fromkeys((*statuses, 500), ErrorOut)


def error_response(status: int, code: str, detail: str) -> JsonResponse:
    """Return the JSON error answer `{"detail": detail, "code": code}` with `status`."""
    return JsonResponse({"detail": detail, "code": code}, status=status)


def reject_unknown_parameters(request: HttpRequest, allowed: Iterable[str]) -> None:
    """
    Refuse a query string with a parameter outside `allowed`, so that a misspelled
    filter never silently widens a search.

    Raises:
        ApiError: 400 `unknown_parameter`, naming the first unknown parameter.
    """
    known = set(allowed)
    unknown = sorted(name for name in request.GET if name not in known)
    if unknown:
        raise ApiError(
            400,
            UNKNOWN_PARAMETER,
            _("Unknown query parameter: %(name)s. Known: %(known)s.")
            % {"name": unknown[0][:60], "known": ", ".join(sorted(known))},
        )


def install_error_handlers(api: NinjaAPI) -> None:
    """Make every failure of `api` answer in the one error shape (none shows a traceback)."""
    api.add_exception_handler(RequestValidationError, _request_invalid)
    api.add_exception_handler(IllegalTransitionError, _illegal_transition)
    api.add_exception_handler(ValidationError, _service_invalid)
    api.add_exception_handler(AuthenticationError, _not_authenticated)
    api.add_exception_handler(HttpError, _http_error)
    api.add_exception_handler(PermissionDenied, _permission_denied)
    api.add_exception_handler(Http404, _not_found)
    api.add_exception_handler(RequestDataTooBig, _too_large)
    api.add_exception_handler(MultiPartParserError, _bad_multipart)
    api.add_exception_handler(Exception, _server_error)


def not_found_response() -> JsonResponse:
    """Return the 404 answer: the same for a missing object, a hidden one and no such path."""
    return error_response(404, NOT_FOUND, _("Not found."))


def _request_invalid(request: HttpRequest, exc: Any) -> HttpResponse:
    """
    Name the invalid fields of the body or query string, e.g. `severity: …`; a path
    that cannot name an object (a malformed uuid) is not found, as a missing one.
    """
    if any(error.get("loc", ("",))[0] == "path" for error in exc.errors):
        return not_found_response()
    messages = [_field_message(error) for error in exc.errors]
    return error_response(400, INVALID, "; ".join(messages[:5]) or _("Invalid request."))


def _field_message(error: dict[str, Any]) -> str:
    # pydantic names its own validators in the location ("function-wrap[…]"): drop them
    location = [
        str(part)
        for part in error.get("loc", ())
        if not ("[" in str(part) or "(" in str(part) or str(part).startswith("constrained-"))
    ]
    # ("body", "payload", "title"): drop the source and the handler's parameter name;
    # ("body", "payload") alone is the body as a whole
    if location[:1] == ["body"]:
        location = location[2:] or ["body"]
    elif location[:1] == ["query"]:
        location = location[1:]
    field = ".".join(location)
    message = str(error.get("msg", ""))
    return f"{field}: {message}" if field else message


def _service_invalid(request: HttpRequest, exc: Any) -> HttpResponse:
    """Render a service's `ValidationError`; a message dict names each field."""
    if hasattr(exc, "error_dict"):
        parts = [
            f"{field}: {' '.join(str(message) for message in messages)}"
            for field, messages in exc.message_dict.items()
        ]
    else:
        parts = [str(message) for message in exc.messages]
    return error_response(400, INVALID, "; ".join(parts) or _("Invalid request."))


def _illegal_transition(request: HttpRequest, exc: Any) -> HttpResponse:
    return error_response(409, ILLEGAL_TRANSITION, " ".join(exc.messages))


def _not_authenticated(request: HttpRequest, exc: Any) -> HttpResponse:
    response = error_response(
        401,
        NOT_AUTHENTICATED,
        _("Send a valid API token: Authorization: Bearer <token>."),
    )
    response["WWW-Authenticate"] = 'Bearer realm="csirtnet"'  # RFC 6750, section 3
    return response


def _http_error(request: HttpRequest, exc: Any) -> HttpResponse:
    code = getattr(exc, "code", None) or _CODE_OF_STATUS.get(exc.status_code, INVALID)
    if exc.status_code == 400 and code == INVALID and str(exc).startswith("Cannot parse"):
        return error_response(400, MALFORMED, _("The request body is not valid JSON."))
    return error_response(exc.status_code, code, str(exc))


def _permission_denied(request: HttpRequest, exc: Any) -> HttpResponse:
    return error_response(
        403, PERMISSION_DENIED, _("Your organization may not do this to this object.")
    )


def _not_found(request: HttpRequest, exc: Any) -> HttpResponse:
    return not_found_response()


def _too_large(request: HttpRequest, exc: Any) -> HttpResponse:
    return error_response(413, PAYLOAD_TOO_LARGE, _("The request body is too large."))


def _bad_multipart(request: HttpRequest, exc: Any) -> HttpResponse:
    return error_response(
        400, INVALID, _("The multipart body cannot be read (no boundary, or cut short).")
    )


def _server_error(request: HttpRequest, exc: Any) -> HttpResponse:
    logger.error("API error on %s %s", request.method, request.path, exc_info=exc)
    return error_response(500, SERVER_ERROR, _("Internal server error."))
