"""URLs of accounts."""

from django.urls import URLPattern, path

from csirtnet.accounts import views

app_name = "accounts"
urlpatterns: list[URLPattern] = [
    path("tokens/", views.tokens, name="tokens"),
    path("tokens/<uuid:token_uuid>/revoke/", views.revoke_token, name="revoke_token"),
]
