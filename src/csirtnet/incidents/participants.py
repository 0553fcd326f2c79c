"""Participants of incidents and their notifications (outbox rows, sent after commit)."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import IntegrityError, transaction

from csirtnet.accounts.models import Membership
from csirtnet.directory.models import MemberState, Organization
from csirtnet.incidents.models import (
    EntryKind,
    Incident,
    Notification,
    NotificationStatus,
    Participation,
    ParticipationReason,
)
from csirtnet.incidents.timeline import record_entry
from csirtnet.sharing.tlp import TLP


def add_participants(
    incident: Incident,
    actor: Membership,
    *,
    states: Iterable[MemberState],
    invited: Iterable[Organization],
) -> None:
    """
    Make the national CSIRT of each of `states` and each `invited` organization a
    participant of `incident` (never the owner; each once), with a timeline entry.
    """
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
        record_entry(incident, actor, EntryKind.PARTICIPANT,
               new_value=participation.organization.short_name)  # fmt: skip


def queue_notifications(
    incident: Incident, *, retry_withheld: bool = False, acting_user_id: int | None = None
) -> None:
    """
    Write the missing outbox rows for the incident's audience and send them after
    commit; on TLP:RED, each person named but the author and `acting_user_id` (who
    does not need telling of its own act). With `retry_withheld` (the label changed),
    rows the TLP rule withheld are queued again: the sender checks the rule anew and
    withholds them again if it must.
    """
    targets: list[tuple[int, int | None]]
    if incident.tlp == TLP.RED:
        targets = [
            (membership.organization_id, membership.user_id)
            for membership in Membership.objects.filter(
                user__in=incident.recipient_people.all(), is_active=True
            )
            .exclude(user_id__in=[incident.author_id, acting_user_id])
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
    if retry_withheld:
        withheld = Notification.objects.filter(
            incident=incident, status=NotificationStatus.WITHHELD
        )
        created.extend(withheld)
        withheld.update(status=NotificationStatus.PENDING)
    if created:
        from csirtnet.incidents.tasks import deliver_notification

        ids = [notification.pk for notification in created]
        transaction.on_commit(
            lambda: [deliver_notification.enqueue(notification_id=pk) for pk in ids],
            robust=True,
        )
