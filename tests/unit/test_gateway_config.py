from __future__ import annotations

import pytest

from services.gateway.auth import Caller
from services.gateway.config import GatewayConfigError, GatewaySettings
from services.gateway.roles import Role


def test_api_keys_name_a_role_and_an_actor() -> None:
    settings = GatewaySettings.from_environ(
        {
            "CRM_GATEWAY_API_KEYS": "k1=service@service:billing, k2=agent@agent:alice,"
            "k3=supervisor@agent:Jane%20Doe"
        }
    )
    assert settings.api_keys == {
        "k1": Caller("service:billing", Role.SERVICE),
        "k2": Caller("agent:alice", Role.AGENT),
        "k3": Caller("agent:Jane%20Doe", Role.SUPERVISOR),
    }


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("CRM_GATEWAY_API_KEYS", "k1=service:billing"),
        ("CRM_GATEWAY_API_KEYS", "k1=wizard@agent:merlin"),
        ("CRM_GATEWAY_API_KEYS", "k1=agent@agent:Jane Doe"),
        ("CRM_GATEWAY_API_KEYS", "k1=agent@merlin"),
        ("CRM_GATEWAY_API_KEYS", "k1=agent@agent:%FF"),
        ("CRM_GATEWAY_PORT", "eighty"),
        ("CRM_GATEWAY_HEADER_TIMEOUT_SECONDS", "0"),
        ("CRM_GATEWAY_HEADER_TIMEOUT_SECONDS", "nan"),
        ("CRM_GATEWAY_BODY_TIMEOUT_SECONDS", "soon"),
        ("CRM_GATEWAY_BODY_TIMEOUT_SECONDS", "-1"),
        ("CRM_GATEWAY_METRICS_ADDRESS", "9465"),
        ("CRM_GATEWAY_METRICS_ADDRESS", "localhost:metrics"),
        ("CRM_GATEWAY_METRICS_ADDRESS", "127.0.0.1:65536"),
        ("CRM_GATEWAY_CRM_CONNECTIONS", "0"),
        ("CRM_GATEWAY_CRM_CONNECTIONS", "65"),
        ("CRM_GATEWAY_CRM_CONNECTIONS", "two"),
    ],
)
def test_bad_values_stop_the_gateway_with_a_message(name: str, value: str) -> None:
    with pytest.raises(GatewayConfigError):
        GatewaySettings.from_environ({name: value})


def test_slow_clients_get_10_seconds_for_headers_and_30_for_a_body_by_default() -> None:
    settings = GatewaySettings.from_environ({})
    assert (settings.header_timeout_seconds, settings.body_timeout_seconds) == (10, 30)


def test_metrics_listen_on_9465_unless_turned_off() -> None:
    assert GatewaySettings.from_environ({}).metrics_address == "127.0.0.1:9465"
    assert GatewaySettings.from_environ({"CRM_GATEWAY_METRICS_ADDRESS": ""}).metrics_address == ""


def test_the_gateway_opens_4_connections_to_each_crm_address_by_default() -> None:
    assert GatewaySettings.from_environ({}).crm_connections == 4
    assert GatewaySettings.from_environ({"CRM_GATEWAY_CRM_CONNECTIONS": "1"}).crm_connections == 1
