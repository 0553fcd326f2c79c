"""Factories for reports: the smallest valid Report, Event and Digest, nothing random."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import factory

from csirtnet.directory.models import Organization, RouteRule
from csirtnet.reports.models import Digest, DigestStatus, Event, Report
from csirtnet.sharing.tlp import TLP


def _organization(short_name: str = "CERTuy") -> Organization:
    """A national CSIRT of the loaded directory (needs the `directory` fixture)."""
    return Organization.objects.get(short_name=short_name)


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class ReportFactory(factory.django.DjangoModelFactory):
    """A completed Shadowserver NTP scan report, TLP:AMBER."""

    class Meta:
        model = Report

    sha256 = factory.Sequence(lambda n: _sha256(f"report-{n}"))
    file_name = "scan_ntp.csv"
    format = "shadowserver"
    source = "shadowserver"
    tlp = TLP.AMBER
    received_at = datetime(2025, 3, 14, 9, 0, tzinfo=UTC)
    completed_at = datetime(2025, 3, 14, 9, 5, tzinfo=UTC)


class EventFactory(factory.django.DjangoModelFactory):
    """One vulnerable NTP server routed to CERTuy by country."""

    class Meta:
        model = Event

    report = factory.SubFactory(ReportFactory)
    organization = factory.LazyFunction(_organization)
    line = factory.Sequence(lambda n: n + 2)
    route_rule = RouteRule.COUNTRY
    observed_at = datetime(2025, 3, 14, 3, 0, tzinfo=UTC)
    source_ip = factory.Sequence(lambda n: f"192.0.2.{n % 256}")
    source_port = 123
    asn = 64500
    report_type = "scan_ntp"
    taxonomy = "vulnerable"
    type = "vulnerable-system"
    country = "UY"
    content_key = factory.Sequence(lambda n: _sha256(f"event-{n}"))
    raw = factory.LazyFunction(dict)


class DigestFactory(factory.django.DjangoModelFactory):
    """CERTuy's pending digest of a completed report."""

    class Meta:
        model = Digest

    report = factory.SubFactory(ReportFactory)
    organization = factory.LazyFunction(_organization)
    event_count = 0
    status = DigestStatus.PENDING
