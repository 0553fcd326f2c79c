"""`csirtnet import-rir FILE...`: load RIR delegation data used for routing by country."""

from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from csirtnet.directory.services import RirFormatError, import_rir_file, rir_files


class Command(BaseCommand):
    """Import delegated-extended files, ARIN ASN CSVs and per-country prefix lists."""

    help = (
        "Import RIR delegated-extended files, ARIN ASN CSV and per-country prefix lists "
        "(files or directories). Importing a source again replaces its rows."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("paths", nargs="+", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            files = rir_files(options["paths"])
        except ValidationError as exc:
            raise CommandError(exc.messages[0]) from exc
        total = 0
        for path in files:
            try:
                result = import_rir_file(path)
            except RirFormatError as exc:
                raise CommandError(str(exc)) from exc
            total += result.record_count
            if options["verbosity"] >= 2:
                self.stdout.write(f"{path}: {result.record_count} records ({result.source})")
        self.stdout.write(f"import-rir: {len(files)} files, {total} records")
