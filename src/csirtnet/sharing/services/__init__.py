"""
Verbs of sharing: import STIX 2.1 objects and MISP events, export objects, incidents and
imported MISP events, record sightings. Each module holds one family; all are re-exported.
"""

from csirtnet.sharing.services.exchange import (
    export_incident_misp,
    export_incident_stix,
    export_misp_event,
    export_objects,
    import_document,
    import_misp,
    import_misp_feed,
    latest_exportable,
)
from csirtnet.sharing.services.importing import (
    CONFLICT,
    MARKING,
    REJECTED,
    STORED,
    UNCHANGED,
    ImportReport,
    ObjectOutcome,
    command_actor,
    detect_format,
    import_stix,
    load_stix,
    one_writer_at_a_time,
    read_json,
)
from csirtnet.sharing.services.sightings import record_sighting, sightings_of

__all__ = [
    "CONFLICT",
    "MARKING",
    "REJECTED",
    "STORED",
    "UNCHANGED",
    "ImportReport",
    "ObjectOutcome",
    "command_actor",
    "detect_format",
    "export_incident_misp",
    "export_incident_stix",
    "export_misp_event",
    "export_objects",
    "import_document",
    "import_misp",
    "import_misp_feed",
    "import_stix",
    "latest_exportable",
    "load_stix",
    "one_writer_at_a_time",
    "read_json",
    "record_sighting",
    "sightings_of",
]
