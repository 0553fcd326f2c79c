"""
Pages of assistance: the inbox and outbox with their clocks, the request form per type,
the request page with its history and answers, and the viewer's time zone. Every request
is fetched through `visible_to`; hidden and missing answer 404 alike.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from csirtnet.assistance import services
from csirtnet.assistance.forms import (
    AssistanceRequestForm,
    BoxFilterForm,
    ReasonForm,
    RequestTypeForm,
    TimeZoneForm,
    add_service_errors,
    is_time_zone_name,
)
from csirtnet.assistance.kinds import KINDS
from csirtnet.assistance.models import AssistanceRequest
from csirtnet.core import audit

if TYPE_CHECKING:
    from django.http.response import HttpResponseBase

    from csirtnet.accounts.models import Membership

REQUESTS_PER_PAGE = 50
TZ_COOKIE = "csirtnet_tz"  # the viewer's IANA time zone, set on the assistance pages
TZ_COOKIE_SECONDS = 365 * 24 * 3600
FORM_METHODS = require_http_methods(["GET", "HEAD", "POST"])


@require_safe
def inbox(request: HttpRequest) -> HttpResponse:
    """List the requests addressed to the actor's organization, newest first, with clocks."""
    return _box(request, "inbox")


@require_safe
def outbox(request: HttpRequest) -> HttpResponse:
    """List the requests the actor's organization sent or drafted, newest first, with clocks."""
    return _box(request, "outbox")


@require_safe
def all_requests(request: HttpRequest) -> HttpResponse:
    """
    List every request the actor sees, newest first: both boxes, and for the network
    secretariat every request sent in the network (it watches the clocks).
    """
    return _box(request, "visible_to")


@FORM_METHODS
def create(request: HttpRequest) -> HttpResponse:
    """
    Ask for the type first (`?type=`), then show only that type's fields; on POST
    create the request (sent, or a draft with "Save as draft") and open it. A type the
    actor may not send (a law-enforcement type for a CSIRT) answers 404.
    """
    actor = _actor(request)
    type_form = RequestTypeForm(request.GET or None, actor=actor)
    if not type_form.is_valid():
        return _render(request, "assistance/request_type.html", {"form": type_form})
    form = AssistanceRequestForm(
        request.POST or None, actor=actor, request_type=type_form.cleaned_data["type"]
    )
    if request.method == "POST" and form.is_valid():
        try:
            created = services.create_request(actor=actor, **form.service_arguments())
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return redirect("assistance:detail", created.uuid)
    return _render(request, "assistance/request_form.html", {"form": form})


@require_safe
def detail(request: HttpRequest, request_uuid: UUID) -> HttpResponse:
    """Show one request: fields, type fields, clocks, history, and the actor's answers."""
    return _detail_page(request, _request(request, request_uuid))


@require_POST
def act(request: HttpRequest, request_uuid: UUID, action: str) -> HttpResponseBase:
    """
    Take `action` (send, acknowledge, accept, decline, start, fulfil, partially_fulfil,
    withdraw) for the actor; a refused move or a missing reason comes back on the page
    (400), a party that may not make it gets 403.
    """
    assistance_request = _request(request, request_uuid)
    if action not in services.ACTIONS:
        raise Http404
    form = ReasonForm(request.POST)
    if form.is_valid():
        try:
            services.change_status(
                actor=_actor(request), request=assistance_request,
                status=services.ACTIONS[action].status, reason=form.cleaned_data["reason"],
            )  # fmt: skip
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return redirect("assistance:detail", assistance_request.uuid)
    return _detail_page(request, assistance_request, reason_form=form, status=400)


@require_POST
def set_time_zone(request: HttpRequest) -> HttpResponseBase:
    """Remember the viewer's time zone in a cookie and go back to the page it came from."""
    form = TimeZoneForm(request.POST)
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        target = "/assistance/"
    response = redirect(target)
    if form.is_valid():
        response.set_cookie(
            TZ_COOKIE, form.cleaned_data["tz"], max_age=TZ_COOKIE_SECONDS, samesite="Lax",
            secure=request.is_secure(), httponly=True,
        )  # fmt: skip
    return response


# --- helpers -------------------------------------------------------------------------


def viewer_zone(request: HttpRequest) -> ZoneInfo:
    """Return the viewer's time zone from its cookie (an IANA name), else UTC."""
    name = request.COOKIES.get(TZ_COOKIE, "UTC")[:64]
    if not is_time_zone_name(name):
        return ZoneInfo("UTC")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _actor(request: HttpRequest) -> Membership:
    """Return the actor; a user without an organization finds nothing here (404)."""
    actor: Membership | None = request.actor  # type: ignore[attr-defined]
    if actor is None:
        raise Http404
    return actor


def _request(request: HttpRequest, request_uuid: UUID) -> AssistanceRequest:
    """Return the request if the actor sees it, else 404 (hidden and missing alike)."""
    actor = _actor(request)
    visible = AssistanceRequest.objects.visible_to(actor).with_incident_visibility(actor)
    return get_object_or_404(
        visible.select_related("requester__state", "requested__state", "author", "incident"),
        uuid=request_uuid,
    )


def _box(request: HttpRequest, box: str) -> HttpResponse:
    actor: Membership | None = request.actor  # type: ignore[attr-defined]
    if actor is None:
        return render(request, "assistance/no_organization.html", status=403)
    requests = getattr(AssistanceRequest.objects, box)(actor)
    form = BoxFilterForm(request.GET, actor=actor)
    found = requests.matching(**form.filters()).select_related(
        "requester__state", "requested__state"
    )
    page = Paginator(found, REQUESTS_PER_PAGE).get_page(request.GET.get("page"))
    context = {"box": box, "form": form, "page_obj": page, "now": timezone.now()}
    audit.record_reads(actor=actor, rows=page, action="assistance.listed")
    return _render(request, "assistance/box.html", context)


def _detail_page(
    request: HttpRequest, assistance_request: AssistanceRequest, **extra: Any
) -> HttpResponse:
    actor = _actor(request)
    spec = KINDS[assistance_request.request_type]
    details = [
        (field.label, assistance_request.details.get(field.name))
        for field in spec.fields
        if field.name in assistance_request.details
    ]
    context = {
        "item": assistance_request,
        "details": details,
        "history": assistance_request.history.select_related("user", "organization"),
        "actions": services.allowed_actions(actor, assistance_request),
        "reason_form": extra.get("reason_form") or ReasonForm(),
        "now": timezone.now(),
    }
    audit.record_reads(actor=actor, rows=[assistance_request], action="assistance.read")
    return _render(
        request, "assistance/request_detail.html", context, status=extra.get("status", 200)
    )


def _render(
    request: HttpRequest, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    zone = viewer_zone(request)
    context = {**context, "viewer_zone": zone, "tz_form": TimeZoneForm(initial={"tz": zone})}
    return render(request, template, context, status=status)
