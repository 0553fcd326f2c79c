"""Checks of incident input: fields, observables, states and people named; errors by field."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from csirtnet.accounts.models import Membership
from csirtnet.core.text import CONTROL_RE, DECEPTIVE_RE
from csirtnet.directory.models import MemberState, Sector
from csirtnet.incidents.models import PAP, Severity
from csirtnet.sharing.observables import detect, normalize
from csirtnet.sharing.taxonomy import validate_rsit
from csirtnet.sharing.tlp import TLP

ObservableInput = str | tuple[str, str]  # a value to detect, or (ObservableType, value)
MAX_OBSERVABLES = 1000  # per request: a form or API call, not a bulk import


def clean_fields(
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
    """
    Check and tidy an incident's own fields: title 1-200 characters without control
    characters; description up to 20,000 (tab and line breaks allowed); an RSIT class
    (`taxonomy` in errors); severity 1-5; sectors from `Sector`; TLP and PAP values; a
    detection time with its zone, not in the future. Return the cleaned values.

    Raises:
        ValidationError: `{field: message}` for every invalid field at once.
    """
    errors: dict[str, str] = {}
    title = (title or "").strip()
    if not title or len(title) > 200:
        errors["title"] = _("Write a title of 1 to 200 characters.")
    elif CONTROL_RE.search(title) or DECEPTIVE_RE.search(title):
        errors["title"] = _("The title cannot hold control or invisible characters.")
    if len(description or "") > 20000:
        errors["description"] = _("Write at most 20,000 characters.")
    elif not is_plain_text(description or ""):
        errors["description"] = _("The text cannot hold control characters.")
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
    if detected_at is not None and not _is_past_aware(detected_at):
        errors["detected_at"] = _("Give a time with its zone, not in the future.")
    if errors:
        raise ValidationError(errors)
    return {
        "title": title, "description": (description or "").strip(),
        "taxonomy_predicate": taxonomy_predicate, "taxonomy_value": taxonomy_value,
        "severity": severity, "sectors": sector_list, "tlp": tlp, "pap": pap,
        "detected_at": detected_at,
    }  # fmt: skip


def is_plain_text(text: str) -> bool:
    """Return True when `text` holds no control character but tab, line feed and return."""
    return not CONTROL_RE.search(text.replace("\t", "").replace("\n", "").replace("\r", ""))


def _is_past_aware(moment: datetime) -> bool:
    if timezone.is_naive(moment):
        return False
    try:
        return moment.astimezone(UTC) <= timezone.now()
    except OverflowError:  # e.g. 0001-01-01T00:00:00+14:00 is before year 1 in UTC
        return False


def normalized_observables(observables: Sequence[ObservableInput]) -> list[tuple[str, str]]:
    """
    Return the observables as distinct `(type, normalized value)` pairs, in input order;
    a plain string has its type detected (`sharing.observables.detect`).

    Raises:
        ValidationError: `{"observables": ["Observable N: …", …]}`, one message per
            invalid item (numbered from 1), or more than MAX_OBSERVABLES items.
    """
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


def member_states(codes: Iterable[str]) -> list[MemberState]:
    """
    Return the member states of ISO 3166-1 alpha-2 `codes`, each once.

    Raises:
        ValidationError: `{"affected_states": …}` naming the unknown codes.
    """
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


def active_people(people: Iterable[User]) -> list[User]:
    """
    Return `people` when each has an active membership (and an active account).

    Raises:
        ValidationError: `{"named_people": …}` when one has not.
    """
    chosen = list(people)
    active = set(
        Membership.objects.filter(
            user__in=chosen, is_active=True, user__is_active=True
        ).values_list("user_id", flat=True)
    )
    if any(person.pk not in active for person in chosen):
        raise ValidationError({"named_people": _("Name only active members of the network.")})
    return chosen


def event_observables(events: Sequence[Any]) -> list[ObservableInput]:
    """
    Return the observables of inbox events: address, host name (when the subject has no
    address), URL, ASN and file hash (MD5, SHA-1 or SHA-256 by length). A value that
    does not normalize is left out rather than blocking the rest.
    """
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
