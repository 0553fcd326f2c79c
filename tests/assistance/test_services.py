"""Assistance services: drafting, sending with clocks, the workflow and its history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from csirtnet.assistance import services
from csirtnet.assistance.exceptions import IllegalTransitionError
from csirtnet.assistance.kinds import RequestType
from csirtnet.assistance.models import TRANSITIONS, HistoryKind, Priority, Status
from csirtnet.directory.models import Organization
from tests.assistance.factories import VALID_DETAILS
from tests.incidents.factories import IncidentFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def org(short_name):
    return Organization.objects.get(short_name=short_name)


def ask(actor, *, request_type=RequestType.TECHNICAL_ASSISTANCE, requested="CERT.ar", **fields):
    values = {
        "title": "Help with a ransomware sample",
        "details": dict(VALID_DETAILS[request_type]),
        "priority": Priority.URGENT,
        "now": NOW,
    }
    values.update(fields)
    target = requested if isinstance(requested, Organization) else org(requested)
    return services.create_request(
        actor=actor, request_type=request_type, requested=target, **values
    )


def test_sending_starts_both_clocks_from_the_priority_in_utc(owner):
    request = ask(owner)
    assert request.status == Status.SENT
    assert request.sent_at == NOW
    assert request.acknowledge_due_at == NOW + timedelta(hours=4)
    assert request.respond_due_at == NOW + timedelta(hours=72)
    assert request.reference == f"AR-2026-{request.pk:05d}"
    assert request.legal_basis.startswith("CICTE declaration")


@pytest.mark.parametrize(
    ("priority", "acknowledge", "respond"),
    [
        (Priority.EMERGENCY, timedelta(hours=1), timedelta(hours=24)),
        (Priority.URGENT, timedelta(hours=4), timedelta(hours=72)),
        (Priority.ROUTINE, timedelta(hours=24), timedelta(days=30)),
    ],
)
def test_production_deadlines_by_priority(priority, acknowledge, respond):
    assert services.deadline_windows(priority) == (acknowledge, respond)


def test_deadlines_follow_the_setting(owner, settings):
    settings.CSIRTNET_ASSISTANCE_DEADLINES = {
        **settings.CSIRTNET_ASSISTANCE_DEADLINES,
        "urgent": {"acknowledge_seconds": 600, "respond_seconds": 1200},
    }
    request = ask(owner)
    assert request.acknowledge_due_at == NOW + timedelta(minutes=10)
    assert request.respond_due_at == NOW + timedelta(minutes=20)


def test_a_draft_has_no_clock_until_sent(owner):
    draft = ask(owner, send=False)
    assert draft.status == Status.DRAFT
    assert draft.acknowledge_due_at is None and draft.reference is None
    later = NOW + timedelta(hours=1)
    sent = services.change_status(actor=owner, request=draft, status=Status.SENT, now=later)
    assert sent.acknowledge_due_at == later + timedelta(hours=4)


def test_creating_and_sending_write_history_with_user_organization_and_time(owner):
    request = ask(owner)
    lines = list(request.history.values_list("kind", "from_status", "to_status", "user", "at"))
    assert lines == [
        (HistoryKind.CREATED, "", Status.DRAFT, owner.user_id, NOW),
        (HistoryKind.TRANSITION, Status.DRAFT, Status.SENT, owner.user_id, NOW),
    ]
    assert {entry.organization_id for entry in request.history.all()} == {owner.organization_id}


def test_invalid_fields_come_back_by_name(owner):
    with pytest.raises(ValidationError) as caught:
        ask(owner, title="\u202eevil", description="bell\x07", details={}, tlp="purple")
    errors = caught.value.message_dict
    assert {"title", "description", "assistance_needed", "tlp"} <= set(errors)


def test_a_request_cannot_address_its_own_organization_or_a_non_member(owner):
    with pytest.raises(ValidationError) as caught:
        ask(owner, requested="CERTuy")
    assert "requested" in caught.value.message_dict
    cert_ar = org("CERT.ar")
    cert_ar.is_member = False
    cert_ar.save()
    with pytest.raises(ValidationError):
        ask(owner)


def test_a_csirt_cannot_send_a_law_enforcement_type_and_is_told_it_is_unknown(owner, officer_br):
    for request_type in (RequestType.PRESERVATION, RequestType.EMERGENCY_ASSISTANCE):
        with pytest.raises(ValidationError) as caught:
            ask(owner, request_type=request_type, requested=officer_br.organization)
        assert set(caught.value.message_dict) == {"request_type"}
    types = dict(services.request_types_for(owner))
    assert RequestType.PRESERVATION not in types
    assert RequestType.TAKEDOWN in types


def test_a_law_enforcement_type_goes_to_law_enforcement_units_only(officer_ar, officer_br):
    with pytest.raises(ValidationError) as caught:
        ask(officer_ar, request_type=RequestType.PRESERVATION, requested="CERT.br")
    assert "requested" in caught.value.message_dict
    request = ask(
        officer_ar, request_type=RequestType.PRESERVATION, requested=officer_br.organization,
        priority=Priority.EMERGENCY,
    )  # fmt: skip
    assert request.acknowledge_due_at == NOW + timedelta(hours=1)
    assert "art. 29" in request.legal_basis


def test_the_linked_incident_must_be_visible_to_the_requester(owner, recipient):
    mine = IncidentFactory(owner=owner.organization)
    hidden = IncidentFactory(owner=org("CERT-MX"))
    assert ask(owner, incident=mine).incident == mine
    with pytest.raises(ValidationError) as caught:
        ask(owner, incident=hidden)
    assert "incident" in caught.value.message_dict


def test_the_requested_organization_answers_and_each_step_is_recorded(owner, recipient):
    request = ask(owner)
    later = NOW + timedelta(minutes=30)
    for status in (Status.ACKNOWLEDGED, Status.ACCEPTED, Status.IN_PROGRESS, Status.FULFILLED):
        request = services.change_status(
            actor=recipient, request=request, status=status, now=later
        )
    assert request.acknowledged_at == later
    assert request.responded_at == later and request.closed_at == later
    moves = list(request.history.filter(kind=HistoryKind.TRANSITION).values_list("to_status"))
    assert [move for (move,) in moves][-4:] == [
        Status.ACKNOWLEDGED, Status.ACCEPTED, Status.IN_PROGRESS, Status.FULFILLED
    ]  # fmt: skip
    last = request.history.last()
    assert (last.user_id, last.organization_id) == (recipient.user_id, recipient.organization_id)


def test_declining_needs_a_reason_kept_in_the_history(owner, recipient):
    request = ask(owner)
    with pytest.raises(ValidationError) as caught:
        services.change_status(actor=recipient, request=request, status=Status.DECLINED)
    assert "reason" in caught.value.message_dict
    request = services.change_status(
        actor=recipient, request=request, status=Status.DECLINED, reason="Out of our mandate."
    )
    assert request.decline_reason == "Out of our mandate."
    assert request.acknowledged_at is not None and request.responded_at is not None
    assert request.history.last().note == "Out of our mandate."


def test_only_the_requester_sends_and_withdraws_only_the_requested_answers(
    owner, recipient, secretariat_member
):
    request = ask(owner)
    with pytest.raises(PermissionDenied):
        services.change_status(actor=owner, request=request, status=Status.ACKNOWLEDGED)
    with pytest.raises(PermissionDenied):
        services.change_status(actor=recipient, request=request, status=Status.WITHDRAWN)
    with pytest.raises(PermissionDenied):  # the secretariat watches, it does not answer
        services.change_status(
            actor=secretariat_member, request=request, status=Status.ACKNOWLEDGED
        )
    services.change_status(actor=owner, request=request, status=Status.WITHDRAWN)


def test_nobody_expires_a_request_by_hand_and_outsiders_cannot_touch_it(
    owner, recipient, outsider
):
    request = ask(owner)
    for actor in (owner, recipient):
        with pytest.raises(PermissionDenied):
            services.change_status(actor=actor, request=request, status=Status.EXPIRED)
    with pytest.raises(PermissionDenied):
        services.change_status(actor=outsider, request=request, status=Status.WITHDRAWN)


def _actor_for(status, owner, recipient, old=None):
    if old == Status.DRAFT:  # the requested organization does not see a draft
        return owner
    return owner if status in (Status.SENT, Status.WITHDRAWN, Status.DRAFT) else recipient


def test_every_illegal_transition_is_refused_and_changes_nothing(owner, recipient):
    request = ask(owner, send=False)
    checked = 0
    for old in Status.values:
        for new in Status.values:
            if new in TRANSITIONS[old]:
                continue
            type(request).objects.filter(pk=request.pk).update(
                status=old, sent_at=NOW, acknowledge_due_at=NOW, respond_due_at=NOW,
                decline_reason="x",
            )  # fmt: skip
            with pytest.raises(IllegalTransitionError) as caught:
                services.change_status(
                    actor=_actor_for(new, owner, recipient, old), request=request, status=new,
                    reason="because",
                )  # fmt: skip
            assert caught.value.code == "illegal_transition"
            request.refresh_from_db()
            assert request.status == old
            checked += 1
    legal = sum(len(targets) for targets in TRANSITIONS.values())
    assert checked == len(Status.values) ** 2 - legal
    assert set(TRANSITIONS) == set(Status.values)


def test_every_legal_transition_but_expiry_is_allowed_to_the_right_party(owner, recipient):
    request = ask(owner, send=False)
    for old, targets in TRANSITIONS.items():
        for new in targets - {Status.EXPIRED}:
            type(request).objects.filter(pk=request.pk).update(
                status=old, sent_at=NOW, acknowledge_due_at=NOW, respond_due_at=NOW,
                decline_reason="x",
            )  # fmt: skip
            moved = services.change_status(
                actor=_actor_for(new, owner, recipient), request=request, status=new,
                reason="because",
            )  # fmt: skip
            assert moved.status == new


def test_allowed_actions_follow_the_party_and_the_status(owner, recipient, outsider):
    request = ask(owner)
    assert [a.name for a in services.allowed_actions(owner, request)] == ["withdraw"]
    assert [a.name for a in services.allowed_actions(recipient, request)] == [
        "acknowledge", "accept", "decline",
    ]  # fmt: skip
    assert services.allowed_actions(outsider, request) == []


def test_the_demo_has_two_law_enforcement_units_each_with_a_24_7_contact_and_a_login(
    directory, settings, tmp_path
):
    from csirtnet.accounts.models import Membership, Role
    from csirtnet.accounts.services import create_demo_users
    from csirtnet.directory.models import ContactRole, OrganizationKind, PointOfContact

    settings.VAR_DIR = tmp_path
    create_demo_users()
    create_demo_users()  # idempotent
    units = Organization.objects.filter(kind=OrganizationKind.LAW_ENFORCEMENT)
    assert sorted(units.values_list("state__code", flat=True)) == ["AR", "BR"]
    assert all("(demo)" in unit.name for unit in units)
    contacts = PointOfContact.objects.filter(
        organization__in=units, role=ContactRole.LAW_ENFORCEMENT_24_7
    )
    assert contacts.count() == 2
    officers = Membership.objects.filter(organization__in=units, role=Role.LAW_ENFORCEMENT)
    assert sorted(officers.values_list("user__username", flat=True)) == ["uc_ar", "uc_br"]
