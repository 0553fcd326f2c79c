"""Pure parsers for abuse reports and feeds (Shadowserver, abuse.ch, generic CSV).

`parse_file` streams a file as normalized `ParsedRow` objects and a `Rejection` for
each bad row; `detect_format` names the layout. No models, no database.
"""

from csirtnet.reports.parsers.base import (
    FORMATS,
    ParsedRow,
    Rejection,
    UnknownLayout,
    detect_format,
    parse_file,
)

__all__ = ["FORMATS", "ParsedRow", "Rejection", "UnknownLayout", "detect_format", "parse_file"]
