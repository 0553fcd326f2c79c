"""Shapes shared by the JSON API's apps: TLP labels and organization references."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from ninja import Field, Schema
from pydantic import AfterValidator

from csirtnet.sharing.tlp import TLP

TlpLabel = Literal["TLP:CLEAR", "TLP:GREEN", "TLP:AMBER", "TLP:AMBER+STRICT", "TLP:RED"]


_TlpText = Literal[
    "clear", "green", "amber", "amber+strict", "red",
    "TLP:CLEAR", "TLP:GREEN", "TLP:AMBER", "TLP:AMBER+STRICT", "TLP:RED",
]  # fmt: skip


def label_value(text: str) -> str:
    """Return the stored value of a TLP or PAP label: "TLP:AMBER+STRICT" -> "amber+strict"."""
    return text.split(":", 1)[1].lower() if ":" in text else text


# A TLP label in, either as FIRST writes it ("TLP:AMBER") or as its value ("amber").
TlpIn = Annotated[_TlpText, AfterValidator(label_value)]


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
