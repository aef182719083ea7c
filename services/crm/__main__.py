"""The `crm` command (also `python -m services.crm`): one subcommand per job; with none,
it serves."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable
from pathlib import Path

from services.crm.config import ConfigError, Settings
from services.crm.logs import configure_logging

Command = Callable[[argparse.Namespace], int]


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    run: Command = getattr(args, "run", _serve)
    try:
        return run(args)
    except ConfigError as error:  # Found only on use, e.g. a metrics port already taken.
        print(f"crm: configuration error: {error}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="crm",
        description="One complete, replayable history of every customer, over gRPC. "
        "Configured by CRM_* environment variables (see the README).",
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    def command(name: str, run: Command, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.set_defaults(run=run)
        return sub

    command("serve", _serve, "serve gRPC on CRM_LISTEN_ADDRESS (the default command)")
    command("project", _project, "follow the event log into every read model")
    command(
        "rebuild-projections", _rebuild_projections, "replay the log into every read model anew"
    )
    command("deadlines", _deadlines, "fire deadlines as they fall due (once per deployment)")
    load = command("import", _import, "record a .jsonl or .csv file's interactions")
    load.add_argument("file", type=Path, help="a .jsonl or .csv file")
    _add_address(load)
    load.add_argument("--actor", default="service:import", help="who imports")
    demo = command("demo-data", _demo_data, "load fictional customers into the service")
    demo.add_argument(
        "--if-empty", action="store_true", help="only into a database that holds no events"
    )
    _add_address(demo)
    return parser


def _add_address(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--address", default="", help="the service, HOST:PORT (default CRM_LISTEN_ADDRESS)"
    )


def _settings(logs: bool = True) -> Settings:
    try:
        settings = Settings.from_environ()
    except ConfigError as error:
        print(f"crm: configuration error: {error}", file=sys.stderr)
        raise SystemExit(2) from None
    if logs:
        configure_logging(settings.log_level)
    return settings


def _serve(args: argparse.Namespace) -> int:
    from services.crm.server import serve
    from services.crm.tracing import start_tracing

    settings = _settings()
    start_tracing(settings)
    serve(settings)
    return 0


def _project(args: argparse.Namespace) -> int:
    from services.crm.projector import run_projector

    return run_projector(_settings())


def _rebuild_projections(args: argparse.Namespace) -> int:
    from services.crm.projector import ProjectorRunningError, rebuild_projections

    try:
        rebuilt_models = rebuild_projections(_settings())
    except ProjectorRunningError:
        print(
            "crm rebuild-projections: a projector is running (it holds the projector lease);"
            " stop every projector first (CRM_PROJECTIONS=off on the replicas, `crm project`"
            " scaled to 0), then rebuild",
            file=sys.stderr,
        )
        return 1
    for rebuilt in rebuilt_models:
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


def _deadlines(args: argparse.Namespace) -> int:
    from services.crm.deadlines.process import run_deadlines

    return run_deadlines(_settings())


def _import(args: argparse.Namespace) -> int:
    from services.crm.cli.import_file import import_file

    if not args.file.is_file():
        print("crm import: give a .jsonl or .csv file that exists", file=sys.stderr)
        return 2
    settings = _settings(logs=False)
    summary = import_file(
        args.file,
        args.address or settings.listen_address,
        args.actor,
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


def _demo_data(args: argparse.Namespace) -> int:
    from services.crm.cli.demo_data import load_demo_data

    settings = _settings(logs=False)
    loaded = load_demo_data(
        args.address or settings.listen_address,
        "agent:demo-agent",
        settings.caller_secret,
        args.if_empty,
    )
    if loaded:
        print(f"demo data: {loaded} fictional customers ready; search the console for 'Juniper'")
    else:
        print("demo data: the database already holds data; nothing added")
    return 0


if __name__ == "__main__":
    sys.exit(main())
