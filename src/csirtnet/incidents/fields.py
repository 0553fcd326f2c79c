"""Form fields and choices of the incident pages: observables, organizations, people, states."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.utils.translation import gettext_lazy as _

from csirtnet.accounts.models import Membership
from csirtnet.directory.models import MemberState
from csirtnet.incidents.services import MAX_OBSERVABLES
from csirtnet.reports.models import RSIT_CLASSES
from csirtnet.sharing.observables import detect
from csirtnet.sharing.taxonomy import rsit_choices, rsit_classes

if TYPE_CHECKING:
    from django.db.models import QuerySet


class DateTimeInput(forms.DateTimeInput):
    """A UTC date and time picker (to the second) in browsers that have one."""

    input_type = "datetime-local"

    def __init__(self) -> None:
        super().__init__({"step": "1"}, format="%Y-%m-%dT%H:%M:%S")


class ObservablesField(forms.CharField):
    """
    Observables written one a line, each of a type detected from its text (IP address,
    network, domain, URL, e-mail, hash, ASN). Cleans to `[(type, normalized value)]`
    without repeats; each bad line is an error naming its line number.
    """

    widget = forms.Textarea(attrs={"rows": 6, "class": "mono", "spellcheck": "false"})

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 200_000)
        super().__init__(**kwargs)

    def clean(self, value: Any) -> list[tuple[str, str]]:
        """
        Return the detected `(type, value)` pairs in order.

        Raises:
            ValidationError: one message per unusable line, or too many values.
        """
        text = super().clean(value)
        found: dict[tuple[str, str], None] = {}
        errors = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                found[detect(line)] = None
            except ValueError as error:
                errors.append(
                    ValidationError(
                        _("Line %(number)d: %(error)s"),
                        code="observable",
                        params={"number": number, "error": error},
                    )
                )
        if errors:
            raise ValidationError(errors)
        if len(found) > MAX_OBSERVABLES:
            raise ValidationError(
                _("At most %(count)d observables at a time."),
                code="too_many",
                params={"count": MAX_OBSERVABLES},
            )
        return list(found)


MAX_PK = 2**63 - 1  # a bigint primary key; a larger number overflows the database driver


def refuse_out_of_range(field: forms.ModelChoiceField[Any], values: Iterable[Any]) -> None:
    """Refuse a chosen id that is a number no primary key can be (it would overflow)."""
    for value in values:
        text = str(value).strip()
        if text.lstrip("-").isdigit() and not 1 <= int(text) <= MAX_PK:
            raise ValidationError(
                field.error_messages["invalid_pk_value"],
                code="invalid_pk_value",
                params={"pk": text[:30]},
            )


class ChoiceOfRows(forms.ModelMultipleChoiceField[Any]):
    """A multiple choice of rows by primary key that refuses out-of-range ids cleanly."""

    def _check_values(self, value: Any) -> Any:
        refuse_out_of_range(self, value)
        return super()._check_values(value)  # type: ignore[misc]  # private in the stubs


class ChoiceOfRow(forms.ModelChoiceField[Any]):
    """A choice of one row by primary key that refuses an out-of-range id cleanly."""

    def to_python(self, value: Any) -> Any:
        if value not in self.empty_values:
            refuse_out_of_range(self, [value])
        return super().to_python(value)


class PersonChoiceField(ChoiceOfRows):
    """People of the network, shown with the organizations they act for."""

    def label_from_instance(self, obj: Any) -> str:
        """Return "username (ORG, ORG)"."""
        organizations = ", ".join(m.organization.short_name for m in obj.active_memberships)
        return f"{obj.get_username()} ({organizations})"


class OrganizationChoiceField(ChoiceOfRows):
    """Organizations of the directory, members first; non-members are marked."""

    def label_from_instance(self, obj: Any) -> str:
        """Return "SHORT - Name", with "(not a member)" for a non-member."""
        label = f"{obj.short_name} - {obj.name}"
        if obj.is_member:
            return label
        return str(_("%(organization)s (not a member)") % {"organization": label})


def people_choices() -> QuerySet[Any]:
    """Return the active users with an active membership, with those memberships."""
    active = Membership.objects.filter(is_active=True)
    return (
        get_user_model()
        .objects.filter(is_active=True, pk__in=active.values("user"))
        .prefetch_related(
            Prefetch(
                "memberships",
                queryset=active.select_related("organization"),
                to_attr="active_memberships",
            )
        )
        .order_by("username")
    )


def state_choices() -> list[tuple[str, str]]:
    """Return the member states as (code, "Name (CODE)"), by name in the active language."""
    states = sorted(MemberState.objects.all(), key=lambda state: state.name)
    return [(state.code, f"{state.name} ({state.code})") for state in states]


def rsit_class_choices() -> list[tuple[str, str]]:
    """Return the RSIT classes (predicates) with their display names."""
    return [(name, str(RSIT_CLASSES.get(name, name))) for name in rsit_classes()]


def rsit_group_choices() -> list[tuple[str, Any]]:
    """Return the RSIT "class:type" choices grouped by class display name."""
    return [
        (str(RSIT_CLASSES.get(predicate, predicate)), values)
        for predicate, values in rsit_choices()
    ]


def with_any(choices: Iterable[tuple[Any, Any]]) -> list[tuple[Any, Any]]:
    """Return `choices` after an "All" choice that does not filter."""
    return [("", _("All")), *choices]


def choice_field(form: forms.Form, name: str) -> forms.ChoiceField:
    """Return the choice field `name` of `form`."""
    field = form.fields[name]
    assert isinstance(field, forms.ChoiceField)  # for the type checker
    return field


def model_field(form: forms.Form, name: str) -> forms.ModelChoiceField[Any]:
    """Return the model choice field `name` of `form`."""
    field = form.fields[name]
    assert isinstance(field, forms.ModelChoiceField)  # for the type checker
    return field
