"""`csirtnet export-openapi [--check] [--output PATH]`: the committed OpenAPI document."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from csirtnet.api.openapi import DEFAULT_PATH, render_openapi


class Command(BaseCommand):
    """Write the OpenAPI 3.1 document of /api/v1/, or check that the committed one is current."""

    help = (
        "Write the OpenAPI 3.1 document of the JSON API (pretty-printed, sorted keys) to "
        f"{DEFAULT_PATH}, run from the repository root; --check only compares and exits "
        "non-zero when the file differs."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        """Add --check and --output."""
        parser.add_argument(
            "--check",
            action="store_true",
            help="write nothing; fail when the file is missing or differs",
        )
        parser.add_argument("--output", default=DEFAULT_PATH, help=f"default: {DEFAULT_PATH}")

    def handle(self, *args: Any, check: bool, output: str, **options: Any) -> None:
        """
        Render the document and write it, or compare it; print one summary line.

        Raises:
            CommandError: with --check, the file is missing or out of date.
        """
        path = Path(output)
        text = render_openapi()
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if check:
            if current != text:
                raise CommandError(
                    f"{path} is out of date: run `csirtnet export-openapi` and commit it."
                )
            self.stdout.write(f"{path} is up to date.")
            return
        if current == text:
            self.stdout.write(f"{path} unchanged.")
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        self.stdout.write(f"wrote {path} ({len(text)} bytes).")
