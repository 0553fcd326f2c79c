"""
Verbs of incidents: report, edit, change status, comment, acknowledge, add observables
and attachments, escalate inbox events. Each checks who may act, writes in one
transaction with its timeline entries and outbox rows, and enqueues e-mail on commit.
"""

from __future__ import annotations

import hashlib
import mimetypes
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from csirtnet.accounts.models import Membership
from csirtnet.directory.models import MemberState, Organization, Sector
from csirtnet.directory.routing import shared_routing_table
from csirtnet.incidents.exceptions import IllegalTransitionError
from csirtnet.incidents.models import (
    PAP,
    TRANSITIONS,
    Attachment,
    EntryKind,
    Incident,
    Notification,
    Observable,
    Participation,
    ParticipationReason,
    ReferenceCounter,
    Severity,
    Status,
    TimelineEntry,
)
from csirtnet.sharing.observables import detect, normalize, route_arguments
from csirtnet.sharing.taxonomy import validate_rsit
from csirtnet.sharing.tlp import TLP, strictest

ObservableInput = str | tuple[str, str]  # a value to detect, or (ObservableType, value)
MAX_OBSERVABLES = 1000  # per request: a form or API call, not a bulk import


@dataclass(frozen=True)
class ProposedState:
    """A member state the routing found for observables, with the values that point there."""

    state: MemberState
    values: tuple[str, ...]


# --- reading -------------------------------------------------------------------------


def can_change(actor: Membership | None, incident: Incident) -> bool:
    """Return True when `actor` acts for the owner: it alone edits, relabels, widens."""
    return (
        actor is not None and _sees(actor, incident) and actor.organization_id == incident.owner_id
    )


def can_contribute(actor: Membership | None, incident: Incident) -> bool:
    """
    Return True when `actor` may comment, add observables and attachments: it sees the
    incident and acts for the owner, the lead organization or a participant
    (`IncidentQuerySet.contributed_by`).
    """
    return actor is not None and (
        Incident.objects.contributed_by(actor).filter(pk=incident.pk).exists()
    )


def can_change_status(actor: Membership | None, incident: Incident) -> bool:
    """Return True when `actor` acts for the owner or the lead organization."""
    return (
        actor is not None
        and _sees(actor, incident)
        and actor.organization_id in {incident.owner_id, incident.lead_organization_id}
    )


def pending_acknowledgement(actor: Membership | None, incident: Incident) -> Participation | None:
    """Return `actor`'s organization's participation awaiting acknowledgement, or None."""
    if actor is None or not _sees(actor, incident):
        return None
    return incident.participations.filter(
        organization_id=actor.organization_id, acknowledged_at__isnull=True
    ).first()


def propose_affected_states(observables: Sequence[ObservableInput]) -> list[ProposedState]:
    """
    Return the member states the routing (directory/routing.py) places `observables` in:
    the state of the organization each value routes to, or its RIR country. Hashes say
    nothing about a place; unrouted values are left out. Sorted by state code.

    Raises:
        ValidationError: a value is not an observable (`{"observables": [messages]}`).
    """
    table = shared_routing_table()
    values: dict[str, list[str]] = {}
    for kind, value in _normalized(observables):
        arguments = route_arguments(kind, value)
        if arguments is None:
            continue
        route = table.lookup(**arguments)  # type: ignore[arg-type]
        code = _state_code(route.organization_id, route.country)
        if code:
            values.setdefault(code, []).append(value)
    states = MemberState.objects.filter(code__in=values)
    return [ProposedState(state, tuple(values[state.code])) for state in states]


# --- writing -------------------------------------------------------------------------


@transaction.atomic
def create_incident(
    *,
    actor: Membership,
    title: str,
    taxonomy_predicate: str,
    taxonomy_value: str,
    severity: int,
    description: str = "",
    sectors: Iterable[str] = (),
    tlp: str = TLP.AMBER,
    pap: str = PAP.AMBER,
    detected_at: datetime | None = None,
    observables: Sequence[ObservableInput] = (),
    affected_states: Iterable[str] | None = None,
    invited: Iterable[Organization] = (),
    named_people: Iterable[User] = (),
    events: Iterable[Any] = (),
) -> Incident:
    """
    Report an incident for `actor`'s organization (the owner and first lead), with its
    observables; make the national CSIRT of each affected state (ISO 3166-1 alpha-2
    codes; None: the states `propose_affected_states` finds) and each invited
    organization a participant, and queue their notifications (e-mail after commit).
    `named_people` are the users addressed on a TLP:RED incident.

    Raises:
        PermissionDenied: `actor` is None.
        ValidationError: a field is invalid; the message dict names each field.
    """
    if actor is None:
        raise PermissionDenied
    cleaned = _clean_fields(
        title=title, taxonomy_predicate=taxonomy_predicate, taxonomy_value=taxonomy_value,
        severity=severity, sectors=sectors, tlp=tlp, pap=pap, detected_at=detected_at,
        description=description,
    )  # fmt: skip
    values = _normalized(observables)
    if affected_states is None:
        codes = [p.state.code for p in propose_affected_states([(k, v) for k, v in values])]
    else:
        codes = list(affected_states)
    states = _states(codes)
    now = timezone.now()
    incident = Incident.objects.create(
        reference=_next_reference(now.year),
        owner=actor.organization,
        author=actor.user,
        lead_organization=actor.organization,
        reported_at=now,
        **cleaned,
    )
    _entry(incident, actor, EntryKind.CREATED, new_value=incident.status)
    incident.affected_states.set(states)
    _add_observables(incident, actor, values)
    incident.recipient_people.set(_people(named_people))
    if events:
        incident.events.set(events)
    _add_participants(incident, actor, states=states, invited=invited)
    _queue_notifications(incident)
    return incident


@transaction.atomic
def update_incident(*, actor: Membership, incident: Incident, **changes: Any) -> Incident:
    """
    Change an incident's fields (those of `create_incident` but `observables` and
    `events`). Only the owner may: it alone lowers the label or widens the audience.
    New affected states and invited organizations become participants and are notified;
    participants are never removed (what they saw stays seen).

    Raises:
        PermissionDenied: `actor` does not act for the owner.
        ValidationError: a field is invalid, or unknown.
    """
    incident = _locked(incident)
    if not can_change(actor, incident):
        raise PermissionDenied
    unknown = set(changes) - _EDITABLE
    if unknown:
        raise ValidationError({name: _("This field cannot be changed.") for name in unknown})
    simple = {key: value for key, value in changes.items() if key in _FIELDS}
    current = {key: getattr(incident, key) for key in _FIELDS}
    cleaned = _clean_fields(**{**current, **simple})
    for name, value in cleaned.items():
        old = getattr(incident, name)
        if old == value:
            continue
        setattr(incident, name, value)
        kind = EntryKind.LABEL if name in ("tlp", "pap") else EntryKind.EDITED
        _entry(incident, actor, kind, text=name, old_value=_shown(old), new_value=_shown(value))
    if incident.tlp == TLP.RED and actor.user_id != incident.author_id:
        # whoever makes it RED is addressed by name, or would lose sight of it at once
        incident.recipient_people.add(actor.user)
    if "lead_organization" in changes:
        _set_lead(incident, actor, changes["lead_organization"])
    incident.save()
    states: list[MemberState] = []
    if changes.get("affected_states") is not None:
        states = _states(changes["affected_states"])
        incident.affected_states.add(*states)
    if changes.get("named_people"):
        incident.recipient_people.add(*_people(changes["named_people"]))
    _add_participants(incident, actor, states=states, invited=changes.get("invited") or ())
    _queue_notifications(incident)
    return incident


@transaction.atomic
def change_status(
    *, actor: Membership, incident: Incident, status: str, note: str = ""
) -> Incident:
    """
    Move an incident along its workflow (`models.TRANSITIONS`; resolved or closed back
    to in progress reopens it); records the resolution time (UTC).

    Raises:
        PermissionDenied: `actor` acts for neither the owner nor the lead organization.
        IllegalTransitionError: the workflow does not allow the move.
    """
    incident = _locked(incident)
    if not can_change_status(actor, incident):
        raise PermissionDenied
    if status not in TRANSITIONS.get(incident.status, ()):
        raise IllegalTransitionError(
            _("An incident cannot go from %(old)s to %(new)s.")
            % {"old": Status(incident.status).label, "new": _status_label(status)},
            code="illegal_transition",
        )
    old = incident.status
    incident.status = status
    now = timezone.now()
    if status == Status.RESOLVED:
        incident.resolved_at = now
    elif status == Status.IN_PROGRESS:
        incident.resolved_at = None
    incident.save(update_fields=["status", "resolved_at", "updated_at"])
    _entry(incident, actor, EntryKind.STATUS, text=note[:20000], old_value=old, new_value=status)
    return incident


@transaction.atomic
def add_comment(*, actor: Membership, incident: Incident, text: str) -> TimelineEntry:
    """
    Add a comment to the shared timeline (plain text; shown escaped).

    Raises:
        PermissionDenied: `actor` is not the owner, the lead or a participant.
        ValidationError: the text is empty or longer than 20,000 characters.
    """
    if not can_contribute(actor, incident):
        raise PermissionDenied
    text = text.strip()
    if not text or len(text) > 20000:
        raise ValidationError({"text": _("Write between 1 and 20,000 characters.")})
    return _entry(incident, actor, EntryKind.COMMENT, text=text)


@transaction.atomic
def acknowledge(*, actor: Membership, incident: Incident) -> Participation:
    """
    Record that `actor`'s organization acknowledges the incident (once; a second call
    returns the first acknowledgement unchanged). The first acknowledgement of any
    participant is the incident's `acknowledged_at`.

    Raises:
        PermissionDenied: `actor`'s organization is not a participant.
    """
    if actor is None or not _sees(actor, incident):
        raise PermissionDenied
    try:
        participation = Participation.objects.select_for_update().get(
            incident=incident, organization_id=actor.organization_id
        )
    except Participation.DoesNotExist:
        raise PermissionDenied from None
    if participation.acknowledged_at is not None:
        return participation
    now = timezone.now()
    participation.acknowledged_at = now
    participation.acknowledged_by = actor.user
    participation.save(update_fields=["acknowledged_at", "acknowledged_by"])
    Incident.objects.filter(pk=incident.pk, acknowledged_at__isnull=True).update(
        acknowledged_at=now
    )
    _entry(incident, actor, EntryKind.ACKNOWLEDGED, new_value=actor.organization.short_name)
    return participation


@transaction.atomic
def add_observables(
    *, actor: Membership, incident: Incident, observables: Sequence[ObservableInput]
) -> list[Observable]:
    """
    Add normalized observables (values already on the incident are skipped) and
    return the new ones.

    Raises:
        PermissionDenied: `actor` is not the owner, the lead or a participant.
        ValidationError: a value is not an observable (`{"observables": [messages]}`).
    """
    if not can_contribute(actor, incident):
        raise PermissionDenied
    return _add_observables(incident, actor, _normalized(observables))


def add_attachment(
    *, actor: Membership, incident: Incident, name: str, content: IO[bytes]
) -> Attachment:
    """
    Store a file for the incident under its SHA-256 (CSIRTNET_VAR_DIR/attachments) and
    record it; at most CSIRTNET_ATTACHMENT_MAX_BYTES bytes. The file is kept as bytes
    and only ever served as a download.

    Raises:
        PermissionDenied: `actor` is not the owner, the lead or a participant.
        ValidationError: the file is empty or too large, or its name is unusable.
    """
    if not can_contribute(actor, incident):
        raise PermissionDenied
    clean_name = Path(name.replace("\\", "/")).name.strip()[:255]
    if not clean_name or any(ord(c) < 32 or ord(c) == 127 for c in clean_name):
        raise ValidationError({"file": _("The file needs a name without control characters.")})
    path, digest, size = _store(content)
    content_type = mimetypes.guess_type(clean_name)[0] or "application/octet-stream"
    with transaction.atomic():
        attachment = Attachment.objects.create(
            incident=incident, name=clean_name, sha256=digest, size=size,
            content_type=content_type, uploaded_by=actor.user, organization=actor.organization,
        )  # fmt: skip
        _entry(incident, actor, EntryKind.ATTACHMENT, text=clean_name, new_value=digest)
    return attachment


def attachment_path(attachment: Attachment) -> Path:
    """Return where the bytes of `attachment` are stored."""
    return _attachment_dir() / attachment.sha256[:2] / attachment.sha256


@transaction.atomic
def escalate_events(
    *, actor: Membership, events: Sequence[Any], incident: Incident | None = None, **fields: Any
) -> Incident:
    """
    Escalate inbox events into an incident: into `incident` when given (the actor must
    contribute to it), else into a new one made with `fields` (see `create_incident`;
    its label defaults to the strictest of the events'). The events' addresses, host
    names, URLs, ASNs and hashes become observables; the events are linked.

    Raises:
        PermissionDenied: an event is not visible to `actor`, or it may not add to `incident`.
        ValidationError: no events, or invalid fields.
    """
    from csirtnet.reports.models import Event

    if not events:
        raise ValidationError({"events": _("Select at least one event.")})
    ids = [event.pk for event in events]
    if Event.objects.visible_to(actor).filter(pk__in=ids).count() != len(set(ids)):
        raise PermissionDenied
    values = _event_observables(events)
    if incident is None:
        fields.setdefault("tlp", strictest(event.tlp for event in events))
        return create_incident(actor=actor, observables=values, events=events, **fields)
    if not can_contribute(actor, incident):
        raise PermissionDenied
    incident.events.add(*events)
    _add_observables(incident, actor, _normalized(values))
    _entry(incident, actor, EntryKind.ESCALATED, text=str(len(ids)))
    return incident


# --- helpers -------------------------------------------------------------------------

_FIELDS = (
    "title", "description", "taxonomy_predicate", "taxonomy_value", "severity", "sectors",
    "tlp", "pap", "detected_at",
)  # fmt: skip
_EDITABLE = frozenset(_FIELDS) | {
    "affected_states",
    "invited",
    "named_people",
    "lead_organization",
}


def _sees(actor: Membership, incident: Incident) -> bool:
    return Incident.objects.visible_to(actor).filter(pk=incident.pk).exists()


def _locked(incident: Incident) -> Incident:
    return Incident.objects.select_for_update().get(pk=incident.pk)


def _clean_fields(
    *,
    title: str,
    taxonomy_predicate: str,
    taxonomy_value: str,
    severity: int,
    sectors: Iterable[str],
    tlp: str,
    pap: str,
    detected_at: datetime | None,
    description: str,
) -> dict[str, Any]:
    errors: dict[str, str] = {}
    title = (title or "").strip()
    if not title or len(title) > 200:
        errors["title"] = _("Write a title of 1 to 200 characters.")
    if len(description or "") > 20000:
        errors["description"] = _("Write at most 20,000 characters.")
    try:
        validate_rsit(taxonomy_predicate, taxonomy_value)
    except ValueError as error:
        errors["taxonomy"] = str(error)
    if severity not in Severity.values:
        errors["severity"] = _("Severity is a number from 1 to 5.")
    sector_list = list(dict.fromkeys(sectors))
    if any(sector not in Sector.values for sector in sector_list):
        errors["sectors"] = _("Choose sectors from the list.")
    if tlp not in TLP.values:
        errors["tlp"] = _("Choose a TLP label.")
    if pap not in PAP.values:
        errors["pap"] = _("Choose a PAP label.")
    if detected_at is not None and (
        timezone.is_naive(detected_at) or detected_at > timezone.now()
    ):
        errors["detected_at"] = _("Give a time with its zone, not in the future.")
    if errors:
        raise ValidationError(errors)
    return {
        "title": title, "description": (description or "").strip(),
        "taxonomy_predicate": taxonomy_predicate, "taxonomy_value": taxonomy_value,
        "severity": severity, "sectors": sector_list, "tlp": tlp, "pap": pap,
        "detected_at": detected_at,
    }  # fmt: skip


def _normalized(observables: Sequence[ObservableInput]) -> list[tuple[str, str]]:
    if len(observables) > MAX_OBSERVABLES:
        raise ValidationError(
            {
                "observables": _("At most %(count)d observables at a time.")
                % {"count": MAX_OBSERVABLES}
            }
        )
    found: dict[tuple[str, str], None] = {}
    errors: list[str] = []
    for number, item in enumerate(observables, start=1):
        try:
            pair = detect(item) if isinstance(item, str) else (item[0], normalize(*item))
        except ValueError as error:
            errors.append(
                _("Observable %(number)d: %(error)s") % {"number": number, "error": error}
            )
            continue
        found[pair] = None
    if errors:
        raise ValidationError({"observables": errors})
    return list(found)


def _add_observables(
    incident: Incident, actor: Membership, values: list[tuple[str, str]]
) -> list[Observable]:
    existing = set(incident.observables.values_list("type", "value"))
    fresh = [pair for pair in values if pair not in existing]
    if not fresh:
        return []
    table = shared_routing_table()
    rows = []
    for kind, value in fresh:
        arguments = route_arguments(kind, value)
        route = table.lookup(**arguments) if arguments else None  # type: ignore[arg-type]
        rows.append(
            Observable(
                incident=incident,
                type=kind,
                value=value,
                country=(route.country or "") if route else "",
                routed_to_id=route.organization_id if route else None,
                added_by=actor.user,
            )  # fmt: skip
        )
    created = Observable.objects.bulk_create(rows)
    _entry(incident, actor, EntryKind.OBSERVABLE, text=str(len(created)))
    return created


def _state_code(organization_id: int, country: str | None) -> str | None:
    org_state = (
        Organization.objects.filter(pk=organization_id)
        .values_list("state__code", flat=True)
        .first()
    )
    return org_state or country


def _states(codes: Iterable[str]) -> list[MemberState]:
    wanted = list(dict.fromkeys(codes))
    states = list(MemberState.objects.filter(code__in=wanted))
    unknown = set(wanted) - {state.code for state in states}
    if unknown:
        raise ValidationError(
            {
                "affected_states": _("Unknown state codes: %(codes)s")
                % {"codes": ", ".join(sorted(unknown))[:200]}
            }
        )
    return states


def _people(people: Iterable[User]) -> list[User]:
    chosen = list(people)
    active = set(
        Membership.objects.filter(
            user__in=chosen, is_active=True, user__is_active=True
        ).values_list("user_id", flat=True)
    )
    if any(person.pk not in active for person in chosen):
        raise ValidationError({"named_people": _("Name only active members of the network.")})
    return chosen


def _set_lead(incident: Incident, actor: Membership, lead: Organization) -> None:
    allowed = {incident.owner_id} | set(
        incident.participations.values_list("organization_id", flat=True)
    )
    if lead.pk not in allowed:
        raise ValidationError(
            {"lead_organization": _("The lead is the owner or one of the participants.")}
        )
    if lead.pk != incident.lead_organization_id:
        old = incident.lead_organization.short_name
        _entry(
            incident,
            actor,
            EntryKind.EDITED,
            text="lead",
            old_value=old,
            new_value=lead.short_name,
        )
        incident.lead_organization = lead


def _add_participants(
    incident: Incident,
    actor: Membership,
    *,
    states: Iterable[MemberState],
    invited: Iterable[Organization],
) -> None:
    wanted: dict[int, str] = {}
    for csirt in Organization.objects.national_csirts().filter(state__in=list(states)):
        wanted.setdefault(csirt.pk, ParticipationReason.AFFECTED_STATE)
    for organization in invited:
        wanted.setdefault(organization.pk, ParticipationReason.INVITED)
    wanted.pop(incident.owner_id, None)
    present = set(incident.participations.values_list("organization_id", flat=True))
    for organization_id, reason in wanted.items():
        if organization_id in present:
            continue
        participation = Participation.objects.create(
            incident=incident, organization_id=organization_id, reason=reason
        )
        _entry(incident, actor, EntryKind.PARTICIPANT,
               new_value=participation.organization.short_name)  # fmt: skip


def _queue_notifications(incident: Incident) -> None:
    """Write the missing outbox rows for the incident's audience; send after commit."""
    targets: list[tuple[int, int | None]]
    if incident.tlp == TLP.RED:
        targets = [
            (membership.organization_id, membership.user_id)
            for membership in Membership.objects.filter(
                user__in=incident.recipient_people.all(), is_active=True
            )
            .exclude(user_id=incident.author_id)
            .order_by("user_id", "pk")
        ]
        targets = list({user: (org, user) for org, user in reversed(targets)}.values())
    else:
        targets = [
            (org_id, None)
            for org_id in incident.participations.values_list("organization_id", flat=True)
        ]
    created = []
    for organization_id, user_id in targets:
        try:
            with transaction.atomic():
                created.append(
                    Notification.objects.create(
                        incident=incident, organization_id=organization_id, user_id=user_id
                    )
                )
        except IntegrityError:
            continue  # already queued: each participant is told once
    if created:
        from csirtnet.incidents.tasks import deliver_notification

        ids = [notification.pk for notification in created]
        transaction.on_commit(
            lambda: [deliver_notification.enqueue(notification_id=pk) for pk in ids],
            robust=True,
        )


def _entry(
    incident: Incident,
    actor: Membership,
    kind: str,
    *,
    text: str = "",
    old_value: str = "",
    new_value: str = "",
) -> TimelineEntry:
    return TimelineEntry.objects.create(
        incident=incident, kind=kind, author=actor.user, organization=actor.organization,
        text=text, old_value=old_value[:200], new_value=new_value[:200],
    )  # fmt: skip


def _shown(value: object) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return str(value)


def _status_label(status: str) -> str:
    try:
        return str(Status(status).label)
    except ValueError:
        return status[:40]


def _next_reference(year: int) -> str:
    counter, _created = ReferenceCounter.objects.select_for_update().get_or_create(year=year)
    counter.last += 1
    counter.save(update_fields=["last"])
    return f"INC-{year}-{counter.last:06d}"


def _event_observables(events: Sequence[Any]) -> list[ObservableInput]:
    values: list[ObservableInput] = []
    hashes = {32: "md5", 40: "sha1", 64: "sha256"}
    for event in events:
        if event.source_ip:
            values.append(str(event.source_ip))
        if event.hostname and not event.source_ip:
            values.append(("domain", event.hostname))
        if event.url:
            values.append(("url", event.url))
        if event.asn:
            values.append(("asn", str(event.asn)))
        if event.file_hash and len(event.file_hash) in hashes:
            values.append((hashes[len(event.file_hash)], event.file_hash))
    valid: list[ObservableInput] = []
    for item in values:  # a feed's odd value must not block the escalation of the rest
        try:
            detect(item) if isinstance(item, str) else normalize(*item)
        except ValueError:
            continue
        valid.append(item)
    return valid


def _attachment_dir() -> Path:
    return Path(settings.VAR_DIR) / "attachments"


def _store(content: IO[bytes]) -> tuple[Path, str, int]:
    limit = settings.CSIRTNET_ATTACHMENT_MAX_BYTES
    directory = _attachment_dir()
    directory.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    temporary = directory / f".upload-{timezone.now().timestamp()}-{id(content)}"
    with temporary.open("wb") as out:
        while chunk := content.read(1 << 20):
            size += len(chunk)
            if size > limit:
                out.close()
                temporary.unlink(missing_ok=True)
                raise ValidationError(
                    {"file": _("Files are limited to %(size)d bytes.") % {"size": limit}}
                )
            digest.update(chunk)
            out.write(chunk)
    if size == 0:
        temporary.unlink(missing_ok=True)
        raise ValidationError({"file": _("The file is empty.")})
    final = directory / digest.hexdigest()[:2] / digest.hexdigest()
    final.parent.mkdir(exist_ok=True)
    temporary.replace(final)
    return final, digest.hexdigest(), size
