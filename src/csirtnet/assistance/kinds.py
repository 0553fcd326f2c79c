"""
The kinds of assistance request, their legal basis and their own fields, in one place.

Each kind lists the fields its request must carry in `AssistanceRequest.details` (a JSON
object of strings and, for `intends_mutual_assistance`, a boolean). `validate_details`
is the only check of that structure; models, forms and the API call it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from csirtnet.core.text import CONTROL_RE, DECEPTIVE_RE

MAX_LINE = 500  # characters of a one-line field
MAX_TEXT = 10000  # characters of a multi-line field


class RequestType(models.TextChoices):
    """What is asked; the last four are legal requests between law-enforcement units."""

    TECHNICAL_ASSISTANCE = "technical_assistance", _("Technical assistance")
    TAKEDOWN = "takedown", _("Takedown")
    SINKHOLE = "sinkhole", _("Sinkhole")
    INFORMATION = "information", _("Information request")
    PRESERVATION = "preservation", _("Expedited preservation of stored computer data")
    TRAFFIC_DISCLOSURE = "traffic_disclosure", _("Expedited disclosure of preserved traffic data")
    EMERGENCY_DISCLOSURE = "emergency_disclosure", _("Emergency disclosure of data")
    EMERGENCY_ASSISTANCE = "emergency_assistance", _("Emergency mutual assistance")


# Requests only law-enforcement units send and see (and the network secretariat).
LAW_ENFORCEMENT_TYPES: frozenset[str] = frozenset(
    {
        RequestType.PRESERVATION,
        RequestType.TRAFFIC_DISCLOSURE,
        RequestType.EMERGENCY_DISCLOSURE,
        RequestType.EMERGENCY_ASSISTANCE,
    }
)


class FieldShape(models.TextChoices):
    """How a type-specific field is written and checked."""

    LINE = "line", _("one line")
    TEXT = "text", _("text")
    CONFIRM = "confirm", _("confirmation")


@dataclass(frozen=True)
class DetailField:
    """
    One type-specific field: its key in `details`, label, help, shape and whether it is
    required. A CONFIRM field is a boolean that must be true when required.
    """

    name: str
    label: Promise
    help_text: Promise
    shape: FieldShape = FieldShape.TEXT
    required: bool = True


@dataclass(frozen=True)
class KindSpec:
    """A request type: its legal basis (never translated: a citation) and its fields."""

    legal_basis: str
    fields: tuple[DetailField, ...]


_AUTHORITY = DetailField(
    "requesting_authority",
    _("Requesting authority"),
    _("The authority seeking the measure (name, office, case number)."),
    FieldShape.LINE,
)
_OFFENCE = DetailField(
    "offence",
    _("Offence and summary of facts"),
    _("The offence under investigation or prosecution, its legal provisions, and the facts."),
)
_EMERGENCY = DetailField(
    "emergency_facts",
    _("Facts showing the emergency"),
    _("Why there is a significant and imminent risk to the life or safety of a person, "
      "and how the request relates to it."),
)  # fmt: skip

KINDS: dict[str, KindSpec] = {
    RequestType.TECHNICAL_ASSISTANCE: KindSpec(
        "CICTE declaration (2016), clause 15: mutual technical assistance between CSIRTs",
        (
            DetailField(
                "assistance_needed",
                _("Assistance needed"),
                _("What help is asked for: analysis, forensics, malware, advice."),
            ),
            DetailField(
                "affected_systems",
                _("Affected systems"),
                _("Systems, sectors or services concerned."),
                required=False,
            ),
        ),
    ),  # fmt: skip
    RequestType.TAKEDOWN: KindSpec(
        "CICTE declaration (2016), clause 15; the requested state's own law",
        (
            DetailField(
                "target",
                _("Resource to take down"),
                _("URL, domain name or address hosted in the requested state."),
                FieldShape.LINE,
            ),
            DetailField(
                "grounds",
                _("Grounds"),
                _("Why the resource is malicious (phishing, malware, C2), with evidence."),
            ),
            DetailField(
                "hosting_provider",
                _("Hosting provider or registrar"),
                _("Who hosts or registered it, when known."),
                FieldShape.LINE,
                required=False,
            ),
        ),
    ),  # fmt: skip
    RequestType.SINKHOLE: KindSpec(
        "CICTE declaration (2016), clause 15; the requested state's own law",
        (
            DetailField("domains", _("Domains to sinkhole"), _("One domain name per line.")),
            DetailField(
                "threat", _("Threat"), _("Malware family or botnet the domains serve, and why.")
            ),
            DetailField(
                "sinkhole_operator",
                _("Sinkhole operator"),
                _("Who would operate the sinkhole, when known."),
                FieldShape.LINE,
                required=False,
            ),
        ),
    ),  # fmt: skip
    RequestType.INFORMATION: KindSpec(
        "CICTE declaration (2016), clauses 8 and 15: exchange of information",
        (
            DetailField("questions", _("Questions"), _("What the requester wants to know.")),
            DetailField("purpose", _("Purpose"), _("What the answer will be used for.")),
        ),
    ),  # fmt: skip
    # Budapest Convention art. 29.2 (a)-(f): what a preservation request must specify.
    RequestType.PRESERVATION: KindSpec(
        "Budapest Convention (ETS 185), art. 29",
        (
            _AUTHORITY,
            _OFFENCE,
            DetailField(
                "data_to_preserve",
                _("Stored computer data to preserve"),
                _("The data and its relationship to the offence (art. 29.2.c)."),
            ),
            DetailField(
                "data_location",
                _("Custodian or location"),
                _(
                    "Any information identifying the custodian of the data or the "
                    "location of the computer system (art. 29.2.d)."
                ),
            ),
            DetailField(
                "necessity",
                _("Necessity of the preservation"),
                _("Why the data must be preserved now (art. 29.2.e)."),
            ),
            DetailField(
                "intends_mutual_assistance",
                _("A request for mutual assistance will follow"),
                _(
                    "The requesting Party intends to submit a request for search, "
                    "seizure or disclosure of the data (art. 29.2.f)."
                ),
                FieldShape.CONFIRM,
            ),
        ),
    ),  # fmt: skip
    # Budapest Convention art. 30: traffic data found while executing an art. 29 request.
    RequestType.TRAFFIC_DISCLOSURE: KindSpec(
        "Budapest Convention (ETS 185), art. 30",
        (
            _AUTHORITY,
            DetailField(
                "preservation_reference",
                _("Preservation request"),
                _("Reference of the art. 29 request being executed."),
                FieldShape.LINE,
            ),
            DetailField(
                "communication",
                _("Specified communication"),
                _("The communication whose path is to be traced (time, parties)."),
            ),
            _OFFENCE,
            DetailField(
                "grounds",
                _("Grounds"),
                _("Why the service providers and path must be identified."),
            ),
        ),
    ),  # fmt: skip
    # Second Additional Protocol (CETS 224) art. 9.3 (a)-(g).
    RequestType.EMERGENCY_DISCLOSURE: KindSpec(
        "Second Additional Protocol to the Budapest Convention (CETS 224), art. 9",
        (
            _AUTHORITY,
            DetailField(
                "service_provider",
                _("Service provider"),
                _(
                    "Name and address of the provider in possession or control of "
                    "the data (art. 9.3.c)."
                ),
            ),
            _OFFENCE,
            _EMERGENCY,
            DetailField(
                "data_sought",
                _("Data sought"),
                _("A detailed description of the data (art. 9.3.f)."),
            ),
            DetailField(
                "procedural_instructions",
                _("Special procedural instructions"),
                _("Confidentiality, authentication or other instructions (art. 9.3.g)."),
                required=False,
            ),
        ),
    ),  # fmt: skip
    # Second Additional Protocol (CETS 224) art. 10.3.
    RequestType.EMERGENCY_ASSISTANCE: KindSpec(
        "Second Additional Protocol to the Budapest Convention (CETS 224), art. 10",
        (
            _AUTHORITY,
            _OFFENCE,
            _EMERGENCY,
            DetailField(
                "assistance_sought",
                _("Assistance sought"),
                _("The measures asked for and the data or evidence concerned."),
            ),
        ),
    ),  # fmt: skip
}


def kind_spec(request_type: str) -> KindSpec:
    """
    Return the specification of `request_type` (a `RequestType` value).

    Raises:
        ValidationError: `{"request_type": …}` for an unknown type.
    """
    try:
        return KINDS[request_type]
    except KeyError:
        raise ValidationError({"request_type": gettext("Choose a request type.")}) from None


def validate_details(request_type: str, details: Any) -> dict[str, str | bool]:
    """
    Check the type-specific fields of a request and return them tidied: strings
    stripped, optional blanks dropped, unknown keys refused. LINE fields hold 1-500
    characters without control characters; TEXT fields up to 10,000 (tab and line breaks
    allowed); CONFIRM fields are booleans, true when required. Invisible and
    direction-changing characters are refused everywhere.

    Raises:
        ValidationError: `{"details": …}` when `details` is not an object, else
            `{field name: message}` for every bad field at once.
    """
    spec = kind_spec(request_type)
    if not isinstance(details, dict):
        raise ValidationError({"details": gettext("Give the request's fields as an object.")})
    known = {field.name for field in spec.fields}
    errors: dict[str, str] = {
        str(key)[:64]: gettext("This request type has no such field.")
        for key in details
        if key not in known
    }
    cleaned: dict[str, str | bool] = {}
    for field in spec.fields:
        try:
            value = _clean_value(field, details.get(field.name))
        except ValidationError as error:
            errors[field.name] = error.messages[0]
            continue
        if value not in ("", None, False) or (field.shape == FieldShape.CONFIRM and value):
            cleaned[field.name] = value
    if errors:
        raise ValidationError(errors)
    return cleaned


def _clean_value(field: DetailField, value: Any) -> str | bool:
    if field.shape == FieldShape.CONFIRM:
        if value in (None, ""):
            value = False
        if not isinstance(value, bool):
            raise ValidationError(gettext("Answer true or false."))
        if field.required and not value:
            raise ValidationError(gettext("This confirmation is required."))
        return bool(value)
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationError(gettext("Write text."))
    value = value.strip()
    if not value:
        if field.required:
            raise ValidationError(gettext("This field is required."))
        return ""
    limit = MAX_LINE if field.shape == FieldShape.LINE else MAX_TEXT
    if len(value) > limit:
        raise ValidationError(gettext("Write at most %(limit)d characters.") % {"limit": limit})
    plain = value if field.shape == FieldShape.LINE else value.translate(_BREAKS)
    if CONTROL_RE.search(plain) or DECEPTIVE_RE.search(value):
        raise ValidationError(gettext("The text cannot hold control or invisible characters."))
    return str(value)


_BREAKS = str.maketrans("", "", "\t\n\r")
