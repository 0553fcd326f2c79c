"""App configuration of evidence."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EvidenceConfig(AppConfig):
    """Evidence files and their custody chain."""

    name = "csirtnet.evidence"
    verbose_name = _("Evidence")
