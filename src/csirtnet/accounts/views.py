"""Pages of accounts: the second factor of sign-in, lockouts and the personal API tokens."""

from __future__ import annotations

from uuid import UUID

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from csirtnet.accounts import second_factor, services
from csirtnet.accounts.middleware import second_factor_not_required
from csirtnet.accounts.models import ApiToken


class LoginView(auth_views.LoginView):
    """The sign-in page; offers the identity provider's button when one is configured."""

    def get_context_data(self, **kwargs: object) -> dict[str, object]:
        """Add `oidc_provider_name` ("" when OpenID Connect is not configured)."""
        context = super().get_context_data(**kwargs)
        context["oidc_provider_name"] = settings.CSIRTNET_OIDC_PROVIDER_NAME
        return context


login = second_factor_not_required(LoginView.as_view())
logout = second_factor_not_required(auth_views.LogoutView.as_view())


@second_factor_not_required
@never_cache
@require_http_methods(["GET", "POST"])
def enroll(request: HttpRequest) -> HttpResponse:
    """
    Add an authenticator (TOTP, RFC 6238): GET shows the otpauth:// URI and its QR code,
    POST `code` confirms the device with a code the app shows and finishes the sign-in.
    A user who already has a confirmed device is sent to enter a code instead.
    """
    try:
        device = second_factor.pending_device(user=request.user)
    except ValueError:
        return redirect("accounts:verify")
    error = ""
    if request.method == "POST":
        if second_factor.confirm_device(device=device, code=request.POST.get("code", "")):
            second_factor.mark_verified(request, device)
            return redirect(_next_url(request))
        error = _("That code is not right. Enter the code your app shows now.")
    uri = second_factor.otpauth_uri(device)
    context = {"uri": uri, "qr": second_factor.qr_svg(uri), "error": error}
    context["next"] = _next_url(request)
    return render(request, "accounts/enroll.html", context, status=400 if error else 200)


@second_factor_not_required
@never_cache
@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    """Ask for the code of the user's authenticator (GET) and check it (POST `code`)."""
    if not second_factor.has_confirmed_device(request.user):
        return redirect("accounts:enroll")
    error = ""
    if request.method == "POST":
        device = second_factor.verify_code(user=request.user, code=request.POST.get("code", ""))
        if device is not None:
            second_factor.mark_verified(request, device)
            return redirect(_next_url(request))
        error = _("That code is not right or was used already. Wait for the next one.")
    context = {"error": error, "next": _next_url(request)}
    return render(request, "accounts/verify.html", context, status=400 if error else 200)


def _next_url(request: HttpRequest) -> str:
    """Return the page to go to after the code: `next` when it stays on this site."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    allowed = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return target if allowed else reverse(settings.LOGIN_REDIRECT_URL)


@login_not_required
@second_factor_not_required
@never_cache
def oidc_refused(request: HttpRequest) -> HttpResponse:
    """Say that the identity provider's sign-in matched no account here (403)."""
    context = {"provider": settings.CSIRTNET_OIDC_PROVIDER_NAME}
    return render(request, "accounts/oidc_refused.html", context, status=403)


@login_not_required
@second_factor_not_required
def locked_out(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: object = None
) -> HttpResponse:
    """Answer a throttled sign-in: 429 with a page that says for how long (django-axes)."""
    minutes = max(1, int(settings.AXES_COOLOFF_TIME.total_seconds() // 60))
    return render(request, "accounts/locked_out.html", {"minutes": minutes}, status=429)


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
