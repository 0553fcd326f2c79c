"""The Spanish catalog translates every string; placeholders survive translation."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

LOCALE = Path(__file__).resolve().parents[2] / "src" / "csirtnet" / "locale"
PLACEHOLDER = re.compile(r"%\(\w+\)[sdr]|\{\{\s*\w+\s*\}\}")


@pytest.mark.parametrize("language", ["es"])
def test_every_message_is_translated_and_none_is_fuzzy(language):
    po = LOCALE / language / "LC_MESSAGES" / "django.po"
    result = subprocess.run(
        ["msgfmt", "--check", "--statistics", "-o", "/dev/null", str(po)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert re.fullmatch(r"\d+ translated messages\.\n", result.stderr), result.stderr


def test_spanish_keeps_every_placeholder_of_its_english_source():
    text = (LOCALE / "es" / "LC_MESSAGES" / "django.po").read_text("utf-8")
    mismatches = []
    for block in text.split("\n\n"):
        ids = re.findall(r'^msgid(?:_plural)? ((?:".*"\n?)+)', block, re.M)
        strs = re.findall(r"^msgstr(?:\[\d\])? ((?:\".*\"\n?)+)", block, re.M)
        source = "".join(ids)
        for translated in strs:
            if (
                sorted(set(PLACEHOLDER.findall(source)))
                != sorted(set(PLACEHOLDER.findall(translated)))
                and translated.strip() != '""'
            ):
                mismatches.append(source[:80])
    assert mismatches == []
