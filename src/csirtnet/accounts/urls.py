"""URLs of accounts."""

from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.urls import URLPattern, path

from csirtnet.accounts import oidc, views
from csirtnet.accounts.middleware import second_factor_not_required

app_name = "accounts"


def _public(view: Any) -> Any:
    return second_factor_not_required(login_not_required(view))


urlpatterns: list[URLPattern] = [
    path("second-factor/", views.verify, name="verify"),
    path("second-factor/enroll/", views.enroll, name="enroll"),
    path("oidc/start/", _public(oidc.start), name="oidc_start"),
    path("oidc/callback/", _public(oidc.callback), name="oidc_callback"),
    path("oidc/refused/", views.oidc_refused, name="oidc_refused"),
    path("tokens/", views.tokens, name="tokens"),
    path("tokens/<uuid:token_uuid>/revoke/", views.revoke_token, name="revoke_token"),
]
