"""
Tampering with the chain of custody or a stored file is found by `csirtnet verify-custody`;
the database itself refuses UPDATE and DELETE of custody events (SQLite and PostgreSQL).
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from csirtnet.directory.models import Organization
from csirtnet.evidence import services
from csirtnet.evidence.models import CustodyEvent, Evidence
from csirtnet.evidence.storage import evidence_path
from tests.evidence.conftest import JSON_SAMPLE

pytestmark = pytest.mark.django_db

TABLE = CustodyEvent._meta.db_table


@pytest.fixture
def chain(owner, recipient, incident, add):  # type: ignore[no-untyped-def]
    """An item with four events: collected, transferred, accepted, examined."""
    evidence = add(owner, incident, JSON_SAMPLE, content_type="application/json")
    services.transfer_evidence(
        actor=owner, evidence=evidence, receiving_organization=recipient.organization,
        reason="Malware analysis by CERT.ar",
    )  # fmt: skip
    services.accept_transfer(actor=recipient, evidence=evidence, reason="Received intact")
    services.record_examination(actor=recipient, evidence=evidence, reason="YARA scan")
    evidence.refresh_from_db()
    return evidence


@pytest.fixture
def other(owner, incident, add):  # type: ignore[no-untyped-def]
    """A second item, with only its "collected" event."""
    return add(owner, incident)


def _verify() -> tuple[bool, str]:
    """Run verify-custody; return (passed, output)."""
    out = StringIO()
    try:
        call_command("verify_custody", stdout=out)
    except CommandError as error:
        return False, out.getvalue() + str(error)
    return True, out.getvalue()


@contextlib.contextmanager
def _triggers_off() -> Iterator[None]:
    """
    Let raw SQL change the custody table, as an attacker with database access could:
    drop the SQLite triggers, or have PostgreSQL skip triggers for this transaction.
    The test's transaction rolls all of it back.
    """
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"DROP TRIGGER IF EXISTS {TABLE}_no_update")
            cursor.execute(f"DROP TRIGGER IF EXISTS {TABLE}_no_delete")
        else:
            cursor.execute("SET LOCAL session_replication_role = replica")
    yield


def _set(event: CustodyEvent, column: str, value: Any) -> None:
    field = next(f for f in CustodyEvent._meta.concrete_fields if f.column == column)
    prepared = field.get_db_prep_value(value, connection)
    with _triggers_off(), connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {TABLE} SET {column} = %s WHERE uuid = %s",  # noqa: S608 (fixed names)
            [prepared, CustodyEvent._meta.pk.get_db_prep_value(event.pk, connection)],
        )


def _event(evidence: Evidence, sequence: int) -> CustodyEvent:
    return CustodyEvent.objects.get(evidence=evidence, sequence=sequence)


def _new_value(column: str, event: CustodyEvent, other: Evidence, recipient: Any) -> Any:
    """A different, valid value for `column` of `event`."""
    values: dict[str, Any] = {
        "uuid": uuid.uuid4(),
        "evidence_id": other.pk,
        "sequence": 9,
        "action": "released",
        "actor_id": get_user_model().objects.exclude(pk=event.actor_id).first().pk,
        "organization_id": Organization.objects.get(short_name="CICTE").pk,
        "occurred_at": event.occurred_at + timedelta(microseconds=1),
        "reason": event.reason + " ",
        "receiving_organization_id": Organization.objects.get(short_name="CERT-MX").pk,
        "sha256": "f" * 64,
        "previous_hash": "a" * 64,
        "hash": "b" * 64,
    }
    return values[column]


CUSTODY_COLUMNS = [
    "uuid", "evidence_id", "sequence", "action", "actor_id", "organization_id",
    "occurred_at", "reason", "receiving_organization_id", "sha256", "previous_hash", "hash",
]  # fmt: skip


def test_the_tampering_tests_cover_every_column_of_the_custody_table():
    assert sorted(f.column for f in CustodyEvent._meta.concrete_fields) == sorted(CUSTODY_COLUMNS)


def test_an_intact_chain_passes(chain, other):
    passed, output = _verify()
    assert passed, output
    assert "2 evidence items, 5 custody events, 0 broken." in output


@pytest.mark.parametrize("column", CUSTODY_COLUMNS)
@pytest.mark.parametrize("sequence", [1, 2, 4])
def test_changing_any_column_of_any_event_is_detected(chain, other, recipient, column, sequence):
    if column == "receiving_organization_id":
        sequence = 2  # only a transfer may name a receiver (a check constraint)
    if column == "evidence_id" and sequence == 1:
        sequence = 3  # the other item has its own event 1 (a unique constraint)
    if column == "action" and sequence == 2:
        sequence = 3  # a transfer names a receiver; no other action may (a check constraint)
    event = _event(chain, sequence)
    _set(event, column, _new_value(column, event, other, recipient))
    passed, output = _verify()
    assert not passed
    assert f"BROKEN {chain.uuid}" in output or f"BROKEN {other.uuid}" in output
    assert "broken." in output


def test_a_changed_reason_names_the_event_and_the_hash(chain, other):
    _set(_event(chain, 3), "reason", "Received damaged")
    passed, output = _verify()
    assert not passed
    assert f"BROKEN {chain.uuid} sequence 3: hash" in output
    assert "1 broken." in output


@pytest.mark.parametrize(("sequence", "reason"), [(1, "sequence"), (2, "sequence"), (4, "head")])
def test_deleting_an_event_is_detected(chain, other, sequence, reason):
    with _triggers_off(), connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {TABLE} WHERE evidence_id = %s AND sequence = %s",  # noqa: S608
            [chain.pk, sequence],
        )
    passed, output = _verify()
    assert not passed
    assert f"BROKEN {chain.uuid}" in output
    assert f": {reason}" in output


def test_reordering_two_events_is_detected(chain, other):
    second, third = _event(chain, 2), _event(chain, 3)
    _set(second, "sequence", 99)
    _set(third, "sequence", 2)
    _set(second, "sequence", 3)
    passed, output = _verify()
    assert not passed
    assert f"BROKEN {chain.uuid} sequence 2: " in output


def test_changing_the_evidence_row_s_hash_is_detected(chain, other):
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Evidence._meta.db_table} SET sha256 = %s WHERE id = %s",  # noqa: S608
            ["e" * 64, chain.pk],
        )
    passed, output = _verify()
    assert not passed
    assert f"BROKEN {chain.uuid} sequence 1: sha256" in output


@pytest.mark.parametrize(
    ("column", "short_name"),
    [("custodian_id", "CERTuy"), ("owner_id", "CERT-MX"), ("pending_receiver_id", "CERT-MX")],
)
def test_changing_who_holds_the_item_is_detected(chain, other, column, short_name):
    organization = Organization.objects.get(short_name=short_name)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Evidence._meta.db_table} SET {column} = %s WHERE id = %s",  # noqa: S608
            [organization.pk, chain.pk],
        )
    passed, output = _verify()
    assert not passed
    assert f"BROKEN {chain.uuid} sequence 0: state" in output


def test_an_event_its_predecessors_do_not_allow_is_found():
    from types import SimpleNamespace

    from csirtnet.evidence.integrity import _replay

    def event(action, org, receiving=None):  # type: ignore[no-untyped-def]
        return SimpleNamespace(
            action=action, organization_id=org, receiving_organization_id=receiving
        )

    collected = event("collected", 1)
    offer = event("transferred", 1, 2)
    assert _replay([collected, offer, event("accepted", 2)]) is None
    wrong_accept = event("accepted", 3)
    assert _replay([collected, offer, wrong_accept]) is wrong_accept
    not_custodian = event("examined", 2)
    assert _replay([collected, not_custodian]) is not_custodian
    after_release = event("examined", 1)
    assert _replay([collected, event("released", 1), after_release]) is after_release
    second_offer = event("transferred", 1, 3)
    assert _replay([collected, offer, second_offer]) is second_offer


@pytest.mark.parametrize("where", ["first", "second", "middle", "last"])
def test_flipping_a_byte_of_a_stored_file_is_detected(chain, other, where):
    path = evidence_path(chain.sha256)
    data = bytearray(path.read_bytes())
    offset = {"first": 0, "second": 1, "middle": len(data) // 2, "last": len(data) - 1}[where]
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))
    passed, output = _verify()
    assert not passed
    assert f"BROKEN {chain.uuid} sequence 0: file_sha256" in output
    assert f"BROKEN {other.uuid}" not in output


def test_a_missing_file_is_detected(chain):
    evidence_path(chain.sha256).unlink()
    passed, output = _verify()
    assert not passed
    assert "file_missing" in output


@pytest.mark.parametrize("statement", ["UPDATE {t} SET reason = 'x'", "DELETE FROM {t}"])
def test_the_database_refuses_update_and_delete_of_custody_events(chain, statement):
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement.format(t=TABLE))
    assert CustodyEvent.objects.filter(evidence=chain).count() == 4


@pytest.mark.parametrize("conflict", ["uuid", "hash", "evidence_id, sequence"])
def test_the_database_refuses_an_insert_that_would_replace_a_custody_event(
    chain, recipient, conflict
):
    # SQLite's REPLACE deletes the conflicting row with no DELETE trigger fired, so a
    # BEFORE INSERT trigger (evidence/0003) refuses it; PostgreSQL runs ON CONFLICT DO
    # UPDATE as an UPDATE of the row, which the trigger of evidence/0002 refuses.
    victim = _event(chain, 2)
    stored = list(CustodyEvent.objects.values_list(*CUSTODY_COLUMNS))
    fresh: dict[str, Any] = {
        "uuid": CustodyEvent._meta.pk.get_db_prep_value(uuid.uuid4(), connection),
        "hash": "b" * 64,
        "sequence": 9,
        "reason": "rewritten",
    }
    for column in conflict.split(", "):
        fresh.pop(column, None)
    chosen = ", ".join("%s" if column in fresh else column for column in CUSTODY_COLUMNS)
    values = [fresh[column] for column in CUSTODY_COLUMNS if column in fresh]
    copy = (
        f"INTO {TABLE} ({', '.join(CUSTODY_COLUMNS)}) SELECT {chosen} FROM {TABLE} "  # noqa: S608
        "WHERE uuid = %s"
    )
    upsert = f"INSERT {copy} ON CONFLICT ({conflict}) DO UPDATE SET reason = 'x'"
    statements = [upsert]
    if connection.vendor == "sqlite":
        statements += [f"INSERT OR REPLACE {copy}", f"REPLACE {copy}"]
    victim_pk = CustodyEvent._meta.pk.get_db_prep_value(victim.pk, connection)
    for statement in statements:
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement, [*values, victim_pk])

    assert list(CustodyEvent.objects.values_list(*CUSTODY_COLUMNS)) == stored
    passed, output = _verify()
    assert passed, output
    assert "1 evidence items, 4 custody events, 0 broken." in output
    appended = services.record_examination(actor=recipient, evidence=chain, reason="Again")
    assert (appended.sequence, appended.previous_hash) == (5, chain.head_hash)
    passed, output = _verify()
    assert passed, output
    assert "5 custody events, 0 broken." in output


def test_the_model_refuses_update_and_delete(chain):
    event = _event(chain, 1)
    event.reason = "rewritten"
    with pytest.raises(TypeError, match="append-only"):
        event.save()
    with pytest.raises(TypeError, match="append-only"):
        event.delete()
    with pytest.raises(TypeError, match="append-only"):
        CustodyEvent.objects.filter(evidence=chain).update(reason="x")
    with pytest.raises(TypeError, match="append-only"):
        CustodyEvent.objects.filter(evidence=chain).delete()
    assert _event(chain, 1).reason == ""


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("name", "renamed.json"), ("size", 1), ("content_type", "text/plain"),
        ("description", "something else"), ("incident_id", "another incident"),
    ],
)  # fmt: skip
def test_changing_the_item_itself_or_moving_it_is_detected(chain, other, owner, column, value):
    from tests.incidents.factories import IncidentFactory

    if value == "another incident":
        value = IncidentFactory(owner=owner.organization, author=owner.user, tlp="clear").pk
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Evidence._meta.db_table} SET {column} = %s WHERE id = %s",  # noqa: S608
            [value, chain.pk],
        )
    passed, output = _verify()
    assert not passed
    assert f"BROKEN {chain.uuid} sequence 1: hash" in output
