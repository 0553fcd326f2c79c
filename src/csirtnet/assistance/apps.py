"""App configuration of assistance."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AssistanceConfig(AppConfig):
    """Mutual assistance between members (Budapest Convention arts. 29-30, Protocol arts. 9-10)."""

    name = "csirtnet.assistance"
    verbose_name = _("Mutual assistance")
