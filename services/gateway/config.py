"""Gateway settings from CRM_GATEWAY_* environment variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field


class GatewayConfigError(ValueError):
    """An environment variable holds a value the gateway cannot use."""


@dataclass(frozen=True)
class GatewaySettings:
    crm_address: str = "127.0.0.1:50051"
    listen_host: str = "127.0.0.1"
    listen_port: int = 8080
    deadline_seconds: float = 10.0
    max_body_bytes: int = 1024 * 1024
    # API key -> the actor it stands for, e.g. {"k1": "service:billing"}.
    api_keys: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> GatewaySettings:
        env = os.environ if environ is None else environ
        defaults = cls()
        try:
            return cls(
                crm_address=env.get("CRM_GATEWAY_CRM_ADDRESS", defaults.crm_address),
                listen_host=env.get("CRM_GATEWAY_HOST", defaults.listen_host),
                listen_port=int(env.get("CRM_GATEWAY_PORT", defaults.listen_port)),
                deadline_seconds=float(
                    env.get("CRM_GATEWAY_DEADLINE_SECONDS", defaults.deadline_seconds)
                ),
                max_body_bytes=int(env.get("CRM_GATEWAY_MAX_BODY_BYTES", defaults.max_body_bytes)),
                api_keys=_api_keys(env.get("CRM_GATEWAY_API_KEYS", "")),
            )
        except ValueError as error:
            raise GatewayConfigError(f"gateway configuration: {error}") from None


def _api_keys(raw: str) -> dict[str, str]:
    """ "key1=service:billing,key2=agent:alice" -> {"key1": "service:billing", ...}."""
    keys = {}
    for item in filter(None, (part.strip() for part in raw.split(","))):
        key, separator, actor = item.partition("=")
        if not separator or not key or not actor:
            raise ValueError(
                "CRM_GATEWAY_API_KEYS entries look like KEY=agent:id or KEY=service:name"
            )
        keys[key] = actor
    return keys
