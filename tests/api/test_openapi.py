"""The committed OpenAPI 3.1 document: current, well-formed, and complete about errors."""

from __future__ import annotations

import json
from typing import get_args

import pytest
from django.core.management import CommandError, call_command
from jsonschema import Draft202012Validator

from csirtnet.api.openapi import render_openapi
from csirtnet.api.schemas import TlpLabel
from csirtnet.incidents.models import PAP
from csirtnet.incidents.schemas import PapLabel
from csirtnet.sharing.tlp import TLP
from tests.api.client import OPENAPI_PATH, openapi


def test_committed_document_is_the_generated_one():
    assert OPENAPI_PATH.read_text(encoding="utf-8") == render_openapi(), (
        "docs/api/openapi.json is out of date: run `csirtnet export-openapi` and commit it"
    )


def test_document_is_pretty_printed_with_sorted_keys_and_a_trailing_newline():
    text = OPENAPI_PATH.read_text(encoding="utf-8")
    assert (
        text == json.dumps(json.loads(text), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    )


def test_export_check_passes_on_the_committed_document(capsys):
    call_command("export_openapi", "--check", "--output", str(OPENAPI_PATH))
    assert "is up to date" in capsys.readouterr().out


def test_export_check_fails_when_the_file_differs(tmp_path):
    stale = tmp_path / "openapi.json"
    stale.write_text('{"openapi": "3.1.0"}\n', encoding="utf-8")
    with pytest.raises(CommandError, match="out of date"):
        call_command("export_openapi", "--check", "--output", str(stale))
    with pytest.raises(CommandError, match="out of date"):
        call_command("export_openapi", "--check", "--output", str(tmp_path / "missing.json"))


def test_export_writes_the_document(tmp_path):
    target = tmp_path / "docs" / "openapi.json"
    call_command("export_openapi", "--output", str(target))
    assert target.read_text(encoding="utf-8") == render_openapi()


def test_document_is_openapi_3_1_with_bearer_token_security():
    document = openapi()
    assert document["openapi"] == "3.1.0"
    assert document["info"]["title"] == "csirtnet API"
    assert document["components"]["securitySchemes"] == {
        "TokenAuth": {"type": "http", "scheme": "bearer"}
    }


def test_every_schema_of_the_document_is_valid_json_schema():
    for schema in openapi()["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)


def test_every_operation_is_authenticated_and_documents_its_errors():
    operations = [
        (path, method, operation)
        for path, methods in openapi()["paths"].items()
        for method, operation in methods.items()
    ]
    assert len(operations) == len(_registered_handlers())
    error = {"$ref": "#/components/schemas/ErrorOut"}
    for path, method, operation in operations:
        assert operation["security"] == [{"TokenAuth": []}], (path, method)
        responses = operation["responses"]
        for status in ("401", "403", "500"):
            assert responses[status]["content"]["application/json"]["schema"] == error
        if "{incident_uuid}" in path:
            assert responses["404"]["content"]["application/json"]["schema"] == error


def test_operation_ids_are_the_handler_names():
    ids = sorted(
        operation["operationId"]
        for methods in openapi()["paths"].values()
        for operation in methods.values()
    )
    assert ids == _registered_handlers()
    assert {
        "acknowledge_incident", "add_comment", "add_observables", "change_status",
        "correlate_value", "create_incident", "create_sighting", "get_incident",
        "import_objects", "list_incidents", "list_observables", "list_sightings",
        "list_timeline", "propose_affected_states", "update_incident",
    } <= set(ids)  # fmt: skip


def _registered_handlers() -> list[str]:
    """The names of the handler functions the routers of /api/v1/ hold, sorted."""
    from csirtnet.api.main import api

    return sorted(
        operation.view_func.__name__
        for _prefix, router in api._routers
        for path_view in router.path_operations.values()
        for operation in path_view.operations
    )


def test_labels_of_the_schemas_are_those_of_tlp_2_0_and_pap():
    assert list(get_args(TlpLabel)) == [label for _value, label in TLP.choices]
    assert list(get_args(PapLabel)) == [label for _value, label in PAP.choices]
