"""
URLs of the JSON API: version 1 under /api/v1/ and a JSON 404 for any other path under
/api/. Every view here authenticates by token itself, so none needs a session login.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.urls import URLPattern, URLResolver, include, path, re_path
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from csirtnet.api.errors import METHOD_NOT_ALLOWED, error_response, not_found_response
from csirtnet.api.main import api

app_name = "api"

View = Callable[..., HttpResponseBase]


def _json_errors(view: View) -> View:
    """
    Wrap a django-ninja view: no session login required (tokens only), and the 405 of
    a method it does not take and the 404 of the bare root in the error shape.
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            response = view(request, *args, **kwargs)
        except Http404:
            return not_found_response()
        if response.status_code == 405 and "json" not in response.get("Content-Type", ""):
            answer = error_response(405, METHOD_NOT_ALLOWED, _("Method not allowed."))
            answer["Allow"] = response.get("Allow", "")
            return answer
        return response

    return login_not_required(wrapper)


@login_not_required
@csrf_exempt
def not_found(request: HttpRequest, rest: str = "") -> HttpResponse:
    """Answer 404 in the error shape for any path under /api/ that names nothing."""
    return not_found_response()


def _v1_patterns() -> list[URLPattern | URLResolver]:
    patterns, _app, _namespace = api.urls
    return [
        URLPattern(p.pattern, _json_errors(p.callback), p.default_args, p.name)
        if isinstance(p, URLPattern)
        else p
        for p in patterns
    ]


urlpatterns = [
    path("v1/", include((_v1_patterns(), "ninja"), namespace="v1")),
    re_path(r"^(?P<rest>.*)$", not_found),
]
