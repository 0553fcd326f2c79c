"""App configuration of the directory."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DirectoryConfig(AppConfig):
    """Member states, organizations, points of contact, constituencies and RIR data."""

    name = "csirtnet.directory"
    verbose_name = _("Directory")
