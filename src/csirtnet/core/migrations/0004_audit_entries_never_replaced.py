"""
Refuse, on SQLite, an INSERT that would replace an audit entry. SQLite's REPLACE
conflict resolution (`REPLACE INTO`, `INSERT OR REPLACE`) deletes the row holding the
same primary key, `sequence` or `hash` before inserting, and fires no DELETE trigger
for that delete (recursive_triggers is off): with INSERT rights alone an entry could be
rewritten past 0002 and 0003. This trigger aborts any INSERT whose `id`, `sequence` or
`hash` is already in the table, so REPLACE and UPSERT (`ON CONFLICT DO UPDATE`, which
SQLite would run as an UPDATE anyway) never touch an existing row; appends, which bring
a new `sequence` and `hash` and let the database choose `id`, are unaffected (SQLite
gives NEW.id the value -1 in a BEFORE INSERT trigger when it chooses the id).

PostgreSQL needs nothing: it has no REPLACE, and `INSERT ... ON CONFLICT DO UPDATE`
fires the row's BEFORE UPDATE trigger of 0002, which refuses it.
"""

from django.db import migrations

from csirtnet.core.dbsql import per_vendor_sql

TABLE = "core_auditentry"
MESSAGE = "audit entries are append-only: an insert never replaces one"

SQL = {
    "sqlite": (
        [
            f"CREATE TRIGGER {TABLE}_no_replace BEFORE INSERT ON {TABLE} "  # noqa: S608
            f"WHEN EXISTS (SELECT 1 FROM {TABLE} WHERE id = NEW.id "
            f"OR sequence = NEW.sequence OR hash = NEW.hash) "
            f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;",
        ],
        [f"DROP TRIGGER IF EXISTS {TABLE}_no_replace;"],
    ),
    "postgresql": ([], []),
}


class Migration(migrations.Migration):
    dependencies = [("core", "0003_audit_entries_never_deleted")]

    operations = [per_vendor_sql(SQL)]
