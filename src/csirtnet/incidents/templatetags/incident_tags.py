"""Template filters of the incident pages: durations, and the labels of stored values."""

from __future__ import annotations

from datetime import timedelta

from django import template
from django.core.exceptions import FieldDoesNotExist
from django.utils.translation import gettext as _

from csirtnet.directory.models import Sector
from csirtnet.incidents.models import PAP, Incident, Severity, Status
from csirtnet.sharing.tlp import TLP

register = template.Library()

_LABELS: dict[str, type[TLP] | type[PAP] | type[Status] | type[Sector]] = {
    "tlp": TLP,
    "pap": PAP,
    "status": Status,
    "sector": Sector,
}


@register.filter
def duration(value: timedelta | None) -> str:
    """
    Return a duration the way a handler reads it: "3 d 04 h", "2 h 05 min", "7 min",
    "< 1 min"; "" for None. Negative durations (clock skew) read as "< 1 min".
    """
    if value is None:
        return ""
    minutes = int(value.total_seconds()) // 60
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return _("%(days)d d %(hours)02d h") % {"days": days, "hours": hours}
    if hours:
        return _("%(hours)d h %(minutes)02d min") % {"hours": hours, "minutes": minutes}
    if minutes > 0:
        return _("%(minutes)d min") % {"minutes": minutes}
    return _("< 1 min")


@register.filter
def value_label(value: str, kind: str) -> str:
    """
    Return the label of a stored value of kind "tlp", "pap", "status", "sector" or "severity"
    (timeline entries keep raw values: "amber" reads "TLP:AMBER"); unknown values as they are.
    """
    try:
        if kind == "severity":
            return str(Severity(int(value)).label)
        return str(_LABELS[kind](value).label)
    except (KeyError, ValueError):
        return value


@register.filter
def field_label(name: str) -> str:
    """Return the name of an edited incident field as the timeline shows it."""
    if name == "lead":
        return _("lead organization")
    try:
        field = Incident._meta.get_field(name)
    except FieldDoesNotExist:
        return name
    return str(getattr(field, "verbose_name", name))
