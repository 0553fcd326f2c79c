"""
Refuse any UPDATE of core_auditentry in the database itself (SQLite and PostgreSQL).
Deleting rows stays possible (test databases are emptied between tests), and a removed
entry breaks the hash chain, which `csirtnet verify-audit` reports.
"""

from django.db import migrations

TABLE = "core_auditentry"
MESSAGE = "audit entries are never updated"

SQL = {
    "sqlite": (
        [
            f"CREATE TRIGGER {TABLE}_no_update BEFORE UPDATE ON {TABLE} "
            f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;",
        ],
        [f"DROP TRIGGER IF EXISTS {TABLE}_no_update;"],
    ),
    "postgresql": (
        [
            f"CREATE FUNCTION {TABLE}_never_updated() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'restrict_violation'; END $$;",
            f"CREATE TRIGGER {TABLE}_no_update BEFORE UPDATE ON {TABLE} "
            f"FOR EACH ROW EXECUTE FUNCTION {TABLE}_never_updated();",
        ],
        [
            f"DROP TRIGGER IF EXISTS {TABLE}_no_update ON {TABLE};",
            f"DROP FUNCTION IF EXISTS {TABLE}_never_updated();",
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
    dependencies = [("core", "0001_audit_entries")]

    operations = [migrations.RunPython(forwards, backwards)]
