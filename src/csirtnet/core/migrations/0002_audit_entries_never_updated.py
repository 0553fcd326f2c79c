"""
Refuse any UPDATE of core_auditentry in the database itself (SQLite and PostgreSQL).
Deleting rows stays possible (test databases are emptied between tests), and a removed
entry breaks the hash chain, which `csirtnet verify-audit` reports.
"""

from django.db import migrations

from csirtnet.core.dbsql import per_vendor_sql

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


class Migration(migrations.Migration):
    dependencies = [("core", "0001_audit_entries")]

    operations = [per_vendor_sql(SQL)]
