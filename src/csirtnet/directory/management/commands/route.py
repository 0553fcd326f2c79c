"""`csirtnet route VALUE...`: who handles an address, ASN, network, URL or domain."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from csirtnet.core.text import printable
from csirtnet.directory.models import Organization
from csirtnet.directory.route_values import parse_route_query
from csirtnet.directory.routing import RoutingTable


class Command(BaseCommand):
    """
    Print one line per value: the value, the responsible organization, its state, the
    rule and the country; a CIDR block adds that its network address was routed.

    A value that is not an IP address, ASN, CIDR block, URL or domain name (see
    `parse_route_query`) gets an error line on stderr, escaped; the other values are
    still routed.

    Raises:
        CommandError: the directory has no secretariat, or some values could not be routed.
    """

    help = "Show which organization is responsible for an IP address, ASN, network, URL or domain."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("values", nargs="+")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            table = RoutingTable.build()
        except Organization.DoesNotExist as exc:
            raise CommandError(_("The directory has no secretariat: run load-directory.")) from exc
        organizations = Organization.objects.select_related("state").in_bulk()
        failed_count = 0
        for value in options["values"]:
            try:
                query = parse_route_query(value)
            except ValueError as exc:  # the message quotes the value escaped
                failed_count += 1
                self.stderr.write(_("route: %(error)s") % {"error": exc})
                continue
            route = table.lookup(ip=query.ip, asn=query.asn, hostname=query.hostname)
            organization = organizations[route.organization_id]
            state = organization.state.name if organization.state else "-"
            line = (
                f"{printable(value)}\t{organization.short_name}\t{state}\t{route.rule.label}"
                f"\tcountry={route.country or '-'}"
            )
            if query.network:
                line += "\t" + _("routed by its network address %(ip)s") % {"ip": query.ip}
            self.stdout.write(line)
        if failed_count:
            raise CommandError(
                ngettext(
                    "%(count)d value could not be routed",
                    "%(count)d values could not be routed",
                    failed_count,
                )
                % {"count": failed_count}
            )
