"""The audit log: every write and every sensitive read recorded in one verifiable hash chain."""

from __future__ import annotations

import contextlib
import importlib
import threading
from collections.abc import Iterator
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.urls import reverse

from csirtnet.core import audit, hashchain
from csirtnet.core.models import RECORD_FIELDS, AuditEntry
from tests.api.client import Api, token_for
from tests.append_only_plugin import empty_append_only_tables

# The migration of each trigger: its SQLite creation puts a dropped trigger back.
TRIGGER_MIGRATIONS = {
    "update": "csirtnet.core.migrations.0002_audit_entries_never_updated",
    "delete": "csirtnet.core.migrations.0003_audit_entries_never_deleted",
}
# A value to write over each field of an entry, as raw SQL sees it.
TAMPERED = {
    "sequence": 999, "at": "2020-01-01 00:00:00", "user_id": 424242, "username": "mallory",
    "organization_id": 424242, "organization": "EVIL", "action": "incident.deleted",
    "target_type": "other.model", "target_id": "INC-2099-000001", "tlp": "clear",
    "origin": "10.9.9.9", "detail": '{"forged": true}', "previous_hash": "1" * 64,
    "hash": "2" * 64,
}  # fmt: skip
PG_TYPES = {"at": "timestamptz", "detail": "jsonb"}


def _raw(statements: list[str], params: list[object] | None = None) -> None:
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement, params or [])


@contextlib.contextmanager
def _trigger_off(kind: str) -> Iterator[None]:
    """
    Let raw SQL update or delete entries (`kind`), as the database's owner could: drop
    the SQLite trigger, or disable the PostgreSQL one, and put it back afterwards.
    """
    name = f"core_auditentry_no_{kind}"
    if connection.vendor == "sqlite":
        _raw([f"DROP TRIGGER {name}"])
    else:
        _raw([f"ALTER TABLE core_auditentry DISABLE TRIGGER {name}"])
    try:
        yield
    finally:
        if connection.vendor == "sqlite":
            _raw(importlib.import_module(TRIGGER_MIGRATIONS[kind]).SQL["sqlite"][0])
        else:
            _raw([f"ALTER TABLE core_auditentry ENABLE TRIGGER {name}"])


def _since(entry: AuditEntry | None):  # type: ignore[no-untyped-def]
    """The entries appended after `entry` (all of them for None)."""
    return AuditEntry.objects.filter(sequence__gt=entry.sequence if entry else 0)


def _five(owner) -> list[AuditEntry]:  # type: ignore[no-untyped-def]
    """Five entries of a chain of their own: any earlier ones are removed first."""
    with _trigger_off("delete"):
        AuditEntry.objects.all().delete()
    return [audit.record(actor=owner, action=f"test.step{n}", detail={"n": n}) for n in range(5)]


def _verify() -> tuple[int, hashchain.Break | None, str]:
    return audit.verify()


@pytest.mark.django_db
def test_entries_form_a_chain_that_verify_audit_accepts(owner):
    entries = _five(owner)

    assert [e.sequence for e in entries] == [1, 2, 3, 4, 5]
    assert entries[0].previous_hash == hashchain.GENESIS
    assert all(b.previous_hash == a.hash for a, b in itertools_pairwise(entries))
    assert entries[2].username == owner.user.username
    assert entries[2].organization == owner.organization.short_name
    out = StringIO()
    call_command("verify_audit", stdout=out)
    assert "5 audit entries, chain intact" in out.getvalue()
    assert entries[-1].hash in out.getvalue()


def itertools_pairwise(items):  # type: ignore[no-untyped-def]
    return zip(items, items[1:], strict=False)


@pytest.mark.django_db
def test_the_database_refuses_to_update_an_entry(owner):
    entry = _five(owner)[2]
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).update(username="mallory")
    with pytest.raises(DatabaseError), transaction.atomic():
        _raw(["UPDATE core_auditentry SET action = 'x' WHERE id = %s"], [entry.pk])


@pytest.mark.django_db
def test_the_database_refuses_to_delete_an_entry(owner):
    entries = _five(owner)
    # SQLite's RAISE(ABORT) is a constraint failure; PostgreSQL's trigger raises
    # restrict_violation (SQLSTATE 23001): both reach Django as IntegrityError.
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        AuditEntry.objects.filter(pk=entries[2].pk).delete()
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        _raw(["DELETE FROM core_auditentry WHERE id = %s"], [entries[3].pk])
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        _raw(["DELETE FROM core_auditentry"])

    assert list(AuditEntry.objects.order_by("sequence")) == entries
    assert audit.verify()[:2] == (5, None)


def _replacing(conflict: str) -> tuple[list[str], list[object]]:
    """
    Statements that insert a rewritten copy of an entry (`%s` is its id) over the entry
    holding the same `conflict` column, as one with INSERT rights only might try:
    SQLite's INSERT OR REPLACE (a delete no DELETE trigger sees) and UPSERT; PostgreSQL's
    INSERT ... ON CONFLICT DO UPDATE. Return (statements, values to put in, then the id).
    """
    columns = ["id", *RECORD_FIELDS, "previous_hash", "hash"]
    # the other unique columns get fresh values (or the database's id), so that only
    # `conflict` collides
    fresh: dict[str, object] = {"action": "incident.deleted", "sequence": 99, "hash": "2" * 64}
    if conflict != "id":
        columns.remove("id")
    fresh.pop(conflict, None)
    values = [fresh[column] for column in columns if column in fresh]
    chosen = ", ".join("%s" if column in fresh else column for column in columns)
    names = ", ".join(columns)
    insert = f"INTO core_auditentry ({names}) SELECT {chosen} FROM core_auditentry"  # noqa: S608
    where = "WHERE id = %s"
    upsert = f"INSERT {insert} {where} ON CONFLICT ({conflict}) DO UPDATE SET action = 'x'"
    if connection.vendor != "sqlite":
        return [upsert], values
    return [f"INSERT OR REPLACE {insert} {where}", f"REPLACE {insert} {where}", upsert], values


@pytest.mark.django_db
@pytest.mark.parametrize("conflict", ["id", "sequence", "hash"])
def test_the_database_refuses_an_insert_that_would_replace_an_entry(owner, conflict):
    entries = _five(owner)
    stored = list(AuditEntry.objects.values_list(*RECORD_FIELDS, "previous_hash", "hash"))
    statements, values = _replacing(conflict)
    # SQLite's BEFORE INSERT trigger (core/0004) refuses it; PostgreSQL runs the conflict
    # as an UPDATE of the row, which the trigger of core/0002 refuses.
    refusal = "never replaces one" if connection.vendor == "sqlite" else "never updated"
    for statement in statements:
        with pytest.raises(IntegrityError, match=refusal), transaction.atomic():
            _raw([statement], [*values, entries[2].pk])

    assert list(AuditEntry.objects.values_list(*RECORD_FIELDS, "previous_hash", "hash")) == stored
    out = StringIO()
    call_command("verify_audit", expect_head=entries[-1].hash, stdout=out)
    assert "5 audit entries, chain intact" in out.getvalue()
    appended = audit.record(actor=owner, action="test.after")
    assert (appended.sequence, appended.previous_hash) == (6, entries[-1].hash)
    assert audit.verify() == (6, None, appended.hash)


@pytest.mark.django_db
def test_the_suite_s_emptying_of_the_tables_keeps_every_append_only_trigger():
    # tests/append_only_plugin.py sets the DELETE triggers aside around SQLite's flush;
    # the INSERT triggers (never fired by a DELETE) stay, and all must be there after.
    expected = {
        "core_auditentry_no_update", "core_auditentry_no_delete",
        "evidence_custodyevent_no_update", "evidence_custodyevent_no_delete",
    }  # fmt: skip
    if connection.vendor == "sqlite":
        expected |= {"core_auditentry_no_replace", "evidence_custodyevent_no_replace"}
    assert _append_only_triggers() == expected
    empty_append_only_tables()
    assert _append_only_triggers() == expected


def _append_only_triggers() -> set[str]:
    """The names of the triggers on the audit and custody tables."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' "
                "AND tbl_name IN ('core_auditentry', 'evidence_custodyevent')"
            )
        else:
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgrelid IN "
                "('core_auditentry'::regclass, 'evidence_custodyevent'::regclass)"
            )
        return {name for (name,) in cursor.fetchall()}


@pytest.mark.django_db
@pytest.mark.parametrize("field", RECORD_FIELDS + ("previous_hash", "hash"))
def test_changing_any_field_of_any_entry_is_detected(owner, field):
    entries = _five(owner)
    victim = entries[2]
    with _trigger_off("update"):
        value = f"CAST(%s AS {PG_TYPES[field]})" if PG_TYPES.get(field) else "%s"
        if connection.vendor != "postgresql":
            value = "%s"
        statement = f"UPDATE core_auditentry SET {field} = {value} WHERE id = %s"  # noqa: S608
        _raw([statement], [TAMPERED[field], victim.pk])

    _count, broken, _head = _verify()

    assert broken is not None, field
    # the changed entry itself breaks, or (its hash or sequence changed) the next one does
    assert broken.index in (2, 3), (field, broken)
    with pytest.raises(CommandError, match="Audit chain broken"):
        call_command("verify_audit", stdout=StringIO())


@pytest.mark.django_db
def test_removing_an_entry_is_detected(owner):
    entries = _five(owner)
    with _trigger_off("delete"):
        AuditEntry.objects.filter(pk=entries[1].pk).delete()
    _count, broken, _head = _verify()
    assert broken is not None and broken.index == 1


@pytest.mark.django_db
def test_reordering_two_entries_is_detected(owner):
    entries = _five(owner)
    first, second = entries[1], entries[3]
    with _trigger_off("update"):
        _raw(["UPDATE core_auditentry SET sequence = -1 WHERE id = %s"], [first.pk])
        _raw(["UPDATE core_auditentry SET sequence = %s WHERE id = %s"], [2, second.pk])
        _raw(["UPDATE core_auditentry SET sequence = %s WHERE id = %s"], [4, first.pk])
    _count, broken, _head = _verify()
    assert broken is not None and broken.index == 1


@pytest.mark.django_db
def test_removing_the_newest_entries_is_caught_by_the_kept_head(owner):
    entries = _five(owner)
    with _trigger_off("delete"):
        AuditEntry.objects.filter(pk=entries[-1].pk).delete()
    call_command("verify_audit", stdout=StringIO())  # a shorter chain still holds...
    with pytest.raises(CommandError, match="not the expected"):
        call_command("verify_audit", expect_head=entries[-1].hash, stdout=StringIO())


@pytest.mark.django_db
def test_incident_writes_are_recorded_with_who_and_from_where(client, owner, recipient):
    from tests.api.client import report

    before = AuditEntry.objects.last()
    incident = report(owner, tlp="red", named_people=[])
    created = _since(before).get(action="incident.created")
    assert (created.target_type, created.target_id) == ("incidents.incident", incident.reference)
    assert (created.username, created.tlp) == (owner.user.username, "red")

    client.force_login(owner.user)
    answer = client.get(
        reverse("incidents:detail", args=[incident.uuid]), REMOTE_ADDR="192.0.2.44"
    )

    assert answer.status_code == 200
    read = _since(before).get(action="incident.read")
    assert (read.username, read.origin, read.target_id) == (
        owner.user.username, "192.0.2.44", incident.reference,
    )  # fmt: skip
    assert audit.verify()[1] is None


@pytest.mark.django_db
def test_reads_of_green_or_amber_data_are_not_recorded_but_red_api_reads_are(owner):
    from tests.api.client import report

    green = report(owner, tlp="green")
    red = report(owner, tlp="red", named_people=[])
    api = Api(token_for(owner))
    before = AuditEntry.objects.last()

    api.get(f"/incidents/{green.uuid}")
    assert not _since(before).exists()
    api.get(f"/incidents/{red.uuid}")
    api.get("/incidents")

    assert list(_since(before).values_list("action", "target_id")) == [
        ("incident.read", red.reference), ("incident.listed", red.reference),
    ]  # fmt: skip


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgres_only
def test_concurrent_writers_keep_one_unbroken_chain(owner):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serializes writers by its database lock")
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            for step in range(10):
                audit.record(actor=owner, action="test.concurrent", detail={"w": n, "s": step})
        except BaseException as exc:  # noqa: BLE001 (reported by the assertion below)
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    count, broken, _head = audit.verify()
    assert (count, broken) == (60, None)
