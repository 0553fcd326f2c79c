"""Traffic Light Protocol 2.0 labels (FIRST, https://www.first.org/tlp/)."""

from __future__ import annotations

from django.db import models


class TLP(models.TextChoices):
    """Traffic Light Protocol 2.0 labels (FIRST), least to most restrictive; never translated."""

    CLEAR = "clear", "TLP:CLEAR"
    GREEN = "green", "TLP:GREEN"
    AMBER = "amber", "TLP:AMBER"
    AMBER_STRICT = "amber+strict", "TLP:AMBER+STRICT"
    RED = "red", "TLP:RED"

    @property
    def rank(self) -> int:
        """Return 0 for CLEAR up to 4 for RED."""
        return list(TLP).index(self)
