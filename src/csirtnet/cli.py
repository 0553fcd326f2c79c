"""The `csirtnet` console command: forwards to Django management commands.

`csirtnet ingest FILE` runs `manage.py ingest FILE`; dashed names are accepted
(`csirtnet import-rir` runs the `import_rir` command).
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    """Run the management command named by the first argument, with the rest as its arguments."""
    args = list(sys.argv if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "csirtnet.settings")
    if len(args) > 1 and not args[1].startswith("-"):
        args[1] = args[1].replace("-", "_")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    from csirtnet.core.audit import origin

    try:
        with origin(f"cli:{args[1] if len(args) > 1 else ''}"[:100]):  # for the audit log
            execute_from_command_line(["csirtnet", *args[1:]])
    except ImproperlyConfigured as exc:  # settings come from the environment
        sys.stderr.write(f"csirtnet: {exc} See docs/configuration.md.\n")
        raise SystemExit(2) from exc


if __name__ == "__main__":
    main()
