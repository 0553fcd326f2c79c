"""
STIX 2.1 mapping (OASIS STIX 2.1): TLP markings, the values an object holds, canonical
content, and export bundles. Pure functions from models and dicts to dicts; no database.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import stix2
from stix2patterns.v21.pattern import Pattern

from csirtnet.sharing.observables import ObservableType, normalize
from csirtnet.sharing.tlp import TLP, strictest

if TYPE_CHECKING:
    from csirtnet.incidents.models import Incident, Observable

StixDict = dict[str, Any]

TLP2_EXTENSION_ID = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
TLP2_CREATED = "2022-10-01T00:00:00.000Z"
OASIS_IDENTITY_ID = "identity--b3bca3c2-1f3d-4b54-b44f-dac42c3a8f01"  # creator of the extension

# TLP 2.0 marking definitions of the FIRST/OASIS extension (cti-stix-common-objects).
TLP2_MARKING_IDS: dict[TLP, str] = {
    TLP.CLEAR: "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    TLP.GREEN: "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    TLP.AMBER: "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    TLP.AMBER_STRICT: "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    TLP.RED: "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}

# TLP 1.0 marking definitions as STIX 2.1 defines them (section 7.2.1.4); WHITE is CLEAR.
TLP1_MARKING_IDS: dict[str, TLP] = {
    stix2.TLP_WHITE.id: TLP.CLEAR,
    stix2.TLP_GREEN.id: TLP.GREEN,
    stix2.TLP_AMBER.id: TLP.AMBER,
    stix2.TLP_RED.id: TLP.RED,
}

TLP_BY_MARKING_ID: dict[str, TLP] = {
    **TLP1_MARKING_IDS,
    **{marking_id: label for label, marking_id in TLP2_MARKING_IDS.items()},
}

_TLP1_WORDS = {
    "white": TLP.CLEAR, "clear": TLP.CLEAR, "green": TLP.GREEN, "amber": TLP.AMBER,
    "amber+strict": TLP.AMBER_STRICT, "red": TLP.RED,
}  # fmt: skip

# Hash algorithm names (STIX 2.1 hash-algorithm-ov, section 10.7) to observable types.
_HASHES = {"MD5": ObservableType.MD5, "SHA1": ObservableType.SHA1, "SHA256": ObservableType.SHA256}

# Cyber-observable property paths whose value is an observable (section 6).
_VALUE_PATHS: dict[tuple[str, str], ObservableType] = {
    ("ipv4-addr", "value"): ObservableType.IPV4,
    ("ipv6-addr", "value"): ObservableType.IPV6,
    ("domain-name", "value"): ObservableType.DOMAIN,
    ("url", "value"): ObservableType.URL,
    ("email-addr", "value"): ObservableType.EMAIL,
    ("autonomous-system", "number"): ObservableType.ASN,
}


# --- TLP markings (STIX 2.1 section 7.2; TLP 2.0 extension) -------------------------------


def tlp2_marking(label: TLP) -> StixDict:
    """Return the TLP 2.0 marking-definition object of `label`, as OASIS publishes it."""
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": TLP2_MARKING_IDS[label],
        "created": TLP2_CREATED,
        "name": label.label,
        "extensions": {
            TLP2_EXTENSION_ID: {"extension_type": "property-extension", "tlp_2_0": label.value}
        },
    }


def tlp2_extension_definition() -> StixDict:
    """Return the TLP 2.0 extension-definition object (STIX 2.1 section 7.3), as published."""
    return {
        "type": "extension-definition",
        "spec_version": "2.1",
        "id": TLP2_EXTENSION_ID,
        "name": "TLP 2.0",
        "description": "This defines TLP 2.0 as a STIX extension",
        "created": TLP2_CREATED,
        "modified": TLP2_CREATED,
        "created_by_ref": OASIS_IDENTITY_ID,
        "schema": (
            "https://github.com/oasis-open/cti-stix-common-objects/tree/master/"
            "extension-definition-specifications/tlp-2.0"
        ),
        "version": "1.0.0",
        "extension_types": ["property-extension"],
    }


def marking_tlp(marking: Mapping[str, Any]) -> TLP | None:
    """
    Return the TLP label a marking-definition object stands for, or None when it is not
    a TLP marking: a known TLP 1.0 or 2.0 id, a TLP 1.0 definition (`definition_type`
    "tlp", section 7.2.1.4) or a TLP 2.0 extension. WHITE is CLEAR.
    """
    if marking.get("type") != "marking-definition":
        return None
    known = TLP_BY_MARKING_ID.get(str(marking.get("id", "")))
    if known is not None:
        return known
    definition = marking.get("definition")
    if marking.get("definition_type") == "tlp" and isinstance(definition, Mapping):
        return _TLP1_WORDS.get(str(definition.get("tlp", "")).lower())
    extension = (marking.get("extensions") or {}).get(TLP2_EXTENSION_ID)
    if isinstance(extension, Mapping):
        try:
            return TLP(str(extension.get("tlp_2_0", "")).lower())
        except ValueError:
            return None
    return None


def object_tlp(obj: Mapping[str, Any], markings: Mapping[str, TLP] | None = None) -> TLP | None:
    """
    Return the strictest TLP label among `obj`'s `object_marking_refs` (section 7.2.2)
    and its granular markings (section 7.2.3: the whole object carries the strictest
    label of its parts), or None when none of them is a TLP marking. `markings` adds
    TLP markings defined in the same bundle under other ids (marking id to label).
    """
    known = {**TLP_BY_MARKING_ID, **(markings or {})}
    refs = obj.get("object_marking_refs") or []
    if isinstance(refs, str):
        refs = [refs]
    granular = obj.get("granular_markings") or []
    if isinstance(granular, list):  # a part marked stricter makes the whole object stricter
        refs = [*refs, *(g.get("marking_ref") for g in granular if isinstance(g, Mapping))]
    labels = [known[ref] for ref in refs if isinstance(ref, str) and ref in known]
    return strictest(labels) if labels else None


# --- combinations (DESIGN.md: a combination carries the strictest label of its parts) -------

# The properties by which an object combines others, by type: STIX 2.1 sections 4.4
# (grouping), 4.13 (note), 4.14 (observed-data), 4.15 (opinion) and 4.16 (report):
# `object_refs`; 5.1 (relationship): `source_ref`, `target_ref`; 5.2 (sighting):
# `sighting_of_ref`, `observed_data_refs`, `where_sighted_refs`.
COMBINATION_REFS: dict[str, tuple[str, ...]] = {
    "grouping": ("object_refs",),
    "note": ("object_refs",),
    "observed-data": ("object_refs",),
    "opinion": ("object_refs",),
    "report": ("object_refs",),
    "relationship": ("source_ref", "target_ref"),
    "sighting": ("sighting_of_ref", "observed_data_refs", "where_sighted_refs"),
}


def referenced_ids(obj: Mapping[str, Any]) -> list[str]:
    """
    Return the ids of the objects `obj` combines (its `COMBINATION_REFS` properties), in
    order and without repeats; [] for an object of another type. Values that are not ids
    (a wrong type in an invalid object) are skipped.
    """
    found: list[str] = []
    for name in COMBINATION_REFS.get(str(obj.get("type", "")), ()):
        value = obj.get(name)
        for ref in value if isinstance(value, list) else [value]:
            if isinstance(ref, str) and ref and ref not in found:
                found.append(ref)
    return found


def combination_label(own: TLP, parts: Mapping[str, TLP]) -> tuple[TLP, list[str]]:
    """
    Return the label of a combination (a grouping, report, relationship, sighting...)
    whose own label is `own` and whose parts are `parts` (id to label, only the parts
    whose label is known): the strictest of them all, as DESIGN.md's TLP rule says "a
    combination (export, report, relationship) carries the strictest label of its parts";
    with the ids of the parts that made it stricter than `own` ([] when it is `own`).
    """
    label = strictest([own, *parts.values()])
    if label == own:
        return own, []
    return label, [stix_id for stix_id, part in parts.items() if part == label]


# --- versions and content ------------------------------------------------------------------


def object_version(obj: Mapping[str, Any]) -> str:
    """Return `modified` as written, else `created`, else "" (SCOs have neither; section 3.2)."""
    return str(obj.get("modified") or obj.get("created") or "")


def content_sha256(obj: Mapping[str, Any]) -> str:
    """Return the SHA-256 (64 hex digits) of `obj` as canonical JSON (sorted keys, compact)."""
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def parse_timestamp(text: str) -> datetime | None:
    """Return a STIX timestamp ("2016-05-12T08:17:27.000Z", section 3.2) as aware UTC, or None."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return moment.astimezone(UTC) if moment.tzinfo else None
    except (ValueError, OverflowError):  # not a time, or outside years 1-9999 in UTC
        return None


# --- values held by an object -------------------------------------------------------------


def object_values(obj: Mapping[str, Any]) -> list[tuple[str, str]]:
    """
    Return the normalized `(ObservableType value, value)` pairs `obj` holds, without
    repeats: a cyber-observable's value (ipv4-addr, ipv6-addr, domain-name, url,
    email-addr, autonomous-system number, file hashes MD5/SHA-1/SHA-256; section 6), or
    every equality comparison of such a property in an indicator's STIX pattern (section
    9). Values that do not normalize are skipped.
    """
    kind = obj.get("type")
    pairs: list[tuple[ObservableType, object]] = []
    if kind == "indicator" and obj.get("pattern_type", "stix") == "stix":
        pairs = pattern_values(str(obj.get("pattern", "")))
    elif kind == "file" and isinstance(obj.get("hashes"), Mapping):
        pairs = [
            (_HASHES[key], value)
            for name, value in obj["hashes"].items()
            if (key := _hash_key(name)) in _HASHES
        ]
    else:
        for (sco, prop), observable_type in _VALUE_PATHS.items():
            if kind == sco and prop in obj:
                pairs.append((observable_type, obj[prop]))
    return _normalized(pairs)


def pattern_values(pattern: str) -> list[tuple[ObservableType, object]]:
    """
    Return the `(type, raw value)` pairs of the `[object-type:property = 'value']`
    equality comparisons in a STIX 2.1 pattern (section 9), read with the stix2-patterns
    inspector; an unparsable pattern holds none.
    """
    try:
        comparisons = Pattern(pattern).inspect().comparisons
    except Exception:  # noqa: BLE001 (any parser failure means "no values")
        return []
    found: list[tuple[ObservableType, object]] = []
    for sco, entries in comparisons.items():
        for path, operator, literal in entries:
            observable_type = _path_type(sco, path)
            value = _literal(literal)
            if operator == "=" and observable_type is not None and value is not None:
                found.append((observable_type, value))
    return found


def _path_type(sco: str, path: list[object]) -> ObservableType | None:
    if sco == "file" and len(path) == 2 and path[0] == "hashes":
        return _HASHES.get(_hash_key(str(path[1])))
    if len(path) == 1:
        return _VALUE_PATHS.get((sco, str(path[0])))
    return None


def _hash_key(name: str) -> str:
    return name.strip("'").upper().replace("-", "")


def _literal(text: str) -> str | None:
    """Return a pattern string literal ('...') unescaped, an integer as text, else None."""
    if len(text) >= 2 and text[0] == text[-1] == "'":
        return text[1:-1].replace("\\'", "'").replace("\\\\", "\\")
    return text if text.isdigit() else None


def _normalized(pairs: Iterable[tuple[ObservableType, object]]) -> list[tuple[str, str]]:
    result: list[tuple[str, str]] = []
    for observable_type, raw in pairs:
        kind = observable_type
        text = str(raw)
        if kind in (ObservableType.IPV4, ObservableType.IPV6) and "/" in text:
            kind = ObservableType.CIDR
        try:
            pair = (kind.value, normalize(kind, text))
        except ValueError:
            continue
        if pair not in result:
            result.append(pair)
    return result


# --- export bundles (section 8: bundle; 4: SDOs; 5: SROs; 6: SCOs) -------------------------

_NAMESPACE = uuid.UUID("00abedb4-aa42-466c-9c01-fed23315a9b7")  # STIX 2.1 section 2.9


def _timestamp(moment: datetime) -> str:
    return str(
        stix2.utils.format_datetime(stix2.utils.STIXdatetime(moment, precision="millisecond"))
    )


def _serialize(obj: Any) -> StixDict:
    return dict(json.loads(obj.serialize()))


def observable_sco(kind: str, value: str, *, marking_id: str) -> StixDict:
    """
    Return the STIX 2.1 cyber-observable of a normalized observable (section 6), with
    its deterministic id (UUIDv5, section 2.9) computed by the stix2 library.

    Raises:
        ValueError: `kind` is not an `ObservableType` value.
    """
    common = {"object_marking_refs": [marking_id], "allow_custom": False}
    observable_type = ObservableType(kind)
    if observable_type in _HASH_NAMES:
        made = stix2.v21.File(hashes={_HASH_NAMES[observable_type]: value}, **common)
    elif observable_type == ObservableType.ASN:
        made = stix2.v21.AutonomousSystem(number=int(value), **common)
    elif observable_type == ObservableType.CIDR:
        cls = stix2.v21.IPv6Address if ":" in value else stix2.v21.IPv4Address
        made = cls(value=value, **common)
    else:
        made = _SCO_CLASSES[observable_type](value=value, **common)
    return _serialize(made)


def observable_pattern(kind: str, value: str) -> str:
    """Return the STIX pattern (section 9) matching one normalized observable."""
    observable_type = ObservableType(kind)
    if observable_type in _HASH_NAMES:
        return f"[file:hashes.'{_HASH_NAMES[observable_type]}' = {_quote(value)}]"
    if observable_type == ObservableType.ASN:
        return f"[autonomous-system:number = {int(value)}]"
    if observable_type == ObservableType.CIDR:
        sco = "ipv6-addr" if ":" in value else "ipv4-addr"
        return f"[{sco}:value ISSUBSET {_quote(value)}]"
    sco = _SCO_TYPES[observable_type]
    return f"[{sco}:value = {_quote(value)}]"


def _quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


_HASH_NAMES = {
    ObservableType.MD5: "MD5",
    ObservableType.SHA1: "SHA-1",
    ObservableType.SHA256: "SHA-256",
}
_SCO_TYPES = {
    ObservableType.IPV4: "ipv4-addr",
    ObservableType.IPV6: "ipv6-addr",
    ObservableType.DOMAIN: "domain-name",
    ObservableType.URL: "url",
    ObservableType.EMAIL: "email-addr",
}
_SCO_CLASSES: dict[ObservableType, Any] = {
    ObservableType.IPV4: stix2.v21.IPv4Address,
    ObservableType.IPV6: stix2.v21.IPv6Address,
    ObservableType.DOMAIN: stix2.v21.DomainName,
    ObservableType.URL: stix2.v21.URL,
    ObservableType.EMAIL: stix2.v21.EmailAddress,
}


def incident_bundle(incident: Incident) -> StixDict:
    """
    Return a STIX 2.1 bundle (section 8) of `incident`: an identity (section 4.5) for the
    owner organization; the incident (section 4.6) with its title as `name`, its
    description and its RSIT machine tag as a label; per observable a cyber-observable
    (section 6) and an indicator (section 4.7) with a pattern and `valid_from`; an
    `indicates` relationship from each indicator and a `related-to` from each
    cyber-observable to the incident (section 5.1); all marked with the TLP 2.0 marking
    of the incident's label, which the bundle carries with the extension definition.
    Ids are stable: the same incident exports with the same ids.
    """
    label = TLP(incident.tlp)
    marking_id = TLP2_MARKING_IDS[label]
    owner = incident.owner
    created = _timestamp(incident.reported_at)
    modified = _timestamp(max(incident.reported_at, incident.updated_at or incident.reported_at))
    identity = stix2.v21.Identity(
        id=f"identity--{owner.uuid}", name=owner.name, identity_class="organization",
        created=created, modified=created,
    )  # fmt: skip
    incident_id = f"incident--{incident.uuid}"
    marked = {"created_by_ref": identity.id, "object_marking_refs": [marking_id]}
    sdo = stix2.v21.Incident(
        id=incident_id, name=incident.title, description=incident.description or None,
        labels=[incident.rsit], created=created, modified=modified,
        external_references=[{"source_name": "csirtnet", "external_id": incident.reference}],
        **marked,
    )  # fmt: skip
    objects: list[StixDict] = [
        tlp2_extension_definition(), tlp2_marking(label), _serialize(identity), _serialize(sdo)
    ]  # fmt: skip
    for observable in incident.observables.all():
        objects.extend(_observable_objects(observable, incident_id, marked))
    return {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": objects}


def _observable_objects(
    observable: Observable, incident_id: str, marked: Mapping[str, Any]
) -> list[StixDict]:
    sco = observable_sco(
        observable.type, observable.value, marking_id=marked["object_marking_refs"][0]
    )
    seen = _timestamp(observable.added_at)
    indicator = stix2.v21.Indicator(
        id=f"indicator--{observable.uuid}", name=observable.value,
        description=f"{ObservableType(observable.type).label}: {observable.value}",
        pattern=observable_pattern(observable.type, observable.value), pattern_type="stix",
        valid_from=seen, created=seen, modified=seen, indicator_types=["malicious-activity"],
        **marked,
    )  # fmt: skip
    relationships = [
        stix2.v21.Relationship(
            id=_relationship_id(source, verb, incident_id),
            source_ref=source,
            relationship_type=verb,
            target_ref=incident_id,
            created=seen,
            modified=seen,
            **marked,
        )  # fmt: skip
        for source, verb in ((indicator.id, "indicates"), (sco["id"], "related-to"))
    ]
    return [sco, _serialize(indicator), *(_serialize(r) for r in relationships)]


def _relationship_id(source: str, verb: str, target: str) -> str:
    # stable across exports, yet shaped as the UUIDv4 an SRO id should be (section 2.9)
    digest = uuid.uuid5(_NAMESPACE, f"{source}|{verb}|{target}")
    return f"relationship--{uuid.UUID(bytes=digest.bytes, version=4)}"


def sighting_object(
    *,
    sighted_id: str,
    organization: Any,
    count: int,
    first_seen: datetime,
    last_seen: datetime,
    label: TLP,
    recorded: datetime,
    description: str = "",
) -> StixDict:
    """
    Return a new STIX 2.1 Sighting (section 5.5) of the object `sighted_id`, seen `count`
    times (0 to 999,999,999) between `first_seen` and `last_seen` by `organization`
    (a directory organization: `created_by_ref` and `where_sighted_refs` are its
    identity, `identity--<uuid>`), marked with the TLP 2.0 marking of `label`.
    """
    identity = f"identity--{organization.uuid}"
    sighting = stix2.v21.Sighting(
        sighting_of_ref=sighted_id, count=count, first_seen=_timestamp(first_seen),
        last_seen=_timestamp(last_seen), where_sighted_refs=[identity],
        created_by_ref=identity, created=_timestamp(recorded), modified=_timestamp(recorded),
        description=description or None, object_marking_refs=[TLP2_MARKING_IDS[label]],
    )  # fmt: skip
    return _serialize(sighting)


def objects_bundle(bodies: Iterable[Mapping[str, Any]]) -> StixDict:
    """
    Return a STIX 2.1 bundle (section 8) of stored objects, bodies as stored; the TLP 2.0
    marking definitions they refer to, and the extension definition, are added so the
    bundle is complete.
    """
    objects = [dict(body) for body in bodies]
    referenced = {ref for body in objects for ref in body.get("object_marking_refs") or []}
    labels = [label for label, ref in TLP2_MARKING_IDS.items() if ref in referenced]
    present = {body.get("id") for body in objects}
    extra = [tlp2_marking(label) for label in labels if TLP2_MARKING_IDS[label] not in present]
    if extra and TLP2_EXTENSION_ID not in present:
        extra.insert(0, tlp2_extension_definition())
    return {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": [*extra, *objects]}


def validation_errors(bundle: Mapping[str, Any]) -> list[str]:
    """
    Return the errors stix2-validator (OASIS) finds in `bundle` against STIX 2.1, or []
    when it is valid. Warnings (best practices) are not errors.
    """
    from stix2validator import ValidationOptions, validate_instance

    results = validate_instance(dict(bundle), ValidationOptions(version="2.1"))
    return [str(error) for error in results.errors] if not results.is_valid else []
