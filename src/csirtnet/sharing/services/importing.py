"""
Reading and storing STIX 2.1: the file checks, `import_stix` and its per-object report.
"""

from __future__ import annotations

import json
import re
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import stix2
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils.translation import gettext as _

from csirtnet.core import audit
from csirtnet.core.text import printable
from csirtnet.sharing import misp, stix
from csirtnet.sharing.models import StixObject, StixValue
from csirtnet.sharing.tlp import TLP, strictest

if TYPE_CHECKING:
    from csirtnet.accounts.models import Membership

STORED, UNCHANGED, REJECTED, CONFLICT, MARKING = (
    "stored", "unchanged", "rejected", "conflict", "marking",
)  # fmt: skip


@dataclass
class ObjectOutcome:
    """What became of one object of an import: `status` is one of the constants above."""

    stix_id: str
    status: str
    reason: str = ""


@dataclass
class ImportReport:
    """Per-object outcomes of one `import_stix` call, in file order."""

    outcomes: list[ObjectOutcome] = field(default_factory=list)

    def count(self, status: str) -> int:
        """Return how many objects ended with `status`."""
        return sum(1 for outcome in self.outcomes if outcome.status == status)

    @property
    def stored_count(self) -> int:
        """Objects (versions) written."""
        return self.count(STORED)

    @property
    def unchanged_count(self) -> int:
        """Objects already stored with the same version and content; nothing written."""
        return self.count(UNCHANGED)

    @property
    def rejected_count(self) -> int:
        """Objects that are not valid STIX 2.1; not written."""
        return self.count(REJECTED)

    @property
    def conflict_count(self) -> int:
        """Objects whose version is stored with other content; never overwritten."""
        return self.count(CONFLICT)

    @property
    def marking_count(self) -> int:
        """TLP marking definitions read for labels and not stored as shared objects."""
        return self.count(MARKING)

    @property
    def problems(self) -> list[ObjectOutcome]:
        """Return the rejected and conflicting objects."""
        return [o for o in self.outcomes if o.status in (REJECTED, CONFLICT)]


def load_stix(data: bytes) -> list[dict[str, Any]]:
    """
    Return the top-level objects of STIX 2.1 JSON text: a bundle's `objects` (section
    8) or a single object.

    Raises:
        ValidationError: not UTF-8 JSON (the message gives line and column), STIX 1.x
            XML, STIX 2.0 (a bundle with `spec_version` "2.0", or an SDO/SRO without
            `spec_version`), another `spec_version`, or not a STIX object at all.
    """
    text = _decode(data)
    if text.lstrip().startswith("<"):
        if "STIX_Package" in text or "stix:" in text or "stix-1" in text.lower():
            raise ValidationError(_("This is STIX 1.x (XML); only STIX 2.1 JSON can be imported."))
        raise ValidationError(_("This is XML, not STIX 2.1 JSON."))
    document = read_json(text)
    if not isinstance(document, dict) or not isinstance(document.get("type"), str):
        raise ValidationError(_("Not a STIX object or bundle: no `type`."))
    if not _STIX_ID.fullmatch(str(document.get("id", ""))):
        raise ValidationError(
            _("Not a STIX object or bundle: no `id` of the form type--UUID (section 2.9).")
        )
    if document["type"] == "bundle":
        if document.get("spec_version") == "2.0":
            raise ValidationError(_stix20_message())
        objects = document.get("objects") or []
        if not isinstance(objects, list):
            raise ValidationError(_("The bundle's `objects` is not a list."))
    else:
        objects = [document]
    _check_versions(objects)
    return objects


def read_json(data: bytes | str) -> Any:
    """
    Return the JSON document in `data` (UTF-8, a byte-order mark allowed; RFC 8259).

    Raises:
        ValidationError: not UTF-8 (naming the byte), not JSON (naming line and column),
            NaN or Infinity (not JSON, and no database stores them), or nested too deeply.
    """
    text = _decode(data) if isinstance(data, bytes) else data
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except RecursionError:
        raise ValidationError(_("The JSON is nested too deeply.")) from None
    except json.JSONDecodeError as exc:
        # Some of Python's messages end in " at" ("Invalid control character at"),
        # written to be followed by the position: drop it, the message names the place.
        raise ValidationError(
            _("Not valid JSON: %(error)s at line %(line)d, column %(column)d.")
            % {"error": exc.msg.removesuffix(" at"), "line": exc.lineno, "column": exc.colno}
        ) from exc
    except ValueError as exc:
        raise ValidationError(_("Not valid JSON: %(error)s.") % {"error": exc}) from exc


def detect_format(data: bytes) -> str:
    """
    Return "misp" for MISP core format JSON (an event, `{"Event": ...}` or bare, a search
    answer `{"response": [...]}`, or a MISP fragment, which `import_misp` refuses by
    name), else "stix": `import_stix` then says what else the file is (XML, STIX 2.0...).
    """
    try:
        document = read_json(data)
    except ValidationError:
        return "stix"
    return "misp" if misp.looks_like_misp(document) else "stix"


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON value")


_STIX_ID = re.compile(
    r"[a-z0-9][a-z0-9-]{0,249}--[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)


def _stix20_message() -> str:
    return _("This is STIX 2.0; only STIX 2.1 can be imported (convert it first).")


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationError(
            _("Not UTF-8 text (byte %(offset)d).") % {"offset": exc.start}
        ) from exc


def _check_versions(objects: list[Any]) -> None:
    observables = set(stix2.registry.STIX2_OBJ_MAPS["2.1"]["observables"])
    for obj in objects:
        if not isinstance(obj, dict):
            continue
        version = obj.get("spec_version")
        if version is None and obj.get("type") not in observables:
            raise ValidationError(_stix20_message())
        if version is not None and version != "2.1":
            raise ValidationError(
                _("spec_version %(version)s is not supported; only STIX 2.1 is.")
                % {"version": printable(repr(version))}
            )


def command_actor(*, short_name: str) -> Membership:
    """
    Return the membership a command acts as for the organization `short_name`: its first
    active admin membership, else its first active handler membership (oldest first).
    Commands run by the operator; they act with that person's identity so authorship
    and visibility stay those of a real member.

    Raises:
        Organization.DoesNotExist: no organization has that short name.
        Membership.DoesNotExist: it has no active admin or handler.
    """
    from csirtnet.accounts.models import Membership, Role
    from csirtnet.directory.models import Organization

    organization = Organization.objects.get(short_name=short_name)
    memberships = Membership.objects.filter(
        organization=organization, is_active=True, user__is_active=True
    ).select_related("user", "organization")
    for role in (Role.ADMIN, Role.HANDLER):
        found = memberships.filter(role=role).order_by("created_at", "pk").first()
        if found is not None:
            return found
    raise Membership.DoesNotExist


@transaction.atomic
def import_stix(
    *, actor: Membership, data: bytes, source: str, tlp: str | None = None
) -> ImportReport:
    """
    Store the STIX 2.1 objects of `data` (a bundle or one object, JSON) for `actor`'s
    organization; return what became of each object.

    Each object is checked with `stix2.parse(..., allow_custom=True, version="2.1")`;
    an invalid one is rejected, the valid ones are stored in one transaction. The body
    is kept exactly as received (custom properties and objects too). A version is
    `(id, modified)` (section 3.2): the same version with the same canonical content is
    unchanged (nothing written); a new version is a new row; the same version with other
    content is a conflict and never overwrites. The TLP label is decided by
    `decide_labels`: the object's own TLP markings, else `tlp`, else AMBER, raised for a
    combination (grouping, report, relationship, sighting...) to the strictest label of
    the objects it refers to; the outcome says so. TLP marking definitions are not
    stored: they count as `marking`. Values the object holds become `StixValue` rows.

    Raises:
        PermissionDenied: `actor` is not an active membership.
        ValidationError: the whole file cannot be read (see `load_stix`), or `tlp` is
            not a TLP value.
    """
    if not actor.is_active:
        raise PermissionDenied
    default = TLP(tlp) if tlp else TLP.AMBER
    objects = load_stix(data)
    one_writer_at_a_time()
    markings = {
        str(obj.get("id")): label
        for obj in objects
        if isinstance(obj, dict) and (label := stix.marking_tlp(obj)) is not None
    }
    existing = _existing_versions(objects, owner_id=actor.organization_id)
    checked = [_checked(obj) for obj in objects]
    valid = [obj for obj, outcome in zip(objects, checked, strict=True) if outcome is None]
    labels = iter(decide_labels(valid, actor=actor, default=default, markings=markings))
    report = ImportReport()
    for obj, outcome in zip(objects, checked, strict=True):
        report.outcomes.append(outcome or _store_one(obj, actor, source, next(labels), existing))
    audit.record(
        actor=actor, action="stix.imported",
        detail={"source": source[:300], "stored": report.stored_count,
                "unchanged": report.unchanged_count, "rejected": report.rejected_count,
                "conflicts": report.conflict_count,
                "ids": [o.stix_id for o in report.outcomes if o.status == STORED][:200]},
    )  # fmt: skip
    return report


_WRITER_LOCK = 0x53544958  # "STIX": the PostgreSQL advisory lock of StixObject writers


def one_writer_at_a_time() -> None:
    """
    Serialize the transactions that add STIX objects, so that `date_added` (set after
    this, inside the transaction) follows commit order: a TAXII client paging by
    (date_added, pk) then never misses a row committed after it read a page (TAXII 2.1,
    section 3.5), and two imports of one version never race. SQLite's IMMEDIATE
    transactions already hold the database's write lock from their start.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_WRITER_LOCK])


def _shape_problem(obj: dict[str, Any]) -> str:
    """
    Return what makes `obj` unfit to store whatever its type (custom objects included),
    or "": an `id` of the form type--UUID (section 2.9), a version timestamp of at most
    40 characters (section 3.2), marking references as a list (section 7.2.2), and text
    that is valid Unicode (no lone surrogates) without NUL characters.
    """
    if not _STIX_ID.fullmatch(str(obj.get("id", ""))) or not str(obj["id"]).startswith(
        f"{obj.get('type')}--"
    ):
        return str(_("no `id` of the form type--UUID matching its `type` (section 2.9)."))
    version = stix.object_version(obj)
    if version and (len(version) > 40 or stix.parse_timestamp(version) is None):
        return str(_("`modified` or `created` is not a timestamp (section 3.2)."))
    if not isinstance(obj.get("object_marking_refs", []), list):
        return str(_("`object_marking_refs` is not a list (section 7.2.2)."))
    try:
        json.dumps(obj, ensure_ascii=False).encode("utf-8")
    except (UnicodeEncodeError, ValueError):
        return str(_("the object holds text that is not valid Unicode."))
    if _holds_nul(obj):  # no database text holds NUL (PostgreSQL refuses it)
        return str(_("the object holds a NUL character."))
    return ""


def _holds_nul(value: Any) -> bool:
    """
    Return True when a key or text anywhere in `value` (JSON data) holds NUL; walked
    with a stack, not recursion, so deep nesting the JSON parser took is no error here.
    """
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _existing_versions(objects: list[Any], *, owner_id: int) -> dict[tuple[str, str], str]:
    """Return `{(id, version): sha256}` of the versions the owner already holds."""
    ids = {str(obj.get("id")) for obj in objects if isinstance(obj, dict)}
    rows = StixObject.objects.filter(owner_id=owner_id, stix_id__in=ids).values_list(
        "stix_id", "version", "content_sha256"
    )
    return {(stix_id, version): digest for stix_id, version, digest in rows}


def _checked(obj: Any) -> ObjectOutcome | None:
    """
    Return the outcome of an object that is not stored, a TLP marking definition or a
    rejected object (not a JSON object, unfit to store, or refused by
    `stix2.parse(..., allow_custom=True, version="2.1")`), or None for a valid object.
    """
    if not isinstance(obj, dict):
        return ObjectOutcome("", REJECTED, _("An entry of `objects` is not a JSON object."))
    stix_id = str(obj.get("id", ""))
    if stix.marking_tlp(obj) is not None:
        return ObjectOutcome(stix_id, MARKING)
    problem = _shape_problem(obj)
    if not problem:
        try:
            stix2.parse(obj, allow_custom=True, version="2.1")
        except Exception as exc:  # noqa: BLE001 (stix2 raises many kinds; each is a rejection)
            problem = _first_line(exc)
    if problem:
        reason = _("%(id)s: %(error)s") % {"id": stix_id[:300] or "?", "error": problem}
        return ObjectOutcome(stix_id[:300], REJECTED, printable(reason))
    return None


@dataclass(frozen=True)
class Label:
    """The TLP label an object of an import is stored with, and why when it needs saying."""

    tlp: TLP
    note: str = ""


def decide_labels(
    objects: list[dict[str, Any]], *, actor: Membership, default: TLP, markings: dict[str, TLP]
) -> list[Label]:
    """
    Return the label of each of `objects` (valid STIX 2.1 objects of one import, in
    order), the one place an import decides labels, STIX and MISP alike.

    An object's own label is the strictest of its TLP markings (1.0 or 2.0, section
    7.2.1.4; `markings` adds the TLP markings defined in the same bundle), else `default`.
    A combination (`stix.COMBINATION_REFS`: a grouping, report, note, opinion or
    observed-data by `object_refs`, a relationship by `source_ref` and `target_ref`, a
    sighting by `sighting_of_ref`, `observed_data_refs` and `where_sighted_refs`) then
    carries the strictest label of itself and of the objects it refers to (DESIGN.md's
    TLP rule, `stix.combination_label`, the rule `record_sighting` follows too): those of
    the same import (raised ones included, so a MISP event's grouping follows its object
    groupings) and the stored versions `actor` may see. A reference to an object unknown
    to the platform, or hidden from `actor` (its label is not the actor's to learn),
    changes nothing. The note says when the label was raised and by which references, or
    that markings held no TLP label and `default` applied.
    """
    marked = [stix.object_tlp(obj, markings) for obj in objects]
    own = [label or default for label in marked]
    refs = [stix.referenced_ids(obj) for obj in objects]
    known: dict[str, TLP] = {}
    for obj, label in zip(objects, own, strict=True):
        known[obj["id"]] = strictest([known.get(obj["id"], label), label])
    wanted = {ref for ids in refs for ref in ids}
    stored = StixObject.objects.visible_to(actor).filter(stix_id__in=wanted)
    for stix_id, stored_label in stored.values_list("stix_id", "tlp"):
        known[stix_id] = strictest([known.get(stix_id, stored_label), stored_label])
    labels = list(own)
    referrers: dict[str, list[int]] = {}
    for index, ids in enumerate(refs):
        for ref in ids:
            referrers.setdefault(ref, []).append(index)
    pending = deque(index for index, ids in enumerate(refs) if ids)
    while pending:  # each label only rises, at most four times: this ends
        index = pending.popleft()
        parts = {ref: known[ref] for ref in refs[index] if ref in known}
        label, _raisers = stix.combination_label(labels[index], parts)
        if label == labels[index]:
            continue
        labels[index] = label
        stix_id = objects[index]["id"]
        if label.rank > known[stix_id].rank:
            known[stix_id] = label
            pending.extend(referrers.get(stix_id, []))
    return [
        _label(obj, marked_label, {ref: known[ref] for ref in ids if ref in known}, default)
        for obj, marked_label, ids in zip(objects, marked, refs, strict=True)
    ]


def _label(obj: dict[str, Any], marked: TLP | None, parts: dict[str, TLP], default: TLP) -> Label:
    """
    Return the label of `obj` from its TLP marking (`marked`, else `default`) and its
    parts' final labels, with a note when it was raised by them, or when its markings
    held no TLP label.
    """
    notes = [] if marked is not None else [_default_label_note(obj, default)]
    own = marked or default
    label, raisers = stix.combination_label(own, parts)
    if raisers:
        shown = ", ".join(raisers[:5]) + (", …" if len(raisers) > 5 else "")
        notes.append(
            _(
                "Labelled %(label)s, not %(own)s: the strictest of the objects it refers "
                "to (%(refs)s)."
            )
            % {"label": label.label, "own": own.label, "refs": shown}
        )
    return Label(label, printable(" ".join(note for note in notes if note)))


def _store_one(
    obj: dict[str, Any],
    actor: Membership,
    source: str,
    label: Label,
    existing: dict[tuple[str, str], str],
) -> ObjectOutcome:
    """Store the valid `obj` with `label` unless that version is already stored."""
    stix_id = str(obj["id"])
    version = stix.object_version(obj)
    digest = stix.content_sha256(obj)
    stored = existing.get((stix_id, version))
    if stored == digest:
        return ObjectOutcome(stix_id, UNCHANGED)
    if stored is not None:
        reason = _(
            "%(id)s: version %(version)s is already stored with other content; "
            "not overwritten (a change needs a newer `modified`)."
        ) % {"id": stix_id, "version": version or _("(no version)")}
        return ObjectOutcome(stix_id, CONFLICT, printable(reason))
    row = StixObject.objects.create(
        stix_id=stix_id, type=obj["type"], spec_version=str(obj.get("spec_version", "2.1")),
        version=version, modified_at=stix.parse_timestamp(version), body=obj,
        content_sha256=digest, tlp=label.tlp,
        owner=actor.organization, author=actor.user, source=source[:300],
    )  # fmt: skip
    StixValue.objects.bulk_create(
        StixValue(stix_object=row, type=kind, value=value)
        for kind, value in stix.object_values(obj)
    )
    existing[(stix_id, version)] = digest
    return ObjectOutcome(stix_id, STORED, label.note)


def _default_label_note(obj: dict[str, Any], default: TLP) -> str:
    """
    Say why an object that carries markings was labelled with the import's default:
    none of them is a TLP marking known here (a statement, or a TLP marking whose
    definition was not in the same bundle), so the label is not silently invented.
    """
    refs = obj.get("object_marking_refs") or []
    refs = [str(ref) for ref in refs if isinstance(ref, str)][:5]
    if not refs:
        return ""
    return printable(
        _("No TLP marking among %(refs)s: labelled %(label)s, the import's default.")
        % {"refs": ", ".join(refs), "label": default.label}
    )


def _first_line(exc: Exception) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:300]
