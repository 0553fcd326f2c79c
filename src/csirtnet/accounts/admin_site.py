"""The admin site: one sign-in page for the whole platform, and the second factor."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig as DjangoAdminConfig
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse


class AdminSite(admin.AdminSite):
    """
    Django's admin site, refused to a user who must use a second factor and has not
    entered a code in this session (the middleware holds such a user back already; this
    holds even if the middleware is missing). Signing in happens on the platform's page.
    """

    def has_permission(self, request: HttpRequest) -> bool:
        """Return True for active staff who owe no second factor or have entered it."""
        from csirtnet.accounts.second_factor import is_verified  # loads models: not at start

        if not super().has_permission(request):
            return False
        return not getattr(request, "requires_second_factor", True) or is_verified(request)

    def login(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        """Send the visitor to the platform's sign-in page, back to the admin after."""
        target = request.GET.get("next") or reverse("admin:index", current_app=self.name)
        return HttpResponseRedirect(f"{reverse('login')}?{urlencode({'next': target})}")


class AdminConfig(DjangoAdminConfig):
    """Django's admin app on `AdminSite`; named in INSTALLED_APPS instead of Django's."""

    default_site = "csirtnet.accounts.admin_site.AdminSite"
