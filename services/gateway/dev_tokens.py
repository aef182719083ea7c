"""Prints a development token per role, signed with CRM_GATEWAY_JWT_SECRET, for `make run`."""

from __future__ import annotations

import os
import sys

from services.gateway.auth import issue_token
from services.gateway.roles import Role


def main() -> int:
    """With --console BASE_URL, prints the agent console's address signed in as an agent."""
    secret = os.environ.get("CRM_GATEWAY_JWT_SECRET", "")
    if not secret:
        print("dev_tokens: set CRM_GATEWAY_JWT_SECRET", file=sys.stderr)
        return 2
    if sys.argv[1:2] == ["--console"]:
        # The token rides in the fragment, which browsers never send to a server or log.
        print(f"{sys.argv[2]}/console/#token={issue_token('dev-agent', Role.AGENT, secret)}")
        return 0
    for role in Role:
        print(f"{role:<11} {issue_token(f'dev-{role}', role, secret)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
