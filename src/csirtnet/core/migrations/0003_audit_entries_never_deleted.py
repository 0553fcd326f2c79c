"""
Refuse any DELETE of core_auditentry in the database itself (SQLite and PostgreSQL), as
0002 refuses UPDATE: the audit log is append-only. Test databases are emptied around
these triggers (the suite's `append_only_plugin`); PostgreSQL's TRUNCATE does not fire
row triggers. A database owner can still drop the trigger, which is why the head hash
is kept elsewhere (`csirtnet verify-audit --expect-head`).
"""

from django.db import migrations

from csirtnet.core.dbsql import per_vendor_sql

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


class Migration(migrations.Migration):
    dependencies = [("core", "0002_audit_entries_never_updated")]

    operations = [per_vendor_sql(SQL)]
