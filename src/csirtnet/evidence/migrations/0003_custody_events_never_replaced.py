"""
Refuse, on SQLite, an INSERT that would replace a custody event. SQLite's REPLACE
conflict resolution (`REPLACE INTO`, `INSERT OR REPLACE`) deletes the row holding the
same `uuid` (the primary key), `hash` or (`evidence_id`, `sequence`) before inserting,
and fires no DELETE trigger for that delete (recursive_triggers is off): with INSERT
rights alone an event could be rewritten past the triggers of 0002. This trigger aborts
any INSERT whose `uuid`, `hash` or (`evidence_id`, `sequence`) is already in the table,
so REPLACE and UPSERT never touch an existing row; appends are unaffected.

PostgreSQL needs nothing: it has no REPLACE, and `INSERT ... ON CONFLICT DO UPDATE`
fires the row's BEFORE UPDATE trigger of 0002, which refuses it.
"""

from django.db import migrations

from csirtnet.core.dbsql import per_vendor_sql

TABLE = "evidence_custodyevent"
MESSAGE = "custody events are append-only: an insert never replaces one"

SQL = {
    "sqlite": (
        [
            f"CREATE TRIGGER {TABLE}_no_replace BEFORE INSERT ON {TABLE} "  # noqa: S608
            f"WHEN EXISTS (SELECT 1 FROM {TABLE} WHERE uuid = NEW.uuid OR hash = NEW.hash "
            f"OR (evidence_id = NEW.evidence_id AND sequence = NEW.sequence)) "
            f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;",
        ],
        [f"DROP TRIGGER IF EXISTS {TABLE}_no_replace;"],
    ),
    "postgresql": ([], []),
}


class Migration(migrations.Migration):
    dependencies = [("evidence", "0002_custody_events_append_only")]

    operations = [per_vendor_sql(SQL)]
