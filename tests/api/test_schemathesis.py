"""
Property-based tests of the JSON API from its committed OpenAPI document (Schemathesis):
every operation, for every kind of caller, answers without a server error and as the
document says (status code documented, content type, body schema).

Each operation runs for each role, on seeded incidents so that path parameters name
real objects half of the time; requests go to the WSGI application in-process. The
number of examples per operation and role is CSIRTNET_SCHEMATHESIS_EXAMPLES (15).
"""

from __future__ import annotations

import logging
import os
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.client import OPENAPI_PATH, report, token_for

SCHEMA = schemathesis.openapi.from_path(OPENAPI_PATH)
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations() if isinstance(result, Ok)]
ROLES = ["handler", "read_only", "secretariat", "outsider", "anonymous"]
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
EXAMPLES = int(os.environ.get("CSIRTNET_SCHEMATHESIS_EXAMPLES", "15"))


@pytest.fixture(scope="module")
def application() -> Any:
    """The WSGI application, as a server runs it."""
    return get_wsgi_application()


@pytest.fixture
def in_one_transaction() -> Any:
    """
    Keep the test's database connection open across requests: the WSGI handler closes
    it before and after each one, which would end the test's transaction (Django's test
    client does the same). 4xx answers are expected by the hundred: their warnings are muted.
    """
    request_logger = logging.getLogger("django.request")
    level = request_logger.level
    request_logger.setLevel(logging.ERROR)
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)
    request_logger.setLevel(level)


@pytest.fixture
def callers(owner, recipient, outsider, secretariat_member) -> dict[str, str | None]:  # type: ignore[no-untyped-def]
    """The bearer token of each role (None: no token)."""
    return {
        "handler": token_for(owner),
        "read_only": token_for(owner, read_only=True),
        "secretariat": token_for(secretariat_member),
        "outsider": token_for(outsider),
        "anonymous": None,
    }


@pytest.fixture
def seeded(owner, recipient) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Incidents to hit: an AMBER one of the handler, a GREEN one of another member."""
    from csirtnet.incidents import services

    amber = report(owner, observables=["190.210.0.1", "evil.example.com"])
    services.add_comment(actor=owner, incident=amber, text="First look: <b>C2</b>")
    report(recipient, tlp="green", title="Phishing kit", observables=["200.7.84.65"])
    return {"incident_uuid": str(amber.uuid)}


def _strategy(operation: Any, seeded: dict[str, str]) -> Any:
    """Cases of `operation`, valid and invalid, half of them on a seeded object."""
    modes = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    strategies = [operation.as_strategy(generation_mode=mode) for mode in modes]
    names = {parameter.name for parameter in operation.path_parameters}
    if names and names <= seeded.keys():
        fixed = {name: seeded[name] for name in names}
        strategies.append(operation.as_strategy(path_parameters=fixed))
    return st.one_of(strategies)


def _failure(operation: Any, token: str | None, seeded: dict[str, str], app: Any) -> str:
    """Run `operation`'s examples as the caller of `token`; return the first problem, or ""."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}

    @given(case=_strategy(operation, seeded))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],  # no shrinking: report the first failure
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
    )
    def answers_as_documented(case: Any) -> None:
        if token is None and case.headers:
            case.headers.pop("Authorization", None)
        response = case.call(app=app, headers=headers)
        case.validate_response(response, checks=CHECKS)

    try:
        answers_as_documented()
    except (AssertionError, BaseExceptionGroup) as error:  # Schemathesis' failures
        return f"{operation.label}: {error}"
    return ""


@pytest.mark.parametrize("role", ROLES)
def test_every_operation_answers_as_documented(
    role, callers, seeded, application, in_one_transaction, capsys
):
    failures = [
        problem
        for operation in OPERATIONS
        if (problem := _failure(operation, callers[role], seeded, application))
    ]
    with capsys.disabled():  # shown in the run's output, passing or not
        summary = f"{len(OPERATIONS)} operations x {EXAMPLES} examples, {len(failures)} failing"
        print(f" {role}: {summary}", end=" ")  # noqa: T201
    assert not failures, "\n\n".join(failures)
