"""`gongzhi import FILE --kind roster|territory --user USERNAME [--dry-run]`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from gongzhi.accounts.models import User
from gongzhi.accounts.scope import resolve_actor
from gongzhi.core.errors import ApplicationError
from gongzhi.imports.models import ImportKind
from gongzhi.imports.services import import_file
from gongzhi.imports.workbook import check_xlsx


class Command(BaseCommand):
    help = "Import a territory or household-roster xlsx file, all or nothing, as the given user."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--kind", required=True, choices=ImportKind.values)
        parser.add_argument("--user", required=True, help="username whose roles and scope apply")
        parser.add_argument("--dry-run", action="store_true", help="check the file and count, write nothing")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        user = User.objects.filter(username=options["user"], is_active=True).first()
        if user is None:
            raise CommandError(f"No active user {options['user']!r}.")
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        actor = resolve_actor(user)
        try:
            with path.open("rb") as file:
                # The console has no upload limit, but the content must still be a workbook.
                check_xlsx(file, size=path.stat().st_size, max_bytes=path.stat().st_size)
                result = import_file(actor=actor, kind=options["kind"], file=file, dry_run=options["dry_run"])
        except ApplicationError as error:
            raise CommandError(str(error.message)) from error
        if not result.ok:
            for row_error in result.sorted_errors():
                self.stderr.write(f"row {row_error.row}\t{row_error.column}\t{row_error.reason}")
            raise CommandError(f"{len(result.errors)} error(s): nothing was written.")
        prefix = "dry run, nothing written: " if result.dry_run else ""
        self.stdout.write(f"{prefix}{result.rows} rows")
        for entity, counts in result.summary().items():
            if isinstance(counts, dict):
                self.stdout.write(
                    f"{entity}: created {counts['created']}, updated {counts['updated']}, "
                    f"unchanged {counts['unchanged']}"
                )
