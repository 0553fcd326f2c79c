"""Raw SQL that differs per database engine, run by migrations (triggers and the like)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.db import migrations

# vendor ("sqlite", "postgresql") -> (statements forwards, statements backwards)
VendorSql = Mapping[str, tuple[Sequence[str], Sequence[str]]]


def per_vendor_sql(sql: VendorSql) -> migrations.RunPython:
    """
    Return a reversible migration operation that executes, in order, the forward
    statements of `sql` for the connection's engine (`connection.vendor`), and its
    backward statements when unapplied. An engine with no statements does nothing.

    Raises:
        KeyError: when run on an engine `sql` does not name.
    """

    def run(schema_editor: Any, index: int) -> None:
        for statement in sql[schema_editor.connection.vendor][index]:
            schema_editor.execute(statement)

    return migrations.RunPython(
        lambda apps, schema_editor: run(schema_editor, 0),
        lambda apps, schema_editor: run(schema_editor, 1),
    )
