"""
Pages of sharing: search by value, with correlation across what the actor may see; the
indicator list, one stored object, and the import of a STIX 2.1 or MISP file.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING
from uuid import UUID

from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_http_methods, require_safe

from csirtnet.sharing.correlation import correlate
from csirtnet.sharing.forms import ImportForm, IndicatorFilterForm
from csirtnet.sharing.models import StixObject
from csirtnet.sharing.services import ImportReport, detect_format, import_misp, import_stix

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
        try:
            context["found"] = correlate(actor=request.actor, value=text)  # type: ignore[attr-defined]
        except ValueError as error:
            context["error"] = str(error)
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
    context = {"form": form, "page_obj": page.get_page(request.GET.get("page"))}
    return render(request, "sharing/indicator_list.html", context)


@require_safe
def stix_object(request: HttpRequest, uuid: UUID) -> HttpResponse:
    """
    Show one stored version of a STIX object the actor sees (else 404): its fields, its
    JSON body, the other versions the actor sees and the values it holds.
    """
    actor: Membership | None = request.actor  # type: ignore[attr-defined]
    if actor is None:
        return render(request, "sharing/no_organization.html", status=403)
    visible = StixObject.objects.visible_to(actor).select_related("owner")
    row = get_object_or_404(visible, uuid=uuid)
    context = {
        "row": row,
        "body": json.dumps(row.body, indent=2, ensure_ascii=False),
        "versions": visible.filter(stix_id=row.stix_id).exclude(pk=row.pk).order_by("-date_added"),
        "values": row.values.order_by("type", "value"),
    }
    return render(request, "sharing/object_detail.html", context)


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
        service = import_misp if detect_format(data) == "misp" else import_stix
        try:
            report = service(actor=actor, data=data, source=upload.name[:300],
                             tlp=form.cleaned_data["tlp"] or None)  # fmt: skip
        except ValidationError as error:
            form.add_error("file", error)
    status = 400 if form.errors else 200
    return render(request, "sharing/import.html", {"form": form, "report": report}, status=status)
