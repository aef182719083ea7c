"""Command line: `python -m services.gateway` serves HTTP/JSON in front of the CRM."""

from __future__ import annotations

import sys

import uvicorn

from services.gateway.app import create_app
from services.gateway.config import GatewayConfigError, GatewaySettings


def main() -> int:
    try:
        settings = GatewaySettings.from_environ()
    except GatewayConfigError as error:
        print(f"gateway: {error}", file=sys.stderr)
        return 2
    uvicorn.run(
        create_app(settings),
        host=settings.listen_host,
        port=settings.listen_port,
        # Live timelines never end on their own; after this their clients reconnect
        # elsewhere and resume with Last-Event-ID.
        timeout_graceful_shutdown=5,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
