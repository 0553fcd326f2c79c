"""Forms of the report pages: the inbox filters."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.utils.translation import gettext_lazy as _

from csirtnet.directory.models import RouteRule
from csirtnet.reports.models import RSIT_CLASSES, Report

if TYPE_CHECKING:
    from csirtnet.accounts.models import Membership
    from csirtnet.reports.querysets import EventQuerySet


class DateInput(forms.DateInput):
    """A date picker in browsers that have one, a plain YYYY-MM-DD field elsewhere."""

    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%d")


class EventFilterForm(forms.Form):
    """
    The inbox filters, bound to the query string. Choices come from the events `actor`
    may see; the routing-rule filter (the unrouted queue) exists only for the secretariat.
    Dates are whole UTC days, both ends included.
    """

    q = forms.CharField(
        label=_("IP, hostname or URL"),
        required=False,
        max_length=2048,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("IP, hostname or URL")}),
    )
    report_type = forms.ChoiceField(label=_("Report type"), required=False)
    taxonomy = forms.ChoiceField(label=_("RSIT class"), required=False)
    observed_from = forms.DateField(label=_("From (UTC)"), required=False, widget=DateInput())
    observed_to = forms.DateField(label=_("To (UTC)"), required=False, widget=DateInput())
    route_rule = forms.ChoiceField(label=_("Routing rule"), required=False)
    report = forms.UUIDField(required=False, widget=forms.HiddenInput)

    def __init__(self, data: Any, *, actor: Membership, events: EventQuerySet) -> None:
        super().__init__(data)
        self.actor = actor
        report_types = events.order_by("report_type").values_list("report_type", flat=True)
        self._set_choices("report_type", _pairs(report_types.distinct()))
        self._set_choices("taxonomy", list(RSIT_CLASSES.items()))
        if actor.is_secretariat:
            self._set_choices("route_rule", RouteRule.choices)
        else:
            del self.fields["route_rule"]

    def _set_choices(self, name: str, choices: list[tuple[str, Any]]) -> None:
        field = self.fields[name]
        assert isinstance(field, forms.ChoiceField)  # for the type checker
        field.choices = [("", _("All")), *choices]

    def clean_report(self) -> Report | None:
        """
        Resolve the report's uuid to a report `actor` may see.

        Raises:
            ValidationError: no such report, or hidden from `actor` (the same message).
        """
        report_uuid = self.cleaned_data["report"]
        if report_uuid is None:
            return None
        report: Report | None = (
            Report.objects.visible_to(self.actor).filter(uuid=report_uuid).first()
        )
        if report is None:
            raise forms.ValidationError(_("There is no such report."), code="unknown_report")
        return report

    def clean(self) -> dict[str, Any]:
        """
        Check that the date range is not reversed.

        Raises:
            ValidationError: on `observed_to`, when it is before `observed_from`.
        """
        data = super().clean() or {}
        start, end = data.get("observed_from"), data.get("observed_to")
        if start and end and end < start:
            self.add_error("observed_to", _("The end date is before the start date."))
        return data

    def filter_events(self, events: EventQuerySet) -> EventQuerySet:
        """Return `events` narrowed by the filters; none while the filters are invalid."""
        if not self.is_valid():
            return events.none()
        data = self.cleaned_data
        return events.matching(
            report_type=data.get("report_type") or None,
            taxonomy=data.get("taxonomy") or None,
            route_rule=data.get("route_rule") or None,
            report=data.get("report"),
            observed_from=data.get("observed_from"),
            observed_to=data.get("observed_to"),
            text=data.get("q") or None,
        )


def _pairs(values: Any) -> list[tuple[str, str]]:
    return [(value, value) for value in values]
