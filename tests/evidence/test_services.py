"""The evidence verbs: who may add, transfer, accept, examine and release, and what they write."""

from __future__ import annotations

import hashlib
import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from csirtnet.core import hashchain
from csirtnet.directory.models import Organization
from csirtnet.evidence import services
from csirtnet.evidence.models import Action, CustodyEvent, Evidence
from csirtnet.evidence.storage import evidence_path
from tests.evidence.conftest import CSV_SAMPLE

pytestmark = pytest.mark.django_db


def _actions(evidence: Evidence) -> list[str]:
    return list(evidence.custody.order_by("sequence").values_list("action", flat=True))


def test_adding_evidence_stores_the_file_by_hash_and_writes_collected(
    owner, incident, add, sample
):
    evidence = add(owner, incident, description="Scan log from the honeypot")
    data = sample(CSV_SAMPLE)
    assert evidence.sha256 == hashlib.sha256(data).hexdigest()
    assert evidence.size == len(data)
    assert evidence_path(evidence.sha256).read_bytes() == data
    assert (evidence.name, evidence.content_type) == ("scan_ssh.csv", "text/csv")
    assert evidence.owner == evidence.custodian == owner.organization
    (event,) = evidence.custody.all()
    assert (event.sequence, event.action, event.actor, event.organization) == (
        1, Action.COLLECTED, owner.user, owner.organization,
    )  # fmt: skip
    assert event.previous_hash == hashchain.GENESIS
    assert event.hash == hashchain.link_hash(hashchain.GENESIS, event.custody_record())
    assert event.sha256 == evidence.sha256
    assert (evidence.custody_length, evidence.head_hash) == (1, event.hash)


def test_participant_may_add_evidence_but_an_outsider_may_not(recipient, outsider, incident, add):
    assert add(recipient, incident).owner == recipient.organization
    with pytest.raises(PermissionDenied):
        add(outsider, incident)
    assert Evidence.objects.count() == 1


def test_transfer_takes_effect_only_when_the_receiver_accepts(owner, recipient, incident, add):
    evidence = add(owner, incident)
    services.transfer_evidence(
        actor=owner, evidence=evidence, receiving_organization=recipient.organization,
        reason="Analysis by CERT.ar under art. 29 preservation",
    )  # fmt: skip
    evidence.refresh_from_db()
    assert evidence.custodian == owner.organization
    assert evidence.pending_receiver == recipient.organization
    event = services.accept_transfer(actor=recipient, evidence=evidence)
    evidence.refresh_from_db()
    assert evidence.custodian == recipient.organization
    assert evidence.pending_receiver is None
    assert (event.action, event.organization, event.sequence) == (
        Action.ACCEPTED, recipient.organization, 3,
    )  # fmt: skip
    assert _actions(evidence) == ["collected", "transferred", "accepted"]


def test_the_wrong_organization_cannot_accept(owner, recipient, outsider, incident, add):
    evidence = add(owner, incident)
    services.transfer_evidence(
        actor=owner, evidence=evidence, receiving_organization=recipient.organization,
        reason="hand over",
    )  # fmt: skip
    for other in (owner, outsider):
        with pytest.raises(PermissionDenied):
            services.accept_transfer(actor=other, evidence=evidence)
    evidence.refresh_from_db()
    assert evidence.custodian == owner.organization
    assert _actions(evidence) == ["collected", "transferred"]


def test_a_second_transfer_while_one_is_pending_is_refused(
    owner, recipient, outsider, incident, add
):
    evidence = add(owner, incident)
    services.transfer_evidence(
        actor=owner, evidence=evidence, receiving_organization=recipient.organization,
        reason="first",
    )  # fmt: skip
    with pytest.raises(ValidationError, match="already pending"):
        services.transfer_evidence(
            actor=owner, evidence=evidence, receiving_organization=outsider.organization,
            reason="second",
        )  # fmt: skip
    assert evidence.custody.count() == 2


def test_accepting_without_a_pending_transfer_is_refused(owner, recipient, incident, add):
    evidence = add(owner, incident)
    with pytest.raises(ValidationError, match="No transfer"):
        services.accept_transfer(actor=recipient, evidence=evidence)


def test_only_the_custodian_may_transfer_examine_or_release(owner, recipient, incident, add):
    evidence = add(owner, incident)
    with pytest.raises(PermissionDenied):
        services.transfer_evidence(
            actor=recipient, evidence=evidence,
            receiving_organization=recipient.organization, reason="mine now",
        )  # fmt: skip
    with pytest.raises(PermissionDenied):
        services.record_examination(actor=recipient, evidence=evidence, reason="looked")
    with pytest.raises(PermissionDenied):
        services.release_evidence(actor=recipient, evidence=evidence, reason="done")
    assert evidence.custody.count() == 1


def test_transfer_to_the_custodian_itself_is_refused_on_its_field(owner, incident, add):
    evidence = add(owner, incident)
    with pytest.raises(ValidationError) as error:
        services.transfer_evidence(
            actor=owner, evidence=evidence, receiving_organization=owner.organization,
            reason="to myself",
        )  # fmt: skip
    assert "receiving_organization" in error.value.message_dict


@pytest.mark.parametrize("verb", ["transfer", "examine", "release"])
def test_every_custody_step_needs_a_reason(owner, recipient, incident, add, verb):
    evidence = add(owner, incident)
    with pytest.raises(ValidationError) as error:
        if verb == "transfer":
            services.transfer_evidence(
                actor=owner, evidence=evidence,
                receiving_organization=recipient.organization, reason="  ",
            )  # fmt: skip
        elif verb == "examine":
            services.record_examination(actor=owner, evidence=evidence, reason="")
        else:
            services.release_evidence(actor=owner, evidence=evidence, reason="")
    assert "reason" in error.value.message_dict


def test_release_closes_the_chain(owner, recipient, incident, add):
    evidence = add(owner, incident)
    services.record_examination(actor=owner, evidence=evidence, reason="Hashes checked")
    services.release_evidence(actor=owner, evidence=evidence, reason="Returned to the ISP")
    evidence.refresh_from_db()
    assert evidence.is_released
    assert _actions(evidence) == ["collected", "examined", "released"]
    with pytest.raises(ValidationError, match="released"):
        services.record_examination(actor=owner, evidence=evidence, reason="again")
    with pytest.raises(ValidationError, match="released"):
        services.transfer_evidence(
            actor=owner, evidence=evidence, receiving_organization=recipient.organization,
            reason="late",
        )  # fmt: skip


def test_examination_refuses_a_stored_file_that_changed(owner, incident, add):
    evidence = add(owner, incident)
    evidence_path(evidence.sha256).write_bytes(b"tampered")
    with pytest.raises(ValidationError, match="no longer matches"):
        services.record_examination(actor=owner, evidence=evidence, reason="look")
    assert evidence.custody.count() == 1


def test_the_chain_links_each_event_to_the_one_before(owner, recipient, incident, add):
    evidence = add(owner, incident)
    services.transfer_evidence(
        actor=owner, evidence=evidence, receiving_organization=recipient.organization,
        reason="analysis",
    )  # fmt: skip
    services.accept_transfer(actor=recipient, evidence=evidence, reason="received")
    services.record_examination(actor=recipient, evidence=evidence, reason="strings, yara")
    events = list(
        CustodyEvent.objects.filter(evidence=evidence).select_related(
            "evidence", "actor", "organization", "receiving_organization"
        )
    )
    links = [hashchain.Link(e.custody_record(), e.previous_hash, e.hash) for e in events]
    assert hashchain.verify(links) is None
    assert [e.sequence for e in events] == [1, 2, 3, 4]
    assert events[1].receiving_organization == recipient.organization


def test_visible_to_the_parent_s_audience_the_custodian_and_the_receiver(
    owner, recipient, outsider, incident, add
):
    evidence = add(owner, incident)
    visible = Evidence.objects.visible_to
    assert evidence in visible(owner)
    assert evidence in visible(recipient)
    assert evidence not in visible(outsider)
    assert evidence not in visible(None)
    services.transfer_evidence(
        actor=owner, evidence=evidence, receiving_organization=outsider.organization,
        reason="Mexican prosecutor asks for it",
    )  # fmt: skip
    assert evidence in visible(outsider)  # receiver of the pending transfer
    services.accept_transfer(actor=outsider, evidence=evidence)
    assert evidence in visible(outsider)  # custodian now
    other = Organization.objects.get(short_name="CICTE")
    services.transfer_evidence(
        actor=outsider, evidence=evidence, receiving_organization=other, reason="archive"
    )
    services.accept_transfer(actor=_member_of(other), evidence=evidence)
    assert evidence not in visible(outsider)  # neither custodian nor sees the incident


def _member_of(organization):  # type: ignore[no-untyped-def]
    from django.contrib.auth import get_user_model

    from csirtnet.accounts.models import Membership

    user = get_user_model().objects.create_user(username=f"m-{organization.pk}")
    return Membership.objects.create(user=user, organization=organization)


def test_evidence_file_of_the_same_bytes_is_stored_once(owner, incident, add):
    first = add(owner, incident)
    second = add(owner, incident)
    assert first.sha256 == second.sha256
    assert first.pk != second.pk
    assert len(list(evidence_path(first.sha256).parent.iterdir())) == 1


def test_file_names_are_sanitized(owner, incident):
    evidence = services.add_evidence(
        actor=owner, parent=incident, name="..\\..\\etc/\u202epasswd<1>.txt",
        content=io.BytesIO(b"root:x:0:0"), content_type="text/plain",
    )  # fmt: skip
    assert evidence.name == "passwd_1_.txt"
