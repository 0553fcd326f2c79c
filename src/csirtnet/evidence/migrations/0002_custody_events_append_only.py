"""
Make the custody table append-only in the database itself: triggers that raise on any
UPDATE or DELETE of evidence_custodyevent, on SQLite and on PostgreSQL.
"""

from django.db import migrations

from csirtnet.core.dbsql import per_vendor_sql

TABLE = "evidence_custodyevent"
MESSAGE = "custody events are append-only"

SQL = {
    "sqlite": (
        [
            f"CREATE TRIGGER {TABLE}_no_update BEFORE UPDATE ON {TABLE} "
            f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;",
            f"CREATE TRIGGER {TABLE}_no_delete BEFORE DELETE ON {TABLE} "
            f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;",
        ],
        [
            f"DROP TRIGGER IF EXISTS {TABLE}_no_update;",
            f"DROP TRIGGER IF EXISTS {TABLE}_no_delete;",
        ],
    ),
    "postgresql": (
        [
            f"CREATE FUNCTION {TABLE}_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'restrict_violation'; END $$;",
            f"CREATE TRIGGER {TABLE}_no_update BEFORE UPDATE ON {TABLE} "
            f"FOR EACH ROW EXECUTE FUNCTION {TABLE}_append_only();",
            f"CREATE TRIGGER {TABLE}_no_delete BEFORE DELETE ON {TABLE} "
            f"FOR EACH ROW EXECUTE FUNCTION {TABLE}_append_only();",
        ],
        [
            f"DROP TRIGGER IF EXISTS {TABLE}_no_update ON {TABLE};",
            f"DROP TRIGGER IF EXISTS {TABLE}_no_delete ON {TABLE};",
            f"DROP FUNCTION IF EXISTS {TABLE}_append_only();",
        ],
    ),
}


class Migration(migrations.Migration):
    dependencies = [("evidence", "0001_evidence_and_custody_events")]

    operations = [per_vendor_sql(SQL)]
