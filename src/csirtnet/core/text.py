"""Text helpers with no domain rules: safe display of untrusted text on a terminal."""

from __future__ import annotations

import re
import unicodedata

import idna

# RFC 1123 LDH labels of 1-63 characters, not starting or ending with "-"; "_" is
# allowed anywhere because real DNS names carry it (_dmarc, SRV owners, hosting panels).
# The possessive {0,62}+ and the look-behind avoid backtracking (a hot path of ingest).
_LABEL = r"[a-z0-9_][a-z0-9_-]{0,62}+(?<!-)"
HOSTNAME_RE = re.compile(rf"(?:{_LABEL}\.)*{_LABEL}")  # lower-case ASCII (punycode) names
MAX_HOSTNAME = 253  # characters of a host name in text form, without the root dot
CONTROL_RE = re.compile("[\x00-\x1f\x7f-\x9f]")  # C0, DEL and C1 (Unicode category Cc)
# Invisible and direction-changing characters (zero-width, bidi embeddings, overrides and
# isolates, BOM): in a name they make it look like another ("\u202egnp.exe" shows as
# "exe.png") or empty.
DECEPTIVE_RE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")


def printable(text: str) -> str:
    """
    Return `text` with control and other non-printable characters (Unicode category C*,
    e.g. ESC, BEL, NUL, C1 controls, bidi overrides) shown as `\\xNN` / `\\uNNNN` escapes,
    so untrusted values cannot drive an operator's terminal. Letters of any script,
    spaces and tabs are kept as they are.
    """
    if text.isprintable():
        return text
    out = []
    for char in text:
        if char.isprintable() or char == "\t":
            out.append(char)
        elif unicodedata.category(char).startswith("C"):
            out.append(char.encode("unicode_escape").decode("ascii"))
        else:
            out.append(char)
    return "".join(out)


def to_ascii_hostname(name: str) -> str | None:
    """
    Return a host name as lower-case IDNA A-labels (punycode): UTS 46 mapping with IDNA
    2008 first, then IDNA 2003 for names 2008 refuses; None when neither can encode it.
    ASCII names are only lower-cased (their syntax is checked with `HOSTNAME_RE`).
    """
    if name.isascii():
        return name.lower()
    try:
        return idna.encode(name, uts46=True).decode("ascii")
    except idna.IDNAError:
        pass
    try:
        return name.encode("idna").decode("ascii").lower()
    except UnicodeError:
        return None
