"""`csirtnet route VALUE`: which organization handles an address, ASN, URL or domain."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from csirtnet.directory.models import Organization
from csirtnet.directory.routing import RoutingTable, parse_route_value, state_name


class Command(BaseCommand):
    """Print one line: the value, the responsible organization, its state, the rule."""

    help = "Show which organization is responsible for an IP address, ASN, URL or domain."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("values", nargs="+")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            table = RoutingTable.build()
        except Organization.DoesNotExist as exc:
            raise CommandError("The directory has no secretariat: run load-directory.") from exc
        names = dict(Organization.objects.values_list("pk", "short_name"))
        states = dict(Organization.objects.values_list("pk", "state__code"))
        for value in options["values"]:
            try:
                arguments = parse_route_value(value)
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
            route = table.lookup(**arguments)  # type: ignore[arg-type]
            state = states.get(route.organization_id)
            self.stdout.write(
                f"{value}\t{names[route.organization_id]}\t"
                f"{state_name(state) if state else '-'}\t{route.rule.label}"
                f"\tcountry={route.country or '-'}"
            )
