"""Make text safe to open in a spreadsheet when written to a CSV file (CSV injection)."""

from __future__ import annotations

# Characters that make Excel, LibreOffice Calc or Google Sheets read a cell as a formula.
_FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def escape_spreadsheet_cell(value: str) -> str:
    """
    Return `value` with a single quote in front when it begins with `=`, `+`, `-`, `@`,
    a tab or a carriage return, so that a spreadsheet shows it as text instead of
    evaluating it as a formula; any other value is returned unchanged.

    Follows the OWASP guidance on CSV injection
    (https://owasp.org/www-community/attacks/CSV_Injection): prefix such cells with a
    single quote; quoting of the field and of double quotes is left to the `csv` module.
    `'=HYPERLINK("http://x")` reads back as that exact string with the `csv` module.
    """
    if value.startswith(_FORMULA_TRIGGERS):
        return "'" + value
    return value
