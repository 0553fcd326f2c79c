"""
Verbs of assistance: draft and send a request, and move it along its workflow
(acknowledge, accept, decline, start, fulfil, withdraw). Each checks who may act, writes
the request and its history line in one transaction, and computes the clocks in UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from csirtnet.accounts.models import Membership
from csirtnet.assistance.exceptions import IllegalTransitionError
from csirtnet.assistance.kinds import LAW_ENFORCEMENT_TYPES, RequestType, kind_spec
from csirtnet.assistance.kinds import validate_details as _validate_details
from csirtnet.assistance.models import (
    CLOSED,
    RESPONSES,
    TRANSITIONS,
    AssistanceRequest,
    HistoryEntry,
    HistoryKind,
    Priority,
    Status,
)
from csirtnet.core import audit
from csirtnet.core.text import CONTROL_RE, DECEPTIVE_RE
from csirtnet.directory.models import Organization, OrganizationKind
from csirtnet.incidents.models import Incident
from csirtnet.sharing.tlp import TLP

LAW_ENFORCEMENT_KINDS = frozenset({OrganizationKind.LAW_ENFORCEMENT, OrganizationKind.SECRETARIAT})


@dataclass(frozen=True)
class Action:
    """A button of the request page: the verb (URL and API name), its target status, who."""

    name: str
    status: str
    label: Any
    by_requester: bool  # else by the requested organization


ACTIONS: dict[str, Action] = {
    action.name: action
    for action in (
        Action("send", Status.SENT, gettext_lazy("Send"), True),
        Action("acknowledge", Status.ACKNOWLEDGED, gettext_lazy("Acknowledge"), False),
        Action("accept", Status.ACCEPTED, gettext_lazy("Accept"), False),
        Action("decline", Status.DECLINED, gettext_lazy("Decline"), False),
        Action("start", Status.IN_PROGRESS, gettext_lazy("Start work"), False),
        Action("fulfil", Status.FULFILLED, gettext_lazy("Fulfilled"), False),
        Action(
            "partially_fulfil",
            Status.PARTIALLY_FULFILLED,
            gettext_lazy("Partially fulfilled"),
            False,
        ),
        Action("withdraw", Status.WITHDRAWN, gettext_lazy("Withdraw"), True),
    )
}


# --- reading -------------------------------------------------------------------------


def deadline_windows(priority: str) -> tuple[timedelta, timedelta]:
    """
    Return (time to acknowledge, time to answer) for `priority`, from the setting
    CSIRTNET_ASSISTANCE_DEADLINES (seconds; defaults: emergency 1 h / 24 h, urgent
    4 h / 72 h, routine 24 h / 30 days).

    Raises:
        KeyError: `priority` is not a `Priority` value.
    """
    window = settings.CSIRTNET_ASSISTANCE_DEADLINES[Priority(priority).value]
    return (
        timedelta(seconds=window["acknowledge_seconds"]),
        timedelta(seconds=window["respond_seconds"]),
    )


def may_send_law_enforcement_types(actor: Membership | None) -> bool:
    """Return True when `actor` acts for a law-enforcement unit or the secretariat."""
    return actor is not None and actor.organization.kind in LAW_ENFORCEMENT_KINDS


def request_types_for(actor: Membership | None) -> list[tuple[str, str]]:
    """Return the (value, label) request types `actor` may send: LE types only for LE units."""
    allowed = may_send_law_enforcement_types(actor)
    return [
        (value, str(label))
        for value, label in RequestType.choices
        if allowed or value not in LAW_ENFORCEMENT_TYPES
    ]


def requested_candidates(actor: Membership, request_type: str | None = None) -> Any:
    """
    Return the organizations `actor` may address: member organizations other than its
    own; for a law-enforcement type, law-enforcement units only.
    """
    organizations = Organization.objects.filter(is_member=True).exclude(pk=actor.organization_id)
    if request_type in LAW_ENFORCEMENT_TYPES:
        organizations = organizations.filter(kind=OrganizationKind.LAW_ENFORCEMENT)
    return organizations.select_related("state").order_by("state__code", "short_name")


def allowed_actions(actor: Membership | None, request: AssistanceRequest) -> list[Action]:
    """Return the actions `actor` may take on `request` now, in workflow order."""
    if actor is None or not _sees(actor, request):
        return []
    legal = TRANSITIONS.get(request.status, frozenset())
    return [
        action
        for action in ACTIONS.values()
        if action.status in legal and _party(actor, request, by_requester=action.by_requester)
    ]


# --- writing -------------------------------------------------------------------------


@transaction.atomic
def create_request(
    *,
    actor: Membership,
    request_type: str,
    requested: Organization,
    title: str,
    description: str = "",
    details: dict[str, Any] | None = None,
    priority: str = Priority.ROUTINE,
    tlp: str = TLP.AMBER,
    legal_basis: str = "",
    incident: Incident | None = None,
    send: bool = True,
    now: datetime | None = None,
) -> AssistanceRequest:
    """
    Draft a request from `actor`'s organization to `requested` and, with `send`
    (the default), send it at once (see `change_status`). `details` holds the fields of
    `request_type` (`kinds.validate_details`); `legal_basis` defaults to the type's
    citation (e.g. "Budapest Convention (ETS 185), art. 29"). `incident` must be one
    the actor sees. `now` is the aware time the clocks start from (default: now).

    Raises:
        PermissionDenied: `actor` is None or its organization is not a member.
        ValidationError: by field: a type the actor may not send reads as unknown
            ("request_type"); the requested organization is the actor's own, not a
            member, or not a law-enforcement unit for a law-enforcement type
            ("requested"); an incident it does not see ("incident"); a bad title,
            description, priority, TLP, legal basis or type-specific field.
    """
    if actor is None or not actor.organization.is_member:
        raise PermissionDenied
    if request_type in LAW_ENFORCEMENT_TYPES and not may_send_law_enforcement_types(actor):
        raise ValidationError({"request_type": _("Choose a request type.")})
    cleaned = _clean_fields(
        request_type=request_type, title=title, description=description, details=details,
        priority=priority, tlp=tlp, legal_basis=legal_basis,
    )  # fmt: skip
    if not requested_candidates(actor, request_type).filter(pk=requested.pk).exists():
        raise ValidationError({"requested": _("Choose an organization from the list.")})
    if incident is not None and not (
        Incident.objects.visible_to(actor).filter(pk=incident.pk).exists()
    ):
        raise ValidationError({"incident": _("Choose an incident your organization sees.")})
    request = AssistanceRequest.objects.create(
        requester=actor.organization, requested=requested, author=actor.user,
        incident=incident, created_at=now or timezone.now(), **cleaned,
    )  # fmt: skip
    _record(request, actor, HistoryKind.CREATED, to_status=Status.DRAFT, at=request.created_at)
    if send:
        return change_status(actor=actor, request=request, status=Status.SENT, now=now)
    return request


@transaction.atomic
def change_status(
    *,
    actor: Membership,
    request: AssistanceRequest,
    status: str,
    reason: str = "",
    now: datetime | None = None,
) -> AssistanceRequest:
    """
    Move `request` to `status` (`models.TRANSITIONS`) for `actor` and write the
    history line (user, organization, UTC time). The requesting organization sends
    and withdraws; the requested organization acknowledges, accepts, declines (with a
    `reason`, 1-5,000 characters), starts, fulfils and partially fulfils; only the
    clock expires (`escalation.escalate`). Sending starts the clocks: the deadlines are
    `now` plus the priority's windows (`deadline_windows`). The first answer of any
    kind counts as the acknowledgement; declining or (partially) fulfilling is the
    response. `now` is an aware time (default: now).

    Raises:
        IllegalTransitionError: the workflow does not allow the move (code
            "illegal_transition").
        PermissionDenied: `actor` does not see the request or is not the party that
            makes this move.
        ValidationError: `{"reason": …}` when declining without a reason, or with
            control characters.
    """
    request = AssistanceRequest.objects.select_for_update().get(pk=request.pk)
    if actor is None or not _sees(actor, request):
        raise PermissionDenied
    if status not in TRANSITIONS.get(request.status, frozenset()):
        raise IllegalTransitionError(
            _("An assistance request cannot go from %(old)s to %(new)s.")
            % {"old": Status(request.status).label, "new": _status_label(status)},
            code="illegal_transition",
        )
    action = next((a for a in ACTIONS.values() if a.status == status), None)
    if action is None or not _party(actor, request, by_requester=action.by_requester):
        raise PermissionDenied
    reason = (reason or "").strip()
    if status == Status.DECLINED:
        if not reason or len(reason) > 5000:
            raise ValidationError({"reason": _("Say why, in 1 to 5,000 characters.")})
        if not _is_plain(reason):
            raise ValidationError({"reason": _("The text cannot hold control characters.")})
        request.decline_reason = reason
    moment = now or timezone.now()
    old = request.status
    _apply_times(request, status, moment)
    request.status = status
    request.save()
    _record(
        request, actor, HistoryKind.TRANSITION, from_status=old, to_status=status,
        note=reason if status == Status.DECLINED else "", at=moment,
    )  # fmt: skip
    return request


# --- helpers -------------------------------------------------------------------------


def record_history(
    request: AssistanceRequest,
    kind: str,
    *,
    actor: Membership | None = None,
    from_status: str = "",
    to_status: str = "",
    note: str = "",
    at: datetime | None = None,
) -> HistoryEntry:
    """
    Add a history line to `request`: by `actor` (its user and organization), or by
    the clock when `actor` is None; at `at` (aware, default now). Every change of a
    request passes here, so its audit entry (`assistance.<kind>`) is written here too.
    """
    entry = HistoryEntry.objects.create(
        request=request, kind=kind, from_status=from_status, to_status=to_status,
        user=actor.user if actor else None,
        organization=actor.organization if actor else None,
        note=note[:5000], at=at or timezone.now(),
    )  # fmt: skip
    audit.record(
        actor=actor, action=f"assistance.{kind}", target=request,
        detail={"history_entry": entry.pk, "from": from_status, "to": to_status},
    )  # fmt: skip
    return entry


def _record(
    request: AssistanceRequest, actor: Membership, kind: str, *, at: datetime, **fields: str
) -> HistoryEntry:
    return record_history(request, kind, actor=actor, at=at, **fields)


def _apply_times(request: AssistanceRequest, status: str, moment: datetime) -> None:
    if status == Status.SENT:
        acknowledge, respond = deadline_windows(request.priority)
        request.sent_at = moment
        request.acknowledge_due_at = moment + acknowledge
        request.respond_due_at = moment + respond
        request.reference = request.reference or f"AR-{moment.year}-{request.pk:05d}"
    answered = status not in (Status.SENT, Status.WITHDRAWN)
    if answered and request.sent_at and request.acknowledged_at is None:
        request.acknowledged_at = moment
    if status in RESPONSES:
        request.responded_at = moment
    if status in CLOSED:
        request.closed_at = moment


def _clean_fields(**fields: Any) -> dict[str, Any]:
    """Check a request's own fields; return them tidied, or raise `ValidationError` by field."""
    errors: dict[str, Any] = {}
    title = (fields["title"] or "").strip()
    if not title or len(title) > 200:
        errors["title"] = _("Write a title of 1 to 200 characters.")
    elif CONTROL_RE.search(title) or DECEPTIVE_RE.search(title):
        errors["title"] = _("The title cannot hold control or invisible characters.")
    description = (fields["description"] or "").strip()
    if len(description) > 20000:
        errors["description"] = _("Write at most 20,000 characters.")
    elif not _is_plain(description):
        errors["description"] = _("The text cannot hold control characters.")
    if fields["priority"] not in Priority.values:
        errors["priority"] = _("Choose a priority.")
    if fields["tlp"] not in TLP.values:
        errors["tlp"] = _("Choose a TLP label.")
    try:
        spec = kind_spec(fields["request_type"])
    except ValidationError as error:
        raise ValidationError({**errors, **error.message_dict}) from None
    legal_basis = (fields["legal_basis"] or "").strip() or spec.legal_basis
    if (
        len(legal_basis) > 300
        or CONTROL_RE.search(legal_basis)
        or DECEPTIVE_RE.search(legal_basis)
    ):
        errors["legal_basis"] = _("Write the legal basis on one line of at most 300 characters.")
    try:
        details = _validate_details(fields["request_type"], fields["details"] or {})
    except ValidationError as error:
        errors.update(error.message_dict)
        details = {}
    if errors:
        raise ValidationError(errors)
    return {
        "request_type": fields["request_type"], "title": title, "description": description,
        "details": details, "priority": fields["priority"], "tlp": fields["tlp"],
        "legal_basis": legal_basis,
    }  # fmt: skip


def _is_line(text: str) -> bool:
    return not (CONTROL_RE.search(text) or DECEPTIVE_RE.search(text))


def _is_plain(text: str) -> bool:
    return not (
        CONTROL_RE.search(text.replace("\t", "").replace("\n", "").replace("\r", ""))
        or DECEPTIVE_RE.search(text)
    )


def _sees(actor: Membership, request: AssistanceRequest) -> bool:
    return AssistanceRequest.objects.visible_to(actor).filter(pk=request.pk).exists()


def _party(actor: Membership, request: AssistanceRequest, *, by_requester: bool) -> bool:
    expected = request.requester_id if by_requester else request.requested_id
    return actor.organization_id == expected


def _status_label(status: str) -> str:
    try:
        return str(Status(status).label)
    except ValueError:
        return status[:40]
