"""
Property-based tests of the JSON API from its committed OpenAPI document (Schemathesis):
every operation, for every kind of caller, answers without a server error and as the
document says (status code documented, content type, body schema).

Each operation runs for each role on seeded objects of every kind a path parameter names
(incidents, assistance requests, evidence items) and on a seeded indicator (the
`sighting_of` of the sightings): half of the examples name seeded objects in every such
parameter, the other half are generated, valid or not. Requests go to the WSGI
application in-process. The number of examples per operation and role is
CSIRTNET_SCHEMATHESIS_EXAMPLES (15).

The answers are tallied per operation (2xx, 404, other; printed with `-s`). For the
handler and its read-only token, every GET operation with a path parameter (or another
seeded parameter) must answer 2xx at least once: the proof that the seeded objects are
reached, not only 404s.
"""

from __future__ import annotations

import io
import itertools
import json
import logging
import os
from collections import Counter
from collections.abc import Container
from pathlib import Path
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
TABLE = ("shadowserver/scan_ssh.csv", "text/csv")  # evidence files, under shared/data/samples
DOCUMENT = ("stix21/oasis-examples/apt1.json", "application/json")
INDICATOR = {  # a GREEN indicator of CERT.ar, the object of the seeded sightings
    "type": "indicator", "spec_version": "2.1",
    "id": "indicator--0b8e6a55-7c1d-4f2e-9a3b-5d6c7e8f9a01",
    "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
    "name": "Botnet C2", "pattern": "[ipv4-addr:value = '198.51.100.23']",
    "pattern_type": "stix", "valid_from": "2026-01-01T00:00:00Z",
}  # fmt: skip


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
def seeded(owner, recipient, outsider, samples_dir, settings, tmp_path) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    """
    Seed one object of each kind per situation a caller meets, through the services, and
    return the values to put in each parameter that names one: the path parameters
    (`incident_uuid`, `request_uuid`, `evidence_uuid`) and `sighting_of` (a STIX id, in
    the query of GET /sightings and the body of POST /sightings). The handler is `owner`
    (CERTuy); the others see what they are party to, the secretariat (CICTE) every sent
    request, the outsider (CERT-MX) its own.

    - Incidents: an AMBER one of the handler (with a comment) and a GREEN one of CERT.ar.
    - Assistance requests: one the handler sent (technical assistance to CERT.ar, on its
      incident), one it received (takedown from CERT.ar), one of the outsider (information
      request to CERT.ar) and a law-enforcement one (preservation, UC-AR to UC-BR) that only
      those units and the secretariat see.
    - Evidence (files under a temporary CSIRTNET_VAR_DIR), each with its custody events:
      two of the handler's on its incident, one examined and held (it may transfer,
      examine, release), one with a transfer to CERT.ar pending; CERT.ar's on the received
      request, with a transfer to the handler pending (it may accept); the handler's on
      the sent request, transferred to and accepted by CERT.ar; the outsider's on its
      request; UC-AR's on the law-enforcement request.
    - Sharing: a GREEN indicator of CERT.ar (imported STIX), sighted once by the handler.
    """
    from csirtnet.accounts.models import Role
    from csirtnet.assistance import services as assistance
    from csirtnet.assistance.kinds import RequestType
    from csirtnet.directory.models import Organization
    from csirtnet.evidence import services as evidence
    from csirtnet.incidents import services as incidents
    from csirtnet.sharing import services as sharing
    from csirtnet.sharing.models import StixObject
    from tests.assistance.factories import VALID_DETAILS, law_enforcement_unit, member_of

    settings.VAR_DIR = tmp_path  # evidence files, seeded and uploaded, stay out of the var dir
    amber = report(owner, observables=["190.210.0.1", "evil.example.com"])
    incidents.add_comment(actor=owner, incident=amber, text="First look: <b>C2</b>")
    green = report(recipient, tlp="green", title="Phishing kit", observables=["200.7.84.65"])

    officer = member_of(law_enforcement_unit("UC-AR", "AR"), "officer_ar", Role.LAW_ENFORCEMENT)
    law_enforcement_unit("UC-BR", "BR")

    def ask(actor: Any, request_type: str, requested: str, **fields: Any) -> Any:
        return assistance.create_request(
            actor=actor, request_type=request_type, title=f"Seeded {request_type}",
            requested=Organization.objects.get(short_name=requested),
            details=dict(VALID_DETAILS[request_type]), **fields,
        )  # fmt: skip

    sent = ask(owner, RequestType.TECHNICAL_ASSISTANCE, "CERT.ar", incident=amber)
    received = ask(recipient, RequestType.TAKEDOWN, "CERTuy")
    foreign = ask(outsider, RequestType.INFORMATION, "CERT.ar")
    legal = ask(officer, RequestType.PRESERVATION, "UC-BR")

    def add(actor: Any, parent: Any, sample: str, content_type: str) -> Any:
        return evidence.add_evidence(
            actor=actor, parent=parent, name=Path(sample).name, content_type=content_type,
            content=io.BytesIO(Path(samples_dir, sample).read_bytes()),
        )  # fmt: skip

    def offer(actor: Any, item: Any, to: str) -> None:
        receiver = Organization.objects.get(short_name=to)
        evidence.transfer_evidence(
            actor=actor, evidence=item, receiving_organization=receiver, reason="Analysis"
        )

    held = add(owner, amber, *TABLE)
    evidence.record_examination(actor=owner, evidence=held, reason="Hashes checked")
    outgoing = add(owner, amber, *DOCUMENT)
    offer(owner, outgoing, "CERT.ar")
    incoming = add(recipient, received, *DOCUMENT)
    offer(recipient, incoming, "CERTuy")
    handed_over = add(owner, sent, *TABLE)
    offer(owner, handed_over, "CERT.ar")
    evidence.accept_transfer(actor=recipient, evidence=handed_over, reason="Received")
    others = [add(outsider, foreign, *TABLE), add(officer, legal, *DOCUMENT)]

    imported = sharing.import_stix(
        actor=recipient, data=json.dumps(INDICATOR).encode(), source="tests", tlp="green"
    )
    assert imported.stored_count == 1, imported.outcomes
    indicator = StixObject.objects.get(stix_id=INDICATOR["id"])
    sharing.record_sighting(actor=owner, sighted=indicator, count=3, note="Seen at our IXP")
    return {
        "incident_uuid": [str(amber.uuid), str(green.uuid)],
        "request_uuid": [str(row.uuid) for row in (sent, received, foreign, legal)],
        "evidence_uuid": [
            str(row.uuid) for row in (held, outgoing, incoming, handed_over, *others)
        ],
        "sighting_of": [INDICATOR["id"]],
    }


def _seeded_names(operation: Any, seeded: Container[str]) -> tuple[list[str], ...]:
    """
    Return the names, among `seeded`, of `operation`'s parameters to seed: every path
    parameter (all must be seeded: checked by the test), the seeded query parameters,
    and the JSON body's required properties when all of them are seeded.
    """
    path = sorted(parameter.name for parameter in operation.path_parameters)
    query = sorted(parameter.name for parameter in operation.query if parameter.name in seeded)
    required = [
        body.resolved_schema.get("required", [])
        for body in operation.body
        if body.media_type == "application/json"
    ]
    body = sorted(required[0]) if required and all(n in seeded for n in required[0]) else []
    return path, query, body


def _strategy(operation: Any, seeded: dict[str, list[str]]) -> Any:
    """
    Cases of `operation`: half generated (valid and invalid), half with seeded values in
    the parameters `_seeded_names` gives, one combination of seeded objects at a time.
    """
    modes = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    generated = st.one_of([operation.as_strategy(generation_mode=mode) for mode in modes])
    path, query, body = _seeded_names(operation, seeded)
    names = path + query + body
    if not names:
        return generated
    strategies = []
    for values in itertools.product(*(seeded[name] for name in names)):
        chosen = dict(zip(names, values, strict=True))
        fixed: dict[str, Any] = {"path_parameters": {name: chosen[name] for name in path}}
        if query:
            fixed["query"] = {name: chosen[name] for name in query}
        if body:
            fixed.update(body={name: chosen[name] for name in body}, media_type="application/json")
        strategies.append(operation.as_strategy(**fixed))
    on_seeded = st.one_of(strategies)
    # not st.one_of(generated, on_seeded): it would flatten both into one uniform choice
    return st.booleans().flatmap(lambda seed: on_seeded if seed else generated)


def _bucket(status: int) -> str:
    return "2xx" if 200 <= status < 300 else "404" if status == 404 else "other"


def _failure(
    operation: Any, token: str | None, seeded: dict[str, list[str]], app: Any, tally: Counter
) -> str:
    """
    Run `operation`'s examples as the caller of `token`, counting its answers in `tally`
    by (operation, bucket); return the first problem, or "".
    """
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
        tally[operation.label, _bucket(response.status_code)] += 1
        case.validate_response(response, checks=CHECKS)

    try:
        answers_as_documented()
    except (AssertionError, BaseExceptionGroup) as error:  # Schemathesis' failures
        return f"{operation.label}: {error}"
    return ""


def _unreached(tally: Counter, seeded: dict[str, list[str]]) -> list[str]:
    """Return the GET operations with a seeded parameter that never answered 2xx."""
    return [
        operation.label
        for operation in OPERATIONS
        if operation.method == "get"
        and any(_seeded_names(operation, seeded))
        and not tally[operation.label, "2xx"]
    ]


@pytest.mark.parametrize("role", ROLES)
def test_every_operation_answers_as_documented(
    role, callers, seeded, application, in_one_transaction, capsys
):
    unseeded = {p.name for o in OPERATIONS for p in o.path_parameters} - seeded.keys()
    assert not unseeded, f"seed objects for the path parameters {sorted(unseeded)}"
    tally: Counter = Counter()
    failures = [
        problem
        for operation in OPERATIONS
        if (problem := _failure(operation, callers[role], seeded, application, tally))
    ]
    print(f"\n{role}: answers per operation (2xx / 404 / other)")  # noqa: T201 (shown with -s)
    for operation in OPERATIONS:
        counts = " / ".join(str(tally[operation.label, b]) for b in ("2xx", "404", "other"))
        print(f"  {operation.label}: {counts}")  # noqa: T201
    with capsys.disabled():  # shown in the run's output, passing or not
        summary = f"{len(OPERATIONS)} operations x {EXAMPLES} examples, {len(failures)} failing"
        print(f" {role}: {summary}", end=" ")  # noqa: T201
    assert not failures, "\n\n".join(failures)
    if role in ("handler", "read_only"):  # they see the seeded objects of CERTuy
        unreached = _unreached(tally, seeded)
        assert not unreached, f"never 2xx, only 404 or other errors: {unreached}"
