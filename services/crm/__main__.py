"""Command line: `python -m services.crm [serve | project | rebuild-projections | import FILE |
demo-data]`."""

from __future__ import annotations

import argparse
import logging
import sys

from services.crm.config import ConfigError, Settings
from services.crm.logs import configure_logging


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="crm", description=__doc__)
    parser.add_argument(
        "command",
        nargs="?",
        default="serve",
        choices=["serve", "project", "rebuild-projections", "import", "demo-data"],
    )
    parser.add_argument("file", nargs="?", help="for import: a .jsonl or .csv file")
    parser.add_argument("--address", default="", help="for import: the service, HOST:PORT")
    parser.add_argument("--actor", default="service:import", help="for import: who imports")
    parser.add_argument(
        "--if-empty", action="store_true", help="for demo-data: only into an empty database"
    )
    args = parser.parse_args(argv)
    if args.command == "import":
        return _import(args.file, args.address, args.actor)
    if args.command == "demo-data":
        return _demo_data(args.address, args.if_empty)
    try:
        settings = Settings.from_environ()
    except ConfigError as error:
        print(f"crm: configuration error: {error}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level)

    if args.command == "rebuild-projections":
        from services.crm.projections.runner import READ_MODELS, rebuild_read_model
        from services.crm.storage import eventsourcing_env

        env = eventsourcing_env(settings.database_url, settings.database_timeout_seconds)
        for read_model in READ_MODELS:
            rebuilt = rebuild_read_model(env, read_model)
            logging.getLogger("crm").info(
                "rebuilt",
                extra={
                    "fields": {
                        "read_model": rebuilt.read_model,
                        "events_replayed": rebuilt.replayed,
                        # Logged one by one as they were met; listed by parked_events().
                        "events_parked": rebuilt.parked,
                    }
                },
            )
        return 0

    if args.command == "project":
        from services.crm.projector import run_projector

        return run_projector(settings)

    from services.crm.server import serve
    from services.crm.tracing import start_tracing

    start_tracing(settings)
    serve(settings)
    return 0


def _import(file: str | None, address: str, actor: str) -> int:
    from pathlib import Path

    from services.crm.cli.import_file import import_file

    if not file or not Path(file).is_file():
        print("crm import: give a .jsonl or .csv file that exists", file=sys.stderr)
        return 2
    settings = Settings.from_environ()
    summary = import_file(
        Path(file),
        address or settings.listen_address,
        actor,
        settings.caller_secret,
        show_progress=sys.stderr.isatty(),
    )
    print(
        f"imported {summary.imported}, already imported {summary.already_imported}, "
        f"failed {summary.failed}"
    )
    for failure in summary.failures[:50]:
        print(f"  {failure}")
    if summary.failed > 50:
        print(f"  … and {summary.failed - 50} more")
    return 1 if summary.failed else 0


def _demo_data(address: str, if_empty: bool) -> int:
    from services.crm.cli.demo_data import load_demo_data

    settings = Settings.from_environ()
    loaded = load_demo_data(
        address or settings.listen_address, "agent:demo-agent", settings.caller_secret, if_empty
    )
    if loaded:
        print(f"demo data: {loaded} fictional customers ready; search the console for 'Juniper'")
    else:
        print("demo data: the database already holds data; nothing added")
    return 0


if __name__ == "__main__":
    sys.exit(main())
