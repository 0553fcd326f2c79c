"""Forms of the incident pages: list filters, report and edit, timeline actions, escalation."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from csirtnet.accounts.models import Membership
from csirtnet.directory.models import Organization, Sector
from csirtnet.incidents.fields import (
    ChoiceOfRow,
    DateTimeInput,
    ObservablesField,
    OrganizationChoiceField,
    PersonChoiceField,
    choice_field,
    model_field,
    people_choices,
    rsit_class_choices,
    rsit_group_choices,
    state_choices,
    with_any,
)
from csirtnet.incidents.models import (
    PAP,
    SEVERITY_DEFINITIONS,
    TRANSITIONS,
    Incident,
    Severity,
    Status,
)
from csirtnet.incidents.querysets import IncidentQuerySet
from csirtnet.incidents.services import ProposedState, propose_affected_states
from csirtnet.incidents.validation import event_observables
from csirtnet.sharing.taxonomy import rsit_classes
from csirtnet.sharing.tlp import TLP, strictest

if TYPE_CHECKING:
    from django.forms.boundfield import BoundWidget

    from csirtnet.reports.models import Event

# What each label lets happen, shown beside the choice (FIRST TLP 2.0 and PAP).
TLP_MEANINGS = {
    TLP.CLEAR: _("Anyone, public pages included."),
    TLP.GREEN: _("Every member of the network."),
    TLP.AMBER: _("Your organization and the participants."),
    TLP.AMBER_STRICT: _("As TLP:AMBER; participants keep it inside their own organization."),
    TLP.RED: _("Only you and the people named below, not their colleagues."),
}
PAP_MEANINGS = {
    PAP.CLEAR: _("No restriction on the actions taken with this information."),
    PAP.GREEN: _("Active actions allowed: block, probe or contact the infrastructure."),
    PAP.AMBER: _("Passive cross-checks only, e.g. look-ups in third-party services."),
    PAP.RED: _("Non-detectable actions only: searches in your own logs."),
}
# Service error keys that name a form field differently.
_RENAMED_ERRORS = {"taxonomy": "rsit"}


def add_service_errors(form: forms.Form, error: ValidationError) -> None:
    """
    Put a service's `ValidationError` into `form`: each key on the field of that name
    ("taxonomy" on `rsit`), keys without a field and plain messages above the form.
    """
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for key, errors in error.error_dict.items():
        name = _RENAMED_ERRORS.get(key, key)
        form.add_error(name if name in form.fields else None, errors)


class IncidentFilterForm(forms.Form):
    """
    The list filters, bound to the query string: text (reference, title, description or
    an observable's value), status, TLP, severity, affected state, sector, RSIT class,
    and "awaiting our acknowledgement".
    """

    q = forms.CharField(
        label=_("Text"),
        required=False,
        max_length=2048,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": _("Reference, title or observable")}
        ),
    )
    status = forms.ChoiceField(label=_("Status"), required=False, choices=with_any(Status.choices))
    tlp = forms.ChoiceField(label="TLP", required=False, choices=with_any(TLP.choices))
    severity = forms.TypedChoiceField(
        label=_("Severity"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=with_any(Severity.choices),
    )
    state = forms.ChoiceField(label=_("Affected state"), required=False)
    sector = forms.ChoiceField(label=_("Sector"), required=False, choices=with_any(Sector.choices))
    taxonomy = forms.ChoiceField(label=_("RSIT class"), required=False)
    awaiting = forms.BooleanField(label=_("Awaiting our acknowledgement"), required=False)

    def __init__(self, data: Any) -> None:
        super().__init__(data)
        choice_field(self, "state").choices = with_any(state_choices())
        choice_field(self, "taxonomy").choices = with_any(rsit_class_choices())

    def filter_incidents(self, incidents: IncidentQuerySet) -> IncidentQuerySet:
        """
        Return `incidents` narrowed by the filters; none while the filters are invalid.
        "Awaiting" needs the `is_awaiting` annotation (`IncidentQuerySet.with_awaiting`).
        """
        if not self.is_valid():
            return incidents.none()
        data = self.cleaned_data
        incidents = incidents.matching(
            status=data["status"], tlp=data["tlp"], severity=data["severity"],
            affected_state=data["state"], sector=data["sector"], rsit=data["taxonomy"],
            text=data["q"],
        )  # fmt: skip
        if data["awaiting"]:
            incidents = incidents.filter(Q(is_awaiting=True))
        return incidents


class IncidentForm(forms.Form):
    """
    Report an incident: what happened (title, description, RSIT class, sectors,
    severity), its labels (TLP, PAP), when it was detected (UTC), its observables, and
    its audience: affected states (their national CSIRTs take part), invited
    organizations (members first), and the people named on a TLP:RED incident.
    """

    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(
        label=_("Description"),
        required=False,
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    rsit = forms.ChoiceField(label=_("RSIT class and type"))
    sectors = forms.MultipleChoiceField(
        label=_("Affected sectors"),
        required=False,
        choices=Sector.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    severity = forms.TypedChoiceField(
        label=_("Severity"),
        coerce=int,
        choices=Severity.choices,
        initial=Severity.MODERATE,
        widget=forms.RadioSelect,
    )
    tlp = forms.ChoiceField(
        label="TLP", choices=TLP.choices, initial=TLP.AMBER, widget=forms.RadioSelect
    )
    pap = forms.ChoiceField(
        label="PAP", choices=PAP.choices, initial=PAP.AMBER, widget=forms.RadioSelect
    )
    detected_at = forms.DateTimeField(
        label=_("Detected at (UTC)"), required=False, widget=DateTimeInput()
    )
    observables = ObservablesField(
        label=_("Observables"),
        required=False,
        help_text=_(
            "One a line: IP address, network, domain, URL, e-mail address, hash or ASN; "
            "the type is detected."
        ),
    )
    affected_states = forms.MultipleChoiceField(
        label=_("Affected states"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("The national CSIRT of each affected state takes part and is notified."),
    )
    invited = OrganizationChoiceField(
        label=_("Invited organizations"),
        required=False,
        queryset=Organization.objects.none(),
        widget=forms.SelectMultiple(attrs={"size": 8}),
    )
    named_people = PersonChoiceField(
        label=_("People named (TLP:RED only)"),
        required=False,
        queryset=get_user_model().objects.none(),
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )

    def __init__(self, data: Any = None, *, actor: Membership, **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        self.actor = actor
        self.proposals: list[ProposedState] | None = None  # set by `with_proposed_states`
        self._choices("rsit", [("", "---------"), *rsit_group_choices()])
        self._choices("affected_states", state_choices())
        model_field(self, "invited").queryset = (
            Organization.objects.exclude(pk=actor.organization_id)
            .select_related("state")
            .order_by("-is_member", "short_name")
        )
        # the author always sees its incident
        model_field(self, "named_people").queryset = people_choices().exclude(pk=actor.user_id)

    def _choices(self, name: str, choices: Sequence[tuple[str, Any]]) -> None:
        """Set the choices of the choice field `name`."""
        choice_field(self, name).choices = choices

    @property
    def severity_options(self) -> list[tuple[BoundWidget, Any]]:
        """Return the severity radio buttons with the written definition of each level."""
        return self._described("severity", SEVERITY_DEFINITIONS)

    @property
    def tlp_options(self) -> list[tuple[BoundWidget, Any]]:
        """Return the TLP radio buttons with who may see each label."""
        return self._described("tlp", TLP_MEANINGS)

    @property
    def pap_options(self) -> list[tuple[BoundWidget, Any]]:
        """Return the PAP radio buttons with what each label allows."""
        return self._described("pap", PAP_MEANINGS)

    def _described(self, name: str, meanings: dict[Any, Any]) -> list[tuple[BoundWidget, Any]]:
        """Return the radio buttons of `name`, each with its meaning from `meanings`."""
        return [(radio, meanings.get(radio.data["value"], "")) for radio in self[name]]

    def clean(self) -> dict[str, Any]:
        """
        Split the RSIT choice into predicate and value; refuse named people on an
        incident that is not TLP:RED (they would see nothing more than the others).

        Raises:
            ValidationError: on `named_people`, when the label is not TLP:RED.
        """
        data = super().clean() or {}
        if data.get("named_people") and data.get("tlp") != TLP.RED:
            self.add_error("named_people", _("Name people only on a TLP:RED incident."))
        return data

    def service_arguments(self) -> dict[str, Any]:
        """Return the cleaned data as `services.create_incident` takes it."""
        data = self.cleaned_data
        predicate, _sep, value = data["rsit"].partition(":")
        arguments = {
            "title": data["title"], "description": data["description"],
            "taxonomy_predicate": predicate, "taxonomy_value": value,
            "severity": data["severity"], "sectors": data["sectors"], "tlp": data["tlp"],
            "pap": data["pap"], "detected_at": data["detected_at"],
            "affected_states": data["affected_states"], "invited": list(data["invited"]),
            "named_people": list(data["named_people"]),
        }  # fmt: skip
        if "observables" in self.fields:
            arguments["observables"] = data["observables"]
        return arguments

    def with_proposed_states(self) -> IncidentForm:
        """
        Return an unbound copy of this submitted form with the affected states that
        `services.propose_affected_states` finds for its observables checked (besides
        those already checked) and `proposals` set; a bad observable becomes the copy's
        only error.
        """
        values = {name: self[name].data for name in self.fields}
        proposed = IncidentForm(initial=values, actor=self.actor)
        proposed.proposals = []
        try:
            observables = self.fields["observables"].clean(values["observables"])
            proposed.proposals = propose_affected_states(observables)
        except ValidationError as error:
            proposed.cleaned_data = {}  # an unbound form has none; add_error expects it
            proposed.add_error("observables", error)
            return proposed
        checked = set(values["affected_states"] or ())
        checked.update(proposal.state.code for proposal in proposed.proposals)
        proposed.initial["affected_states"] = sorted(checked)
        return proposed


class IncidentEditForm(IncidentForm):
    """
    Edit an incident (its owner only). Audiences only grow: the state, organization and
    people choices leave out those already there; observables are added on the incident
    page. The lead may pass to a participant.
    """

    lead_organization = ChoiceOfRow(
        label=_("Lead organization"), queryset=Organization.objects.none(), empty_label=None
    )

    def __init__(self, data: Any = None, *, actor: Membership, incident: Incident) -> None:
        super().__init__(data, actor=actor, initial=_initial(incident))
        del self.fields["observables"]
        self.incident = incident
        participants = incident.participations.values("organization")
        states = set(incident.affected_states.values_list("code", flat=True))
        self._choices("affected_states", [c for c in state_choices() if c[0] not in states])
        invited, people = model_field(self, "invited"), model_field(self, "named_people")
        invited.queryset = invited.queryset.exclude(pk__in=participants)  # type: ignore[union-attr]
        people.queryset = people.queryset.exclude(  # type: ignore[union-attr]
            pk__in=incident.recipient_people.values("pk")
        )
        model_field(self, "lead_organization").queryset = Organization.objects.filter(
            Q(pk=incident.owner_id) | Q(pk__in=participants)
        )
        self.fields["affected_states"].label = _("Add affected states")
        self.fields["invited"].label = _("Invite organizations")
        self.fields["named_people"].label = _("Name more people (TLP:RED only)")

    def service_arguments(self) -> dict[str, Any]:
        """Return the cleaned data as `services.update_incident` takes it."""
        arguments = super().service_arguments()
        arguments["lead_organization"] = self.cleaned_data["lead_organization"]
        return arguments


def _initial(incident: Incident) -> dict[str, Any]:
    """Return the edit form's initial values from `incident`."""
    return {
        "title": incident.title, "description": incident.description,
        "rsit": f"{incident.taxonomy_predicate}:{incident.taxonomy_value}",
        "sectors": incident.sectors, "severity": incident.severity, "tlp": incident.tlp,
        "pap": incident.pap, "detected_at": incident.detected_at,
        "lead_organization": incident.lead_organization_id,
    }  # fmt: skip


class CommentForm(forms.Form):
    """A comment on the shared timeline (plain text)."""

    text = forms.CharField(
        label=_("Comment"), max_length=20000, widget=forms.Textarea(attrs={"rows": 3})
    )


class StatusForm(forms.Form):
    """Move the incident to one of the statuses its workflow allows next, with a note."""

    status = forms.ChoiceField(label=_("New status"))
    note = forms.CharField(
        label=_("Note"), required=False, max_length=20000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, data: Any = None, *, incident: Incident) -> None:
        super().__init__(data)
        allowed = TRANSITIONS.get(incident.status, frozenset())
        choice_field(self, "status").choices = [
            (value, label) for value, label in Status.choices if value in allowed
        ]


class ObservablesForm(forms.Form):
    """More observables for an incident, one a line."""

    observables = ObservablesField(
        label=_("Observables"),
        help_text=IncidentForm.base_fields["observables"].help_text,
        widget=forms.Textarea(attrs={"rows": 3, "class": "mono", "spellcheck": "false"}),
    )


class AttachmentForm(forms.Form):
    """A file for an incident; kept as bytes and only ever served as a download."""

    file = forms.FileField(label=_("File"))


class EscalateForm(forms.Form):
    """
    Escalate inbox events: into a new incident (title, RSIT class, severity, TLP
    defaulting to the strictest label of the events) or into an open incident the actor
    may add to.
    """

    NEW, EXISTING = "new", "existing"

    target = forms.ChoiceField(
        label=_("Escalate into"),
        choices=[(NEW, _("A new incident")), (EXISTING, _("An existing incident"))],
        initial=NEW,
        widget=forms.RadioSelect,
    )
    title = forms.CharField(label=_("Title"), max_length=200, required=False)
    rsit = forms.ChoiceField(label=_("RSIT class and type"), required=False)
    severity = forms.TypedChoiceField(
        label=_("Severity"), coerce=int, choices=Severity.choices, initial=Severity.MODERATE
    )
    tlp = forms.ChoiceField(label="TLP", choices=TLP.choices)
    affected_states = forms.MultipleChoiceField(
        label=_("Affected states"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "Checked: the states the events point to. Their national CSIRTs take part and "
            "are notified; confirm or change them now, participants cannot be removed later."
        ),
    )
    incident = forms.ModelChoiceField(
        label=_("Incident"),
        required=False,
        queryset=Incident.objects.none(),
        to_field_name="uuid",
    )

    def __init__(self, data: Any = None, *, actor: Membership, events: Sequence[Event]) -> None:
        super().__init__(data, initial=_escalation_initial(events))
        choice_field(self, "rsit").choices = [("", "---------"), *rsit_group_choices()]
        choice_field(self, "affected_states").choices = state_choices()
        model_field(self, "incident").queryset = Incident.objects.contributed_by(actor).exclude(
            status=Status.CLOSED
        )

    def clean(self) -> dict[str, Any]:
        """
        Check that a new incident has a title and an RSIT class, an existing one is chosen.

        Raises:
            ValidationError: on the missing field.
        """
        data = super().clean() or {}
        required = ("title", "rsit") if data.get("target") == self.NEW else ("incident",)
        for name in required:
            if not data.get(name) and name not in self.errors:
                self.add_error(name, _("This field is required."))
        return data

    def service_arguments(self) -> dict[str, Any]:
        """Return the cleaned data as `services.escalate_events` takes it."""
        data = self.cleaned_data
        if data["target"] == self.EXISTING:
            return {"incident": data["incident"]}
        predicate, _sep, value = data["rsit"].partition(":")
        return {
            "title": data["title"], "taxonomy_predicate": predicate,
            "taxonomy_value": value, "severity": data["severity"], "tlp": data["tlp"],
            "affected_states": data["affected_states"],
        }  # fmt: skip


def _escalation_initial(events: Sequence[Event]) -> dict[str, Any]:
    """Return the escalation form's initial values: label, RSIT class and title from `events`."""
    initial: dict[str, Any] = {"tlp": strictest(event.tlp for event in events)}
    if not events:
        return initial
    proposals = propose_affected_states(event_observables(events))
    initial["affected_states"] = [proposal.state.code for proposal in proposals]
    first = events[0]
    if first.type in rsit_classes().get(first.taxonomy, {}):
        initial["rsit"] = f"{first.taxonomy}:{first.type}"
    initial["title"] = _("%(type)s: %(count)d events") % {
        "type": first.report_type,
        "count": len(events),
    }
    return initial
