"""Forms of the sharing pages: indicator list filters, file import, sightings."""

from __future__ import annotations

from datetime import UTC, datetime

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db.models import Exists, OuterRef, Q
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from csirtnet.directory.models import Organization
from csirtnet.sharing.models import StixValue
from csirtnet.sharing.querysets import StixObjectQuerySet
from csirtnet.sharing.tlp import TLP


class IndicatorFilterForm(forms.Form):
    """Filters of the indicator list (query string); an invalid filter is ignored."""

    q = forms.CharField(label=_("Text"), required=False, max_length=200)
    tlp = forms.ChoiceField(
        label="TLP", required=False, choices=[("", _("Any"))] + list(TLP.choices)
    )
    owner = forms.ModelChoiceField(
        label=_("Owner"),
        required=False,
        queryset=Organization.objects.order_by("short_name"),
        to_field_name="short_name",
        empty_label=_("Any"),
    )

    def filter_indicators(self, visible: StixObjectQuerySet) -> StixObjectQuerySet:
        """
        Return the latest visible version of each indicator in `visible`, newest first,
        narrowed by the valid filters: text in the name or pattern or a value it holds,
        TLP label, owner organization.
        """
        found = visible.filter(type="indicator").latest_versions()
        data = self.cleaned_data if self.is_valid() else {}
        if text := data.get("q"):
            holds = StixValue.objects.filter(stix_object=OuterRef("pk"), value__icontains=text)
            found = found.filter(
                Q(body__name__icontains=text) | Q(body__pattern__icontains=text) | Exists(holds)
            )
        if data.get("tlp"):
            found = found.filter(tlp=data["tlp"])
        if data.get("owner"):
            found = found.filter(owner=data["owner"])
        return found.select_related("owner").order_by("-date_added", "-pk")


class ImportForm(forms.Form):
    """A STIX 2.1 or MISP event file to import, with the label of unmarked objects."""

    file = forms.FileField(
        label=_("File"), help_text=_("A STIX 2.1 bundle or object, or a MISP event (JSON).")
    )
    tlp = forms.ChoiceField(
        label=_("TLP of objects without a TLP marking"),
        required=False,
        choices=[("", _("TLP:AMBER (default)"))] + list(TLP.choices),
    )

    def clean_file(self) -> UploadedFile[bytes]:
        """Refuse a file over CSIRTNET_ATTACHMENT_MAX_BYTES."""
        upload: UploadedFile[bytes] = self.cleaned_data["file"]
        limit = settings.CSIRTNET_ATTACHMENT_MAX_BYTES
        if upload.size is not None and upload.size > limit:
            raise ValidationError(
                _("The file is larger than %(limit)s."), params={"limit": filesizeformat(limit)}
            )
        return upload


class SightingForm(forms.Form):
    """
    A sighting of the object shown (STIX 2.1 section 5.5): how often, first and last
    seen (UTC, both default to now), the label (never looser than the object's) and a note.
    """

    count = forms.IntegerField(
        label=_("Times seen"), min_value=0, max_value=999_999_999, initial=1
    )
    first_seen_at = forms.DateTimeField(
        label=_("First seen (UTC)"), required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local", "step": 1}),
    )  # fmt: skip
    last_seen_at = forms.DateTimeField(
        label=_("Last seen (UTC)"), required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local", "step": 1}),
    )  # fmt: skip
    tlp = forms.ChoiceField(
        label="TLP", required=False, choices=[("", _("As the object"))] + list(TLP.choices)
    )
    note = forms.CharField(
        label=_("Note"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def clean_first_seen_at(self) -> datetime | None:
        """Read the time as UTC, whatever the server's time zone."""
        return _as_utc(self.cleaned_data.get("first_seen_at"))

    def clean_last_seen_at(self) -> datetime | None:
        """Read the time as UTC, whatever the server's time zone."""
        return _as_utc(self.cleaned_data.get("last_seen_at"))


def _as_utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
