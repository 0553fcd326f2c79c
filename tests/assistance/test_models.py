"""Assistance rows: each type's own fields, row invariants, and who sees a request."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from csirtnet.assistance.kinds import (
    KINDS,
    LAW_ENFORCEMENT_TYPES,
    FieldShape,
    RequestType,
    validate_details,
)
from csirtnet.assistance.models import AssistanceRequest, Status
from csirtnet.directory.models import Organization
from tests.assistance.factories import CREATED_AT, VALID_DETAILS, AssistanceRequestFactory

pytestmark = pytest.mark.django_db


def test_every_type_has_a_legal_basis_and_valid_sample_fields():
    assert set(KINDS) == set(RequestType.values) == set(VALID_DETAILS)
    for request_type, spec in KINDS.items():
        assert spec.legal_basis
        assert validate_details(request_type, VALID_DETAILS[request_type])


@pytest.mark.parametrize("request_type", RequestType.values)
def test_each_required_field_of_each_type_is_required(request_type):
    required = [field for field in KINDS[request_type].fields if field.required]
    assert required
    for field in required:
        details = dict(VALID_DETAILS[request_type])
        details.pop(field.name, None)
        with pytest.raises(ValidationError) as caught:
            validate_details(request_type, details)
        assert field.name in caught.value.message_dict


def test_preservation_follows_budapest_article_29_2():
    names = {field.name for field in KINDS[RequestType.PRESERVATION].fields}
    # (a) authority, (b) offence and facts, (c) data, (d) custodian or location,
    # (e) necessity, (f) intention to request mutual assistance
    assert names == {
        "requesting_authority", "offence", "data_to_preserve", "data_location",
        "necessity", "intends_mutual_assistance",
    }  # fmt: skip
    assert "art. 29" in KINDS[RequestType.PRESERVATION].legal_basis
    details = dict(VALID_DETAILS[RequestType.PRESERVATION], intends_mutual_assistance=False)
    with pytest.raises(ValidationError) as caught:
        validate_details(RequestType.PRESERVATION, details)
    assert "intends_mutual_assistance" in caught.value.message_dict


def test_the_law_enforcement_types_cite_the_convention_and_protocol():
    assert {
        RequestType.PRESERVATION, RequestType.TRAFFIC_DISCLOSURE,
        RequestType.EMERGENCY_DISCLOSURE, RequestType.EMERGENCY_ASSISTANCE,
    } == LAW_ENFORCEMENT_TYPES  # fmt: skip
    assert "art. 30" in KINDS[RequestType.TRAFFIC_DISCLOSURE].legal_basis
    assert "art. 9" in KINDS[RequestType.EMERGENCY_DISCLOSURE].legal_basis
    assert "art. 10" in KINDS[RequestType.EMERGENCY_ASSISTANCE].legal_basis


@pytest.mark.parametrize(
    "value",
    ["ok\x00", "ok\x1b[31m", "\u202eexe.png", "zero\u200bwidth"],
)
def test_control_and_bidi_characters_are_refused_in_type_fields(value):
    details = dict(VALID_DETAILS[RequestType.TAKEDOWN], target=value)
    with pytest.raises(ValidationError) as caught:
        validate_details(RequestType.TAKEDOWN, details)
    assert "target" in caught.value.message_dict


def test_line_breaks_are_allowed_in_text_fields_but_not_in_lines():
    text_field = next(f for f in KINDS[RequestType.SINKHOLE].fields if f.name == "domains")
    assert text_field.shape == FieldShape.TEXT
    assert validate_details(RequestType.SINKHOLE, VALID_DETAILS[RequestType.SINKHOLE])
    with pytest.raises(ValidationError):
        validate_details(
            RequestType.TAKEDOWN, dict(VALID_DETAILS[RequestType.TAKEDOWN], target="a\nb")
        )


def test_unknown_fields_wrong_shapes_and_unknown_types_are_refused():
    with pytest.raises(ValidationError) as caught:
        validate_details(RequestType.INFORMATION, {**VALID_DETAILS["information"], "x": "y"})
    assert "x" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        validate_details(RequestType.INFORMATION, {**VALID_DETAILS["information"], "purpose": 3})
    assert "purpose" in caught.value.message_dict
    with pytest.raises(ValidationError):
        validate_details(RequestType.INFORMATION, ["not", "an", "object"])
    with pytest.raises(ValidationError) as caught:
        validate_details("extradition", {})
    assert "request_type" in caught.value.message_dict


def test_optional_blank_fields_are_dropped_and_text_is_stripped():
    details = {"assistance_needed": "  Analyse it.  ", "affected_systems": "  "}
    assert validate_details(RequestType.TECHNICAL_ASSISTANCE, details) == {
        "assistance_needed": "Analyse it."
    }


def test_clean_refuses_a_request_to_its_own_organization(directory):
    request = AssistanceRequestFactory.build(
        requester=Organization.objects.get(short_name="CERTuy"),
        requested=Organization.objects.get(short_name="CERTuy"),
    )
    with pytest.raises(ValidationError) as caught:
        request.clean()
    assert "requested" in caught.value.message_dict


def test_a_sent_request_needs_its_deadlines_and_a_decline_its_reason(directory):
    with pytest.raises(IntegrityError), transaction.atomic():
        AssistanceRequestFactory(status=Status.SENT)
    with pytest.raises(IntegrityError), transaction.atomic():
        AssistanceRequestFactory(status=Status.DECLINED, decline_reason="")


# --- who sees what -------------------------------------------------------------------


def test_a_draft_is_seen_by_the_requester_only(owner, recipient, outsider, secretariat_member):
    draft = AssistanceRequestFactory()
    visible = AssistanceRequest.objects.visible_to
    assert draft in visible(owner)
    assert draft not in visible(recipient)
    assert draft not in visible(secretariat_member)
    assert draft not in visible(outsider)


def test_a_sent_request_is_seen_by_both_parties_and_the_secretariat_only(
    owner, recipient, outsider, secretariat_member
):
    sent = AssistanceRequestFactory(
        status=Status.SENT,
        sent_at=CREATED_AT,
        acknowledge_due_at=CREATED_AT,
        respond_due_at=CREATED_AT,
    )
    visible = AssistanceRequest.objects.visible_to
    assert sent in visible(owner)
    assert sent in visible(recipient)
    assert sent in visible(secretariat_member)
    assert sent not in visible(outsider)
    assert sent not in visible(None)


def test_even_a_clear_request_is_not_shown_to_other_members(owner, outsider):
    clear = AssistanceRequestFactory(tlp="clear")
    assert clear not in AssistanceRequest.objects.visible_to(outsider)


def test_law_enforcement_types_are_seen_by_law_enforcement_units_and_the_secretariat_only(
    owner, officer_ar, officer_br, secretariat_member
):
    request = AssistanceRequestFactory(
        request_type=RequestType.PRESERVATION, requester=officer_ar.organization,
        requested=officer_br.organization, status=Status.SENT, sent_at=CREATED_AT,
        acknowledge_due_at=CREATED_AT, respond_due_at=CREATED_AT,
    )  # fmt: skip
    # a unit that became a CSIRT (or a request addressed wrongly) still shows nothing
    stray = AssistanceRequestFactory(
        request_type=RequestType.EMERGENCY_DISCLOSURE, status=Status.SENT, sent_at=CREATED_AT,
        acknowledge_due_at=CREATED_AT, respond_due_at=CREATED_AT,
    )  # fmt: skip
    visible = AssistanceRequest.objects.visible_to
    assert request in visible(officer_ar)
    assert request in visible(officer_br)
    assert request in visible(secretariat_member)
    assert request not in visible(owner)
    assert stray not in visible(owner)  # CERTuy's own, but not a law-enforcement unit
