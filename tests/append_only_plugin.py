"""
Pytest plugin of the whole suite (imported by tests/conftest.py): the audit log and the
evidence custody table refuse DELETE in the database itself, so after each transactional
test on SQLite their rows are removed with the triggers set aside, before pytest-django's
flush (a plain DELETE FROM each table) runs. PostgreSQL flushes with TRUNCATE, which row
triggers do not see. The SQL is the migrations' own.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest

# The migrations that make a table refuse DELETE: each has TABLE and SQL[vendor] =
# (create statements, drop statements). The triggers refusing UPDATE (core 0002) and an
# INSERT that would replace a row (core 0004, evidence 0003, SQLite only) are not set
# aside: a flush only deletes, which fires neither.
APPEND_ONLY_MIGRATIONS = (
    "csirtnet.core.migrations.0003_audit_entries_never_deleted",
    "csirtnet.evidence.migrations.0002_custody_events_append_only",
)
TRANSACTIONAL_FIXTURES = ("transactional_db", "live_server", "django_db_reset_sequences")


def empty_append_only_tables() -> None:
    """
    Drop the DELETE-refusing triggers of the audit and custody tables, delete their rows
    and create the triggers again, in one transaction (SQLite only; elsewhere nothing).
    """
    from django.db import connection, transaction

    if connection.vendor != "sqlite":
        return
    with transaction.atomic(), connection.cursor() as cursor:
        for name in APPEND_ONLY_MIGRATIONS:
            migration = importlib.import_module(name)
            create, drop = migration.SQL["sqlite"]
            emptying = f"DELETE FROM {migration.TABLE}"  # noqa: S608 (the migration's table)
            for statement in [*drop, emptying, *create]:
                cursor.execute(statement)


def _is_transactional(request: pytest.FixtureRequest) -> bool:
    """Whether the test runs on a transactional database (flushed after it)."""
    from pytest_django.fixtures import validate_django_db

    if _flushing_test_case(request) is not None:
        return True
    marker = request.node.get_closest_marker("django_db")
    if marker is not None:
        transaction, reset_sequences, *_rest = validate_django_db(marker)
        if transaction or reset_sequences:
            return True
    return any(name in request.fixturenames for name in TRANSACTIONAL_FIXTURES)


def _flushing_test_case(request: pytest.FixtureRequest) -> Any:
    """The test's Django `TransactionTestCase` (not a `TestCase`, which rolls back), or None."""
    from django.test import TestCase, TransactionTestCase

    case = getattr(request.node, "instance", None)
    if isinstance(case, TransactionTestCase) and not isinstance(case, TestCase):
        return case
    return None


@pytest.fixture(autouse=True)
def _append_only_rows_removable(request: pytest.FixtureRequest) -> Iterator[None]:
    """
    Let the flush after a transactional test empty the append-only tables on SQLite.
    The database fixture is requested here so that this teardown runs before its flush;
    a Django `TransactionTestCase` flushes inside the test itself, so its teardown of
    fixtures is wrapped instead.
    """
    if not _is_transactional(request):
        yield
        return
    case = _flushing_test_case(request)
    if case is not None:
        flush: Callable[[], Any] = case._fixture_teardown

        def _fixture_teardown() -> Any:
            empty_append_only_tables()
            return flush()

        case._fixture_teardown = _fixture_teardown
        yield
        return
    request.getfixturevalue("transactional_db")
    yield
    empty_append_only_tables()
