"""
Verbs of evidence: add a file (custody event "collected"), offer a transfer, accept it,
record an examination, release. Each checks who may act, locks the evidence row so that
appends to its custody chain are serialized, and writes in one transaction (RFC 3227,
section 2.4; Budapest Convention art. 29 for preserved data handed between states).
"""

from __future__ import annotations

from typing import IO, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from csirtnet.accounts.models import Membership
from csirtnet.core import audit
from csirtnet.core.hashchain import link_hash
from csirtnet.directory.models import Organization
from csirtnet.evidence.models import Action, CustodyEvent, Evidence
from csirtnet.evidence.storage import (
    clean_file_name,
    clean_media_type,
    file_sha256,
    store_file,
)

MAX_REASON = 2000  # characters of a custody event's reason
MAX_DESCRIPTION = 5000  # characters of an evidence item's description


# --- reading -------------------------------------------------------------------------


def can_add_to(actor: Membership | None, parent: Any) -> bool:
    """
    Return True when `actor` may add evidence to `parent`: for an incident, who may
    contribute to it (owner, lead, participant, person named on TLP:RED); for an
    assistance request, the requesting and the requested organizations, if they see it.
    """
    if actor is None:
        return False
    from csirtnet.assistance.models import AssistanceRequest
    from csirtnet.incidents.models import Incident

    if isinstance(parent, Incident):
        return Incident.objects.contributed_by(actor).filter(pk=parent.pk).exists()
    if isinstance(parent, AssistanceRequest):
        org = actor.organization_id
        return (
            org in (parent.requester_id, parent.requested_id)
            and AssistanceRequest.objects.visible_to(actor).filter(pk=parent.pk).exists()
        )
    return False


def accepts_evidence(parent: Any) -> bool:
    """
    Return False for an assistance request in a final status (declined, fulfilled,
    partially fulfilled, withdrawn: `assistance.models.CLOSED`, from which
    `TRANSITIONS` allows no move); True otherwise. An incident can be reopened, so
    it takes evidence in any status.
    """
    from csirtnet.assistance.models import AssistanceRequest

    return not (isinstance(parent, AssistanceRequest) and parent.is_closed)


def check_open(parent: Any) -> None:
    """
    Refuse new evidence for a parent that no longer takes any (`accepts_evidence`).

    Raises:
        ValidationError: code "parent_closed", naming the request's status.
    """
    if not accepts_evidence(parent):
        raise ValidationError(
            _(
                "This assistance request is closed (status: %(status)s); "
                "no evidence can be added to it."
            )
            % {"status": parent.get_status_display()},
            code="parent_closed",
        )


def can_hold(actor: Membership | None, evidence: Evidence) -> bool:
    """Return True when `actor` acts for the custodian of an unreleased item (may transfer it)."""
    return (
        actor is not None
        and not evidence.is_released
        and actor.organization_id == evidence.custodian_id
    )


def can_accept(actor: Membership | None, evidence: Evidence) -> bool:
    """Return True when a transfer is offered to `actor`'s organization."""
    return actor is not None and evidence.pending_receiver_id == actor.organization_id


# --- writing -------------------------------------------------------------------------


def add_evidence(
    *,
    actor: Membership,
    parent: Any,
    name: str,
    content: IO[bytes],
    content_type: str,
    description: str = "",
) -> Evidence:
    """
    Store a file as evidence of `parent` (an `Incident` or an `AssistanceRequest`) under
    its SHA-256 (CSIRTNET_VAR_DIR/evidence), at most CSIRTNET_EVIDENCE_MAX_BYTES bytes,
    and write the first custody event, "collected", for the actor's organization, which
    becomes owner and custodian. `content_type` is the declared media type, checked
    against the file's first bytes (`storage.check_media_type`).

    Raises:
        PermissionDenied: `actor` may not add to `parent` (`can_add_to`).
        ValidationError: `parent` is an assistance request in a final status
            (`check_open`, checked again under the request's row lock);
            `{"file": …}` empty, too large or nameless; `{"content_type": …}`
            malformed or not what the bytes are; `{"description": …}` too long.
            Nothing is kept (but a file stored just before a concurrent close).
    """
    if not can_add_to(actor, parent):
        raise PermissionDenied
    check_open(parent)
    clean_name = clean_file_name(name)
    media_type = clean_media_type(content_type)
    description = _text(description, field="description", limit=MAX_DESCRIPTION)
    sha256, size = store_file(content, media_type)
    from csirtnet.incidents.models import Incident

    is_incident = isinstance(parent, Incident)
    with transaction.atomic():
        if not is_incident:
            # the same lock as `assistance.services.change_status`: no close in between
            check_open(type(parent).objects.select_for_update().get(pk=parent.pk))
        evidence = Evidence.objects.create(
            incident=parent if is_incident else None,
            assistance_request=None if is_incident else parent,
            name=clean_name, description=description, sha256=sha256, size=size,
            content_type=media_type, owner=actor.organization, custodian=actor.organization,
            added_by=actor.user,
        )  # fmt: skip
        evidence = _locked(evidence)
        _append(evidence, actor, Action.COLLECTED)
    return evidence


@transaction.atomic
def transfer_evidence(
    *, actor: Membership, evidence: Evidence, receiving_organization: Organization, reason: str
) -> CustodyEvent:
    """
    Offer the evidence to another organization (possibly of another state): custody
    event "transferred". The custodian stays the same until a member of the receiving
    organization accepts (`accept_transfer`); the receiver sees the item meanwhile.

    Raises:
        PermissionDenied: `actor` is not of the custodian organization.
        ValidationError: released, a transfer already pending, the receiver is the
            custodian itself (`{"receiving_organization": …}`), or no reason given.
    """
    evidence = _locked(evidence)
    _check_holder(actor, evidence)
    if evidence.pending_receiver_id is not None:
        raise ValidationError(
            _("A transfer is already pending; it must be accepted before another one.")
        )
    if receiving_organization.pk == evidence.custodian_id:
        raise ValidationError(
            {"receiving_organization": _("Choose an organization other than the custodian.")}
        )
    reason = _text(reason, field="reason", limit=MAX_REASON, required=True)
    evidence.pending_receiver = receiving_organization
    return _append(evidence, actor, Action.TRANSFERRED, reason, receiving_organization)


@transaction.atomic
def accept_transfer(*, actor: Membership, evidence: Evidence, reason: str = "") -> CustodyEvent:
    """
    Accept the transfer offered to the actor's organization: custody event "accepted";
    that organization becomes the custodian.

    Raises:
        PermissionDenied: the pending transfer is to another organization.
        ValidationError: no transfer is pending; the reason is too long.
    """
    evidence = _locked(evidence)
    if evidence.pending_receiver_id is None:
        raise ValidationError(_("No transfer of this evidence is pending."))
    if not can_accept(actor, evidence):
        raise PermissionDenied
    reason = _text(reason, field="reason", limit=MAX_REASON)
    evidence.custodian = actor.organization
    evidence.pending_receiver = None
    return _append(evidence, actor, Action.ACCEPTED, reason)


@transaction.atomic
def record_examination(*, actor: Membership, evidence: Evidence, reason: str) -> CustodyEvent:
    """
    Record that the custodian examined the evidence (what and why in `reason`): custody
    event "examined". The stored file is hashed again first (1 MiB at a time).

    Raises:
        PermissionDenied: `actor` is not of the custodian organization.
        ValidationError: released; no reason; the stored file is gone or no longer
            matches its SHA-256 (run `csirtnet verify-custody`).
    """
    evidence = _locked(evidence)
    _check_holder(actor, evidence)
    reason = _text(reason, field="reason", limit=MAX_REASON, required=True)
    if file_sha256(evidence.sha256) != evidence.sha256:
        raise ValidationError(
            _("The stored file no longer matches its SHA-256; run csirtnet verify-custody.")
        )
    return _append(evidence, actor, Action.EXAMINED, reason)


@transaction.atomic
def release_evidence(*, actor: Membership, evidence: Evidence, reason: str) -> CustodyEvent:
    """
    Release the evidence (returned, handed to a court, or no longer needed; why in
    `reason`): custody event "released". The chain is closed: no later event.

    Raises:
        PermissionDenied: `actor` is not of the custodian organization.
        ValidationError: already released, a transfer pending, or no reason.
    """
    evidence = _locked(evidence)
    _check_holder(actor, evidence)
    if evidence.pending_receiver_id is not None:
        raise ValidationError(_("A transfer is pending; it must be accepted first."))
    reason = _text(reason, field="reason", limit=MAX_REASON, required=True)
    evidence.released_at = timezone.now()
    return _append(evidence, actor, Action.RELEASED, reason)


# --- helpers -------------------------------------------------------------------------


def _locked(evidence: Evidence) -> Evidence:
    """Return the evidence row again under a row lock (SELECT … FOR UPDATE)."""
    return Evidence.objects.select_for_update().get(pk=evidence.pk)


def _check_holder(actor: Membership, evidence: Evidence) -> None:
    if evidence.is_released:
        raise ValidationError(_("This evidence has been released; its chain is closed."))
    if not can_hold(actor, evidence):
        raise PermissionDenied


def _text(value: str, *, field: str, limit: int, required: bool = False) -> str:
    """
    Return `value` stripped.

    Raises:
        ValidationError: `{field: …}` when empty but required, too long, or holding NUL.
    """
    value = (value or "").strip()
    if required and not value:
        raise ValidationError({field: _("Say why (this is part of the chain of custody).")})
    if len(value) > limit:
        raise ValidationError({field: _("At most %(limit)d characters.") % {"limit": limit}})
    if "\x00" in value:
        raise ValidationError({field: _("The text cannot hold NUL characters.")})
    return value


def _append(
    evidence: Evidence,
    actor: Membership,
    action: Action,
    reason: str = "",
    receiving_organization: Organization | None = None,
) -> CustodyEvent:
    """
    Append one custody event to the locked `evidence` and save the evidence's state
    (custodian, pending receiver, release, chain length and head) with it.
    """
    event = CustodyEvent(
        evidence=evidence, sequence=evidence.custody_length + 1, action=action,
        actor=actor.user, organization=actor.organization, occurred_at=timezone.now(),
        reason=reason, receiving_organization=receiving_organization,
        sha256=evidence.sha256, previous_hash=evidence.head_hash,
    )  # fmt: skip
    event.hash = link_hash(event.previous_hash, event.custody_record())
    event.save()
    evidence.custody_length = event.sequence
    evidence.head_hash = event.hash
    evidence.save(
        update_fields=[
            "custodian", "pending_receiver", "released_at", "custody_length", "head_hash",
        ]
    )  # fmt: skip
    audit.record(
        actor=actor, action=f"evidence.{action}", target=evidence,
        detail={"sequence": event.sequence, "custody_hash": event.hash},
    )  # fmt: skip
    return event
