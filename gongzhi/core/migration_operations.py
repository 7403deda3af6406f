"""Migration operations that work on both databases.

`AddIndexConcurrently`: on PostgreSQL, CREATE INDEX CONCURRENTLY (a big live table keeps taking
writes while the index is built; the migration must say `atomic = False` and hold this operation
alone); on SQLite, which has no such thing and whose writers queue anyway, a plain CREATE INDEX.
`django.contrib.postgres.operations.AddIndexConcurrently` refuses to run on SQLite.
"""

from __future__ import annotations

from typing import Any

from django.db.migrations.operations import AddIndex


class AddIndexConcurrently(AddIndex):
    atomic = False

    def describe(self) -> str:
        return f"Create index {self.index.name} (concurrently on PostgreSQL) on {self.model_name}"

    def database_forwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        if schema_editor.connection.vendor != "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)
            return
        model = to_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            schema_editor.add_index(model, self.index, concurrently=True)

    def database_backwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        if schema_editor.connection.vendor != "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)
            return
        model = from_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            schema_editor.remove_index(model, self.index, concurrently=True)
