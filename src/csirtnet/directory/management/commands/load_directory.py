"""`csirtnet load-directory`: load the OAS member states and their national CSIRTs."""

from typing import Any

from django.core.management.base import BaseCommand

from csirtnet.directory.services import load_directory


class Command(BaseCommand):
    """Create or update the 35 OAS member states, their national CSIRTs and the secretariat."""

    help = "Load the OAS member states, one national CSIRT each, and the network secretariat."

    def handle(self, *args: Any, **options: Any) -> None:
        states, organizations = load_directory()
        self.stdout.write(f"directory: {states} member states, {organizations} organizations")
