"""Untrusted text shown on a terminal."""

from csirtnet.core.text import printable


def test_escape_sequences_and_bell_are_shown_escaped():
    assert printable("\x1b]0;PWNED\x07\x1b[2J") == "\\x1b]0;PWNED\\x07\\x1b[2J"


def test_letters_of_any_script_and_tabs_are_kept():
    assert printable("PAYSANDÚ\tмосква 東京") == "PAYSANDÚ\tмосква 東京"


def test_nul_c1_controls_and_bidi_overrides_are_escaped():
    assert printable("a\x00b\x85c\u202ed") == "a\\x00b\\x85c\\u202ed"
