"""Shapes shared by the JSON API's apps: TLP labels and organization references."""

from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

from ninja import Field, Schema

from csirtnet.sharing.tlp import TLP

TlpLabel = Literal["TLP:CLEAR", "TLP:GREEN", "TLP:AMBER", "TLP:AMBER+STRICT", "TLP:RED"]


def tlp_label(value: str) -> str:
    """Return the label of a stored TLP value: "amber" -> "TLP:AMBER"."""
    return str(TLP(value).label)


class OrganizationRef(Schema):
    """An organization of the directory, by uuid and short name; `state` is its ISO code."""

    uuid: UUID
    short_name: str
    name: str
    state: str | None = Field(..., description="ISO 3166-1 alpha-2; null for the secretariat")

    @staticmethod
    def resolve_state(obj: Any) -> str | None:
        """Return the code of the organization's state (loaded with it), or None."""
        return obj.state.code if obj.state_id else None
