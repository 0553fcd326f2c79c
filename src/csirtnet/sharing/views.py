"""
Pages of sharing: search by value, with correlation across what the actor may see; the
indicator list, one stored object, and the import of a STIX 2.1 or MISP file.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING
from uuid import UUID

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from csirtnet.core import audit
from csirtnet.sharing.correlation import correlate, record_correlation_reads
from csirtnet.sharing.forms import ImportForm, IndicatorFilterForm, SightingForm
from csirtnet.sharing.models import StixObject
from csirtnet.sharing.services import (
    ImportReport,
    import_document,
    record_sighting,
    sightings_of,
)
from csirtnet.sharing.services.sightings import SIGHTABLE_TYPES

if TYPE_CHECKING:
    from csirtnet.accounts.models import Membership

INDICATORS_PER_PAGE = 50


@require_safe
def search(request: HttpRequest) -> HttpResponse:
    """
    Search a value (`q`: an address, network, domain, URL, e-mail address, hash or ASN)
    and show the incidents, STIX objects and sightings that hold it, among those the
    actor may see; an invalid value is said so on the page (status 400).
    """
    text = request.GET.get("q", "").strip()[:2048]
    context: dict[str, object] = {"q": text, "found": None, "error": ""}
    if text:
        actor: Membership | None = request.actor  # type: ignore[attr-defined]
        try:
            found = correlate(actor=actor, value=text)
        except ValueError as error:
            context["error"] = str(error)
        else:
            context["found"] = found
            record_correlation_reads(actor=actor, found=found)
    return render(request, "sharing/search.html", context, status=400 if context["error"] else 200)


@require_safe
def indicators(request: HttpRequest) -> HttpResponse:
    """
    List the latest version the actor sees of each indicator, newest first, filtered by
    the query string, 50 a page. A user without an organization gets a page saying so.
    """
    actor: Membership | None = request.actor  # type: ignore[attr-defined]
    if actor is None:
        return render(request, "sharing/no_organization.html", status=403)
    form = IndicatorFilterForm(request.GET)
    found = form.filter_indicators(StixObject.objects.visible_to(actor))
    page = Paginator(found, INDICATORS_PER_PAGE)
    page_obj = page.get_page(request.GET.get("page"))
    context = {"form": form, "page_obj": page_obj}
    audit.record_reads(actor=actor, rows=page_obj, action="stix.listed")
    return render(request, "sharing/indicator_list.html", context)


@require_http_methods(["GET", "HEAD", "POST"])
def stix_object(request: HttpRequest, uuid: UUID) -> HttpResponse:
    """
    Show one stored version of a STIX object the actor sees (else 404): its fields, its
    JSON body, the other versions the actor sees, the values it holds and its sightings
    the actor sees; POST records a sighting of it by the actor's organization.
    """
    actor: Membership | None = request.actor  # type: ignore[attr-defined]
    if actor is None:
        return render(request, "sharing/no_organization.html", status=403)
    visible = StixObject.objects.visible_to(actor).select_related("owner")
    row = get_object_or_404(visible, uuid=uuid)
    form = SightingForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            record_sighting(actor=actor, sighted=row, **form.cleaned_data)
        except ValidationError as error:
            _form_errors(form, error)
        else:
            messages.success(request, _("Sighting recorded."))
            return redirect("sharing:object", uuid=row.uuid)
    sightings = sightings_of(actor=actor, sighted=row)
    context = {
        "row": row, "form": form, "can_sight": row.type in SIGHTABLE_TYPES,
        "body": json.dumps(row.body, indent=2, ensure_ascii=False),
        "versions": visible.filter(stix_id=row.stix_id).exclude(pk=row.pk).order_by("-date_added"),
        "values": row.values.order_by("type", "value"),
        "sightings": sightings,
    }  # fmt: skip
    audit.record_reads(actor=actor, rows=[row, *sightings], action="stix.read")
    status = 400 if form.errors else 200
    return render(request, "sharing/object_detail.html", context, status=status)


def _form_errors(form: SightingForm, error: ValidationError) -> None:
    """Put a service's `{field: message}` errors on the form (unknown fields: the form)."""
    for field, messages_ in error.message_dict.items():
        form.add_error(field if field in form.fields else None, messages_)


@require_http_methods(["GET", "HEAD", "POST"])
def import_file(request: HttpRequest) -> HttpResponse:
    """
    Import an uploaded STIX 2.1 or MISP event file (told apart as `csirtnet import` does)
    for the actor's organization and show what became of each object; a file that cannot
    be imported at all is a form error (status 400).
    """
    actor: Membership | None = request.actor  # type: ignore[attr-defined]
    if actor is None:
        return render(request, "sharing/no_organization.html", status=403)
    form = ImportForm(request.POST or None, request.FILES or None)
    report: ImportReport | None = None
    if form.is_valid():
        upload, data = form.cleaned_data["file"], form.cleaned_data["file"].read()
        try:
            report = import_document(actor=actor, data=data, source=upload.name[:300],
                                     tlp=form.cleaned_data["tlp"] or None)  # fmt: skip
        except ValidationError as error:
            form.add_error("file", error)
    status = 400 if form.errors else 200
    return render(request, "sharing/import.html", {"form": form, "report": report}, status=status)
