"""Incident services: reporting, participants, the TLP rule, workflow, acknowledgement."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import override_settings
from django.utils import timezone

from csirtnet.incidents import services
from csirtnet.incidents.exceptions import IllegalTransitionError
from csirtnet.incidents.models import (
    EntryKind,
    Incident,
    Notification,
    Participation,
    Status,
)
from csirtnet.sharing.tlp import TLP

AR_ADDRESS = "190.210.0.1"  # LACNIC: Argentina
UY_ADDRESS = "200.7.84.1"  # LACNIC: Uruguay

pytestmark = pytest.mark.django_db

DUMMY_TASKS = override_settings(
    TASKS={"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
)


def report(actor, **fields):
    values = {
        "title": "Botnet C2 in two states",
        "taxonomy_predicate": "malicious-code",
        "taxonomy_value": "c2-server",
        "severity": 3,
        "observables": [AR_ADDRESS],
        "tlp": TLP.AMBER,
    }
    values.update(fields)
    with DUMMY_TASKS:
        return services.create_incident(actor=actor, **values)


def test_reference_is_network_unique_and_sequential(owner, recipient):
    first = report(owner)
    second = report(recipient, observables=[UY_ADDRESS])
    year = first.reported_at.year
    number = int(first.reference.rsplit("-", 1)[1])
    assert first.reference == f"INC-{year}-{number:06d}"
    assert second.reference == f"INC-{year}-{number + 1:06d}"


def test_states_proposed_from_observables(directory):
    proposals = services.propose_affected_states(
        [AR_ADDRESS, UY_ADDRESS, "ejemplo.com.br", "d41d8cd98f00b204e9800998ecf8427e"]
    )
    assert [(p.state.code, p.values) for p in proposals] == [
        ("AR", (AR_ADDRESS,)),
        ("BR", ("ejemplo.com.br",)),
        ("UY", (UY_ADDRESS,)),
    ]


def test_affected_states_make_their_national_csirts_participants(owner):
    incident = report(owner, observables=[AR_ADDRESS, "ejemplo.com.br"])
    assert sorted(incident.affected_states.values_list("code", flat=True)) == ["AR", "BR"]
    participants = incident.participations.values_list(
        "organization__short_name", "reason", "acknowledged_at"
    )
    assert sorted(participants) == [
        ("CERT.ar", "affected_state", None),
        ("CERT.br", "affected_state", None),
    ]
    notified = Notification.objects.filter(incident=incident).values_list(
        "organization__short_name", "user", "status"
    )
    assert sorted(notified) == [("CERT.ar", None, "pending"), ("CERT.br", None, "pending")]


def test_reporters_own_state_is_not_a_participant(owner):
    incident = report(owner, observables=[UY_ADDRESS, AR_ADDRESS])
    assert sorted(incident.affected_states.values_list("code", flat=True)) == ["AR", "UY"]
    assert list(incident.participations.values_list("organization__short_name", flat=True)) == [
        "CERT.ar"
    ]


def test_given_affected_states_override_the_proposal(owner):
    incident = report(owner, observables=[AR_ADDRESS], affected_states=["CL"])
    assert list(incident.affected_states.values_list("code", flat=True)) == ["CL"]
    (participant,) = incident.recipient_organizations.all()
    assert (participant.kind, participant.state.code) == ("national_csirt", "CL")


def test_amber_incident_seen_by_owner_and_participants_only(owner, recipient, outsider):
    incident = report(owner)
    visible = Incident.objects.visible_to
    assert incident in visible(owner)
    assert incident in visible(recipient)
    assert incident not in visible(outsider)
    assert incident not in visible(None)


def test_secretariat_sees_no_amber_incident_it_was_not_addressed(owner, secretariat_member):
    incident = report(owner)
    assert incident not in Incident.objects.visible_to(secretariat_member)


def test_green_incident_seen_by_every_member_but_not_anonymous(owner, outsider):
    incident = report(owner, tlp=TLP.GREEN)
    assert incident in Incident.objects.visible_to(outsider)
    assert incident not in Incident.objects.visible_to(None)


def test_clear_incident_seen_by_anonymous_visitors(owner):
    incident = report(owner, tlp=TLP.CLEAR)
    assert incident in Incident.objects.visible_to(None)


def test_red_incident_seen_by_author_and_named_people_only(owner, recipient, outsider):
    colleague = _colleague_of(owner)
    incident = report(owner, tlp=TLP.RED, named_people=[recipient.user])
    visible = Incident.objects.visible_to
    assert incident in visible(owner)
    assert incident in visible(recipient)
    assert incident not in visible(colleague)
    assert incident not in visible(outsider)
    assert incident not in Incident.objects.exportable_to(owner)
    notifications = Notification.objects.filter(incident=incident)
    assert list(notifications.values_list("user__username", flat=True)) == ["recipient"]


def test_only_the_owner_edits_or_relabels(owner, recipient):
    incident = report(owner)
    with pytest.raises(PermissionDenied):
        services.update_incident(actor=recipient, incident=incident, tlp=TLP.GREEN)
    services.update_incident(actor=owner, incident=incident, tlp=TLP.GREEN, severity=4)
    incident.refresh_from_db()
    assert (incident.tlp, incident.severity) == (TLP.GREEN, 4)
    entries = incident.timeline.filter(kind__in=[EntryKind.LABEL, EntryKind.EDITED])
    assert sorted(entries.values_list("text", "old_value", "new_value")) == [
        ("severity", "3", "4"),
        ("tlp", "amber", "green"),
    ]


def test_widening_adds_and_notifies_new_participants_once(owner, outsider):
    incident = report(owner)
    with DUMMY_TASKS:
        services.update_incident(actor=owner, incident=incident, affected_states=["MX"])
        services.update_incident(actor=owner, incident=incident, affected_states=["MX"])
    assert incident in Incident.objects.visible_to(outsider)
    assert (
        Notification.objects.filter(incident=incident, organization__short_name="CERT-MX").count()
        == 1
    )


def test_unknown_or_invalid_fields_are_named(owner):
    with pytest.raises(ValidationError) as error:
        report(owner, title="", taxonomy_value="nonsense", severity=9, tlp="purple")
    assert set(error.value.message_dict) == {"title", "taxonomy", "severity", "tlp"}


def test_bad_observable_names_its_line_and_writes_nothing(owner):
    before = Incident.objects.count()
    with pytest.raises(ValidationError) as error:
        report(owner, observables=[AR_ADDRESS, "junk value"])
    assert error.value.message_dict["observables"] == [
        'Observable 2: "junk value" is not an observable of a known type.'
    ]
    assert Incident.objects.count() == before


def test_workflow_allows_only_listed_moves_and_reopen(owner, recipient):
    incident = report(owner)
    with pytest.raises(PermissionDenied):
        services.change_status(actor=recipient, incident=incident, status=Status.TRIAGED)
    services.change_status(actor=owner, incident=incident, status=Status.TRIAGED)
    with pytest.raises(IllegalTransitionError):
        services.change_status(actor=owner, incident=incident, status=Status.NEW)
    services.change_status(actor=owner, incident=incident, status=Status.RESOLVED, note="done")
    incident.refresh_from_db()
    assert incident.resolved_at is not None
    services.change_status(actor=owner, incident=incident, status=Status.IN_PROGRESS)
    incident.refresh_from_db()
    assert (incident.status, incident.resolved_at) == (Status.IN_PROGRESS, None)
    moves = incident.timeline.filter(kind=EntryKind.STATUS).values_list("old_value", "new_value")
    assert list(moves) == [
        ("new", "triaged"),
        ("triaged", "resolved"),
        ("resolved", "in_progress"),
    ]


def test_lead_organization_may_change_status(owner, recipient):
    incident = report(owner)
    services.update_incident(
        actor=owner, incident=incident, lead_organization=recipient.organization
    )
    services.change_status(actor=recipient, incident=incident, status=Status.IN_PROGRESS)
    assert Incident.objects.get(pk=incident.pk).status == Status.IN_PROGRESS


def test_acknowledgement_is_recorded_once_with_its_delay(owner, recipient, outsider):
    incident = report(owner)
    with pytest.raises(PermissionDenied):
        services.acknowledge(actor=outsider, incident=incident)
    with pytest.raises(PermissionDenied):
        services.acknowledge(actor=owner, incident=incident)  # not a participant
    first = services.acknowledge(actor=recipient, incident=incident)
    again = services.acknowledge(actor=recipient, incident=incident)
    assert again.acknowledged_at == first.acknowledged_at
    assert first.time_to_acknowledge is not None
    assert first.time_to_acknowledge.total_seconds() >= 0
    incident.refresh_from_db()
    assert incident.acknowledged_at == first.acknowledged_at
    assert incident.timeline.filter(kind=EntryKind.ACKNOWLEDGED).count() == 1


def test_participants_comment_outsiders_cannot(owner, recipient, outsider):
    incident = report(owner, tlp=TLP.GREEN)
    services.add_comment(actor=recipient, incident=incident, text="<b>seen</b> here")
    with pytest.raises(PermissionDenied):
        services.add_comment(actor=outsider, incident=incident, text="me too")
    assert incident.timeline.filter(kind=EntryKind.COMMENT).get().text == "<b>seen</b> here"


def test_observables_added_later_are_normalized_and_deduplicated(owner):
    incident = report(owner, observables=[AR_ADDRESS])
    added = services.add_observables(
        actor=owner, incident=incident, observables=[AR_ADDRESS, ("domain", "EJEMPLO.com.AR.")]
    )
    assert [(o.type, o.value) for o in added] == [("domain", "ejemplo.com.ar")]
    assert incident.observables.get(type="ipv4").country == "AR"


def test_attachments_are_stored_by_hash_within_the_limit(owner, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    settings.CSIRTNET_ATTACHMENT_MAX_BYTES = 10
    incident = report(owner)
    attachment = services.add_attachment(
        actor=owner, incident=incident, name="../../etc/log.txt", content=io.BytesIO(b"abc")
    )
    assert attachment.name == "log.txt"
    assert attachment.sha256 == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert services.attachment_path(attachment).read_bytes() == b"abc"
    with pytest.raises(ValidationError):
        services.add_attachment(
            actor=owner, incident=incident, name="big.bin", content=io.BytesIO(b"x" * 11)
        )


def test_participation_is_unique_per_organization(owner):
    incident = report(owner)
    with DUMMY_TASKS:
        services.update_incident(
            actor=owner, incident=incident, invited=[incident.participations.get().organization]
        )
    assert Participation.objects.filter(incident=incident).count() == 1


def _colleague_of(membership):
    from django.contrib.auth import get_user_model

    from csirtnet.accounts.models import Membership

    user = get_user_model().objects.create_user(username="colleague", password="pw-colleague")
    return Membership.objects.create(user=user, organization=membership.organization)


def test_escalated_events_become_observables_under_their_strictest_label(owner, outsider):
    from tests.reports.factories import EventFactory

    events = [
        EventFactory(organization=owner.organization, source_ip=AR_ADDRESS, asn=7303),
        EventFactory(organization=owner.organization, source_ip=None, asn=None,
                     hostname="x.ejemplo.com.br",
                     url="http://x.ejemplo.com.br/a", tlp=TLP.AMBER_STRICT),
    ]  # fmt: skip
    with DUMMY_TASKS:
        incident = services.escalate_events(
            actor=owner, events=events, title="From the inbox",
            taxonomy_predicate="vulnerable", taxonomy_value="vulnerable-system", severity=2,
        )  # fmt: skip
    assert incident.tlp == TLP.AMBER_STRICT
    assert sorted(incident.observables.values_list("type", "value")) == [
        ("asn", "7303"),
        ("domain", "x.ejemplo.com.br"),
        ("ipv4", AR_ADDRESS),
        ("url", "http://x.ejemplo.com.br/a"),
    ]
    assert set(incident.events.all()) == set(events)
    hidden = EventFactory(organization=outsider.organization)
    with pytest.raises(PermissionDenied):
        services.escalate_events(actor=owner, events=[hidden], incident=incident)


def test_escalation_never_lowers_the_events_label(owner):
    from tests.reports.factories import EventFactory

    red = EventFactory(organization=owner.organization, source_ip=AR_ADDRESS, tlp=TLP.RED)
    red.report.recipient_people.add(owner.user)  # a RED event is seen by the people named
    fields = {
        "title": "Leak attempt", "taxonomy_predicate": "vulnerable",
        "taxonomy_value": "vulnerable-system", "severity": 2,
    }  # fmt: skip
    with pytest.raises(ValidationError) as error:
        services.escalate_events(actor=owner, events=[red], tlp=TLP.CLEAR, **fields)
    assert "TLP:RED or stricter" in error.value.message_dict["tlp"][0]
    green = report(owner, tlp=TLP.GREEN)
    with pytest.raises(ValidationError) as error:
        services.escalate_events(actor=owner, events=[red], incident=green)
    assert list(error.value.message_dict) == ["incident"]
    assert not green.events.exists()
    amber_event = EventFactory(organization=owner.organization, tlp=TLP.AMBER)
    with DUMMY_TASKS:
        amber = services.escalate_events(actor=owner, events=[amber_event], **fields)
    with pytest.raises(ValidationError):
        services.update_incident(actor=owner, incident=amber, tlp=TLP.GREEN)
    assert Incident.objects.get(pk=amber.pk).tlp == TLP.AMBER


def test_people_are_named_only_on_red_incidents(owner, recipient):
    with pytest.raises(ValidationError) as error:
        report(owner, tlp=TLP.AMBER, named_people=[recipient.user])
    assert list(error.value.message_dict) == ["named_people"]


def test_control_characters_are_refused_in_titles_and_comments(owner):
    with pytest.raises(ValidationError) as error:
        report(owner, title="C2 \x1b[31m")
    assert list(error.value.message_dict) == ["title"]
    incident = report(owner, description="line one\nline two\ttabbed")
    with pytest.raises(ValidationError):
        services.add_comment(actor=owner, incident=incident, text="bell \x07")


def test_withheld_notifications_are_queued_again_when_the_label_relaxes(owner, directory):
    from csirtnet.directory.models import Organization
    from csirtnet.incidents.models import NotificationStatus

    observer = Organization.objects.create(
        short_name="OBSERVER", name="Observer", kind="other", is_member=False,
        state=Organization.objects.get(short_name="CERT-MX").state,
    )  # fmt: skip
    incident = report(owner, tlp=TLP.AMBER_STRICT, invited=[observer])
    row = Notification.objects.get(incident=incident, organization=observer)
    Notification.objects.filter(pk=row.pk).update(status=NotificationStatus.WITHHELD)
    with DUMMY_TASKS:
        services.update_incident(actor=owner, incident=incident, tlp=TLP.AMBER)
    assert Notification.objects.get(pk=row.pk).status == NotificationStatus.PENDING


def test_a_person_named_on_red_may_comment_without_a_participating_organization(owner, outsider):
    incident = report(owner, tlp=TLP.RED, named_people=[outsider.user], affected_states=[])
    services.add_comment(actor=outsider, incident=incident, text="seen")
    assert incident.timeline.filter(kind=EntryKind.COMMENT).count() == 1


def test_escalation_reads_the_label_again_rather_than_trusting_a_stale_copy(owner):
    from tests.reports.factories import EventFactory

    incident = report(owner, tlp=TLP.AMBER)
    stale = Incident.objects.get(pk=incident.pk)  # loaded by a form before a relabel
    with DUMMY_TASKS:
        services.update_incident(actor=owner, incident=incident, tlp=TLP.GREEN)
    event = EventFactory(organization=owner.organization, tlp=TLP.AMBER)
    with pytest.raises(ValidationError):
        services.escalate_events(actor=owner, events=[event], incident=stale)
    assert not incident.events.exists()


def test_leaving_red_starts_the_participants_clock_to_acknowledge(owner, recipient):
    incident = report(owner, tlp=TLP.RED, named_people=[recipient.user])
    participation = incident.participations.get()
    Participation.objects.filter(pk=participation.pk).update(
        notified_at=participation.notified_at - timedelta(hours=5)
    )
    with DUMMY_TASKS:
        services.update_incident(actor=owner, incident=incident, tlp=TLP.AMBER)
    participation.refresh_from_db()
    assert timezone.now() - participation.notified_at < timedelta(minutes=1)


@pytest.mark.parametrize("title", ["\u202egnp.exe", "\u200b", "C2\u2066 server"])
def test_invisible_and_direction_changing_characters_are_refused_in_titles(owner, title):
    with pytest.raises(ValidationError) as error:
        report(owner, title=title)
    assert list(error.value.message_dict) == ["title"]


def test_a_red_event_goes_only_to_incidents_addressed_within_its_reports_names(
    owner, recipient, secretariat_member
):
    """
    Regression (fresh-clone review): a person named on a TLP:RED report escalated its
    event into a RED incident and then named a colleague and another state's handler on
    it, who saw the event's address; or escalated it into another author's incident.
    """
    from csirtnet.core.models import AuditEntry
    from tests.conftest import _member
    from tests.reports.factories import EventFactory

    colleague = _member("colleague", "CERTuy")
    red = EventFactory(organization=owner.organization, source_ip=AR_ADDRESS, tlp=TLP.RED)
    red.report.recipient_people.add(owner.user, secretariat_member.user)
    fields = {
        "title": "Named only", "taxonomy_predicate": "vulnerable",
        "taxonomy_value": "vulnerable-system", "severity": 2, "tlp": TLP.RED,
    }  # fmt: skip
    with pytest.raises(ValidationError) as error:
        services.escalate_events(
            actor=owner, events=[red], named_people=[colleague.user, recipient.user], **fields
        )
    assert error.value.message_dict["named_people"] == [
        "A TLP:RED event is only for the people its report names; these are not: "
        "colleague, recipient."
    ]
    assert not Incident.objects.exists()

    with DUMMY_TASKS:
        incident = services.escalate_events(
            actor=owner, events=[red], named_people=[secretariat_member.user], **fields
        )
    assert list(incident.events.all()) == [red]
    with pytest.raises(ValidationError) as error:
        services.update_incident(actor=owner, incident=incident, named_people=[colleague.user])
    assert list(error.value.message_dict) == ["named_people"]
    assert set(incident.recipient_people.values_list("username", flat=True)) == {"secretariat"}

    # another author's RED incident, even naming the person, cannot take the event
    theirs = report(recipient, tlp=TLP.RED, named_people=[owner.user])
    with pytest.raises(ValidationError) as error:
        services.escalate_events(actor=owner, events=[red], incident=theirs)
    assert "recipient" in error.value.message_dict["incident"][0]
    assert not theirs.events.exists()

    # widening a RED incident's audience is on its timeline and in the audit log
    plain = report(owner, tlp=TLP.RED)
    with DUMMY_TASKS:
        services.update_incident(actor=owner, incident=plain, named_people=[recipient.user])
    entry = plain.timeline.get(text="named_people")
    assert entry.new_value == "recipient"
    assert AuditEntry.objects.filter(
        action="incident.edited", target_id=plain.reference, detail__new="recipient"
    ).exists()
