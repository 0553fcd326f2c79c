"""App configuration of core."""

from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Shared base pieces with no domain rules, and the audit log."""

    name = "csirtnet.core"
    verbose_name = "core"
