"""Forms of the assistance pages: the request form per type, box filters, answers, time zone."""

from __future__ import annotations

from functools import cache
from typing import Any
from zoneinfo import available_timezones

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from csirtnet.accounts.models import Membership
from csirtnet.assistance import services
from csirtnet.assistance.kinds import FieldShape, RequestType, kind_spec
from csirtnet.assistance.models import Priority, Status
from csirtnet.directory.models import Organization
from csirtnet.incidents.models import Incident
from csirtnet.sharing.tlp import TLP

DETAIL_PREFIX = "detail_"  # form field names of the type-specific fields
# Files of the server's zoneinfo folder that are no IANA zone of any place: Debian's link
# to the server's own zone, tzdata's placeholder for "zone unknown", the POSIX-rules template.
NOT_PLACE_ZONES = frozenset({"localtime", "Factory", "posixrules"})


def add_service_errors(form: forms.Form, error: ValidationError) -> None:
    """
    Put a service's `ValidationError` into `form`: each key on its field (a
    type-specific field under `detail_<name>`), other keys and plain messages above it.
    """
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for key, errors in error.error_dict.items():
        name = key if key in form.fields else DETAIL_PREFIX + key
        form.add_error(name if name in form.fields else None, errors)


class RequestTypeForm(forms.Form):
    """The first step of a new request: which type (law-enforcement types for LE units only)."""

    type = forms.ChoiceField(label=_("Type of request"), choices=())

    def __init__(self, *args: Any, actor: Membership, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["type"].choices = services.request_types_for(actor)  # type: ignore[attr-defined]


class AssistanceRequestForm(forms.Form):
    """
    A new request of one type: the requested organization, title, description,
    priority, TLP, legal basis, an optional incident the actor sees, and the type's
    own fields (named `detail_<name>`). "Save as draft" keeps it unsent.
    """

    requested = forms.ModelChoiceField(
        label=_("Requested organization"), queryset=Organization.objects.none()
    )
    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(
        label=_("Description"), required=False, max_length=20000, widget=forms.Textarea
    )
    priority = forms.ChoiceField(
        label=_("Priority"), choices=Priority.choices, initial=Priority.ROUTINE
    )
    tlp = forms.ChoiceField(label="TLP", choices=TLP.choices, initial=TLP.AMBER)
    legal_basis = forms.CharField(label=_("Legal basis"), max_length=300)
    incident = forms.ModelChoiceField(
        label=_("Related incident"), required=False, queryset=Incident.objects.none()
    )

    def __init__(self, *args: Any, actor: Membership, request_type: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        spec = kind_spec(request_type)
        self.request_type = request_type
        self.type_label = RequestType(request_type).label
        self.fields["requested"].queryset = services.requested_candidates(  # type: ignore[attr-defined]
            actor, request_type
        )
        self.fields["incident"].queryset = Incident.objects.visible_to(actor).order_by(  # type: ignore[attr-defined]
            "-reported_at"
        )
        self.fields["legal_basis"].initial = spec.legal_basis
        self.detail_names = []
        for detail in spec.fields:
            name = DETAIL_PREFIX + detail.name
            self.detail_names.append(name)
            self.fields[name] = _detail_field(detail.shape, detail.required)
            # built per request, in the active language
            self.fields[name].label = str(detail.label)
            self.fields[name].help_text = str(detail.help_text)

    def detail_fields(self) -> list[forms.BoundField]:
        """Return the bound type-specific fields, in the type's order."""
        return [self[name] for name in self.detail_names]

    def common_fields(self) -> list[forms.BoundField]:
        """Return the bound fields every type has."""
        return [self[name] for name in self.fields if name not in self.detail_names]

    def service_arguments(self) -> dict[str, Any]:
        """Return the cleaned data as `services.create_request` takes it."""
        data = self.cleaned_data
        details = {
            name.removeprefix(DETAIL_PREFIX): data[name]
            for name in self.detail_names
            if data.get(name) not in (None, "")
        }
        return {
            "request_type": self.request_type, "requested": data["requested"],
            "title": data["title"], "description": data["description"],
            "priority": data["priority"], "tlp": data["tlp"],
            "legal_basis": data["legal_basis"], "incident": data["incident"],
            "details": details, "send": "draft" not in self.data,
        }  # fmt: skip


def _detail_field(shape: str, required: bool) -> forms.Field:
    if shape == FieldShape.CONFIRM:
        return forms.BooleanField(required=required)
    if shape == FieldShape.LINE:
        return forms.CharField(required=required, max_length=500)
    return forms.CharField(required=required, max_length=10000, widget=forms.Textarea)


class BoxFilterForm(forms.Form):
    """The filters of the inbox and outbox, bound to the query string."""

    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("Any"))] + list(Status.choices)
    )
    priority = forms.ChoiceField(
        label=_("Priority"), required=False, choices=[("", _("Any"))] + list(Priority.choices)
    )
    type = forms.ChoiceField(label=_("Type"), required=False, choices=())

    def __init__(self, *args: Any, actor: Membership, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["type"].choices = [("", _("Any")), *services.request_types_for(actor)]  # type: ignore[attr-defined]

    def filters(self) -> dict[str, str]:
        """Return the valid filters as `AssistanceRequestQuerySet.matching` takes them."""
        if not self.is_valid():
            return {}
        data = self.cleaned_data
        return {
            "status": data["status"],
            "priority": data["priority"],
            "request_type": data["type"],
        }


class ReasonForm(forms.Form):
    """An answer to a request; declining needs the reason (1-5,000 characters)."""

    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class TimeZoneForm(forms.Form):
    """The viewer's time zone for times on the pages: an IANA name ("America/Bogota")."""

    tz = forms.CharField(label=_("Time zone"), max_length=64)
    next = forms.CharField(required=False, max_length=2000)

    def clean_tz(self) -> str:
        """Accept an IANA time zone name the server knows (`is_time_zone_name`)."""
        value = str(self.cleaned_data["tz"]).strip()
        if not is_time_zone_name(value):
            raise ValidationError(_("Choose a time zone from the list (e.g. America/Bogota)."))
        return value


def is_time_zone_name(name: str) -> bool:
    """
    Return True for "UTC" and the IANA time zone names the server knows
    (`zoneinfo.available_timezones`, without `NOT_PLACE_ZONES` and the `posix/` and
    `right/` copies); False for anything else, POSIX TZ strings ("EST+5") included.
    """
    return name == "UTC" or name in _time_zone_names()


@cache
def _time_zone_names() -> frozenset[str]:
    return frozenset(
        name
        for name in available_timezones()
        if name not in NOT_PLACE_ZONES and not name.startswith(("posix/", "right/"))
    )
