"""Who is calling: a bearer JWT (HS256, with sub, role and exp) or a static API key."""

from __future__ import annotations

import time
from dataclasses import dataclass

import jwt

from services.gateway.roles import Role


@dataclass(frozen=True)
class Caller:
    actor: str
    role: Role


def caller_from(authorization: str, api_keys: dict[str, Caller], jwt_secret: str) -> Caller | None:
    """The caller an Authorization header proves, or None."""
    scheme, _, credential = authorization.partition(" ")
    credential = credential.strip()
    if scheme.lower() == "apikey":
        return api_keys.get(credential)
    if scheme.lower() == "bearer" and jwt_secret:
        try:
            claims = jwt.decode(
                credential, jwt_secret, algorithms=["HS256"], options={"require": ["exp", "sub"]}
            )
            role = Role(claims.get("role", ""))
        except (jwt.InvalidTokenError, ValueError):
            return None
        kind = "service" if role is Role.SERVICE else "agent"
        return Caller(f"{kind}:{claims['sub']}", role)
    return None


def issue_token(subject: str, role: Role, secret: str, lifetime_seconds: int = 8 * 3600) -> str:
    """A token for `make run` to print, and for tests."""
    now = int(time.time())
    claims = {"sub": subject, "role": str(role), "iat": now, "exp": now + lifetime_seconds}
    return jwt.encode(claims, secret, algorithm="HS256")
