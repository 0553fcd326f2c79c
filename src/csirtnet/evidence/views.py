"""
Pages of evidence: upload to an incident or an assistance request, the evidence page
with its custody chain, the custody actions (transfer, accept, examine, release) and the
download. Every item is fetched through `EvidenceQuerySet.visible_to`; hidden and
missing answer 404 alike.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe

from csirtnet.core import audit
from csirtnet.evidence import services
from csirtnet.evidence.forms import EvidenceForm, ReasonForm, TransferForm, add_service_errors
from csirtnet.evidence.models import Evidence
from csirtnet.evidence.panel import parent_url, visible_parent
from csirtnet.evidence.storage import evidence_path

if TYPE_CHECKING:
    from django.http.response import HttpResponseBase

    from csirtnet.accounts.models import Membership


@require_POST
def upload(request: HttpRequest, kind: str, parent_uuid: UUID) -> HttpResponseBase:
    """
    Add an uploaded file as evidence of an incident (`kind` "incident") or an
    assistance request ("request") the actor sees (else 404; 403 when it may not add);
    back to the parent's page, or the upload form again with the errors.
    """
    actor = _actor(request)
    parent = visible_parent(actor, kind, parent_uuid)
    if parent is None:
        raise Http404
    form = EvidenceForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            evidence = services.add_evidence(
                actor=actor, parent=parent, **form.service_arguments()
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            back = parent_url(parent)
            return redirect(f"{back}#evidence" if back else evidence_url(evidence))
    context = {"form": form, "parent": parent, "parent_url": parent_url(parent)}
    return render(request, "evidence/upload.html", context)


@require_safe
def detail(request: HttpRequest, evidence_uuid: UUID) -> HttpResponse:
    """Show one evidence item: its file, custodian, pending transfer, chain and actions."""
    return _detail_page(request, _evidence(request, evidence_uuid))


@require_safe
def download(request: HttpRequest, evidence_uuid: UUID) -> FileResponse:
    """
    Send the evidence file, always as a download of opaque bytes
    (`application/octet-stream`, `Content-Disposition: attachment`, `nosniff`, a
    sandboxing CSP): never rendered or run. 404 when hidden, missing or gone from storage.
    """
    evidence = _evidence(request, evidence_uuid)
    try:
        content = evidence_path(evidence.sha256).open("rb")
    except FileNotFoundError:
        raise Http404 from None
    audit.record(actor=_actor(request), action="evidence.downloaded", target=evidence)
    return attachment_response(content, evidence)


@require_POST
def transfer(request: HttpRequest, evidence_uuid: UUID) -> HttpResponseBase:
    """Offer the item to another organization (custodian only, else 403)."""
    evidence = _evidence(request, evidence_uuid)
    form = TransferForm(request.POST, custodian_id=evidence.custodian_id)
    if form.is_valid() and _applied(form, services.transfer_evidence, request, evidence):
        return redirect("evidence:detail", evidence.uuid)
    return _detail_page(request, evidence, transfer_form=form)


@require_POST
def accept(request: HttpRequest, evidence_uuid: UUID) -> HttpResponseBase:
    """Accept the transfer offered to the actor's organization (else 403)."""
    return _custody_action(request, evidence_uuid, services.accept_transfer, "accept_form")


@require_POST
def examine(request: HttpRequest, evidence_uuid: UUID) -> HttpResponseBase:
    """Record an examination by the custodian (else 403), with what was done."""
    return _custody_action(request, evidence_uuid, services.record_examination, "examine_form")


@require_POST
def release(request: HttpRequest, evidence_uuid: UUID) -> HttpResponseBase:
    """Release the item (custodian only, else 403), closing its chain."""
    return _custody_action(request, evidence_uuid, services.release_evidence, "release_form")


def evidence_url(evidence: Evidence) -> str:
    """Return the address of the evidence page."""
    return reverse("evidence:detail", args=[evidence.uuid])


def attachment_response(content: Any, evidence: Evidence) -> FileResponse:
    """Return the download answer of an open evidence file (shared with the API)."""
    response = FileResponse(
        content,
        as_attachment=True,
        filename=evidence.name,
        content_type="application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


# --- helpers -------------------------------------------------------------------------


def _actor(request: HttpRequest) -> Membership:
    """Return the actor; a user without an organization finds nothing here (404)."""
    actor: Membership | None = request.actor  # type: ignore[attr-defined]
    if actor is None:
        raise Http404
    return actor


def _evidence(request: HttpRequest, evidence_uuid: UUID) -> Evidence:
    """Return the item if the actor sees it, else 404 (hidden and missing alike)."""
    visible = Evidence.objects.visible_to(_actor(request)).select_related(
        "owner", "custodian__state", "pending_receiver__state", "added_by", "incident",
        "assistance_request",
    )  # fmt: skip
    return get_object_or_404(visible, uuid=evidence_uuid)


def _custody_action(
    request: HttpRequest, evidence_uuid: UUID, verb: Any, form_name: str
) -> HttpResponseBase:
    """Bind the reason form, call `verb`, and go back to the page (or show the errors)."""
    evidence = _evidence(request, evidence_uuid)
    form = ReasonForm(request.POST, required=verb is not services.accept_transfer)
    if form.is_valid() and _applied(form, verb, request, evidence):
        return redirect("evidence:detail", evidence.uuid)
    return _detail_page(request, evidence, **{form_name: form})


def _applied(form: Any, verb: Any, request: HttpRequest, evidence: Evidence) -> bool:
    """
    Call the service `verb` for the actor with the form's data; True on success, False
    with its `ValidationError` in `form`. PermissionDenied propagates (403).
    """
    try:
        verb(actor=_actor(request), evidence=evidence, **form.cleaned_data)
    except ValidationError as error:
        add_service_errors(form, error)
        return False
    return True


def _detail_page(request: HttpRequest, evidence: Evidence, **forms: Any) -> HttpResponse:
    """Render the evidence page; `forms` replace the empty forms (bound, with errors)."""
    actor = _actor(request)
    parent = evidence.parent
    # the custodian or a pending receiver may see the item without seeing its parent
    sees_parent = type(parent).objects.visible_to(actor).filter(pk=parent.pk).exists()
    audit.record_reads(actor=actor, rows=[evidence], action="evidence.read")
    context = {
        "evidence": evidence,
        "parent": parent if sees_parent else None,
        "parent_url": parent_url(parent) if sees_parent else "",
        "events": evidence.custody.select_related(
            "actor", "organization", "receiving_organization"
        ),
        "can_hold": services.can_hold(actor, evidence),
        "can_accept": services.can_accept(actor, evidence),
        "transfer_form": forms.get("transfer_form")
        or TransferForm(custodian_id=evidence.custodian_id),
        "accept_form": forms.get("accept_form") or ReasonForm(required=False),
        "examine_form": forms.get("examine_form") or ReasonForm(),
        "release_form": forms.get("release_form") or ReasonForm(),
    }
    return render(request, "evidence/evidence_detail.html", context)
