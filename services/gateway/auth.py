"""Who is calling: a bearer JWT (HS256, with sub, role and exp) or a static API key."""

from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import quote, unquote

import jwt

from services.gateway.roles import Role

# OpenID Connect's bound on `sub`, in characters; the CRM checks the same figure.
MAX_SUBJECT_LENGTH = 255
# Letters, digits, "-._~" and "@" travel as they are; every other character as %XX of
# its UTF-8 bytes, so any subject fits in gRPC metadata, which must be ASCII.
SUBJECT_SAFE = "@"


@dataclass(frozen=True)
class Caller:
    actor: str
    role: Role


class AuthenticationError(Exception):
    """The Authorization header proves no caller; the message says why."""


def caller_from(authorization: str, api_keys: dict[str, Caller], jwt_secret: str) -> Caller:
    """The caller an Authorization header proves."""
    scheme, _, credential = authorization.partition(" ")
    credential = credential.strip()
    if scheme.lower() == "apikey" and credential in api_keys:
        return api_keys[credential]
    if scheme.lower() == "bearer" and jwt_secret:
        return _token_caller(credential, jwt_secret)
    raise AuthenticationError("send 'Authorization: Bearer JWT' or 'Authorization: ApiKey KEY'")


def _token_caller(token: str, secret: str) -> Caller:
    try:
        claims = jwt.decode(
            token, secret, algorithms=["HS256"], options={"require": ["exp", "sub", "role"]}
        )
    # PyJWTError, not only InvalidTokenError: a key PyJWT refuses is the token's failure too.
    except jwt.PyJWTError as error:
        raise AuthenticationError(f"the token is not valid: {error}") from None
    if claims["role"] not in {str(role) for role in Role}:
        raise AuthenticationError("the token's role is none of " + ", ".join(Role))
    role = Role(claims["role"])
    kind = "service" if role is Role.SERVICE else "agent"
    return Caller(f"{kind}:{_encoded_subject(claims['sub'])}", role)


def _encoded_subject(subject: object) -> str:
    if not isinstance(subject, str) or not 0 < len(subject) <= MAX_SUBJECT_LENGTH:
        raise AuthenticationError(
            f"the token's sub must be text of 1 to {MAX_SUBJECT_LENGTH} characters"
        )
    try:
        return quote(subject, safe=SUBJECT_SAFE)
    except UnicodeEncodeError:  # A lone surrogate from a JSON "\\ud800" escape.
        raise AuthenticationError("the token's sub is not valid Unicode") from None


def is_actor(actor: str) -> bool:
    """Whether actor is "agent:" or "service:" and a subject encoded as tokens' are."""
    kind, _, encoded = actor.partition(":")
    try:
        subject = unquote(encoded, errors="strict") if encoded.isascii() else ""
    except UnicodeDecodeError:
        return False
    return (
        kind in ("agent", "service")
        and 0 < len(subject) <= MAX_SUBJECT_LENGTH
        and quote(subject, safe=SUBJECT_SAFE) == encoded
    )


def issue_token(subject: str, role: Role, secret: str, lifetime_seconds: int = 8 * 3600) -> str:
    """A token for `make run` to print, and for tests."""
    now = int(time.time())
    claims = {"sub": subject, "role": str(role), "iat": now, "exp": now + lifetime_seconds}
    return jwt.encode(claims, secret, algorithm="HS256")
