"""The gateway's connections to the CRM, used in turn. A CRM pod with several serving
processes on one port (CRM_SERVE_PROCESSES) gets a connection's calls in just one of
them, as the kernel hands out connections, not calls; several connections reach them all."""

from __future__ import annotations

import itertools

import grpc

from services.gateway.config import GatewaySettings
from services.gateway.tracing import channel_interceptors

CHANNEL_OPTIONS = [
    # Every address the target resolves to (each replica) gets calls, not only the first.
    ("grpc.lb_policy_name", "round_robin"),
    # grpc shares one connection among channels to one address unless told not to.
    ("grpc.use_local_subchannel_pool", 1),
]


class CrmChannels:
    """settings.crm_connections channels to the CRM; next() gives each call the next one."""

    def __init__(self, settings: GatewaySettings) -> None:
        self._channels = [
            grpc.aio.insecure_channel(
                settings.crm_address,
                options=CHANNEL_OPTIONS,
                interceptors=channel_interceptors(settings),
            )
            for _ in range(settings.crm_connections)
        ]
        self._turns = itertools.cycle(self._channels)

    def next(self) -> grpc.aio.Channel:
        return next(self._turns)

    async def close(self) -> None:
        for channel in self._channels:
            await channel.close()
