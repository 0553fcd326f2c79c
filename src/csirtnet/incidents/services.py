"""
Verbs of incidents: report, edit, change status, comment, acknowledge, add observables
and attachments, escalate inbox events. Each checks who may act, writes in one
transaction with its timeline entries and outbox rows, and enqueues e-mail on commit.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from csirtnet.accounts.middleware import actor_for
from csirtnet.accounts.models import Membership
from csirtnet.core.text import CONTROL_RE, DECEPTIVE_RE
from csirtnet.directory.models import MemberState, Organization
from csirtnet.directory.routing import shared_routing_table
from csirtnet.incidents.exceptions import IllegalTransitionError
from csirtnet.incidents.models import (
    PAP,
    TRANSITIONS,
    Attachment,
    EntryKind,
    Incident,
    Observable,
    Participation,
    ReferenceCounter,
    Status,
    TimelineEntry,
)
from csirtnet.incidents.participants import add_participants, queue_notifications
from csirtnet.incidents.storage import attachment_path, store_file
from csirtnet.incidents.timeline import record_entry
from csirtnet.incidents.validation import (
    MAX_OBSERVABLES,
    ObservableInput,
    active_people,
    clean_fields,
    event_observables,
    is_plain_text,
    member_states,
    normalized_observables,
)
from csirtnet.sharing.observables import route_arguments
from csirtnet.sharing.tlp import TLP, strictest

__all__ = ["MAX_OBSERVABLES", "ObservableInput", "attachment_path"]  # re-exported for edges


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
    for kind, value in normalized_observables(observables):
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
        ValidationError: a field is invalid; the message dict names each field; or
            `events` hold a TLP:RED event whose report does not name everyone the
            incident would address (`named_people`).
    """
    if actor is None:
        raise PermissionDenied
    cleaned = clean_fields(
        title=title, taxonomy_predicate=taxonomy_predicate, taxonomy_value=taxonomy_value,
        severity=severity, sectors=sectors, tlp=tlp, pap=pap, detected_at=detected_at,
        description=description,
    )  # fmt: skip
    named = list(named_people)
    if named and tlp != TLP.RED:
        raise ValidationError({"named_people": _NAMED_ONLY_ON_RED()})
    events = list(events)
    _check_red_audience({actor.user_id, *(person.pk for person in named)}, events)
    values = normalized_observables(observables)
    if affected_states is None:
        codes = [p.state.code for p in propose_affected_states([(k, v) for k, v in values])]
    else:
        codes = list(affected_states)
    states = member_states(codes)
    now = timezone.now()
    incident = Incident.objects.create(
        reference=_next_reference(now.year),
        owner=actor.organization,
        author=actor.user,
        lead_organization=actor.organization,
        reported_at=now,
        **cleaned,
    )
    record_entry(incident, actor, EntryKind.CREATED, new_value=incident.status)
    incident.affected_states.set(states)
    _add_observables(incident, actor, values)
    incident.recipient_people.set(active_people(named))
    if events:
        incident.events.set(events)
    add_participants(incident, actor, states=states, invited=invited)
    queue_notifications(incident)
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
        ValidationError: a field is invalid, or unknown; or a person added is not named
            on the report of a TLP:RED event the incident holds.
    """
    incident = _locked(incident)
    if not can_change(actor, incident):
        raise PermissionDenied
    unknown = set(changes) - _EDITABLE
    if unknown:
        raise ValidationError({name: _("This field cannot be changed.") for name in unknown})
    simple = {key: value for key, value in changes.items() if key in _FIELDS}
    current = {key: getattr(incident, key) for key in _FIELDS}
    cleaned = clean_fields(**{**current, **simple})
    floor = _label_floor(incident)
    if floor is not None and TLP(cleaned["tlp"]).rank < floor.rank:
        raise ValidationError({"tlp": _looser_than_events(floor)})
    if changes.get("named_people") and cleaned["tlp"] != TLP.RED:
        raise ValidationError({"named_people": _NAMED_ONLY_ON_RED()})
    relabelled = cleaned["tlp"] != incident.tlp
    if incident.tlp == TLP.RED and cleaned["tlp"] != TLP.RED:
        # the participants learn of it only now: their clock to acknowledge starts now
        incident.participations.filter(acknowledged_at__isnull=True).update(
            notified_at=timezone.now()
        )
    for name, value in cleaned.items():
        old = getattr(incident, name)
        if old == value:
            continue
        setattr(incident, name, value)
        kind = EntryKind.LABEL if name in ("tlp", "pap") else EntryKind.EDITED
        record_entry(
            incident, actor, kind, text=name, old_value=_shown(old), new_value=_shown(value)
        )
    added = active_people(changes.get("named_people") or [])
    if incident.tlp == TLP.RED and actor.user_id != incident.author_id:
        # whoever makes it RED is addressed by name, or would lose sight of it at once
        added.append(actor.user)
    known = set(incident.recipient_people.values_list("pk", flat=True))
    added = [person for person in dict.fromkeys(added) if person.pk not in known]
    if added:
        _check_red_audience(
            {incident.author_id, *known, *(person.pk for person in added)},
            incident.events.all(),
        )
        incident.recipient_people.add(*added)
        record_entry(
            incident, actor, EntryKind.EDITED, text="named_people",
            new_value=", ".join(sorted(person.get_username() for person in added)),
        )  # fmt: skip
    if "lead_organization" in changes:
        _set_lead(incident, actor, changes["lead_organization"])
    incident.save()
    states: list[MemberState] = []
    if changes.get("affected_states") is not None:
        states = member_states(changes["affected_states"])
        incident.affected_states.add(*states)
    add_participants(incident, actor, states=states, invited=changes.get("invited") or ())
    queue_notifications(incident, retry_withheld=relabelled, acting_user_id=actor.user_id)
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
    record_entry(
        incident, actor, EntryKind.STATUS, text=note[:20000], old_value=old, new_value=status
    )
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
    if not is_plain_text(text):
        raise ValidationError({"text": _("The text cannot hold control characters.")})
    return record_entry(incident, actor, EntryKind.COMMENT, text=text)


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
    record_entry(incident, actor, EntryKind.ACKNOWLEDGED, new_value=actor.organization.short_name)
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
    return _add_observables(incident, actor, normalized_observables(observables))


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
    if not clean_name or CONTROL_RE.search(clean_name) or DECEPTIVE_RE.search(clean_name):
        raise ValidationError(
            {"file": _("The file needs a name without control or invisible characters.")}
        )
    path, digest, size = store_file(content)
    content_type = mimetypes.guess_type(clean_name)[0] or "application/octet-stream"
    with transaction.atomic():
        attachment = Attachment.objects.create(
            incident=incident, name=clean_name, sha256=digest, size=size,
            content_type=content_type, uploaded_by=actor.user, organization=actor.organization,
        )  # fmt: skip
        record_entry(incident, actor, EntryKind.ATTACHMENT, text=clean_name, new_value=digest)
    return attachment


@transaction.atomic
def escalate_events(
    *, actor: Membership, events: Sequence[Any], incident: Incident | None = None, **fields: Any
) -> Incident:
    """
    Escalate inbox events into an incident: into `incident` when given (the actor must
    contribute to it), else into a new one made with `fields` (see `create_incident`;
    its label defaults to the strictest of the events'). The events' addresses, host
    names, URLs, ASNs and hashes become observables; the events are linked.

    A TLP:RED event goes only where everyone addressed is named on its report: a RED
    incident whose author and named people all are (DESIGN.md: RED is for the people
    addressed by name; a combination carries the strictest label and audience).

    Raises:
        PermissionDenied: an event is not visible to `actor`, or it may not add to `incident`.
        ValidationError: no events, invalid fields, or a TLP:RED event whose report
            does not name everyone the incident addresses.
    """
    from csirtnet.reports.models import Event

    if not events:
        raise ValidationError({"events": _("Select at least one event.")})
    ids = [event.pk for event in events]
    if Event.objects.visible_to(actor).filter(pk__in=ids).count() != len(set(ids)):
        raise PermissionDenied
    values = event_observables(events)
    floor = strictest(event.tlp for event in events)
    if incident is None:
        fields.setdefault("tlp", floor)
        if TLP(fields["tlp"]).rank < floor.rank if fields["tlp"] in TLP.values else False:
            raise ValidationError({"tlp": _looser_than_events(floor)})
        return create_incident(actor=actor, observables=values, events=events, **fields)
    incident = _locked(incident)  # its label is read again under the lock a relabel takes
    if not can_contribute(actor, incident):
        raise PermissionDenied
    if incident.tlp_label.rank < floor.rank:
        raise ValidationError({"incident": _looser_than_events(floor)})
    audience = {incident.author_id, *incident.recipient_people.values_list("pk", flat=True)}
    _check_red_audience(audience, events, field="incident")
    incident.events.add(*events)
    _add_observables(incident, actor, normalized_observables(values))
    record_entry(incident, actor, EntryKind.ESCALATED, text=str(len(ids)))
    return incident


# --- helpers -------------------------------------------------------------------------


def _NAMED_ONLY_ON_RED() -> str:  # noqa: N802 (a message, translated when raised)
    return _("People are addressed by name only on TLP:RED incidents.")


def _looser_than_events(floor: TLP) -> str:
    return _(
        "An incident holding these events must be labelled %(label)s or stricter: a "
        "combination carries the strictest label of its parts."
    ) % {"label": floor.label}


def _check_red_audience(
    audience: Iterable[int | None], events: Iterable[Any], *, field: str = "named_people"
) -> None:
    """
    Refuse to address (`audience`: user ids of an incident's author and named people)
    anyone who may not see every TLP:RED event among `events`, as the one visibility
    rule decides (`EventQuerySet.visible_to` of the person's membership): a RED
    incident shows its events' observables to all it addresses.

    Raises:
        ValidationError: `{field: …}` naming, by username, those who may not see one.
    """
    from csirtnet.reports.models import Event

    red = {event.pk for event in events if event.tlp == TLP.RED}
    if not red:
        return
    people = User.objects.filter(pk__in=[pk for pk in audience if pk is not None])
    outside = [
        user.get_username()
        for user in people.order_by("username")
        if Event.objects.visible_to(actor_for(user)).filter(pk__in=red).count() != len(red)
    ]
    if outside:
        raise ValidationError(
            {
                field: _(
                    "A TLP:RED event is only for the people its report names; these are "
                    "not: %(names)s."
                )
                % {"names": ", ".join(outside)}
            }
        )


def _label_floor(incident: Incident) -> TLP | None:
    """Return the strictest label of the events in `incident`, or None without events."""
    labels = list(incident.events.values_list("tlp", flat=True).distinct())
    return strictest(labels) if labels else None


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
    record_entry(incident, actor, EntryKind.OBSERVABLE, text=str(len(created)))
    return created


def _state_code(organization_id: int, country: str | None) -> str | None:
    org_state = (
        Organization.objects.filter(pk=organization_id)
        .values_list("state__code", flat=True)
        .first()
    )
    return org_state or country


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
        record_entry(
            incident,
            actor,
            EntryKind.EDITED,
            text="lead",
            old_value=old,
            new_value=lead.short_name,
        )
        incident.lead_organization = lead


def _shown(value: object) -> str:
    if value is None or value == []:
        return "—"
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
