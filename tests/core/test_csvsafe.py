"""Spreadsheet-safe CSV cells (OWASP CSV injection)."""

from __future__ import annotations

import csv
import io

import pytest

from csirtnet.core.csvsafe import escape_spreadsheet_cell


@pytest.mark.parametrize(
    "value",
    [
        '=HYPERLINK("http://x")',
        "+1+cmd|' /C calc'!A0",
        "-2+3",
        "@SUM(A1:A2)",
        "\t=1",
        "\r=1",
    ],
)
def test_a_cell_starting_with_a_formula_trigger_gets_one_quote_in_front(value):
    assert escape_spreadsheet_cell(value) == "'" + value


@pytest.mark.parametrize(
    "value", ["", "192.0.2.1", "http://example.org/=x", "a=b", "'=already", "2025-03-14T03:00:00Z"]
)
def test_any_other_cell_is_unchanged(value):
    assert escape_spreadsheet_cell(value) == value


def test_an_escaped_cell_reads_back_through_the_csv_module_as_written():
    buffer = io.StringIO()
    csv.writer(buffer).writerow([escape_spreadsheet_cell('=HYPERLINK("http://x","y")')])
    assert next(csv.reader(io.StringIO(buffer.getvalue()))) == ['\'=HYPERLINK("http://x","y")']
