"""Which events: visibility and filters."""

from __future__ import annotations

import contextlib
import ipaddress
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING

import idna
from django.db import models

from csirtnet.sharing.tlp import TLP

if TYPE_CHECKING:
    from csirtnet.accounts.models import Membership


class EventQuerySet(models.QuerySet):  # type: ignore[type-arg]
    """Events of abuse reports."""

    def visible_to(self, actor: Membership | None) -> EventQuerySet:
        """
        Return the events `actor` may see: those routed to its organization; every event
        for the network secretariat (which also keeps the unrouted queue); none for
        anonymous visitors. A TLP:RED event is seen only by the people its report names
        (`Report.recipient_people`), each within that same audience: never by their
        colleagues, the organization's inbox or the secretariat as such (DESIGN.md,
        "TLP 2.0: who may see what"). Staff status adds nothing.
        """
        if actor is None:
            return self.none()
        events = self.filter(named_if_red(actor, report_field="report_id"))
        if actor.organization.is_secretariat:
            return events
        return events.filter(organization_id=actor.organization_id)

    def matching(
        self,
        *,
        report_type: str | None = None,
        taxonomy: str | None = None,
        route_rule: str | None = None,
        report: object | None = None,
        observed_from: date | None = None,
        observed_to: date | None = None,
        text: str | None = None,
    ) -> EventQuerySet:
        """
        Narrow to events of a report type, RSIT class, routing rule and report, observed
        between two UTC days (both included), and matching `text` (see `text_query`).
        Arguments left None do not filter.
        """
        exact = {
            "report_type": report_type, "taxonomy": taxonomy,
            "route_rule": route_rule, "report": report,
        }  # fmt: skip
        events = self.filter(**{key: value for key, value in exact.items() if value})
        if observed_from:
            events = events.filter(observed_at__gte=_utc_midnight(observed_from))
        if observed_to and observed_to < date.max:  # the last day has no day after it
            events = events.filter(observed_at__lt=_utc_midnight(observed_to + timedelta(days=1)))
        if text:
            events = events.filter(text_query(text))
        return events


def named_if_red(actor: Membership, *, report_field: str) -> models.Q:
    """
    Select the rows whose report is not TLP:RED, or names `actor`'s user among its
    `recipient_people`. `report_field` is the column holding the report's key
    ("report_id" on events, "pk" on reports). A subquery, so that a report naming
    several people is never joined into duplicate rows.
    """
    from csirtnet.reports.models import Report

    named = Report.recipient_people.through.objects.filter(user_id=actor.user_id)
    return ~models.Q(tlp=TLP.RED) | models.Q(**{f"{report_field}__in": named.values("report_id")})


def text_query(text: str) -> models.Q:
    """
    Match an exact source IP address when `text` is one (IPv4 or IPv6, any notation),
    else a case-insensitive part of the hostname (unicode or punycode) or of the URL.
    """
    try:
        return models.Q(source_ip=str(ipaddress.ip_address(text)))
    except ValueError:
        pass
    query = models.Q(hostname__icontains=text) | models.Q(url__icontains=text)
    if not text.isascii():
        with contextlib.suppress(UnicodeError):  # idna.IDNAError is a UnicodeError
            query |= models.Q(hostname__icontains=idna.encode(text, uts46=True).decode("ascii"))
    return query


def _utc_midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


class ReportQuerySet(models.QuerySet):  # type: ignore[type-arg]
    """Ingested reports."""

    def visible_to(self, actor: Membership | None) -> ReportQuerySet:
        """
        Return the reports `actor` may see: those it submitted or that have events routed
        to its organization; all for the secretariat; none for anonymous visitors. A
        TLP:RED report only to the people it names, within that same audience.
        """
        if actor is None:
            return self.none()
        reports = self.filter(named_if_red(actor, report_field="pk"))
        if actor.organization.is_secretariat:
            return reports
        org = actor.organization_id
        return reports.filter(
            models.Q(submitted_by_id=org) | models.Q(digests__organization_id=org)
        ).distinct()

    def visible_whole_to(self, actor: Membership | None) -> ReportQuerySet:
        """
        Return the reports `actor` sees in full (every digest, every rejected row): those
        its organization submitted, and all of them for the secretariat. An organization
        that only received events sees the report with its own digest alone.
        """
        if actor is None:
            return self.none()
        reports = self.filter(named_if_red(actor, report_field="pk"))
        if actor.organization.is_secretariat:
            return reports
        return reports.filter(submitted_by_id=actor.organization_id)
