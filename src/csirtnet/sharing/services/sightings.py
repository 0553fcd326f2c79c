"""Sightings as a platform action: an organization reports it saw a shared object."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from csirtnet.core import audit
from csirtnet.core.text import DECEPTIVE_RE
from csirtnet.incidents.validation import is_plain_text
from csirtnet.sharing import stix
from csirtnet.sharing.models import StixObject
from csirtnet.sharing.services.importing import one_writer_at_a_time
from csirtnet.sharing.tlp import TLP

if TYPE_CHECKING:
    from csirtnet.accounts.models import Membership

MAX_COUNT = 999_999_999  # STIX 2.1 section 5.5: `count` is 0 to 999,999,999
MAX_NOTE_LENGTH = 2000
CLOCK_SKEW = timedelta(minutes=5)
EARLIEST_YEAR = 1970  # how far in the future a reported time may lie
# Types a Sighting may point at: STIX domain objects (section 5.5, sighting_of_ref).
SIGHTABLE_TYPES = frozenset({
    "attack-pattern", "campaign", "course-of-action", "grouping", "identity", "incident",
    "indicator", "infrastructure", "intrusion-set", "location", "malware",
    "malware-analysis", "note", "observed-data", "opinion", "report", "threat-actor",
    "tool", "vulnerability",
})  # fmt: skip


@transaction.atomic
def record_sighting(
    *,
    actor: Membership,
    sighted: StixObject,
    count: int = 1,
    first_seen_at: datetime | None = None,
    last_seen_at: datetime | None = None,
    tlp: str | None = None,
    note: str = "",
) -> StixObject:
    """
    Record that `actor`'s organization saw `sighted` (an indicator or another STIX domain
    object it may see) `count` times between `first_seen_at` and `last_seen_at` (aware
    datetimes, UTC; both default to now, the first to the last): a new STIX 2.1 Sighting
    (section 5.5) stored as a shared object owned by the organization, found by
    correlation and served by TAXII like any other.

    Its label is the strictest of `tlp` and the sighted object's label (a combination
    carries the strictest label of its parts, DESIGN.md: `stix.combination_label`, as for
    a sighting imported with `import_stix`); under AMBER or AMBER+STRICT it
    is addressed to the sighted object's owner, under RED to its author by name, so the
    producer of an indicator learns where it was seen and nobody else does.

    Raises:
        PermissionDenied: `actor` is not active, or may not see `sighted`.
        ValidationError: `{field: message}` for a count outside 0 to 999,999,999, times
            out of order or in the future, a type that cannot be sighted, a bad note.
    """
    if (
        not actor.is_active
        or not StixObject.objects.visible_to(actor).filter(pk=sighted.pk).exists()
    ):
        raise PermissionDenied
    now = timezone.now()
    _check_times(first_seen_at=first_seen_at, last_seen_at=last_seen_at)
    last = last_seen_at or now
    first = first_seen_at or last
    _check(sighted=sighted, count=count, first=first, last=last, now=now, note=note)
    label, _raisers = stix.combination_label(
        TLP(tlp or sighted.tlp), {sighted.stix_id: TLP(sighted.tlp)}
    )
    body = stix.sighting_object(
        sighted_id=sighted.stix_id, organization=actor.organization, count=count,
        first_seen=first, last_seen=last, label=label, recorded=now, description=note.strip(),
    )  # fmt: skip
    one_writer_at_a_time()
    row = StixObject.objects.create(
        stix_id=body["id"], type="sighting", version=body["modified"],
        modified_at=stix.parse_timestamp(body["modified"]), body=body,
        content_sha256=stix.content_sha256(body), tlp=label, owner=actor.organization,
        author=actor.user, source="sighting",
    )  # fmt: skip
    if label in (TLP.AMBER, TLP.AMBER_STRICT) and sighted.owner_id != actor.organization_id:
        row.recipient_organizations.add(sighted.owner_id)
    if label == TLP.RED and sighted.author_id and sighted.author_id != actor.user_id:
        row.recipient_people.add(sighted.author_id)
    audit.record(actor=actor, action="sighting.recorded", target=row,
                 detail={"sighting_of": sighted.stix_id, "count": count})  # fmt: skip
    return row


def _check_times(**times: datetime | None) -> None:
    """Refuse times without a zone, and times before 1970 (UTC): no sighting is older."""
    errors: dict[str, str] = {}
    for name, moment in times.items():
        if moment is None:
            continue
        if timezone.is_naive(moment):
            errors[name] = _("Give the time with its zone, e.g. 2026-03-01T08:00:00Z.")
            continue
        try:
            in_range = moment.astimezone(UTC).year >= EARLIEST_YEAR
        except OverflowError:
            in_range = False
        if not in_range:
            errors[name] = _("The time is out of range (from 1970 on).")
    if errors:
        raise ValidationError(errors)


def _check(
    *, sighted: StixObject, count: int, first: datetime, last: datetime, now: datetime, note: str
) -> None:
    errors: dict[str, str] = {}
    if sighted.type not in SIGHTABLE_TYPES:
        errors["sighted"] = _(
            "A sighting is of an indicator or another STIX domain object, not of a %(type)s."
        ) % {"type": sighted.type}
    if not 0 <= count <= MAX_COUNT:
        errors["count"] = _("The count is between 0 and 999,999,999.")
    if first > last:
        errors["first_seen_at"] = _("First seen is after last seen.")
    if last > now + CLOCK_SKEW:
        errors["last_seen_at"] = _("Last seen is in the future.")
    if len(note) > MAX_NOTE_LENGTH or not is_plain_text(note) or DECEPTIVE_RE.search(note):
        errors["note"] = _("The note is plain text of at most %(length)d characters.") % {
            "length": MAX_NOTE_LENGTH
        }
    if errors:
        raise ValidationError(errors)


def sightings_of(*, actor: Membership | None, sighted: StixObject) -> list[StixObject]:
    """
    Return the sightings of `sighted` (any version, any owner) that `actor` may see,
    newest first, with their owners: who saw it, `body.count`, `first_seen`, `last_seen`.
    """
    return list(
        StixObject.objects.visible_to(actor)
        .filter(type="sighting", body__sighting_of_ref=sighted.stix_id)
        .select_related("owner")
        .order_by("-date_added", "-pk")[:500]
    )
