"""
A test client for the JSON API that sends a token and checks every JSON answer against
the committed OpenAPI document (`docs/api/openapi.json`) with `jsonschema`.
"""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

from django.test import Client
from jsonschema import Draft202012Validator, FormatChecker

from csirtnet.accounts.services import create_api_token
from tests.conftest import REPO

OPENAPI_PATH = REPO / "docs" / "api" / "openapi.json"
_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z$")  # RFC 3339, UTC, with Z
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

FORMATS = FormatChecker(formats=())


@FORMATS.checks("date-time")
def _is_utc_time(value: object) -> bool:
    return not isinstance(value, str) or bool(_UTC.match(value))


@FORMATS.checks("uuid")
def _is_uuid(value: object) -> bool:
    return not isinstance(value, str) or bool(_UUID.match(value))


@cache
def openapi() -> dict[str, Any]:
    """The committed OpenAPI document."""
    document: dict[str, Any] = json.loads(OPENAPI_PATH.read_text(encoding="utf-8"))
    return document


def _operation(method: str, path: str) -> dict[str, Any] | None:
    for template, operations in openapi()["paths"].items():
        pattern = "^" + re.sub(r"\\{[^}]+\\}", "[^/]+", re.escape(template)) + "$"
        if re.match(pattern, path) and method in operations:
            operation: dict[str, Any] = operations[method]
            return operation
    return None


def response_schema(method: str, path: str, status: int) -> dict[str, Any]:
    """
    Return the schema the document gives for this answer: the operation's, or the error
    shape for a path or method the document does not have (404, 405).
    """
    operation = _operation(method.lower(), path)
    if operation is None:
        assert status in (404, 405), f"{method} {path} is not in the document"
        return {"$ref": "#/components/schemas/ErrorOut"}
    documented = operation["responses"]
    assert str(status) in documented, f"{method} {path} does not document status {status}"
    schema: dict[str, Any] = documented[str(status)]["content"]["application/json"]["schema"]
    return schema


def assert_matches_document(response: Any) -> Any:
    """Validate a JSON answer against the document; return its parsed body."""
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    method, path = response.request["REQUEST_METHOD"], response.request["PATH_INFO"]
    schema = {
        **response_schema(method, path, response.status_code),
        "components": openapi()["components"],
    }
    Draft202012Validator(schema, format_checker=FORMATS).validate(body)
    return body


def token_for(membership: Any, *, read_only: bool = False) -> str:
    """Return the plain text of a new API token of `membership`'s user."""
    _token, plaintext = create_api_token(user=membership.user, name="tests", read_only=read_only)
    return plaintext


class Api:
    """Calls /api/v1/ with a bearer token (or none) and checks each answer's shape."""

    def __init__(self, token: str | None = None, client: Client | None = None) -> None:
        self.client = client or Client()
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def get(self, path: str, **params: Any) -> Any:
        """GET `path` (under /api/v1) with query parameters."""
        return self._checked(self.client.get(_url(path), params, headers=self.headers))

    def post(self, path: str, body: Any = None) -> Any:
        """POST `body` as JSON."""
        return self._send("post", path, body)

    def patch(self, path: str, body: Any = None) -> Any:
        """PATCH `body` as JSON."""
        return self._send("patch", path, body)

    def delete(self, path: str) -> Any:
        """DELETE `path`."""
        return self._checked(self.client.delete(_url(path), headers=self.headers))

    def _send(self, method: str, path: str, body: Any) -> Any:
        data = "" if body is None else json.dumps(body)
        send = getattr(self.client, method)
        response = send(
            _url(path), data=data, content_type="application/json", headers=self.headers
        )
        return self._checked(response)

    @staticmethod
    def _checked(response: Any) -> Any:
        response.body = assert_matches_document(response)
        return response


def _url(path: str) -> str:
    return path if path.startswith("/api/") else "/api/v1" + path


def report(actor: Any, **fields: Any) -> Any:
    """Report an incident as `actor` through the service (AMBER, one Argentine address)."""
    from csirtnet.incidents import services

    values: dict[str, Any] = {
        "title": "C2 server in Argentina",
        "taxonomy_predicate": "malicious-code",
        "taxonomy_value": "c2-server",
        "severity": 3,
        "observables": ["190.210.0.1"],
        "tlp": "amber",
        **fields,
    }
    return services.create_incident(actor=actor, **values)
