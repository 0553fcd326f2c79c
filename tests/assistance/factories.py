"""Factories for assistance: the smallest valid rows and fixtures' helpers, nothing random."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import factory
from django.contrib.auth import get_user_model

from csirtnet.accounts.models import Membership, Role
from csirtnet.assistance.kinds import RequestType
from csirtnet.assistance.models import AssistanceRequest, HistoryEntry, HistoryKind, Status
from csirtnet.directory.models import (
    ContactRole,
    MemberState,
    Organization,
    OrganizationKind,
    PointOfContact,
)
from csirtnet.sharing.tlp import TLP

CREATED_AT = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)

# Fields of each type that make a valid request (all required fields, optional ones left out).
VALID_DETAILS: dict[str, dict[str, Any]] = {
    RequestType.TECHNICAL_ASSISTANCE: {"assistance_needed": "Reverse a ransomware sample."},
    RequestType.TAKEDOWN: {
        "target": "https://phish.example.com.ar/login",
        "grounds": "Phishing page imitating a ministry.",
    },
    RequestType.SINKHOLE: {"domains": "c2.example.net\nc3.example.net", "threat": "Botnet C2."},
    RequestType.INFORMATION: {"questions": "Who operates AS64500?", "purpose": "Attribution."},
    RequestType.PRESERVATION: {
        "requesting_authority": "Fiscalía de Ciberdelitos, case 123/2026",
        "offence": "Fraud (art. 173 Código Penal); phishing against bank customers.",
        "data_to_preserve": "Subscriber and log data of the mailbox used to collect credentials.",
        "data_location": "Mail provider Ejemplo S.A., São Paulo.",
        "necessity": "Logs are kept 30 days only.",
        "intends_mutual_assistance": True,
    },
    RequestType.TRAFFIC_DISCLOSURE: {
        "requesting_authority": "Fiscalía de Ciberdelitos",
        "preservation_reference": "AR-2026-00001",
        "communication": "SMTP session of 2026-04-30T10:00Z from 203.0.113.9.",
        "offence": "Fraud.",
        "grounds": "Identify the upstream provider.",
    },
    RequestType.EMERGENCY_DISCLOSURE: {
        "requesting_authority": "Policía Federal, unidad de ciberdelito",
        "service_provider": "Ejemplo Chat Ltda., Rua Um 1, São Paulo",
        "offence": "Kidnapping (art. 142).",
        "emergency_facts": "A minor is held and the kidnapper uses the account.",
        "data_sought": "Last IP addresses used by the account.",
    },
    RequestType.EMERGENCY_ASSISTANCE: {
        "requesting_authority": "Policía Federal",
        "offence": "Threat to life.",
        "emergency_facts": "A bomb threat against a hospital.",
        "assistance_sought": "Identify the sender of the messages.",
    },
}


def law_enforcement_unit(
    short_name: str, state_code: str, *, contact: bool = True
) -> Organization:
    """A law-enforcement cyber unit of `state_code`, with its LE 24/7 point of contact."""
    unit, _created = Organization.objects.get_or_create(
        short_name=short_name,
        defaults={
            "name": f"Cyber unit {short_name}",
            "kind": OrganizationKind.LAW_ENFORCEMENT,
            "state": MemberState.objects.get(code=state_code),
        },
    )
    if contact:
        PointOfContact.objects.get_or_create(
            organization=unit,
            role=ContactRole.LAW_ENFORCEMENT_24_7,
            defaults={"email": f"le247@{short_name.lower()}.example", "languages": ["es"]},
        )
    return unit


def member_of(organization: Organization, username: str, role: str = Role.HANDLER) -> Membership:
    """A user `username` acting for `organization`."""
    user = get_user_model().objects.create_user(username=username, password="pw-" + username)
    return Membership.objects.create(user=user, organization=organization, role=role)


class AssistanceRequestFactory(factory.django.DjangoModelFactory):
    """
    A routine TLP:AMBER technical-assistance draft from CERTuy to CERT.ar. Use the
    services to send it (the clocks start there).
    """

    class Meta:
        model = AssistanceRequest

    request_type = RequestType.TECHNICAL_ASSISTANCE
    title = factory.Sequence(lambda n: f"Help with a ransomware sample {n}")
    legal_basis = "CICTE declaration (2016), clause 15"
    details = factory.LazyAttribute(lambda o: dict(VALID_DETAILS[o.request_type]))
    requester = factory.LazyFunction(lambda: Organization.objects.get(short_name="CERTuy"))
    requested = factory.LazyFunction(lambda: Organization.objects.get(short_name="CERT.ar"))
    author = factory.LazyFunction(
        lambda: get_user_model().objects.get_or_create(username="factory-author")[0]
    )
    tlp = TLP.AMBER
    status = Status.DRAFT
    created_at = CREATED_AT


class HistoryEntryFactory(factory.django.DjangoModelFactory):
    """The "drafted" line of a request, by its author for the requester."""

    class Meta:
        model = HistoryEntry

    request = factory.SubFactory(AssistanceRequestFactory)
    kind = HistoryKind.CREATED
    to_status = Status.DRAFT
    user = factory.SelfAttribute("request.author")
    organization = factory.SelfAttribute("request.requester")
    at = CREATED_AT


def signed_in(client: Any, member: Membership) -> Any:
    """Sign `member`'s user in on the test `client`, past the second factor if one is asked."""
    client.force_login(member.user)
    pass_second_factor(client.session)
    return client


def pass_second_factor(session: Any) -> None:
    """Mark `session` as having entered a second-factor code, where the platform asks one."""
    try:
        from csirtnet.accounts import second_factor
    except ImportError:  # no second factor on this platform
        return
    session[second_factor.DEVICE_ID_SESSION_KEY] = "tests"
    session.save()
