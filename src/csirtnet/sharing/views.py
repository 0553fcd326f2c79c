"""Pages of sharing: search by value, with correlation across what the actor may see."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from csirtnet.sharing.correlation import correlate


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
