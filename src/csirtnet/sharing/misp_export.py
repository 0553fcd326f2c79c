"""
MISP events out (MISP core format, https://www.misp-project.org/datamodels/), as
`pymisp.MISPEvent`: an incident (`incident_to_misp`), or a MISP event that was imported
and stored as STIX 2.1 objects, given back with the same attributes, objects and tags
(`grouping_to_misp`; the mapping in is `sharing.misp`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pymisp import MISPEvent, MISPObject, MISPOrganisation

from csirtnet.sharing.observables import ObservableType
from csirtnet.sharing.stix import parse_timestamp
from csirtnet.sharing.tlp import TLP

if TYPE_CHECKING:
    from csirtnet.incidents.models import Incident

StixBody = Mapping[str, Any]

# Observable types of incidents to MISP attribute types and categories (export).
_MISP_TYPES: dict[str, tuple[str, str]] = {
    ObservableType.IPV4: ("ip-dst", "Network activity"),
    ObservableType.IPV6: ("ip-dst", "Network activity"),
    ObservableType.CIDR: ("ip-dst", "Network activity"),
    ObservableType.DOMAIN: ("domain", "Network activity"),
    ObservableType.URL: ("url", "Network activity"),
    ObservableType.EMAIL: ("email-src", "Payload delivery"),
    ObservableType.MD5: ("md5", "Payload delivery"),
    ObservableType.SHA1: ("sha1", "Payload delivery"),
    ObservableType.SHA256: ("sha256", "Payload delivery"),
    ObservableType.ASN: ("AS", "Network activity"),
}

# Severity 1-5 to MISP threat_level_id (1 high, 2 medium, 3 low, 4 undefined).
_THREAT_LEVELS = {5: 1, 4: 1, 3: 2, 2: 3, 1: 3}
# Incident status to MISP analysis (0 initial, 1 ongoing, 2 completed).
_ANALYSIS = {"new": 0, "triaged": 0, "in_progress": 1, "resolved": 2, "closed": 2}
# TLP to MISP distribution (0 your organisation only, 2 connected communities, 3 all).
_DISTRIBUTION = {TLP.CLEAR: 3, TLP.GREEN: 2}


def incident_to_misp(incident: Incident) -> MISPEvent:
    """
    Return `incident` as a MISP event: `info` its title, `uuid` its uuid, `date` the day
    it was reported, `threat_level_id` from its severity, `analysis` from its status,
    tags `tlp:<label>` (TLP 2.0 spelling: `tlp:clear`, `tlp:amber+strict`), `PAP:<label>`
    and `rsit:<class>="<type>"`, one attribute per observable (ip-dst, domain, url,
    email-src, md5, sha1, sha256, AS) with `to_ids` true and the observable's uuid.
    The caller decides who may export it (TLP:RED never is).
    """
    event = MISPEvent()
    event.uuid = str(incident.uuid)
    event.info = incident.title
    event.set_date(incident.reported_at.date())
    event.threat_level_id = _THREAT_LEVELS.get(incident.severity or 0, 4)
    event.analysis = _ANALYSIS.get(incident.status, 0)
    label = TLP(incident.tlp)
    event.distribution = _DISTRIBUTION.get(label, 0)
    event.add_tag(f"tlp:{label.value}")
    event.add_tag(f"PAP:{str(incident.pap).upper()}")
    event.add_tag(f'rsit:{incident.taxonomy_predicate}="{incident.taxonomy_value}"')
    for observable in incident.observables.all():
        misp_type, category = _MISP_TYPES[ObservableType(observable.type)]
        event.add_attribute(
            misp_type, observable.value, category=category, to_ids=True,
            uuid=str(observable.uuid),
        )  # fmt: skip
    return event


def grouping_to_misp(grouping: StixBody, members: Mapping[str, StixBody]) -> MISPEvent:
    """
    Return the MISP event that `sharing.misp.event_objects` stored as `grouping` (a STIX
    2.1 grouping with `x_misp_*` properties) and its members (`members`: STIX id to body,
    the latest stored versions; a MISP object is a member grouping of its attributes).
    Each attribute gets back its uuid, type, category, value, `to_ids`, comment, object
    relation, timestamp (the STIX `modified`) and tags; the event its uuid, info, date,
    threat level, analysis, distribution, published flag, creator organization and tags.
    References missing from `members` (hidden from the exporter) are left out.
    """
    event = MISPEvent()
    event.uuid = str(grouping.get("x_misp_uuid") or str(grouping["id"]).split("--", 1)[1])
    event.info = str(grouping.get("name", ""))
    if grouping.get("x_misp_date"):
        event.set_date(str(grouping["x_misp_date"]))
    for name in ("threat_level_id", "analysis", "distribution"):
        if grouping.get(f"x_misp_{name}") is not None:
            setattr(event, name, int(grouping[f"x_misp_{name}"]))
    event.published = bool(grouping.get("x_misp_published", False))
    if isinstance(orgc := grouping.get("x_misp_orgc"), Mapping) and orgc.get("name"):
        organisation = MISPOrganisation()
        organisation.from_dict(name=str(orgc["name"]), uuid=str(orgc.get("uuid", "")))
        event.Orgc = organisation
    for tag in _tags(grouping):
        event.add_tag(tag)
    for ref in grouping.get("object_refs") or []:
        member = members.get(ref)
        if member is None:
            continue
        if member.get("type") == "grouping" and member.get("x_misp_object_name"):
            event.add_object(_misp_object(member, members))
        elif member.get("x_misp_type"):
            event.add_attribute(**_attribute_fields(member))
    return event


def _misp_object(grouping: StixBody, members: Mapping[str, StixBody]) -> MISPObject:
    misp_object = MISPObject(str(grouping["x_misp_object_name"]), strict=False)
    misp_object.uuid = str(grouping.get("x_misp_uuid", ""))
    for key in ("meta-category", "template_uuid", "comment"):
        if value := grouping.get("x_misp_" + key.replace("-", "_")):
            setattr(misp_object, key, str(value))
    for ref in grouping.get("object_refs") or []:
        member = members.get(ref)
        if member is not None and member.get("x_misp_type"):
            fields = _attribute_fields(member)
            relation = str(member.get("x_misp_object_relation") or fields["type"])
            misp_object.add_attribute(relation, **fields)
    return misp_object


def _attribute_fields(body: StixBody) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "type": str(body["x_misp_type"]),
        "value": str(body.get("x_misp_value", body.get("name", ""))),
        "category": str(body.get("x_misp_category") or "") or None,
        "to_ids": bool(body.get("x_misp_to_ids", False)),
        "comment": str(body.get("x_misp_comment") or ""),
        "uuid": str(body.get("x_misp_uuid", "")),
        "Tag": [{"name": tag} for tag in _tags(body)],
    }
    if moment := parse_timestamp(str(body.get("modified", ""))):
        fields["timestamp"] = moment
    return {key: value for key, value in fields.items() if value is not None}


def _tags(body: StixBody) -> list[str]:
    tags = body.get("labels") or body.get("x_misp_tags") or []
    return [str(tag) for tag in tags if isinstance(tag, str)]
