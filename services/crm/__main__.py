"""Command line: `python -m services.crm [serve | rebuild-projections]`."""

from __future__ import annotations

import argparse
import logging
import sys

from services.crm.config import ConfigError, Settings
from services.crm.logs import configure_logging


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="crm", description=__doc__)
    parser.add_argument(
        "command", nargs="?", default="serve", choices=["serve", "rebuild-projections"]
    )
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_environ()
    except ConfigError as error:
        print(f"crm: configuration error: {error}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level)

    if args.command == "rebuild-projections":
        from services.crm.projections.runner import READ_MODELS, rebuild
        from services.crm.storage import eventsourcing_env

        env = eventsourcing_env(settings.database_url)
        for read_model in READ_MODELS:
            replayed = rebuild(env, read_model)
            logging.getLogger("crm").info(
                "rebuilt",
                extra={
                    "fields": {
                        "read_model": read_model.projection_class.name,
                        "events_replayed": replayed,
                    }
                },
            )
        return 0

    from services.crm.server import serve

    serve(settings)
    return 0


if __name__ == "__main__":
    sys.exit(main())
