"""Gateway settings from CRM_GATEWAY_* environment variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from services.gateway.auth import Caller, is_actor
from services.gateway.roles import Role
from services.tracing import traces_requested


class GatewayConfigError(ValueError):
    """An environment variable holds a value the gateway cannot use."""


@dataclass(frozen=True)
class GatewaySettings:
    crm_address: str = "127.0.0.1:50051"
    # Connections to each CRM address, used in turn: a CRM with several serving
    # processes (CRM_SERVE_PROCESSES) gets calls in as many of them as connections reach.
    crm_connections: int = 4
    listen_host: str = "127.0.0.1"
    listen_port: int = 8080
    deadline_seconds: float = 10.0
    max_body_bytes: int = 1024 * 1024
    # A client has this long to send a request's headers, and then its body, before its
    # connection is closed (slow-loris clients). Idle kept-alive connections close after
    # uvicorn's 5 seconds.
    header_timeout_seconds: float = 10.0
    body_timeout_seconds: float = 30.0
    # API key -> who presents it, e.g. {"k1": Caller("service:billing", Role.SERVICE)}.
    api_keys: Mapping[str, Caller] = field(default_factory=dict)
    # HS256 key for bearer JWTs; empty turns JWTs off.
    jwt_secret: str = field(default="", repr=False)
    # Presented to the CRM, which trusts actor metadata only with it (CRM_CALLER_SECRET).
    crm_secret: str = field(default="", repr=False)
    # Where Prometheus scrapes the gateway (HOST:PORT, port 0 picks one); empty: none.
    metrics_address: str = "127.0.0.1:9465"
    # Turned on by the standard OTEL_* variables (README: Traces).
    traces: bool = False

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> GatewaySettings:
        env = os.environ if environ is None else environ
        defaults = cls()
        try:
            return cls(
                crm_address=env.get("CRM_GATEWAY_CRM_ADDRESS", defaults.crm_address),
                crm_connections=_connections(
                    env.get("CRM_GATEWAY_CRM_CONNECTIONS", str(defaults.crm_connections))
                ),
                listen_host=env.get("CRM_GATEWAY_HOST", defaults.listen_host),
                listen_port=int(env.get("CRM_GATEWAY_PORT", defaults.listen_port)),
                deadline_seconds=float(
                    env.get("CRM_GATEWAY_DEADLINE_SECONDS", defaults.deadline_seconds)
                ),
                max_body_bytes=int(env.get("CRM_GATEWAY_MAX_BODY_BYTES", defaults.max_body_bytes)),
                header_timeout_seconds=_seconds(
                    env, "CRM_GATEWAY_HEADER_TIMEOUT_SECONDS", defaults.header_timeout_seconds
                ),
                body_timeout_seconds=_seconds(
                    env, "CRM_GATEWAY_BODY_TIMEOUT_SECONDS", defaults.body_timeout_seconds
                ),
                api_keys=_api_keys(env.get("CRM_GATEWAY_API_KEYS", "")),
                jwt_secret=env.get("CRM_GATEWAY_JWT_SECRET", ""),
                crm_secret=env.get("CRM_GATEWAY_CRM_SECRET", ""),
                metrics_address=_metrics_address(
                    env.get("CRM_GATEWAY_METRICS_ADDRESS", defaults.metrics_address)
                ),
                traces=traces_requested(env),
            )
        except ValueError as error:
            raise GatewayConfigError(f"gateway configuration: {error}") from None


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    value = float(env.get(name, default))
    if not 0 < value <= 3600:
        raise ValueError(f"{name} must be a number of seconds above 0, at most 3600")
    return value


def _connections(raw: str) -> int:
    value = int(raw)
    if not 1 <= value <= 64:
        raise ValueError("CRM_GATEWAY_CRM_CONNECTIONS must be a whole number from 1 to 64")
    return value


def _metrics_address(raw: str) -> str:
    host, _, port = raw.rpartition(":")
    if raw and (not host or not port.isdigit() or int(port) > 65535):
        raise ValueError(
            "CRM_GATEWAY_METRICS_ADDRESS must be HOST:PORT (port 0 to 65535), or empty for none"
        )
    return raw


def _api_keys(raw: str) -> dict[str, Caller]:
    """ "k1=service@service:billing,k2=agent@agent:alice" -> the callers, by key."""
    keys = {}
    for item in filter(None, (part.strip() for part in raw.split(","))):
        key, _, holder = item.partition("=")
        role, _, actor = holder.partition("@")
        if not key or not is_actor(actor) or role not in {str(r) for r in Role}:
            raise ValueError(
                "CRM_GATEWAY_API_KEYS entries look like KEY=ROLE@agent:id or KEY=ROLE@service:name,"
                " the id or name percent-encoded as the README's Actors says"
            )
        keys[key] = Caller(actor, Role(role))
    return keys
