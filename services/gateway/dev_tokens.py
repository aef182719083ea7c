"""Prints a development token per role, signed with CRM_GATEWAY_JWT_SECRET, for `make run`."""

from __future__ import annotations

import os
import sys

from services.gateway.auth import issue_token
from services.gateway.roles import Role


def main() -> int:
    secret = os.environ.get("CRM_GATEWAY_JWT_SECRET", "")
    if not secret:
        print("dev_tokens: set CRM_GATEWAY_JWT_SECRET", file=sys.stderr)
        return 2
    for role in Role:
        print(f"{role:<11} {issue_token(f'dev-{role}', role, secret)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
