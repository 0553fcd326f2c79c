"""Pages of accounts: the user's personal API tokens."""

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from csirtnet.accounts import services
from csirtnet.accounts.models import ApiToken


@never_cache
@require_http_methods(["GET", "POST"])
def tokens(request: HttpRequest) -> HttpResponse:
    """
    List the signed-in user's API tokens (GET) or create one (POST `name`, `read_only`)
    and show its plain text on the answer page, once; it is never stored, so the page
    is not cached.
    """
    context: dict[str, object] = {"name": "", "read_only": False, "errors": []}
    status = 200
    if request.method == "POST":
        name, read_only = request.POST.get("name", ""), request.POST.get("read_only") == "on"
        try:
            token, plaintext = services.create_api_token(
                user=request.user, name=name, read_only=read_only
            )
        except ValidationError as error:
            context.update(name=name[:100], read_only=read_only, errors=error.messages)
            status = 400
        else:
            context.update(new_token=token, plaintext=plaintext)
    context["tokens"] = _own_tokens(request)
    return render(request, "accounts/tokens.html", context, status=status)


@require_POST
def revoke_token(request: HttpRequest, token_uuid: UUID) -> HttpResponse:
    """Revoke one of the signed-in user's tokens (another user's answers 404)."""
    token = get_object_or_404(_own_tokens(request), uuid=token_uuid)
    services.revoke_api_token(user=request.user, token=token)
    messages.success(request, _("The token %(name)s is revoked.") % {"name": token.name})
    return redirect("accounts:tokens")


def _own_tokens(request: HttpRequest) -> QuerySet[ApiToken]:
    """Return the signed-in user's tokens, newest first."""
    if isinstance(request.user, AnonymousUser):  # LoginRequiredMiddleware lets none through
        raise PermissionDenied
    return ApiToken.objects.filter(user=request.user)
