"""Text helpers with no domain rules: safe display of untrusted text on a terminal."""

from __future__ import annotations

import unicodedata


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
