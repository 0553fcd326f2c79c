"""
Refuse any DELETE of core_auditentry in the database itself (SQLite and PostgreSQL), as
0002 refuses UPDATE: the audit log is append-only. Test databases are emptied around
these triggers (the suite's `append_only_plugin`); PostgreSQL's TRUNCATE does not fire
row triggers. A database owner can still drop the trigger, which is why the head hash
is kept elsewhere (`csirtnet verify-audit --expect-head`).
"""

from django.db import migrations

TABLE = "core_auditentry"
MESSAGE = "audit entries are append-only: they are never deleted"

SQL = {
    "sqlite": (
        [
            f"CREATE TRIGGER {TABLE}_no_delete BEFORE DELETE ON {TABLE} "
            f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;",
        ],
        [f"DROP TRIGGER IF EXISTS {TABLE}_no_delete;"],
    ),
    "postgresql": (
        [
            f"CREATE FUNCTION {TABLE}_never_deleted() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'restrict_violation'; END $$;",
            f"CREATE TRIGGER {TABLE}_no_delete BEFORE DELETE ON {TABLE} "
            f"FOR EACH ROW EXECUTE FUNCTION {TABLE}_never_deleted();",
        ],
        [
            f"DROP TRIGGER IF EXISTS {TABLE}_no_delete ON {TABLE};",
            f"DROP FUNCTION IF EXISTS {TABLE}_never_deleted();",
        ],
    ),
}


def forwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    """Create the trigger of the connection's database (SQLite or PostgreSQL)."""
    for statement in SQL[schema_editor.connection.vendor][0]:
        schema_editor.execute(statement)


def backwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    """Drop it."""
    for statement in SQL[schema_editor.connection.vendor][1]:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("core", "0002_audit_entries_never_updated")]

    operations = [migrations.RunPython(forwards, backwards)]
