"""Factories for incidents: the smallest valid rows, nothing random (needs `directory`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import factory
from django.contrib.auth import get_user_model

from csirtnet.directory.models import Organization
from csirtnet.incidents.models import (
    Attachment,
    EntryKind,
    Incident,
    Observable,
    Participation,
    ParticipationReason,
    TimelineEntry,
)
from csirtnet.sharing.tlp import TLP

REPORTED_AT = datetime(2026, 3, 14, 9, 0, tzinfo=UTC)


def _organization(short_name: str = "CERTuy") -> Organization:
    """A national CSIRT of the loaded directory."""
    return Organization.objects.get(short_name=short_name)


class UserFactory(factory.django.DjangoModelFactory):
    """A user who cannot sign in with a password (tests use `force_login`)."""

    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"handler{n}")
    password = "!"  # an unusable password hash


class IncidentFactory(factory.django.DjangoModelFactory):
    """
    A TLP:AMBER malware C2 incident reported by CERTuy. `recipient_organizations=[org]`
    makes each organization a participant (not yet acknowledged); `affected_states` and
    `recipient_people` take lists too.
    """

    class Meta:
        model = Incident
        skip_postgeneration_save = True

    reference = factory.Sequence(lambda n: f"INC-2026-{n + 900000:06d}")
    title = factory.Sequence(lambda n: f"Botnet C2 {n}")
    taxonomy_predicate = "malicious-code"
    taxonomy_value = "c2-server"
    severity = 2
    tlp = TLP.AMBER
    reported_at = REPORTED_AT
    owner = factory.LazyFunction(_organization)
    lead_organization = factory.SelfAttribute("owner")
    author = factory.SubFactory(UserFactory)

    @factory.post_generation
    def recipient_organizations(self, create: bool, organizations: Any, **kwargs: Any) -> None:
        """Make each organization given a participant notified at the report time."""
        for organization in organizations or ():
            Participation.objects.create(
                incident=self,
                organization=organization,
                reason=ParticipationReason.INVITED,
                notified_at=self.reported_at,
            )

    @factory.post_generation
    def affected_states(self, create: bool, states: Any, **kwargs: Any) -> None:
        """Set the affected member states given."""
        if states:
            self.affected_states.set(states)

    @factory.post_generation
    def recipient_people(self, create: bool, people: Any, **kwargs: Any) -> None:
        """Name the users given (TLP:RED)."""
        if people:
            self.recipient_people.set(people)


class ObservableFactory(factory.django.DjangoModelFactory):
    """An IPv4 address of the documentation range, routed nowhere."""

    class Meta:
        model = Observable

    incident = factory.SubFactory(IncidentFactory)
    type = "ipv4"
    value = factory.Sequence(lambda n: f"192.0.2.{n % 256}")


class TimelineEntryFactory(factory.django.DjangoModelFactory):
    """A comment by the incident's author for its owner."""

    class Meta:
        model = TimelineEntry

    incident = factory.SubFactory(IncidentFactory)
    kind = EntryKind.COMMENT
    author = factory.SelfAttribute("incident.author")
    organization = factory.SelfAttribute("incident.owner")
    created_at = REPORTED_AT
    text = "Seen from two ASNs."


class AttachmentFactory(factory.django.DjangoModelFactory):
    """The row of a small text file; its bytes are not stored (see `services.add_attachment`)."""

    class Meta:
        model = Attachment

    incident = factory.SubFactory(IncidentFactory)
    name = "notes.txt"
    sha256 = factory.Sequence(lambda n: f"{n:064x}")
    size = 12
    content_type = "text/plain"
    uploaded_by = factory.SelfAttribute("incident.author")
    organization = factory.SelfAttribute("incident.owner")
