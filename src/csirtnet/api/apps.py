"""App configuration of the JSON API."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    """The JSON API under /api/v1/ (django-ninja, OpenAPI 3.1)."""

    name = "csirtnet.api"
    verbose_name = _("JSON API")
