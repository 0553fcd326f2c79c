"""App configuration of core."""

from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Shared base pieces; holds no models of its own."""

    name = "csirtnet.core"
    verbose_name = "core"
