"""
MISP core format (https://www.misp-project.org/datamodels/) to and from STIX 2.1: pure
mapping with PyMISP objects and dicts, no database.

Import (`event_objects`): a MISP event becomes STIX 2.1 objects stored like any other
(correlation and TAXII see them):

- the event: a `grouping` (STIX 2.1 section 4.4) with id `grouping--<event uuid>`, `name`
  the event's `info`, `labels` its tags, and `x_misp_*` properties for what STIX has no
  home for (uuid, date, threat_level_id, analysis, distribution, published, Orgc);
- an attribute with `to_ids` and a type STIX can match: an `indicator` (section 4.7) with
  id `indicator--<attribute uuid>` and a STIX pattern (section 9);
- another attribute of such a type: a cyber-observable (section 6: ipv4-addr, ipv6-addr,
  domain-name, url, email-addr, file, autonomous-system), id a UUIDv5 of the attribute's
  uuid and timestamp (section 2.9);
- an attribute of any other type: a custom `x-misp-attribute` object (section 11.1)
  keeping every field as `x_misp_<field>`;
- a MISP object: a `grouping` (id `grouping--<object uuid>`) of its attributes' objects.

`modified` is the MISP `timestamp`; `created` the earlier of it and the event's `date`,
so a re-import of the same event gives the same objects ("unchanged"). The TLP tag
(`tlp:white` is TLP:CLEAR, `tlp:clear`, `tlp:green`, `tlp:amber`, `tlp:amber+strict`,
`tlp:red`) of the event, or the stricter one of an attribute, becomes the TLP 2.0 marking
of the objects; untagged objects get none (the importer's default then applies). The
groupings keep the event's marking; `import_stix` stores each with the strictest label of
its members (`importing.decide_labels`), so a TLP:CLEAR event holding a TLP:RED attribute
is a TLP:RED grouping. Other tags (`PAP:*`, `rsit:*`, ...) stay as `labels`.

Every attribute's object keeps `x_misp_uuid`, `x_misp_type`, `x_misp_category`,
`x_misp_value`, `x_misp_to_ids`, `x_misp_comment` (and `x_misp_object_relation` inside a
MISP object), so that `misp_export.grouping_to_misp` gives the same event back.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time
from typing import Any

import stix2
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from pymisp import MISPAttribute, MISPEvent, MISPObject

from csirtnet.core.text import printable
from csirtnet.sharing.stix import TLP2_MARKING_IDS, StixDict
from csirtnet.sharing.tlp import TLP, strictest

# UUIDv5 namespace of the cyber-observables made from MISP attributes (section 2.9).
_NAMESPACE = uuid.UUID("7e4a9c43-2a5d-4b8e-9f67-d3b0c4f1a8e2")

# MISP `tlp:*` tags (TLP 1.0 and 2.0 spellings) to TLP 2.0 labels.
MISP_TLP_TAGS: dict[str, TLP] = {
    "tlp:white": TLP.CLEAR,
    "tlp:clear": TLP.CLEAR,
    "tlp:green": TLP.GREEN,
    "tlp:amber": TLP.AMBER,
    "tlp:amber+strict": TLP.AMBER_STRICT,
    "tlp:red": TLP.RED,
}

# MISP attribute types STIX can hold: type -> (cyber-observable type, property).
_SCO_PROPERTY: dict[str, tuple[str, str]] = {
    "ip-src": ("ipv4-addr", "value"),
    "ip-dst": ("ipv4-addr", "value"),
    "domain": ("domain-name", "value"),
    "hostname": ("domain-name", "value"),
    "url": ("url", "value"),
    "email": ("email-addr", "value"),
    "email-src": ("email-addr", "value"),
    "email-dst": ("email-addr", "value"),
    "md5": ("file", "hashes.'MD5'"),
    "sha1": ("file", "hashes.'SHA-1'"),
    "sha256": ("file", "hashes.'SHA-256'"),
    "filename": ("file", "name"),
    "AS": ("autonomous-system", "number"),
}

# --- reading MISP JSON ----------------------------------------------------------------------


def load_events(document: Any) -> list[MISPEvent]:
    """
    Return the MISP events of a parsed MISP JSON document: `{"Event": {...}}`, a bare
    event (`info` with `Attribute` or `Object`), or a search answer `{"response": [...]}`
    of such events.

    Raises:
        ValidationError: a fragment (a galaxy, sightings, sharing groups, objects without
            their event) or anything else that is not a MISP event; the message says which.
    """
    if isinstance(document, dict) and isinstance(document.get("response"), list):
        return [event for item in document["response"] for event in load_events(item)]
    fragment = fragment_kind(document)
    if fragment:
        raise ValidationError(
            _("This is %(what)s, not a MISP event; only events can be imported.")
            % {"what": fragment}
        )
    if not is_event(document):
        raise ValidationError(_("Not a MISP event: no `Event` nor `info`."))
    raw = document.get("Event", document)
    if not _is_uuid(raw.get("uuid")):
        raise ValidationError(_("The MISP event has no valid `uuid`."))
    for attribute in _raw_attributes(raw):
        if not _is_uuid(attribute.get("uuid")):
            raise ValidationError(
                _("MISP attribute %(type)s %(value)s has no valid `uuid`.")
                % {"type": _text(attribute.get("type")), "value": _text(attribute.get("value"))}
            )
    event = MISPEvent()
    try:
        event.load(raw)
    except Exception as exc:  # noqa: BLE001 (PyMISP raises many kinds; each is bad input)
        raise ValidationError(
            _("Not a valid MISP event %(uuid)s: %(error)s")
            % {"uuid": _text(raw.get("uuid")), "error": _text(exc)}
        ) from exc
    return [event]


def is_event(document: Any) -> bool:
    """Return True for `{"Event": {...}}` or a bare event (`info` with attributes or objects)."""
    if not isinstance(document, dict):
        return False
    if isinstance(document.get("Event"), dict):
        return True
    return "info" in document and ("Attribute" in document or "Object" in document)


def looks_like_misp(document: Any) -> bool:
    """Return True for a MISP event, a search answer, or a MISP fragment (see `fragment_kind`)."""
    if isinstance(document, dict) and isinstance(document.get("response"), list):
        return True
    return is_event(document) or bool(fragment_kind(document))


def fragment_kind(document: Any) -> str:
    """
    Return what MISP fragment `document` is (translated words), or "" when it is none:
    a galaxy (`GalaxyCluster`), sharing groups (a list of `SharingGroup`), a sighting
    (`type`, `value` and `timestamp` only) or objects without their event (`Object` with
    no `info`).
    """
    if isinstance(document, list):
        if document and all(isinstance(i, dict) and "SharingGroup" in i for i in document):
            return _("a list of MISP sharing groups")
        return ""
    if not isinstance(document, dict) or is_event(document):
        return ""
    if "GalaxyCluster" in document or "Galaxy" in document:
        return _("a MISP galaxy")
    if "Sighting" in document or (
        {"type", "value", "timestamp"} <= document.keys() and "id" not in document
    ):
        return _("a MISP sighting")
    if "Object" in document or "Attribute" in document:
        return _("MISP objects or attributes without their event")
    return ""


def _raw_attributes(raw: Mapping[str, Any]) -> Iterable[Mapping[str, Any]]:
    yield from (a for a in raw.get("Attribute") or [] if isinstance(a, Mapping))
    for obj in raw.get("Object") or []:
        if isinstance(obj, Mapping):
            yield from (a for a in obj.get("Attribute") or [] if isinstance(a, Mapping))


# --- MISP event to STIX 2.1 -----------------------------------------------------------------


def event_objects(event: MISPEvent) -> list[StixDict]:
    """
    Return the STIX 2.1 objects of one MISP event (see the module docstring), the
    event's grouping last. Each object is checked with `stix2.parse`.

    Raises:
        ValidationError: the event has no attributes, or an attribute cannot be mapped;
            the message names its uuid and type.
    """
    event_label = _tags_tlp(event.tags, what=f"event {event.uuid}")
    event_date = _midnight(getattr(event, "date", None))  # PyMISP leaves it unset when absent
    objects: list[StixDict] = []
    refs: list[str] = []
    for attribute in event.attributes:
        mapped = _attribute_object(attribute, event_label, event_date)
        objects.append(mapped)
        refs.append(mapped["id"])
    for misp_object in event.objects:
        members = [
            _attribute_object(attribute, event_label, event_date)
            for attribute in misp_object.attributes
        ]
        objects.extend(members)
        if members:
            grouping = _object_grouping(misp_object, members, event_label, event_date)
            objects.append(grouping)
            refs.append(grouping["id"])
    if not refs:
        raise ValidationError(
            _("MISP event %(uuid)s has no attributes to import.") % {"uuid": event.uuid}
        )
    objects.append(_event_grouping(event, refs, event_label, event_date))
    return objects


def _event_grouping(
    event: MISPEvent, refs: list[str], label: TLP | None, event_date: datetime
) -> StixDict:
    modified = _when(getattr(event, "timestamp", None), event_date)
    orgc = getattr(event, "Orgc", None)
    body: StixDict = {
        "type": "grouping", "spec_version": "2.1", "id": f"grouping--{event.uuid}",
        "created": _stamp(min(event_date, modified)), "modified": _stamp(modified),
        "name": event.info or event.uuid, "context": "suspicious-activity",
        "object_refs": refs, "x_misp_uuid": event.uuid,
        "x_misp_date": event_date.date().isoformat(),
        "x_misp_threat_level_id": _int(getattr(event, "threat_level_id", None)),
        "x_misp_analysis": _int(getattr(event, "analysis", None)),
        "x_misp_distribution": _int(getattr(event, "distribution", None)),
        "x_misp_published": bool(getattr(event, "published", False)),
    }  # fmt: skip
    if orgc is not None and getattr(orgc, "name", None):
        body["x_misp_orgc"] = {"name": orgc.name, "uuid": getattr(orgc, "uuid", "")}
    return _finish(body, event.tags, label, what=f"event {event.uuid}")


def _object_grouping(
    misp_object: MISPObject, members: list[StixDict], label: TLP | None, event_date: datetime
) -> StixDict:
    modified = _when(getattr(misp_object, "timestamp", None), event_date)
    if not _is_uuid(misp_object.uuid):
        raise ValidationError(
            _("MISP object %(name)s has no valid `uuid`.") % {"name": _text(misp_object.name)}
        )
    body: StixDict = {
        "type": "grouping", "spec_version": "2.1", "id": f"grouping--{misp_object.uuid}",
        "created": _stamp(min(event_date, modified)), "modified": _stamp(modified),
        "name": misp_object.name, "context": "unspecified",
        "object_refs": [member["id"] for member in members],
        "x_misp_uuid": misp_object.uuid, "x_misp_object_name": misp_object.name,
        "x_misp_meta_category": getattr(misp_object, "meta-category", None) or "",
        "x_misp_template_uuid": getattr(misp_object, "template_uuid", None) or "",
        "x_misp_comment": getattr(misp_object, "comment", None) or "",
    }  # fmt: skip
    return _finish(body, [], label, what=f"object {misp_object.uuid}")


def _attribute_object(
    attribute: MISPAttribute, event_label: TLP | None, event_date: datetime
) -> StixDict:
    what = f"attribute {attribute.uuid} ({attribute.type})"
    label = _combined(event_label, _tags_tlp(attribute.tags, what=what))
    modified = _when(getattr(attribute, "timestamp", None), event_date)
    common: StixDict = {
        "x_misp_uuid": attribute.uuid, "x_misp_type": attribute.type,
        "x_misp_category": attribute.category or "",
        "x_misp_comment": getattr(attribute, "comment", None) or "",
        "x_misp_to_ids": bool(attribute.to_ids), "x_misp_value": str(attribute.value),
    }  # fmt: skip
    if relation := getattr(attribute, "object_relation", None):
        common["x_misp_object_relation"] = str(relation)
    value = str(attribute.value)
    sco = _SCO_PROPERTY.get(attribute.type)
    if sco is not None and attribute.to_ids:
        body: StixDict = {
            "type": "indicator", "spec_version": "2.1", "id": f"indicator--{attribute.uuid}",
            "created": _stamp(min(event_date, modified)), "modified": _stamp(modified),
            "name": value[:250], "pattern": _pattern(sco, value, what), "pattern_type": "stix",
            "valid_from": _stamp(min(event_date, modified)), **common,
        }  # fmt: skip
    elif sco is not None:
        kind = _address_kind(sco, value)[0]
        seed = f"{attribute.uuid}|{int(modified.timestamp())}"
        body = {
            "type": kind, "spec_version": "2.1", "id": f"{kind}--{uuid.uuid5(_NAMESPACE, seed)}",
            **_sco_property(sco, value, what), **common,
        }  # fmt: skip
    else:
        body = {
            "type": "x-misp-attribute", "spec_version": "2.1",
            "id": f"x-misp-attribute--{attribute.uuid}",
            "created": _stamp(min(event_date, modified)), "modified": _stamp(modified),
            **common, **_every_field(attribute),
        }  # fmt: skip
    return _finish(body, attribute.tags, label, what=what)


def _pattern(sco: tuple[str, str], value: str, what: str) -> str:
    kind, prop = _address_kind(sco, value)
    if kind == "autonomous-system":
        return f"[autonomous-system:number = {_asn(value, what)}]"
    return f"[{kind}:{prop} = '{_escape(value)}']"


def _sco_property(sco: tuple[str, str], value: str, what: str) -> StixDict:
    kind, prop = _address_kind(sco, value)
    if kind == "autonomous-system":
        return {"number": _asn(value, what)}
    if prop.startswith("hashes."):
        return {"hashes": {prop.split("'")[1]: value}}
    return {prop: value}


def _address_kind(sco: tuple[str, str], value: str) -> tuple[str, str]:
    if sco[0] == "ipv4-addr" and ":" in value:
        return "ipv6-addr", "value"
    return sco


def _asn(value: str, what: str) -> int:
    digits = value.strip().upper().removeprefix("AS")
    if not digits.isdigit():
        raise ValidationError(
            _("MISP %(what)s: %(value)s is not an AS number.")
            % {"what": what, "value": _text(value)}
        )
    return int(digits)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("'", "\\'")


def _every_field(attribute: MISPAttribute) -> StixDict:
    fields = json.loads(attribute.to_json())
    fields.pop("Tag", None)
    return {
        "x_misp_" + re.sub(r"[^a-z0-9_]", "_", key.lower()): value
        for key, value in fields.items()
        if value not in (None, "", [])
    }


def _finish(body: StixDict, tags: Iterable[Any], label: TLP | None, *, what: str) -> StixDict:
    """Add labels and the TLP marking to `body`, check it with stix2, return it."""
    names = [str(tag.name) for tag in tags if getattr(tag, "name", None)]
    if names and body["type"] in ("grouping", "indicator", "x-misp-attribute"):
        body["labels"] = names
    elif names:
        body["x_misp_tags"] = names
    if label is not None:
        body["object_marking_refs"] = [TLP2_MARKING_IDS[label]]
    try:
        stix2.parse(body, allow_custom=True, version="2.1")
    except Exception as exc:  # noqa: BLE001 (stix2 raises many kinds; each is bad input)
        raise ValidationError(
            _("MISP %(what)s cannot be mapped to STIX 2.1: %(error)s")
            % {"what": what, "error": _text(exc)}
        ) from exc
    return body


def _tags_tlp(tags: Any, *, what: str) -> TLP | None:
    if not isinstance(tags, list | tuple):
        raise ValidationError(
            _("MISP %(what)s: `Tag` is not a list of tags.") % {"what": _text(what)}
        )
    labels = [
        MISP_TLP_TAGS[name]
        for tag in tags
        if (name := str(getattr(tag, "name", "")).strip().lower()) in MISP_TLP_TAGS
    ]
    return strictest(labels) if labels else None


def _combined(first: TLP | None, second: TLP | None) -> TLP | None:
    labels = [label for label in (first, second) if label is not None]
    return strictest(labels) if labels else None


def _midnight(day: date | datetime | None) -> datetime:
    if isinstance(day, datetime):
        return day.astimezone(UTC)
    if isinstance(day, date):
        return datetime.combine(day, time.min, tzinfo=UTC)
    return datetime(1970, 1, 1, tzinfo=UTC)


def _when(moment: Any, fallback: datetime) -> datetime:
    if isinstance(moment, datetime):
        return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    return fallback


def _stamp(moment: datetime) -> str:
    return (
        moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.")
        + f"{moment.microsecond // 1000:03d}Z"
    )


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _is_uuid(value: Any) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return value is not None


def _text(value: Any) -> str:
    return printable(str(value))[:200]
