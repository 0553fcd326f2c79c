"""
Set-up steps of the crash soak that have no command of their own, run as a child process
with the soak's environment (`python -m tests.soak.scenario ACTION`), so that they use
the app's own settings and services against the soak database. Each prints one JSON line.

Actions:
    incidents --round N --count C
        report C incidents as a handler of CERTuy, each affecting four other member
        states: their national CSIRTs become participants and their notifications are
        queued (outbox rows and worker tasks), as the web form would
"""

from __future__ import annotations

import argparse
import json
import random
import sys

_REPORTER = ("soak-reporter", "CERTuy")


def incidents(*, round_number: int, count: int) -> dict[str, object]:
    """Report `count` incidents, each affecting four states other than the reporter's."""
    from django.contrib.auth import get_user_model

    from csirtnet.accounts.models import Membership
    from csirtnet.directory.models import MemberState, Organization
    from csirtnet.incidents import services

    username, short_name = _REPORTER
    organization = Organization.objects.get(short_name=short_name)
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        user = get_user_model().objects.create_user(username=username, email="")
    actor, _created = Membership.objects.get_or_create(user=user, organization=organization)
    codes = sorted(
        MemberState.objects.exclude(pk=organization.state_id).values_list("code", flat=True)
    )
    rng = random.Random(round_number)
    references = []
    for index in range(count):
        incident = services.create_incident(
            actor=actor,
            title=f"Soak round {round_number} incident {index + 1}",
            description="Command and control traffic seen from several member states.",
            taxonomy_predicate="malicious-code",
            taxonomy_value="c2-server",
            severity=3,
            tlp="amber",
            affected_states=rng.sample(codes, 4),
        )
        references.append(incident.reference)
    return {"references": references}


def main(argv: list[str] | None = None) -> None:
    """Run one action and print its result as one JSON line."""
    parser = argparse.ArgumentParser(description="Set-up steps of the crash soak.")
    parser.add_argument("action", choices=["incidents"])
    parser.add_argument("--round", type=int, default=1)
    parser.add_argument("--count", type=int, default=2)
    args = parser.parse_args(argv)

    import django

    django.setup()
    result = incidents(round_number=args.round, count=args.count)
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
