"""Ingest of the real sample reports: counts, routing, idempotence, bad rows, resume."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from csirtnet.directory.models import Organization, RouteRule
from csirtnet.reports import services
from csirtnet.reports.models import Digest, Event, RejectedRow, Report
from csirtnet.reports.parsers import UnknownLayout
from csirtnet.reports.services import ingest_file
from csirtnet.sharing.tlp import TLP

pytestmark = pytest.mark.django_db

# Data rows of each sample, counted from the files (comment and header lines excluded),
# and the rows that repeat an earlier row of the same file exactly.
SAMPLES = {
    "shadowserver/blocklist.csv": (3, 0),
    "shadowserver/compromised_website.csv": (3, 0),
    "shadowserver/device_id.csv": (3, 0),
    "shadowserver/event4_honeypot_brute_force.csv": (6, 0),
    "shadowserver/event4_honeypot_darknet.csv": (8, 0),
    "shadowserver/event4_sinkhole.csv": (3, 0),
    "shadowserver/event4_sinkhole_http.csv": (5, 0),
    "shadowserver/event6_sinkhole_http.csv": (3, 0),
    "shadowserver/malware_url.csv": (3, 0),
    "shadowserver/scan_dns.csv": (100, None),
    "shadowserver/scan_http.csv": (2, 0),
    "shadowserver/scan_ntp.csv": (3, 0),
    "shadowserver/scan_rdp.csv": (2, 0),
    "shadowserver/scan_smb.csv": (3, 0),
    "shadowserver/scan_ssh.csv": (3, 0),
    "shadowserver/scan_telnet.csv": (2, 0),
    "abusech/feodotracker_ipblocklist_2021-02-10.csv": (2, 0),
    "abusech/feodotracker_ipblocklist_2024-04-04.csv": (28, 0),
    "abusech/malwarebazaar_dump_2026-02-26_sample.csv": (39, 0),
    "abusech/sslbl_sha1_sample.csv": (285, None),
    "abusech/urlhaus_csv_recent_2026-03-09_first300.csv": (300, 0),
    "abusech/urlhaus_tld_feed_2019-02-13.csv": (2, 0),
}


def _exact_repeats(path: Path) -> int:
    """Count data lines that repeat an earlier data line byte for byte (the oracle)."""
    seen: set[str] = set()
    repeats = 0
    for line in path.read_text(encoding="utf-8-sig").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        repeats += line in seen
        seen.add(line)
    return repeats


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_every_sample_file_ingests_with_the_expected_counts(
    name, samples_dir, routing_table, directory
):
    rows, repeats = SAMPLES[name]
    path = samples_dir / name
    repeats = _exact_repeats(path) if repeats is None else repeats
    summary = ingest_file(path=path, table=routing_table)
    assert summary.rows_read_count == rows
    assert summary.rejected_count == 0
    assert summary.duplicates_count == repeats
    assert summary.events_stored_count == rows - repeats
    report = Report.objects.get(file_name=path.name)
    assert report.completed_at is not None
    assert report.events.count() == rows - repeats
    assert sum(report.digests.values_list("event_count", flat=True)) == rows - repeats


def test_reingesting_the_same_files_stores_nothing_new(samples_dir, routing_table, directory):
    paths = [samples_dir / name for name in SAMPLES]
    first = [ingest_file(path=p, table=routing_table) for p in paths]
    events, digests = Event.objects.count(), Digest.objects.count()
    again = [ingest_file(path=p, table=routing_table) for p in paths]
    assert sum(s.events_stored_count for s in again) == 0
    assert (Event.objects.count(), Digest.objects.count()) == (events, digests)
    assert Report.objects.count() == len(paths)
    assert sum(s.events_stored_count for s in first) == events


def test_same_rows_in_a_new_file_are_duplicates(samples_dir, routing_table, tmp_path, directory):
    original = samples_dir / "shadowserver" / "scan_ntp.csv"
    ingest_file(path=original, table=routing_table)
    copy = tmp_path / "2026-11-29-scan_ntp-copy.csv"
    copy.write_bytes(original.read_bytes() + b"\n")
    summary = ingest_file(path=copy, table=routing_table)
    assert (summary.events_stored_count, summary.duplicates_count) == (0, 3)


def test_events_are_routed_to_the_national_csirt_of_their_country(
    samples_dir, routing_table, directory
):
    ingest_file(
        path=samples_dir / "shadowserver" / "event4_sinkhole_http.csv", table=routing_table
    )
    by_ip = {e.source_ip: e for e in Event.objects.select_related("organization__state")}
    mexico, venezuela = by_ip["187.189.9.10"], by_ip["200.44.7.8"]
    assert (mexico.organization.short_name, mexico.route_rule) == ("CERT-MX", RouteRule.COUNTRY)
    assert (venezuela.organization.state.code, venezuela.country) == ("VE", "VE")
    unrouted = by_ip["103.196.1.2"]  # the Philippines: outside the Americas
    assert unrouted.organization == Organization.objects.secretariat()
    assert unrouted.route_rule == RouteRule.UNROUTED
    assert mexico.raw["src_ip"] == "187.189.9.10"
    assert (mexico.taxonomy, mexico.type) == ("malicious-code", "infected-system")


def _corrupt(source: Path, target: Path, bad: dict[int, str]) -> None:
    lines = source.read_text().splitlines(keepends=True)
    for number, text in bad.items():
        lines[number - 1] = text + "\n"
    target.write_text("".join(lines))


def test_a_file_with_bad_rows_keeps_its_good_rows(samples_dir, routing_table, tmp_path, directory):
    path = tmp_path / "scan_dns.csv"
    good = (samples_dir / "shadowserver" / "scan_dns.csv").read_text().splitlines()
    bad_ip = good[2].replace('"198.51.100.8"', '"999.51.100.8"')
    _corrupt(samples_dir / "shadowserver" / "scan_dns.csv", path, {3: bad_ip, 10: '"x","y"'})
    summary = ingest_file(path=path, table=routing_table)
    assert summary.rejected_count == 2
    assert summary.rows_read_count == 100
    rejected = list(RejectedRow.objects.values_list("line", "reason"))
    assert [line for line, _reason in rejected] == [3, 10]
    assert "999.51.100.8" in rejected[0][1]
    assert summary.events_stored_count + summary.duplicates_count == 98
    assert Report.objects.get().completed_at is not None


def test_unknown_layout_is_an_error_and_stores_nothing(tmp_path, routing_table, directory):
    path = tmp_path / "mystery.csv"
    path.write_text('"when","who","what"\n"2024-01-01","a","b"\n')
    with pytest.raises(UnknownLayout):
        ingest_file(path=path, table=routing_table)
    assert not Report.objects.exists()
    with pytest.raises(CommandError):
        call_command("ingest", str(path), "--no-progress")


def test_bom_crlf_and_unicode_hostname_are_handled(
    samples_dir, routing_table, tmp_path, directory
):
    text = (samples_dir / "shadowserver" / "scan_http.csv").read_text()
    text = text.replace("c-75-74-78-113.hsd1.fl.comcast.net", "bücher.example")
    path = tmp_path / "scan_http.csv"
    path.write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode())
    summary = ingest_file(path=path, table=routing_table)
    assert (summary.events_stored_count, summary.rejected_count) == (2, 0)
    assert Event.objects.filter(hostname="xn--bcher-kva.example").count() == 1


def test_a_crash_between_batches_loses_no_committed_batch_and_a_rerun_completes(
    samples_dir, routing_table, monkeypatch, directory
):
    path = samples_dir / "shadowserver" / "scan_dns.csv"
    repeats = _exact_repeats(path)
    real_store = services._store_batch
    calls = {"n": 0}

    def crash_on_third_batch(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt("killed")
        return real_store(*args, **kwargs)

    monkeypatch.setattr(services, "_store_batch", crash_on_third_batch)
    with pytest.raises(KeyboardInterrupt):
        ingest_file(path=path, table=routing_table, batch_rows=20)
    report = Report.objects.get()
    assert report.completed_at is None
    assert report.rows_read_count == 40
    assert not mail.outbox
    monkeypatch.setattr(services, "_store_batch", real_store)
    summary = ingest_file(path=path, table=routing_table, batch_rows=20)
    report.refresh_from_db()
    assert summary.rows_read_count == 60
    assert report.rows_read_count == 100
    assert Event.objects.count() == 100 - repeats
    assert sum(report.digests.values_list("event_count", flat=True)) == 100 - repeats
    assert report.completed_at is not None


def test_completing_a_report_sends_one_digest_per_responsible_organization(
    samples_dir, routing_table, directory, django_capture_on_commit_callbacks, settings
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    with django_capture_on_commit_callbacks(execute=True):
        ingest_file(
            path=samples_dir / "abusech" / "feodotracker_ipblocklist_2024-04-04.csv",
            table=routing_table,
        )
    organizations = set(Event.objects.values_list("organization__short_name", flat=True))
    assert len(mail.outbox) == len(organizations)
    assert all(m.subject.startswith("[TLP:AMBER]") for m in mail.outbox)


def test_ingest_command_prints_one_summary_line(samples_dir, capsys, directory):
    call_command("ingest", str(samples_dir / "shadowserver" / "scan_ntp.csv"), "--no-progress")
    out = capsys.readouterr().out.strip().splitlines()
    assert out == [
        "ingest: 1 files, 3 rows read, 3 events stored, 0 duplicates skipped, 0 rows rejected"
    ]


def test_big_files_are_parsed_in_a_second_process_with_the_same_result(
    samples_dir, routing_table, monkeypatch, directory
):
    path = samples_dir / "shadowserver" / "scan_dns.csv"
    monkeypatch.setattr(services, "_PARALLEL_BYTES", 0)
    summary = ingest_file(path=path, table=routing_table, batch_rows=7)
    repeats = _exact_repeats(path)
    assert (summary.rows_read_count, summary.events_stored_count) == (100, 100 - repeats)
    report = Report.objects.get()
    assert (report.last_line, report.completed_at is not None) == (101, True)
    lines = list(Event.objects.values_list("line", flat=True))
    assert len(set(lines)) == len(lines) == 100 - repeats


def test_a_parser_process_that_dies_is_an_error_not_a_silent_stop(
    samples_dir, routing_table, monkeypatch, directory
):
    import os

    monkeypatch.setattr(services, "_PARALLEL_BYTES", 0)

    def die(*args, **kwargs):
        os._exit(3)

    monkeypatch.setattr(services, "_prepare", die)
    with pytest.raises(RuntimeError, match="code 3"):
        ingest_file(path=samples_dir / "shadowserver" / "scan_ntp.csv", table=routing_table)
    assert Report.objects.get().completed_at is None


def test_a_value_longer_than_its_column_is_rejected_and_the_rest_stored(
    samples_dir, routing_table, tmp_path, directory
):
    text = (samples_dir / "abusech" / "feodotracker_ipblocklist_2024-04-04.csv").read_text()
    lines = text.splitlines(keepends=True)
    lines[9] = lines[9].replace('"Pikabot"', '"' + "M" * 101 + '"')  # line 10, first row
    path = tmp_path / "feodotracker_ipblocklist.csv"
    path.write_text("".join(lines))
    summary = ingest_file(path=path, table=routing_table)
    assert (summary.events_stored_count, summary.rejected_count) == (27, 1)
    rejection = RejectedRow.objects.get()
    assert rejection.line == 10
    assert "malware_family" in rejection.reason
    assert "100" in rejection.reason


def test_the_command_counts_every_rejected_row_it_does_not_show(
    samples_dir, tmp_path, capsys, directory
):
    lines = (samples_dir / "shadowserver" / "scan_dns.csv").read_text().splitlines()
    bad = [lines[0]] + [line.replace('"udp"', '"udp",1', 1) for line in lines[1:] * 2]
    path = tmp_path / "scan_dns.csv"
    path.write_text("\n".join(bad) + "\n")
    call_command("ingest", str(path), "--no-progress")
    err = capsys.readouterr().err
    assert err.count(": ") >= 20
    assert "180 more rejected rows" in err


def test_control_characters_of_a_hostile_file_never_reach_the_terminal(
    tmp_path, capsys, directory
):
    path = tmp_path / "mystery.csv"
    path.write_text("\x1b]0;PWNED\x07\x1b[2J,b\n1,2\n")
    with pytest.raises(CommandError):
        call_command("ingest", str(path), "--no-progress")
    err = capsys.readouterr().err
    assert "\x1b" not in err
    assert "\x07" not in err


def test_a_reverse_dns_name_never_moves_an_event_away_from_its_address(
    samples_dir, routing_table, tmp_path, directory
):
    # 75.74.78.113 is a US address; its PTR name ends in Brazil's ccTLD.
    text = (samples_dir / "shadowserver" / "scan_http.csv").read_text()
    path = tmp_path / "scan_http.csv"
    path.write_text(text.replace("c-75-74-78-113.hsd1.fl.comcast.net", "attacker-ptr.example.br"))
    ingest_file(path=path, table=routing_table)
    event = Event.objects.select_related("organization").get(source_ip="75.74.78.113")
    assert (event.organization.short_name, event.route_rule) == ("CISA", RouteRule.COUNTRY)


def test_a_url_host_without_an_address_is_routed_by_its_domain(
    samples_dir, routing_table, tmp_path, directory
):
    text = (samples_dir / "abusech" / "urlhaus_csv_recent_2026-03-09_first300.csv").read_text()
    path = tmp_path / "urlhaus.csv"
    path.write_text(text.replace("transfer.weepee.io", "transfer.weepee.com.mx"))
    ingest_file(path=path, table=routing_table)
    by_domain = Event.objects.filter(route_rule=RouteRule.DOMAIN, source_ip__isnull=True)
    assert by_domain.count() == text.count("transfer.weepee.io/")
    assert set(by_domain.values_list("organization__short_name", flat=True)) == {"CERT-MX"}


def test_control_characters_in_a_malware_family_are_rejected(
    samples_dir, routing_table, tmp_path, directory
):
    text = (samples_dir / "abusech" / "feodotracker_ipblocklist_2024-04-04.csv").read_text()
    path = tmp_path / "feodo.csv"
    path.write_text(text.replace('"Pikabot"', '"Pika\x07bot"', 1))
    summary = ingest_file(path=path, table=routing_table)
    assert (summary.events_stored_count, summary.rejected_count) == (27, 1)
    assert "\\x07" in RejectedRow.objects.get().reason


def test_a_red_report_must_name_its_people_and_nothing_is_stored_without(
    samples_dir, directory, owner
):
    path = str(samples_dir / "shadowserver" / "scan_ntp.csv")
    with pytest.raises(CommandError, match="must name the people"):
        call_command("ingest", path, "--tlp", "red", "--no-progress")
    with pytest.raises(CommandError, match="only for TLP:RED"):
        call_command("ingest", path, "--tlp", "amber", "--to", "owner", "--no-progress")
    with pytest.raises(CommandError, match="No active member with the username 'nobody'"):
        call_command("ingest", path, "--tlp", "red", "--to", "nobody", "--no-progress")
    with pytest.raises(ValidationError):
        ingest_file(path=Path(path), tlp=TLP.RED)
    assert not Report.objects.exists()
    assert not Event.objects.exists()


def test_a_red_report_is_seen_only_by_the_people_it_names(
    samples_dir, directory, owner, secretariat_member
):
    from tests.conftest import _member

    colleague = _member("colleague", "CICTE")
    path = str(samples_dir / "shadowserver" / "scan_ntp.csv")
    call_command(
        "ingest", path, "--tlp", "red", "--to", "owner", "--to", "secretariat", "--no-progress"
    )
    report = Report.objects.get()
    assert set(report.recipient_people.values_list("username", flat=True)) == {
        "owner",
        "secretariat",
    }
    assert Event.objects.count() == 3
    from csirtnet.core.models import AuditEntry

    received = AuditEntry.objects.get(action="report.received", target_id=str(report.uuid))
    assert received.detail["recipient_people"] == ["owner", "secretariat"]
    assert received.tlp == "red"
    assert Event.objects.visible_to(secretariat_member).count() == 3
    assert Report.objects.visible_to(secretariat_member).get() == report
    assert Event.objects.visible_to(colleague).count() == 0
    assert not Report.objects.visible_to(colleague).exists()
    mine = Event.objects.filter(organization=owner.organization).count()
    assert Event.objects.visible_to(owner).count() == mine
    # a re-run names nobody new, and says so
    err = io.StringIO()
    call_command("ingest", path, "--tlp", "red", "--to", "colleague", "--no-progress", stderr=err)
    assert report.recipient_people.count() == 2
    assert err.getvalue() == (
        f"{path}: already ingested, addressed to owner, secretariat; the --to given now is "
        "ignored (the people named are fixed when a report is first stored).\n"
    )
