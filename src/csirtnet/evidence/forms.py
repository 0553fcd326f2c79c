"""Forms of the evidence pages: upload, transfer, and the reason of a custody event."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from csirtnet.directory.models import Organization
from csirtnet.evidence.services import MAX_DESCRIPTION, MAX_REASON


class EvidenceForm(forms.Form):
    """A file kept as evidence: the bytes, their declared media type, a description."""

    file = forms.FileField(label=_("File"))
    content_type = forms.CharField(
        label=_("Media type"),
        max_length=127,
        required=False,
        help_text=_(
            "As the file really is, e.g. application/pdf, application/vnd.tcpdump.pcap, "
            "application/x-dosexec for a program. Empty: what your browser says."
        ),
    )
    description = forms.CharField(
        label=_("Description"),
        max_length=MAX_DESCRIPTION,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def service_arguments(self) -> dict[str, Any]:
        """Return the arguments of `services.add_evidence` from the cleaned data."""
        upload = self.cleaned_data["file"]
        declared = self.cleaned_data["content_type"] or upload.content_type or ""
        return {
            "name": upload.name,
            "content": upload,
            "content_type": declared or "application/octet-stream",
            "description": self.cleaned_data["description"],
        }


class ReasonForm(forms.Form):
    """Why a custody event happens (examined: what was done; released: to whom, why)."""

    reason = forms.CharField(
        label=_("Reason"), max_length=MAX_REASON, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, required: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reason"].required = required


class TransferForm(ReasonForm):
    """Offer the evidence to another organization, by short name, with a reason."""

    receiving_organization = forms.ModelChoiceField(
        label=_("Receiving organization"),
        queryset=Organization.objects.none(),
        to_field_name="short_name",
    )
    field_order = ["receiving_organization", "reason"]

    def __init__(self, *args: Any, custodian_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["receiving_organization"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = Organization.objects.exclude(pk=custodian_id).order_by("short_name")


def add_service_errors(form: forms.Form, error: ValidationError) -> None:
    """Put a service's `ValidationError` into `form`: on the field it names, else on top."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for key, errors in error.error_dict.items():
        form.add_error(key if key in form.fields else None, errors)
