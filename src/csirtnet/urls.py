"""Top-level URL configuration."""

from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.i18n import set_language

from csirtnet.accounts import views as account_views
from csirtnet.accounts.middleware import second_factor_not_required
from csirtnet.core import views as core_views

urlpatterns = [
    path("", core_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("accounts/login/", account_views.login, name="login"),
    path("accounts/logout/", account_views.logout, name="logout"),
    # The login page offers the language switcher too, so it must work signed out (and
    # before the second factor).
    path(
        "i18n/setlang/",
        second_factor_not_required(login_not_required(set_language)),
        name="set_language",
    ),
    path("reports/", include("csirtnet.reports.urls")),
    path("incidents/", include("csirtnet.incidents.urls")),
    path("sharing/", include("csirtnet.sharing.urls")),
    path("assistance/", include("csirtnet.assistance.urls")),
    path("evidence/", include("csirtnet.evidence.urls")),
    path("account/", include("csirtnet.accounts.urls")),
    path("api/", include("csirtnet.api.urls")),
    path("taxii2/", include("csirtnet.taxii.urls")),
    path("admin/", admin.site.urls),
]
